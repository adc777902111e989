import { PERSON_ERASED, deterministicId, newEvent } from '@qmcb/contracts';
import { personKeyFor } from '@qmcb/domain';
import { maskFreeText } from '@qmcb/platform';
import { appendOne, awaitConsumerGroups, Keyring, kafkaSettingsFromEnv, parseMasterKeys, personRefOf, sealingFromEnv } from '@qmcb/event-log';
import type { GroupPosition } from '@qmcb/event-log';

/** A citizen ID as records carry it (ingestion's shape: 15 to 18 characters, digits, the last may be X). */
const CITIZEN_ID = /^\d{14,17}[\dXx]$/;

/** The consumer groups of the four services' projections (their CONSUMER_GROUP defaults). */
export const PROJECTION_GROUPS = ['comparison', 'survey-tasking', 'review', 'dynamic-update'] as const;

export const KEYRING_USAGE = `usage: keyring <command>   (KEYRING_DATABASE_URL, KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET as the services have them;
                            erase also KAFKA_BROKERS, LOG_TOPIC and KAFKA_SSL*/KAFKA_SASL_* like the services)
  status                                          keys per master key, shredded keys, the current master key
  erase --citizen-id <id> --reason <text>         erase the person (ADR 0009, ADR 0010): append \`person.erased\` for them (every
                                                  projection deletes every row of theirs), wait until every projection's
                                                  consumer group has committed past it, then destroy their data key
                                                  (crypto-shredding): every event of theirs on the log, its DLQ topics and
                                                  dead letters becomes unreadable; consumers and rebuilds skip them.
                                                  Cannot be undone. The reason must hold no personal data.
        [--requested-by <who>]                    who asked, one word (default operator:<USER>)
        [--wait-seconds <n>]                      how long to wait for the consumer groups (default 300); when one has
                                                  not passed the event by then, nothing is shredded, the lagging groups
                                                  are named and the exit code is 1: run the same command again
        [--groups <a,b,...>]                      the projections' consumer groups (default ${PROJECTION_GROUPS.join(',')});
                                                  a stack with its own LOG_TOPIC and CONSUMER_GROUPs (an isolated demo
                                                  prints them) needs both: the key is shredded once and cannot be
                                                  erased again through another topic
        [--even-without-key]                      shred even when the keyring holds no key for the person (e.g. to
                                                  refuse their future events); without it, no key means the person ref
                                                  is wrong (another LOG_PERSON_REF_SECRET?) and nothing is done
  rotate                                          rewrap every data key under the first (current) KEYRING_MASTER_KEYS entry`;

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * The keyring's operator commands. Output names person refs only, never a citizen ID. Returns the
 * exit code: 0 done, 1 refused, 2 usage.
 */
export async function keyringCommand(args: string[], env: NodeJS.ProcessEnv = process.env, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const [command, ...rest] = args;
  if (command !== 'status' && command !== 'erase' && command !== 'rotate') {
    write(KEYRING_USAGE);
    return 2;
  }
  const sealing = sealingFromEnv(env);
  if (!sealing) {
    write('keyring: KEYRING_MASTER_KEYS and LOG_PERSON_REF_SECRET are not set');
    return 2;
  }
  let citizenId: string | undefined;
  let reason: string | undefined;
  let erase: { waitMs: number; requestedBy: string; groups: string[] } = { waitMs: 0, requestedBy: '', groups: [] };
  if (command === 'erase') {
    citizenId = option(rest, '--citizen-id')?.trim();
    reason = option(rest, '--reason')?.trim();
    if (!citizenId || !reason) {
      write('keyring erase: --citizen-id and --reason are both required');
      return 2;
    }
    if (reason.length > 500) {
      write('keyring erase: --reason must be at most 500 characters');
      return 2;
    }
    if (!CITIZEN_ID.test(citizenId)) {
      write('keyring erase: --citizen-id must be a citizen ID as the records carry it: 15 to 18 characters, digits, the last may be X');
      return 2;
    }
    // The reason is kept on the log and in the keyring after the person is gone: no personal data in it.
    if (maskFreeText(reason) !== reason) {
      write(`keyring erase: --reason must hold no personal data (it is kept after the erasure); it looks like it holds a citizen ID, phone, name or address: "${maskFreeText(reason)}". Give a request number instead`);
      return 2;
    }
    const wait = option(rest, '--wait-seconds') ?? '300';
    if (!/^\d{1,6}$/.test(wait)) {
      write(`keyring erase: --wait-seconds must be a whole number of seconds, got "${wait}"`);
      return 2;
    }
    const requestedBy = option(rest, '--requested-by')?.trim() ?? `operator:${env['USER'] || env['LOGNAME'] || 'unknown'}`;
    if (!/^\S{1,128}$/.test(requestedBy)) {
      write('keyring erase: --requested-by must be one word of at most 128 characters, e.g. operator:ops-1');
      return 2;
    }
    const groups = (option(rest, '--groups') ?? PROJECTION_GROUPS.join(',')).split(',').map((g) => g.trim()).filter((g) => g.length > 0);
    if (groups.length === 0) {
      write('keyring erase: --groups must name at least one consumer group');
      return 2;
    }
    erase = { waitMs: Number(wait) * 1000, requestedBy, groups };
  }
  const keyring = await Keyring.open({ url: sealing.keyringUrl, masterKeys: parseMasterKeys(sealing.masterKeys), runMigrations: sealing.runMigrations, cacheSize: 0 });
  try {
    if (command === 'status') {
      const s = await keyring.status();
      const per = Object.entries(s.byMasterKey).map(([id, n]) => `${id}=${n}`).join(' ') || '-';
      write(`keyring: ${s.keys} data keys (${per}), ${s.shredded} shredded; current master key ${s.currentMasterKey}`);
      return 0;
    }
    if (command === 'rotate') {
      const n = await keyring.rotate();
      write(`keyring rotate: ${n} data keys rewrapped under master key ${keyring.current.id}`);
      return 0;
    }
    const ref = personRefOf(sealing.refSecret, personKeyFor(citizenId as string));
    const known = await keyring.get([ref]);
    const state = known.get(ref);
    if (state?.kind === 'shredded') {
      write(`keyring erase: person ${ref} was already erased`);
      return 0;
    }
    if (!state && !rest.includes('--even-without-key')) {
      write(
        `keyring erase: no data key for person ${ref}: no event of this citizen ID was sealed under this LOG_PERSON_REF_SECRET. ` +
          'Check the ID (records sent under a mistyped ID are erased by that ID as sent) and the configuration (the stack\'s KEYRING_DATABASE_URL and LOG_PERSON_REF_SECRET); nothing was done. ' +
          '--even-without-key erases anyway, refusing the person\'s future events',
      );
      return 1;
    }
    const personKey = personKeyFor(citizenId as string);
    const erased = await eraseFromProjections(env, ref, personKey, reason as string, erase, write);
    if (erased === 'already') {
      write(`keyring erase: person ${ref} was already erased`);
      return 0;
    }
    if (!erased) return 1;
    await keyring.shred(ref, reason as string);
    write(`keyring erase: person ${ref} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    return 0;
  } finally {
    await keyring.close();
  }
}

const describe = (p: GroupPosition): string =>
  `${p.groupId} ${p.passed ? 'passed' : p.committed === null ? 'has committed no offset on that partition (a group that does not exist or never consumed it: check --groups)' : `at ${p.committed}`}`;

/**
 * ADR 0010: appends `person.erased` for the person (sealed under their key like every event; its
 * event ID made of the person ref, so a second run appends a duplicate the projections skip), then
 * waits until every projection's consumer group has committed past it. True when they all did;
 * false (the lagging groups named) when the time ran out; 'already' when the producer found the
 * person erased meanwhile. Lines name the person ref only.
 */
async function eraseFromProjections(
  env: NodeJS.ProcessEnv,
  ref: string,
  personKey: string,
  reason: string,
  o: { waitMs: number; requestedBy: string; groups: string[] },
  write: (line: string) => void,
): Promise<boolean | 'already'> {
  const settings = kafkaSettingsFromEnv('qmcb-keyring', env);
  const eventId = deterministicId('keyring', 'erase', ref);
  const now = new Date().toISOString();
  const event = newEvent(PERSON_ERASED, eventId, personKey, { reason, requestedBy: o.requestedBy }, { source: 'ops:keyring', actor: o.requestedBy, occurredAt: now, correlationId: eventId });
  const at = await appendOne(settings, event);
  if (!at) return 'already';
  write(`keyring erase: person ${ref}: ${PERSON_ERASED} ${eventId} appended (partition ${at.partition}, offset ${at.offset}); waiting up to ${o.waitMs / 1000} s for ${o.groups.join(', ')}`);
  let last = '';
  const result = await awaitConsumerGroups(settings, at, o.groups, {
    timeoutMs: o.waitMs,
    onProgress: (positions) => {
      const line = positions.map(describe).join(', ');
      if (line !== last) write(`keyring erase: ${line}`);
      last = line;
    },
  });
  if (result.passed) return true;
  const lagging = result.positions.filter((p) => !p.passed);
  write(
    `keyring erase: NOT finished: after ${o.waitMs / 1000} s ${lagging.map(describe).join(', ')} (the event is at offset ${at.offset} of partition ${at.partition}). ` +
      `The data key is kept, so the log still opens; the projections that passed the event have already deleted the person (${result.positions.filter((p) => p.passed).map((p) => p.groupId).join(', ') || 'none'}). ` +
      'Once the groups named are right (--groups: the services\' CONSUMER_GROUP) and caught up, run the same command again (it is safe to repeat)',
  );
  return false;
}
