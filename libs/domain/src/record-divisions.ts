import type { RegionPolicy } from './region-policy';
import type { RegistrationRecord } from './registration-record';

/**
 * Where a person's record is filed, for scope (who may see and serve them): their household village,
 * else their residence, else the county where they are actively insured (the lowest code, if several):
 * a non-local person insured here is still someone's to serve.
 */
export function filingDivision(record: Pick<RegistrationRecord, 'hukouDivision' | 'residenceDivision' | 'insurance'>): string | null {
  if (record.hukouDivision) return record.hukouDivision;
  if (record.residenceDivision) return record.residenceDivision;
  const regions = Object.values(record.insurance)
    .filter((i) => i.status === 'active')
    .map((i) => i.region)
    .sort();
  return regions[0] ?? null;
}

/**
 * The village where a survey target is visited (procedure §17): by region policy, the village of the
 * household registration or of the usual residence, falling back to the other when it is unknown.
 */
export function surveyVillage(record: Pick<RegistrationRecord, 'hukouDivision' | 'residenceDivision'>, policy: Pick<RegionPolicy, 'surveyBy'>): string | null {
  return policy.surveyBy === 'residence' ? (record.residenceDivision ?? record.hukouDivision) : (record.hukouDivision ?? record.residenceDivision);
}
