import { personKeyFor } from '@qmcb/domain';
import { Keyring, parseMasterKeys, personRefOf, sealingFromEnv } from '@qmcb/event-log';

export const KEYRING_USAGE = `usage: keyring <command>   (KEYRING_DATABASE_URL, KEYRING_MASTER_KEYS, LOG_PERSON_REF_SECRET as the services have them)
  status                                          keys per master key, shredded keys, the current master key
  erase --citizen-id <id> --reason <text>         destroy the person's data key (crypto-shredding, ADR 0009): every
                                                  event of theirs on the log, its DLQ topics and dead letters becomes
                                                  unreadable; consumers and rebuilds skip them. Cannot be undone.
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
      write(`keyring erase: no data key for person ${ref}: nothing of theirs was sealed under this LOG_PERSON_REF_SECRET (check the configuration, or pass --even-without-key)`);
      return 1;
    }
    await keyring.shred(ref, reason as string);
    write(`keyring erase: person ${ref} erased (data key destroyed); running consumers stop reading their events within a minute (key cache)`);
    return 0;
  } finally {
    await keyring.close();
  }
}
