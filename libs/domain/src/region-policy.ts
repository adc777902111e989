import { readFileSync } from 'fs';
import { resolve } from 'path';
import { BUSINESS_EVENT_TYPES, CHANNELS, INSURANCE_TYPES, SCHEMES } from '@qmcb/contracts';
import type { BusinessEventType, Channel, InsuranceType, Scheme } from '@qmcb/contracts';
import type { RegistrationRecord } from './registration-record';

/** Where policy differs per region: age limits, which phone and address are required, which schemes count. */
export interface RegionPolicy {
  /** Pension is due from this age (城乡居民养老: 16). */
  pensionMinAge: number;
  /** Working age ends here: medical without pension is "partly insured" in [pensionMinAge, retirementAge). */
  retirementAge: number;
  /** From this age a person without an active pension is followed up (AGE_60_NO_PENSION). */
  pensionAgeCheck: number;
  requirePhone: boolean;
  requireAddress: boolean;
  /** Schemes whose active entries count as pension (for coverage and duplicates). */
  pensionSchemes: Scheme[];
  /** Schemes whose active entries count as medical insurance. */
  medicalSchemes: Scheme[];
  /** Where a survey target is visited: the village of the household registration, or of the usual residence. */
  surveyBy: SurveyBy;
  /**
   * Insurance types whose status is assessed per person (issue 10): a type left out is `not-due`
   * (`NOT_ASSESSED`) for everyone in the region, e.g. maternity where it is merged into employee medical.
   */
  coverageTypes: InsuranceType[];
  /**
   * Coverage targets per insurance type as a fraction of the people the type is due (seed 003, 滕州:
   * medical 0.97, pension 0.90); a type without one has no target. Set whole by the longest prefix that sets it.
   */
  coverageTargets: Partial<Record<InsuranceType, number>>;
  /** Channels whose changes skip the township's initial review and wait for the county's final approval. */
  reviewSkipsInitial: Channel[];
  /** A review item waiting longer than this many days is overdue. */
  reviewDueDays: number;
  /**
   * Business events that enter the registry only after the county approves them (procedure §21);
   * the others update it at once (§22). Default: none.
   */
  reviewBusinessEvents: BusinessEventType[];
}

export const SURVEY_BY = ['household', 'residence'] as const;
export type SurveyBy = (typeof SURVEY_BY)[number];

export const DEFAULT_REGION_POLICY: RegionPolicy = Object.freeze({
  pensionMinAge: 16,
  retirementAge: 60,
  pensionAgeCheck: 60,
  requirePhone: true,
  requireAddress: true,
  pensionSchemes: ['employee', 'resident'],
  medicalSchemes: ['employee', 'resident'],
  surveyBy: 'household',
  coverageTypes: [...INSURANCE_TYPES],
  coverageTargets: {},
  reviewSkipsInitial: [],
  reviewDueDays: 5,
  reviewBusinessEvents: [],
}) as RegionPolicy;

/** Overrides per division prefix: 2 digits (province), 4 (city) or 6 (county). */
export interface RegionPolicies {
  regions: Record<string, Partial<RegionPolicy>>;
}

export class RegionPolicyError extends Error {
  constructor(origin: string, message: string) {
    super(`${origin}: ${message}`);
    this.name = 'RegionPolicyError';
  }
}

const AGE_FIELDS = ['pensionMinAge', 'retirementAge', 'pensionAgeCheck'] as const;
const FLAG_FIELDS = ['requirePhone', 'requireAddress'] as const;
const SCHEME_FIELDS = ['pensionSchemes', 'medicalSchemes'] as const;
const POLICY_FIELDS: readonly string[] = [...AGE_FIELDS, ...FLAG_FIELDS, ...SCHEME_FIELDS, 'surveyBy', 'reviewSkipsInitial', 'reviewDueDays', 'reviewBusinessEvents', 'coverageTypes', 'coverageTargets'];
const PREFIX = /^(\d{2}|\d{4}|\d{6})$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseOverride(key: string, raw: unknown, fail: (message: string) => never): Partial<RegionPolicy> {
  if (!isObject(raw)) fail(`regions["${key}"] must be an object of policy fields`);
  const out: Partial<RegionPolicy> = {};
  for (const [field, value] of Object.entries(raw)) {
    const at = `regions["${key}"].${field}`;
    if (!POLICY_FIELDS.includes(field)) fail(`${at} is not a policy field (expected one of ${POLICY_FIELDS.join(', ')})`);
    if ((AGE_FIELDS as readonly string[]).includes(field)) {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 150) fail(`${at} must be an integer from 0 to 150`);
      out[field as (typeof AGE_FIELDS)[number]] = value;
    } else if (field === 'reviewSkipsInitial') {
      const channels: readonly string[] = CHANNELS;
      if (!Array.isArray(value) || !value.every((c): c is Channel => typeof c === 'string' && channels.includes(c))) {
        fail(`${at} must be a list of channels (${CHANNELS.join(', ')})`);
      }
      if (new Set(value).size !== value.length) fail(`${at} lists a channel twice`);
      out.reviewSkipsInitial = [...value];
    } else if (field === 'reviewDueDays') {
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 365) fail(`${at} must be an integer from 1 to 365`);
      out.reviewDueDays = value;
    } else if (field === 'surveyBy') {
      if (typeof value !== 'string' || !(SURVEY_BY as readonly string[]).includes(value)) fail(`${at} must be one of ${SURVEY_BY.join(', ')}`);
      out.surveyBy = value as SurveyBy;
    } else if (field === 'reviewBusinessEvents') {
      const types: readonly string[] = BUSINESS_EVENT_TYPES;
      if (!Array.isArray(value) || !value.every((t): t is BusinessEventType => typeof t === 'string' && types.includes(t))) {
        fail(`${at} must be a list of business event types (${BUSINESS_EVENT_TYPES.join(', ')})`);
      }
      if (new Set(value).size !== value.length) fail(`${at} lists a type twice`);
      out.reviewBusinessEvents = [...value];
    } else if (field === 'coverageTypes') {
      const types: readonly string[] = INSURANCE_TYPES;
      if (!Array.isArray(value) || value.length === 0 || !value.every((t): t is InsuranceType => typeof t === 'string' && types.includes(t))) {
        fail(`${at} must be a non-empty list of insurance types (${INSURANCE_TYPES.join(', ')})`);
      }
      if (new Set(value).size !== value.length) fail(`${at} lists an insurance type twice`);
      out.coverageTypes = [...value];
    } else if (field === 'coverageTargets') {
      if (!isObject(value)) fail(`${at} must be an object of insurance type to target, e.g. { "medical": 0.97, "pension": 0.9 }`);
      const targets: Partial<Record<InsuranceType, number>> = {};
      for (const [type, target] of Object.entries(value)) {
        if (!(INSURANCE_TYPES as readonly string[]).includes(type)) fail(`${at}.${type} is not an insurance type (expected one of ${INSURANCE_TYPES.join(', ')})`);
        if (typeof target !== 'number' || !Number.isFinite(target) || target <= 0 || target > 1) fail(`${at}.${type} must be a fraction above 0 and at most 1 (0.97 for 97%)`);
        targets[type as InsuranceType] = target;
      }
      out.coverageTargets = targets;
    } else if ((FLAG_FIELDS as readonly string[]).includes(field)) {
      if (typeof value !== 'boolean') fail(`${at} must be true or false`);
      out[field as (typeof FLAG_FIELDS)[number]] = value;
    } else {
      const schemes: readonly string[] = SCHEMES;
      if (!Array.isArray(value) || value.length === 0 || !value.every((s): s is Scheme => typeof s === 'string' && schemes.includes(s))) {
        fail(`${at} must be a non-empty list of schemes (${SCHEMES.join(', ')})`);
      }
      if (new Set(value).size !== value.length) fail(`${at} lists a scheme twice`);
      out[field as (typeof SCHEME_FIELDS)[number]] = [...value];
    }
  }
  return out;
}

/**
 * Validates region policy overrides (the content of `config/region-policies.json`). Pure. Throws a
 * RegionPolicyError naming the bad key: a key that is no 2-, 4- or 6-digit division prefix, an
 * unknown field, a value of the wrong type, or an effective policy whose pension age range is empty.
 */
export function parseRegionPolicies(json: unknown, origin = 'region policies'): RegionPolicies {
  const fail = (message: string): never => {
    throw new RegionPolicyError(origin, message);
  };
  if (!isObject(json)) fail('must be a JSON object with "regions"');
  const root = json as Record<string, unknown>;
  for (const key of Object.keys(root)) {
    if (key !== 'regions' && !key.startsWith('$')) fail(`unknown top-level key "${key}" (expected "regions"; keys starting with $ are comments)`);
  }
  const regionsRaw = root.regions ?? {};
  if (!isObject(regionsRaw)) fail('"regions" must be an object keyed by division prefix');
  const regions: Record<string, Partial<RegionPolicy>> = {};
  for (const key of Object.keys(regionsRaw as Record<string, unknown>).sort()) {
    if (!PREFIX.test(key)) fail(`regions key "${key}" must be a 2-, 4- or 6-digit division prefix (province, city or county)`);
    regions[key] = parseOverride(key, (regionsRaw as Record<string, unknown>)[key], fail);
  }
  const policies: RegionPolicies = { regions };
  for (const key of Object.keys(regions)) {
    const effective = policyForDivision(key, policies);
    if (effective.pensionMinAge >= effective.retirementAge) {
      fail(`regions["${key}"]: pensionMinAge (${effective.pensionMinAge}) must be below retirementAge (${effective.retirementAge})`);
    }
  }
  return policies;
}

/** The region policy file: REGION_POLICIES_FILE, else `config/region-policies.json` under the working directory. */
export function regionPoliciesFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env['REGION_POLICIES_FILE'] ?? 'config/region-policies.json');
}

/** Reads and validates a region policy file. A service reads it once, at start (a bad file stops it there). */
export function loadRegionPolicies(file: string = regionPoliciesFile()): RegionPolicies {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RegionPolicyError(file, `cannot be read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RegionPolicyError(file, `is not valid JSON (${(err as Error).message})`);
  }
  return parseRegionPolicies(json, file);
}

/**
 * The policy of a division: the defaults, overridden by the province prefix, then the city, then the
 * county, so for each field the longest configured prefix that sets it wins. Pure.
 */
export function policyForDivision(division: string | null, policies: RegionPolicies): RegionPolicy {
  let policy: RegionPolicy = { ...DEFAULT_REGION_POLICY };
  if (division === null) return policy;
  for (const length of [2, 4, 6]) {
    if (division.length < length) break;
    const override = policies.regions[division.slice(0, length)];
    if (override) policy = { ...policy, ...override };
  }
  return policy;
}

/**
 * The policy region of a person: the division whose region policy applies to them. Their household
 * village, else their residence, else the county whose social-insurance system reports them.
 */
export function policyRegion(record: Pick<RegistrationRecord, 'hukouDivision' | 'residenceDivision' | 'insurance'>): string | null {
  if (record.hukouDivision) return record.hukouDivision;
  if (record.residenceDivision) return record.residenceDivision;
  const local = Object.keys(record.insurance)
    .sort()
    .map((key) => record.insurance[key as keyof typeof record.insurance])
    .find((e) => e.department === 'social-insurance');
  return local?.region ?? null;
}

/** The region policy that applies to a person (policyRegion). Pure. */
export function policyFor(record: Pick<RegistrationRecord, 'hukouDivision' | 'residenceDivision' | 'insurance'>, policies: RegionPolicies): RegionPolicy {
  return policyForDivision(policyRegion(record), policies);
}
