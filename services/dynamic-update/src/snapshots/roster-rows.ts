import { SOURCE_FACT_SUBTYPES, SOURCE_RECORD_RECEIVED, deterministicId, flattenValidationErrors, newEvent } from '@qmcb/contracts';
import type { ContractViolation, Department, EventOf, FactKind, SourceFacts } from '@qmcb/contracts';
import { isKnownDivision, personKeyFor, slotOfFacts, validateCitizenId } from '@qmcb/domain';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { createHash } from 'crypto';

/** A line longer than this is refused, not buffered further. */
export const MAX_LINE_CHARS = 64 * 1024;
/** The raw text of a refused line is kept up to this many characters. */
const MAX_RAW_CHARS = 8 * 1024;

export interface Line {
  line: number;
  text: string;
  tooLong: boolean;
}

/** A byte stream to lines (`\n` or `\r\n`), numbered from 1, without holding more than one line. */
export async function* linesOf(source: AsyncIterable<Buffer | string>): AsyncGenerator<Line> {
  let buffer = '';
  let number = 0;
  let tooLong = false;
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of source) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let at: number;
    while ((at = buffer.indexOf('\n')) >= 0) {
      number += 1;
      const text = buffer.slice(0, at).replace(/\r$/, '');
      buffer = buffer.slice(at + 1);
      yield { line: number, text: tooLong ? text.slice(0, MAX_RAW_CHARS) : text, tooLong: tooLong || text.length > MAX_LINE_CHARS };
      tooLong = false;
    }
    if (buffer.length > MAX_LINE_CHARS) {
      // Keep the beginning for the report; the rest of the line is dropped as it comes.
      buffer = buffer.slice(0, MAX_RAW_CHARS);
      tooLong = true;
    }
  }
  buffer += decoder.decode();
  if (buffer.length > 0) yield { line: number + 1, text: buffer.replace(/\r$/, ''), tooLong };
}

export interface RosterContext {
  snapshotId: string;
  department: Department;
  kind: FactKind;
  scope: string;
  /** The roster's as-of time: every row is the department's statement as of then. */
  asOf: string;
  actor: string;
  recordedAt: string;
}

export type RosterRow =
  | { ok: true; line: number; raw: string; personKey: string; slot: string; facts: SourceFacts; event: EventOf<typeof SOURCE_RECORD_RECEIVED> }
  | { ok: false; line: number; raw: string; violations: ContractViolation[] };

const FIELDS = ['sourceRecordId', 'citizenId', 'facts'];

function refused(line: Line, violations: ContractViolation[]): RosterRow {
  return { ok: false, line: line.line, raw: line.text.slice(0, MAX_RAW_CHARS), violations };
}

function canonical(facts: SourceFacts): SourceFacts {
  const source = facts as unknown as Record<string, unknown>;
  return Object.fromEntries(Object.keys(source).sort().filter((k) => source[k] !== undefined).map((k) => [k, source[k]])) as unknown as SourceFacts;
}

/** Where a slot lies, for the roster's scope: the household village, the insuring county; null when the facts do not say. */
function placeOf(facts: SourceFacts): string | null {
  if (facts.kind === 'household') return facts.villageCode;
  if (facts.kind === 'insurance') return facts.region;
  return null;
}

/**
 * One line of a roster: `{"sourceRecordId":"…","citizenId":"…","facts":{"kind":"household",…}}`, the
 * department's full statement of that slot as of the roster's time (a snapshot record). Refused with
 * every reason: not JSON, other fields, facts of another kind, a contract violation, a village that
 * does not exist, a place outside the roster's scope. A citizen ID that fails GB 11643 is kept and
 * flagged, as for any department record.
 */
export function rosterRow(line: Line, ctx: RosterContext): RosterRow {
  if (line.tooLong) return refused(line, [{ field: '(line)', rule: 'maxLength', message: `the line is longer than ${MAX_LINE_CHARS} characters` }]);
  let plain: unknown;
  try {
    plain = JSON.parse(line.text);
  } catch (e) {
    return refused(line, [{ field: '(line)', rule: 'json', message: `the line is not JSON: ${(e as Error).message}` }]);
  }
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) return refused(line, [{ field: '(line)', rule: 'isObject', message: 'the line must be a JSON object' }]);
  const row = plain as Record<string, unknown>;
  const v: ContractViolation[] = [];
  for (const key of Object.keys(row)) if (!FIELDS.includes(key)) v.push({ field: key, rule: 'whitelistValidation', message: `property ${key} should not exist` });
  const { sourceRecordId, citizenId, facts } = row;
  if (typeof sourceRecordId !== 'string' || sourceRecordId.length < 1 || sourceRecordId.length > 128) v.push({ field: 'sourceRecordId', rule: 'length', message: 'sourceRecordId must be 1 to 128 characters' });
  if (typeof citizenId !== 'string' || citizenId.length < 1 || citizenId.length > 32) v.push({ field: 'citizenId', rule: 'length', message: 'citizenId must be 1 to 32 characters' });
  const cls = SOURCE_FACT_SUBTYPES.find((s) => s.name === ctx.kind)?.value;
  if (typeof facts !== 'object' || facts === null || Array.isArray(facts) || (facts as Record<string, unknown>)['kind'] !== ctx.kind || !cls) {
    v.push({ field: 'facts.kind', rule: 'equals', message: `facts.kind must be ${ctx.kind}, the kind of this roster` });
  } else {
    v.push(...flattenValidationErrors(validateSync(plainToInstance(cls as new () => object, facts), { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true }), 'facts'));
  }
  if (v.length) return refused(line, v);
  const typed = canonical(facts as SourceFacts);
  if (typed.kind === 'household' && !isKnownDivision(typed.villageCode)) {
    return refused(line, [{ field: 'facts.villageCode', rule: 'knownDivision', message: `facts.villageCode ${typed.villageCode} is not a known village/community code` }]);
  }
  const place = placeOf(typed);
  if (place !== null && !place.startsWith(ctx.scope)) {
    return refused(line, [{ field: typed.kind === 'household' ? 'facts.villageCode' : 'facts.region', rule: 'inScope', message: `the roster covers ${ctx.scope}; this record lies in ${place}` }]);
  }
  const id = citizenId as string;
  const valid = validateCitizenId(id).ok;
  const personKey = personKeyFor(id);
  const content = createHash('sha256').update(JSON.stringify([id, ctx.asOf, typed])).digest('hex');
  const event = newEvent(
    SOURCE_RECORD_RECEIVED,
    deterministicId('roster-record', ctx.department, sourceRecordId as string, content),
    personKey,
    { department: ctx.department, sourceRecordId: sourceRecordId as string, mode: 'snapshot', citizenIdAsSent: id, citizenIdValid: valid, asOf: ctx.asOf, facts: typed },
    { source: `dept:${ctx.department}`, actor: ctx.actor, occurredAt: ctx.asOf, recordedAt: ctx.recordedAt, correlationId: ctx.snapshotId },
  );
  return { ok: true, line: line.line, raw: line.text.slice(0, MAX_RAW_CHARS), personKey, slot: slotOfFacts(typed), facts: typed, event };
}
