import { Injectable } from '@nestjs/common';
import { HOUSEHOLD_MOVED_IN, LINK_CONFIRMED, LINK_PROPOSED, LINK_REJECTED, SOURCE_RECORD_RECEIVED, causedBy } from '@qmcb/contracts';
import type { Department, LinkedSource, RegistrationEvent } from '@qmcb/contracts';
import { citizenIdInfo, isSurrogatePersonKey, normaliseCitizenId, resolveFields } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { PersonRecordRepository } from '@qmcb/service-kit';
import type { EntityManager } from 'typeorm';
import { NO_LINKS } from '../rules';
import type { LinkContext } from '../rules';
import { blockingKeys, idBody, idRelation, neighbourKeys } from './id-neighbours';
import { activeLink, decide, evolve, wasRejected } from './link.decider';
import type { LinkEvent, LinkRow, LinkState } from './link.decider';
import { chooseLink, scoreCandidate } from './link-scoring';
import type { CandidateScore, LinkChoice, LinkIdentity } from './link-scoring';
import { mergeLinked } from './merge-linked';
import { PersonLinkRepository } from './person-link.repository';

export const LINK_EVENT_TYPES: ReadonlySet<string> = new Set<string>([LINK_PROPOSED, LINK_CONFIRMED, LINK_REJECTED]);

export function isLinkEvent(event: RegistrationEvent): event is LinkEvent {
  return LINK_EVENT_TYPES.has(event.type);
}

/**
 * Whether a record may belong to someone else under a mistyped ID: no household record here, some
 * insurance, and an ID that fails GB 11643 (a surrogate key) or an old 15-digit one (no check
 * character, so a typo still converts to a valid ID); the ID must have a 17-digit body.
 */
export function isLinkable(record: RegistrationRecord): boolean {
  if (record.household !== null || record.citizenId === null || Object.keys(record.insurance).length === 0) return false;
  const legacy = /^\d{15}$/.test(normaliseCitizenId(record.citizenId));
  return (isSurrogatePersonKey(record.personKey) || legacy) && idBody(record.citizenId) !== null;
}

/** What a record says of the identity, for scoring: resolved fields, without what an ID encodes for records under a mistyped one. */
export function linkIdentity(record: RegistrationRecord, trustId: boolean): LinkIdentity {
  const info = trustId && record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
  const fields = resolveFields(record, info);
  return { name: fields.name.value, birthDate: fields.birthDate.value, sex: fields.sex.value, address: fields.address.value };
}

/**
 * The candidates for a linkable record among people of the county (a household record here): each
 * within one ID relation of its body, scored; then the choice (chooseLink). Pure.
 */
export function candidatesFor(subject: RegistrationRecord, people: readonly RegistrationRecord[], rejected: (personKey: string) => boolean): { scores: CandidateScore[]; choice: LinkChoice } {
  const body = subject.citizenId === null ? null : idBody(subject.citizenId);
  if (body === null) return { scores: [], choice: { kind: 'none' } };
  const identity = linkIdentity(subject, false);
  const scores: CandidateScore[] = [];
  for (const person of people) {
    if (person.personKey === subject.personKey || person.household === null || isSurrogatePersonKey(person.personKey) || rejected(person.personKey)) continue;
    const relation = idRelation(body, person.personKey.slice(0, 17));
    if (relation) scores.push(scoreCandidate(person.personKey, relation, identity, linkIdentity(person, true)));
  }
  scores.sort((a, b) => (a.personKey < b.personKey ? -1 : 1));
  return { scores, choice: chooseLink(scores) };
}

function sourcesOf(record: RegistrationRecord): LinkedSource[] {
  return (Object.keys(record.sources) as Department[])
    .sort()
    .map((department) => ({ department, sourceRecordId: record.sources[department]?.sourceRecordId as string }));
}

/** The link context of `key` among active link rows (proposed or confirmed). Pure. */
export function linkContextOf(key: string, active: readonly LinkRow[]): LinkContext {
  const own = active.find((l) => l.recordKey === key) ?? null;
  const linked = active.filter((l) => l.personKey === key).sort((a, b) => (a.recordKey < b.recordKey ? -1 : 1));
  if (!own && linked.length === 0) return NO_LINKS;
  return {
    linkedTo: own ? { personKey: own.personKey, linkId: own.linkId, status: own.status as 'proposed' | 'confirmed' } : null,
    linked: linked.map((l) => ({ recordKey: l.recordKey, linkId: l.linkId, status: l.status as 'proposed' | 'confirmed', citizenIdAsSent: l.citizenIdAsSent })),
  };
}

/**
 * The links one batch works with: loaded once (every link of the people in the batch and of the
 * records linked to them), changed in log order by link events and by the batch's own proposals,
 * saved once. Also holds the records of link partners outside the batch.
 */
export class BatchLinks {
  private readonly changed = new Set<string>();

  constructor(
    private readonly states: Map<string, LinkState>,
    readonly partners: Map<string, RegistrationRecord>,
  ) {}

  stateOf(recordKey: string): LinkState {
    return this.states.get(recordKey) ?? { recordKey, links: [] };
  }

  apply(event: LinkEvent): void {
    const recordKey = event.payload.recordKey;
    this.states.set(recordKey, evolve(this.stateOf(recordKey), event));
    this.changed.add(recordKey);
  }

  activeOf(recordKey: string): LinkRow | null {
    return activeLink(this.stateOf(recordKey));
  }

  /** Active links to a person, by record key. */
  linkedTo(personKey: string): LinkRow[] {
    const rows: LinkRow[] = [];
    for (const state of this.states.values()) {
      const active = activeLink(state);
      if (active?.personKey === personKey) rows.push(active);
    }
    return rows.sort((a, b) => (a.recordKey < b.recordKey ? -1 : 1));
  }

  contextFor(key: string): LinkContext {
    const own = this.activeOf(key);
    return linkContextOf(key, [...(own ? [own] : []), ...this.linkedTo(key)]);
  }

  /** The person whose comparison depends on the records of `key`, when they are linked to one. */
  personOf(key: string): string | null {
    return this.activeOf(key)?.personKey ?? null;
  }

  /** The record as comparison sees it: merged with the records linked to the person. */
  merged(key: string, record: RegistrationRecord, latest: (key: string) => RegistrationRecord | undefined): RegistrationRecord {
    const linked = this.linkedTo(key)
      .map((l) => latest(l.recordKey))
      .filter((r): r is RegistrationRecord => r !== undefined);
    return mergeLinked(record, linked);
  }

  changedStates(): LinkState[] {
    return [...this.changed].sort().map((k) => this.stateOf(k));
  }
}

/** A link proposed by this batch, and the event whose comparison found it. */
export interface Proposal {
  event: LinkEvent;
  recordKey: string;
  personKey: string;
  trigger: RegistrationEvent;
}

/**
 * The database side of linking for the comparison projection (docs/design/identity-linking.md):
 * loads a batch's links, searches candidates for linkable records (and, when people arrive, for the
 * records waiting for them), proposes strong links, saves links and the waiting list.
 */
@Injectable()
export class IdentityLinks {
  constructor(
    private readonly links: PersonLinkRepository,
    private readonly records: PersonRecordRepository,
  ) {}

  /**
   * The links of everyone in the batch and of the records named by its link events, and their
   * partners' records, read without locks: a batch never locks (nor writes) another partition's people.
   */
  async load(manager: EntityManager, events: readonly RegistrationEvent[], records: ReadonlyMap<string, RegistrationRecord>): Promise<BatchLinks> {
    const keys = [...records.keys()];
    const named = events.filter(isLinkEvent).map((e) => e.payload.recordKey);
    const states = await this.links.statesInvolving(manager, [...keys, ...named], keys);
    const partnerKeys = new Set<string>(named);
    for (const state of states.values()) {
      for (const l of state.links) {
        if (l.status === 'rejected') continue;
        partnerKeys.add(l.recordKey);
        partnerKeys.add(l.personKey);
      }
    }
    for (const k of keys) partnerKeys.delete(k);
    const partners = await this.records.findMany(manager, [...partnerKeys]);
    return new BatchLinks(states, partners);
  }

  /**
   * Looks for the person each linkable record in the batch belongs to (and each waiting record whose
   * person's household arrived in the batch), and proposes the strong, unambiguous ones: applied to
   * `batch` at once and returned for the caller to emit. Never while rebuilding.
   */
  async propose(
    manager: EntityManager,
    batch: BatchLinks,
    events: readonly RegistrationEvent[],
    records: Map<string, RegistrationRecord>,
    now: string,
  ): Promise<{ proposals: Proposal[]; searchAgain: { recordKey: string; trigger: RegistrationEvent }[] }> {
    const lastEvent = new Map<string, RegistrationEvent>();
    for (const e of events) lastEvent.set(e.personKey, e);
    const subjects = new Map<string, { record: RegistrationRecord; trigger: RegistrationEvent }>();
    for (const [key, record] of records) {
      if (isLinkable(record) && !batch.activeOf(key)) subjects.set(key, { record, trigger: lastEvent.get(key) as RegistrationEvent });
    }
    // People whose household record arrived (a department's record, or a move into the county):
    // records waiting for someone one ID relation away.
    const arrived = events.filter(
      (e) => ((e.type === SOURCE_RECORD_RECEIVED && e.payload.facts.kind === 'household') || e.type === HOUSEHOLD_MOVED_IN) && !isSurrogatePersonKey(e.personKey),
    );
    // Searching while households are written elsewhere: the search is repeated for what it does not find.
    const contended = subjects.size > 0 && !(await this.links.trySearchAlone(manager));
    if (arrived.length > 0) await this.links.holdArrivals(manager);
    if (arrived.length > 0 && (await this.links.anyWaiting(manager))) {
      const byBlock = new Map<string, RegistrationEvent>();
      for (const e of arrived) for (const k of blockingKeys(e.personKey.slice(0, 17))) byBlock.set(k, e);
      const waiting = (await this.links.waitingUnder(manager, [...byBlock.keys()])).filter((k) => !subjects.has(k) && !batch.activeOf(k));
      const loaded = await this.records.findMany(manager, waiting.filter((k) => !records.has(k) && !batch.partners.has(k)));
      for (const k of waiting) {
        const record = records.get(k) ?? batch.partners.get(k) ?? loaded.get(k);
        if (!record || !isLinkable(record)) continue;
        batch.partners.set(k, record);
        const body = idBody(record.citizenId as string) as string;
        const trigger = arrived.find((e) => idRelation(body, e.personKey.slice(0, 17)) !== null) ?? (arrived[0] as RegistrationEvent);
        subjects.set(k, { record, trigger });
      }
    }
    if (subjects.size === 0) return { proposals: [], searchAgain: [] };

    const neighbours = new Map<string, string[]>();
    for (const [key, { record }] of subjects) neighbours.set(key, neighbourKeys(idBody(record.citizenId as string) as string));
    const wanted = [...new Set([...neighbours.values()].flat())];
    const stored = await this.records.findMany(manager, wanted.filter((k) => !records.has(k)));
    const latest = (k: string): RegistrationRecord | undefined => records.get(k) ?? stored.get(k);

    const proposals: Proposal[] = [];
    const searchAgain: { recordKey: string; trigger: RegistrationEvent }[] = [];
    for (const [key, { record, trigger }] of [...subjects].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const people = (neighbours.get(key) ?? []).map(latest).filter((r): r is RegistrationRecord => r !== undefined);
      const state = batch.stateOf(key);
      const { choice } = candidatesFor(record, people, (personKey) => wasRejected(state, personKey));
      if (choice.kind !== 'strong') {
        if (contended && records.has(key)) searchAgain.push({ recordKey: key, trigger });
        continue;
      }
      const person = latest(choice.best.personKey) as RegistrationRecord;
      const [event] = decide(
        { type: 'propose', citizenIdAsSent: record.citizenId as string, sources: sourcesOf(record), candidate: choice.best, origin: causedBy(trigger, 'svc:comparison', now, person.version) },
        state,
      );
      if (!event) continue;
      batch.apply(event);
      proposals.push({ event, recordKey: key, personKey: choice.best.personKey, trigger });
    }
    // The people proposed, for the comparison of the records linked to them (read, not locked).
    for (const p of proposals) if (!records.has(p.personKey)) batch.partners.set(p.personKey, stored.get(p.personKey) as RegistrationRecord);
    return { proposals, searchAgain };
  }

  /** Saves the links the batch changed and which records wait for their person. */
  async save(manager: EntityManager, batch: BatchLinks, records: ReadonlyMap<string, RegistrationRecord>): Promise<void> {
    await this.links.saveStates(manager, batch.changedStates());
    const waiting = new Map<string, string[]>();
    const consider = (key: string, record: RegistrationRecord | undefined): void => {
      if (!record || waiting.has(key)) return;
      const keys = waitingKeys(key, record, batch.activeOf(key) !== null);
      if (keys) waiting.set(key, keys);
    };
    for (const [key, record] of records) consider(key, record);
    for (const state of batch.changedStates()) consider(state.recordKey, records.get(state.recordKey) ?? batch.partners.get(state.recordKey));
    await this.links.setWaiting(manager, waiting);
  }

  /**
   * After a person's erasure (ADR 0010): the records whose links to them were deleted wait for a
   * person again, exactly as a rebuild (which never sees the erased person's link events) leaves them.
   */
  async unlinked(manager: EntityManager, recordKeys: readonly string[]): Promise<void> {
    if (recordKeys.length === 0) return;
    const records = await this.records.findMany(manager, recordKeys);
    const active = new Set((await this.links.activeInvolving(manager, recordKeys)).map((l) => l.recordKey));
    const waiting = new Map<string, string[]>();
    for (const key of new Set(recordKeys)) {
      const record = records.get(key);
      const keys = record ? waitingKeys(key, record, active.has(key)) : null;
      if (keys) waiting.set(key, keys);
    }
    await this.links.setWaiting(manager, waiting);
  }
}

/**
 * Which blocking keys a record waits under for its person (none while it has an active link, or when
 * it is not linkable); null for a record that never waits (a valid 18-digit ID's own record).
 */
function waitingKeys(key: string, record: RegistrationRecord, activelyLinked: boolean): string[] | null {
  const legacy = record.citizenId !== null && /^\d{15}$/.test(normaliseCitizenId(record.citizenId));
  if (!isSurrogatePersonKey(key) && !legacy) return null;
  return isLinkable(record) && !activelyLinked ? blockingKeys(idBody(record.citizenId as string) as string) : [];
}
