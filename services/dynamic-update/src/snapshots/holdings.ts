import type { Department, FactKind } from '@qmcb/contracts';
import { filingDivision, identityStatements } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';

/** A slot a department holds of a person, and where it lies (what a roster of that department covers). */
export interface Holding {
  department: Department;
  slot: string;
  kind: FactKind;
  /** The household village for a household, the insuring county for insurance, else where the person is filed. */
  scopeDivision: string;
  asOf: string;
}

/** Every slot a department holds of the person (from its records and business events). Pure. */
export function holdingsOf(record: RegistrationRecord): Holding[] {
  const filed = filingDivision(record) ?? '';
  return identityStatements(record).map((s) => {
    const kind = s.slot.split(':')[0] as FactKind;
    const scopeDivision = kind === 'household' ? (record.household?.villageCode ?? filed) : kind === 'insurance' ? (s.slot.split(':')[3] ?? filed) : filed;
    return { department: s.claimant, slot: s.slot, kind, scopeDivision, asOf: s.asOf };
  });
}
