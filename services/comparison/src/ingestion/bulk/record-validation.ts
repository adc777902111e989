import { ContractViolationError, FACT_KINDS, flattenValidationErrors, surelyValid } from '@qmcb/contracts';
import type { ContractViolation, Department } from '@qmcb/contracts';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { SourceRecordDto } from '../record-batch.dto';
import { buildSourceRecordEvent, departmentMaySend, isFactKind, unknownDivisionViolation } from '../source-record-event';
import type { EventContext, SourceRecordEvent, SourceRecordInput } from '../source-record-event';

export type Violation = ContractViolation;

/** Rule names of refusals that are not class-validator's. */
export const ROW_RULES = {
  kindNotAllowed: 'kindNotAllowed',
  knownDivision: 'knownDivision',
  isObject: 'isObject',
  json: 'json',
} as const;

export type ValidatedRecord = { ok: true; record: SourceRecordInput } | { ok: false; violations: Violation[] };

/**
 * One record checked by exactly the rules of `POST /records`: SourceRecordDto with the options of
 * the global ValidationPipe (whitelist, forbidNonWhitelisted), then the department-may-send-kind
 * rule. Field paths are relative to the record (`facts.villageCode`). The contracts' compiled fast
 * path (`surelyValid`) answers for the common valid record; class-validator runs whenever it is not
 * sure, and alone names violations.
 */
export function validateSourceRecord(plain: unknown, department: Department): ValidatedRecord {
  if (typeof plain !== 'object' || plain === null || Array.isArray(plain)) {
    return { ok: false, violations: [{ field: '(record)', rule: ROW_RULES.isObject, message: 'the record must be a JSON object' }] };
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
