import type { ChangeFields, ContractViolation } from '@qmcb/contracts';
import { maskCitizenId, normaliseCitizenId, todayInChina, validateCitizenId } from './citizen-id';
import type { ValidCitizenId } from './citizen-id';

/** The identity items a record holds now (null: not known, or no record yet). */
export interface IdentityOnRecord {
  citizenId: string | null;
  sex: string | null;
  birthDate: string | null;
}

/**
 * Whether the identity items a change proposes hold together, the same rules for every channel (a
 * survey form, the window, self-service, the grassroots platform, a department): a citizen ID given
 * is a valid GB 11643 one (check character, birth date not in the future); the sex and birth date
 * agree with the citizen ID in force after the change (the one given, else the one on record) —
 * those given, and, when the citizen ID is corrected, those on record that the change leaves as they
 * are; a birth date given is not in the future. Pure: the violations, field by field (`prefix` +
 * the item: `fields.sex`, `request.fields.sex`), empty when they agree. Messages mask the ID.
 */
export function identityViolations(
  fields: Pick<ChangeFields, 'citizenId' | 'sex' | 'birthDate'>,
  onRecord: IdentityOnRecord,
  now: Date,
  prefix = 'fields.',
): ContractViolation[] {
  const out: ContractViolation[] = [];
  const f = (item: string): string => `${prefix}${item}`;

  let idSays: ValidCitizenId | null = null;
  let corrected = false;
  if (fields.citizenId !== undefined) {
    const checked = validateCitizenId(fields.citizenId, now);
    if (!checked.ok) out.push({ field: f('citizenId'), rule: 'citizenId', message: `${f('citizenId')} fails GB 11643: ${checked.message}` });
    else {
      idSays = checked;
      corrected = onRecord.citizenId === null || normaliseCitizenId(onRecord.citizenId) !== checked.id;
    }
  } else if (onRecord.citizenId !== null) {
    const checked = validateCitizenId(onRecord.citizenId, now);
    if (checked.ok) idSays = checked;
  }

  if (fields.birthDate !== undefined && fields.birthDate > todayInChina(now)) {
    out.push({ field: f('birthDate'), rule: 'notInFuture', message: `${f('birthDate')} must not be in the future` });
  }

  if (idSays) {
    const id = maskCitizenId(idSays.id);
    for (const item of ['sex', 'birthDate'] as const) {
      const says = idSays[item];
      const given = fields[item];
      if (given !== undefined) {
        if (given !== says) out.push({ field: f(item), rule: 'matchesCitizenId', message: `${f(item)} is ${given} but citizen ID ${id} says ${says}` });
      } else if (corrected && onRecord[item] !== null && onRecord[item] !== says) {
        out.push({
          field: f(item),
          rule: 'matchesCitizenId',
          message: `${f(item)} on record is ${onRecord[item]} but the corrected citizen ID ${id} says ${says}: correct ${f(item)} with it`,
        });
      }
    }
  }
  return out;
}
