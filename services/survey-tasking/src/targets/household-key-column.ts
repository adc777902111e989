import type { PersonKeyColumn } from '@qmcb/service-kit';

/** The household key of a person without a 户号 begins so, followed by their person key (`householdKeyOf`). */
const OWN_HOUSEHOLD = 'P-';

/**
 * What a `household_key` column holds (ADR 0011, stage 5): `<village>-<户号>` as it is; a person's own
 * household `P-<person key>` as `P-<stored person key>` (`P-<person ID>`), so no citizen ID is at rest
 * in it. The repositories convert at their boundary, as they do person keys (`PersonKeyColumn`).
 */
export class HouseholdKeyColumn {
  constructor(private readonly keys: PersonKeyColumn) {}

  /** The value the column holds for a household key (idempotent: a stored value is not a person key). */
  stored(householdKey: string): string {
    return householdKey.startsWith(OWN_HOUSEHOLD) ? `${OWN_HOUSEHOLD}${this.keys.stored(householdKey.slice(OWN_HOUSEHOLD.length))}` : householdKey;
  }

  /** `stored` of each key, distinct. */
  storedAll(householdKeys: Iterable<string>): string[] {
    return [...new Set([...householdKeys].map((k) => this.stored(k)))];
  }

  /** The household key a column's value stands for (a value written before stage 5: itself). */
  key(value: string): string {
    return value.startsWith(OWN_HOUSEHOLD) ? `${OWN_HOUSEHOLD}${this.keys.key(value.slice(OWN_HOUSEHOLD.length))}` : value;
  }
}
