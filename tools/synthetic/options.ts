/**
 * What the generator is asked for. Rates are probabilities per person among the people a case can
 * apply to (its "eligible" group, stated beside each rate), so a rate means the same whatever the
 * age structure; `manifest.json` reports the counts each run actually produced.
 *
 * Defaults follow the 高州 plan (seed 000): of about 1.3 million people, 78,647 uninsured (≈6.0%)
 * and 98,674 with wrong information (≈7.6%), together 177,321 survey targets (≈13.6%); and the
 * 滕州 plan (seed 003): targets of 97% medical and 90% pension coverage, 60+ without a pension
 * followed up, students, military and prisoners told apart before counting someone as uninsured.
 */
export interface SynthRates {
  // ---- status (public security, civil affairs, justice)
  /** People aged 50+ who died but are still on a register. */
  deceased: number;
  /** Of the deceased: a pension still paid (BENEFIT_AFTER_DEATH). */
  benefitAfterDeath: number;
  /** 18-59: household moved out (迁出). */
  movedOut: number;
  /** Men 18-24: in the military (参军). */
  military: number;
  /** 18-59: in prison (服刑). */
  prisoner: number;
  /** Normal people 18-70 with a custody record of a past sentence (inCustody: false): not exempt. */
  releasedPrisoner: number;

  // ---- who is who
  /** Share of all people who are non-local workers insured here (no household record here). */
  nonLocalInsured: number;
  /** Share of all people who are non-local and known only to tax: never compared (outcome none). */
  nonLocalTaxOnly: number;
  /** 18-59 locals, not employed here: insured in another county (higher registry), not here. */
  insuredElsewhere: number;
  /** Of those insured elsewhere: tax here says employed (by a firm insuring them where it is registered). */
  taxHereInsuredElsewhere: number;
  /** 18-59 non-students: employed per tax (employee schemes here). */
  employed: number;
  /** Households on minimum living allowance, extreme poverty or registered poor (civil affairs). */
  welfareHousehold: number;

  // ---- coverage cases (at most one per person of normal status)
  /** Non-students of any age: no active pension and no active medical (UNINSURED). */
  uninsured: number;
  /** Students (enrolled): no coverage at all (EXEMPT_STUDENT). */
  studentUninsured: number;
  /** Employed per tax: unemployment and/or work-injury missing or lapsed (PARTLY_INSURED_EMPLOYEE). */
  partlyInsuredEmployee: number;
  /** 16-59 non-students not employed: medical but no pension (PARTLY_INSURED_NO_PENSION). */
  medicalNoPension: number;
  /** 60+: medical but no pension (AGE_60_NO_PENSION). */
  age60NoPension: number;
  /** 18+ non-students: employee and resident pension both active (DUPLICATE_PENSION). */
  duplicatePension: number;
  /** 18+ non-students: employee and resident medical both active (DUPLICATE_MEDICAL). */
  duplicateMedical: number;
  /** 18+ non-students: the same scheme active here and in another county (DUPLICATE_REGION). */
  duplicateRegion: number;

  // ---- wrong or missing information (independent of each other and of the above)
  /** Locals: the citizen ID as every department holds it fails GB 11643 (INACCURATE_CITIZEN_ID). */
  invalidCitizenId: number;
  /** People with a second source that carries a name: one department has a typo (INACCURATE_NAME). */
  nameTypo: number;
  /** One source states the other sex (INACCURATE_SEX). */
  sexMismatch: number;
  /** One source states another birth date (INACCURATE_BIRTH_DATE). */
  birthDateMismatch: number;
  /** No source has a phone (MISSING_PHONE). */
  missingPhone: number;
  /** No source has an address (MISSING_ADDRESS). */
  missingAddress: number;
  /**
   * Locals with social insurance: one of its records carries the ID mistyped: a wrong check character,
   * one wrong digit, or two adjacent digits swapped (a third each). The record keys a person of its
   * own (surrogate key); comparison links it to the real person when the documented scoring finds
   * them (docs/design/identity-linking.md), else it stays INACCURATE_CITIZEN_ID on its own.
   */
  idTypoInOneSource: number;

  // ---- later changes (public security, mode change, asOf one day later, loaded last)
  /** Of those missing a phone: public security adds one by a change record. */
  phoneAddedByChange: number;
  /** Normal 18-59: moved out, by a change record. */
  movedOutByChange: number;
  /** Normal 60+: died, by a change record (a pension still paid makes it BENEFIT_AFTER_DEATH). */
  deceasedByChange: number;
  /** Normal locals: an older household snapshot (asOf 30 days earlier, moved out, no phone) arrives last: changes nothing. */
  staleHouseholdSnapshot: number;
  /**
   * Locals with an active pension here: the higher registry sends the county's own record back,
   * half the time as it is (no duplicate), half the time as ended (an open question: see oracle.ts).
   */
  higherRegistryEcho: number;

  // ---- variations that must change nothing
  /** One non-household source pads the name with spaces or a full-width space. */
  paddedName: number;
  /** Born 1900-1999 with insurance: social insurance still uses the old 15-digit ID. */
  legacy15DigitId: number;
  /** IDs ending in X: one source writes a lower-case x. */
  lowerCaseX: number;
  /** Aged 15, 16, 59 or 60: born so that they turn 16 or 60 exactly on asOf, or the day after. */
  ageBoundary: number;

  // ---- rows for the loader
  /** Per good row: the same line again later in the file (a duplicate, changes nothing). */
  repeatedRow: number;
  /** Per good row: a bad row inserted before it (quarantined); every file gets at least `minBadRowsPerFile`. */
  badRow: number;
}

export const DEFAULT_RATES: SynthRates = {
  deceased: 0.025,
  benefitAfterDeath: 0.15,
  movedOut: 0.012,
  military: 0.03,
  prisoner: 0.003,
  releasedPrisoner: 0.002,

  nonLocalInsured: 0.03,
  nonLocalTaxOnly: 0.004,
  insuredElsewhere: 0.08,
  taxHereInsuredElsewhere: 0.2,
  employed: 0.3,
  welfareHousehold: 0.05,

  uninsured: 0.075,
  studentUninsured: 0.04,
  partlyInsuredEmployee: 0.12,
  medicalNoPension: 0.07,
  age60NoPension: 0.1,
  duplicatePension: 0.008,
  duplicateMedical: 0.008,
  duplicateRegion: 0.006,

  invalidCitizenId: 0.004,
  nameTypo: 0.02,
  sexMismatch: 0.004,
  birthDateMismatch: 0.01,
  missingPhone: 0.03,
  missingAddress: 0.012,
  idTypoInOneSource: 0.01,

  phoneAddedByChange: 0.2,
  movedOutByChange: 0.002,
  deceasedByChange: 0.003,
  staleHouseholdSnapshot: 0.003,
  higherRegistryEcho: 0.002,

  paddedName: 0.02,
  legacy15DigitId: 0.04,
  lowerCaseX: 0.3,
  ageBoundary: 0.05,

  repeatedRow: 0.002,
  badRow: 0.0005,
};

export interface SynthOptions {
  /** Number of people (truth rows), households filled up to exactly this. */
  people: number;
  seed: number;
  /** 6-digit county code (default 440981 高州市). */
  county: string;
  /** YYYY-MM-DD: every record's asOf is this date at 00:00Z (changes: the day after); ages are computed then. */
  asOf: string;
  /** Output directory (created). */
  out: string;
  rates: SynthRates;
  /** Bad rows every file gets at least (so that a small population still exercises the quarantine). */
  minBadRowsPerFile: number;
}

export const DEFAULT_OPTIONS: Omit<SynthOptions, 'out'> = {
  people: 10_000,
  seed: 42,
  county: '440981',
  asOf: '2026-11-01',
  rates: DEFAULT_RATES,
  minBadRowsPerFile: 3,
};
