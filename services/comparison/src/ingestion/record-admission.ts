import { ContractViolationError, FACT_KINDS, flattenValidationErrors, surelyValid } from '@qmcb/contracts';
import type { ContractViolation, Department } from '@qmcb/contracts';
import { DomainError } from '@qmcb/platform';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SourceRecordDto } from './record-batch.dto';
import { buildSourceRecordEvent, departmentMaySend, isFactKind, unknownDivisionViolation } from './source-record-event';
import type { EventContext, SourceRecordEvent, SourceRecordInput } from './source-record-event';

export type Violation = ContractViolation;

/** Rule names of refusals that are not class-validator's. */
export const ROW_RULES = {
  kindNotAllowed: 'kindNotAllowed',
  knownDivision: 'knownDivision',
  isObject: 'isObject',
  json: 'json',
  maxDepth: 'maxDepth',
} as const;

/** A department record is a few levels deep; anything much deeper is refused before the validators recurse into it. */
export const MAX_RECORD_DEPTH = 16;

/** Whether a parsed value nests deeper than `max` (iterative: a value 100,000 levels deep costs no stack). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return false;
}

export type ValidatedRecord = { ok: true; record: SourceRecordInput } | { ok: false; violations: Violation[] };

/**
 * The one admission check of a department record, for `POST /records` and bulk loads alike:
 * SourceRecordDto with the options of the global ValidationPipe (whitelist, forbidNonWhitelisted),
 * then the department-may-send-kind rule, then the known-division rule. Field paths are relative to the record (`facts.villageCode`). The contracts' compiled fast
 * path (`surelyValid`) answers for the common valid record; class-validator runs whenever it is not
 * sure, and alone names violations.
 */
export function validateSourceRecord(plain: unknown, department: Department): ValidatedRecord {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, violations: [{ field: '(record)', rule: ROW_RULES.isObject, message: 'the record must be a JSON object' }] };
  }
  if (nestedDeeperThan(plain, MAX_RECORD_DEPTH)) {
    return { ok: false, violations: [{ field: '(record)', rule: ROW_RULES.maxDepth, message: `the record is nested deeper than ${MAX_RECORD_DEPTH} levels` }] };
  }
  if (surelyValid(SourceRecordDto, plain)) return departmentChecked(plain as SourceRecordInput, department);
  const record = plainToInstance(SourceRecordDto, plain);
  let violations = flattenValidationErrors(validateSync(record, { whitelist: true, forbidNonWhitelisted: true }));
  const facts: unknown = (plain as Record<string, unknown>)['facts'];
  const kind = typeof facts === 'object' && facts !== null ? (facts as Record<string, unknown>)['kind'] : undefined;
  if (typeof facts === 'object' && facts !== null && !Array.isArray(facts) && !isFactKind(kind)) {
    // class-validator can only say "an unknown value" of facts without a known kind: name the field.
    violations = [
      ...violations.filter((v) => !v.field.startsWith('facts.')),
      { field: 'facts.kind', rule: 'isIn', message: `facts.kind must be one of: ${FACT_KINDS.join(', ')}` },
    ];
  }
  if (violations.length) return { ok: false, violations };
  return departmentChecked(record, department);
}

function departmentChecked(record: SourceRecordInput, department: Department): ValidatedRecord {
  if (!departmentMaySend(department, record.facts.kind)) {
    return {
      ok: false,
      violations: [
        { field: 'facts.kind', rule: ROW_RULES.kindNotAllowed, message: `facts.kind '${record.facts.kind}' may not be sent by department '${department}'` },
      ],
    };
  }
  const unknown = unknownDivisionViolation(record.facts);
  if (unknown) return { ok: false, violations: [unknown] };
  return { ok: true, record };
}

export type BuiltEvent = { ok: true; event: SourceRecordEvent } | { ok: false; violations: Violation[] };

/**
 * The event of a valid record. Its contract (`parseEvent`) is checked by the log's producer when
 * the chunk is appended, as for `POST /records`; the loader then singles out any event refused.
 */
export function buildEvent(record: SourceRecordInput, ctx: EventContext): BuiltEvent {
  try {
    return { ok: true, event: buildSourceRecordEvent(record, ctx) };
  } catch (e) {
    if (e instanceof ContractViolationError) return { ok: false, violations: e.violations };
    throw e;
  }
}

/** A violation of the record at `prefix` (`records.3.`): the field path and the message say where. */
export function at(prefix: string, v: Violation): Violation {
  return { field: `${prefix}${v.field}`, rule: v.rule, message: v.message.startsWith(v.field) ? `${prefix}${v.message}` : v.message };
}

/**
 * A batch of records (`POST /records`), all or nothing: every record admitted, or the batch refused
 * naming every offending field (400), or naming the first record of a kind the department may not
 * send (403, as for a caller without the right).
 */
export function admitBatch(raw: readonly unknown[], department: Department): SourceRecordInput[] {
  const results = raw.map((r) => validateSourceRecord(r, department));
  const all = results.flatMap((r, i) => (r.ok ? [] : r.violations.map((v) => ({ index: i, v }))));
  const shape = all.filter(({ v }) => v.rule !== ROW_RULES.kindNotAllowed && v.rule !== ROW_RULES.knownDivision);
  const refuse = (list: typeof all): never => {
    throw new ContractViolationError(list.map(({ index, v }) => at(`records.${index}.`, v)));
  };
  if (shape.length) refuse(shape);
  const notAllowed = all.find(({ v }) => v.rule === ROW_RULES.kindNotAllowed);
  if (notAllowed) throw new DomainError('FORBIDDEN', `records[${notAllowed.index}].${notAllowed.v.message}`);
  if (all.length) refuse(all);
  return results.map((r) => (r as Extract<ValidatedRecord, { ok: true }>).record);
}
