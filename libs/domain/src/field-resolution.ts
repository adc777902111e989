import { DEPARTMENTS } from '@qmcb/contracts';
import type { Sex } from '@qmcb/contracts';
import type { CitizenIdInfo } from './citizen-id';
import type { Claimant, IdentityClaim, IdentityField, RegistrationRecord } from './registration-record';

/**
 * Which source wins each field of the registration record, and why (docs/design/comparison-model.md,
 * "Field precedence"). Pure: the same record and ID give the same answer.
 */

export const RESOLVED_FIELDS = ['name', 'sex', 'birthDate', 'phone', 'address', 'hukouDivision', 'residenceDivision'] as const;
export type ResolvedFieldName = (typeof RESOLVED_FIELDS)[number];

/** A claimant, or the valid citizen ID itself (for sex and birth date). */
export type FieldSource = Claimant | 'citizen-id';

export interface FieldCandidate<T> {
  source: FieldSource;
  value: T;
  /** As-of time of the record the value came from; null for the citizen ID. */
  asOf: string | null;
}

export interface ResolvedField<T> {
  /** The winning value; null when no source gives one. */
  value: T | null;
  source: FieldSource | null;
  /** Why this source wins, in words, with its precedence rank. */
  reason: string;
  /** Every source that gives a value, in precedence order (the winner first). */
  candidates: FieldCandidate<T>[];
}

export interface ResolvedFields {
  name: ResolvedField<string>;
  sex: ResolvedField<Sex>;
  birthDate: ResolvedField<string>;
  phone: ResolvedField<string>;
  /** Household address first, then the residence address of the approved form, then the rest. */
  address: ResolvedField<string>;
  /** 户口所在地: the household village of public security. */
  hukouDivision: ResolvedField<string>;
  /** 常住所在地: the residence village of the approved form. */
  residenceDivision: ResolvedField<string>;
}

export type FieldResolutionInput = Pick<RegistrationRecord, 'claims' | 'household' | 'collected'>;

/** Ranks of precedence, best first; claimants within one rank are tied and the latest as-of wins. */
type Ranks = readonly (readonly FieldSource[])[];

/** The listed ranks, then "others": every claimant not listed, as one rank (the latest wins). */
function ranks(...listed: (FieldSource | readonly FieldSource[])[]): Ranks {
  const explicit = listed.map((r): readonly FieldSource[] => (typeof r === 'string' ? [r] : r));
  const named = new Set(explicit.flat());
  const others = [...DEPARTMENTS, 'survey' as const].filter((s) => !named.has(s));
  return others.length > 0 ? [...explicit, others] : explicit;
}

export const FIELD_PRECEDENCE: Record<IdentityField, Ranks> = {
  name: ranks('survey', 'public-security', 'social-insurance', 'tax', 'education', 'civil-affairs', 'justice', 'higher-registry'),
  sex: ranks('survey', 'public-security', 'citizen-id', 'social-insurance', 'education'),
  birthDate: ranks('survey', 'public-security', 'citizen-id', 'social-insurance', 'education'),
  phone: ranks('survey', ['social-insurance', 'public-security']),
  address: ranks('public-security', 'survey', 'social-insurance'),
};

const FIELD_WORDS: Record<ResolvedFieldName, string> = {
  name: 'a name',
  sex: 'a sex',
  birthDate: 'a birth date',
  phone: 'a phone',
  address: 'an address',
  hukouDivision: 'a household village',
  residenceDivision: 'a residence village',
};

function why(field: IdentityField, source: FieldSource): string {
  if (source === 'survey') {
    return field === 'address'
      ? 'the approved collected information gives the usual residence address, checked and approved by the county'
      : field === 'sex' || field === 'birthDate'
        ? 'a correction backed by evidence (ID card, household book) was approved by the county'
        : 'the approved collected information was checked at the source and approved by the county';
  }
  if (source === 'citizen-id') return `the valid citizen ID encodes the ${field === 'sex' ? 'sex' : 'birth date'}`;
  if (source === 'public-security' && field === 'address') return 'public-security holds the household address';
  if (source === 'public-security' && field !== 'phone') return 'public-security is the authority for household identity';
  return `${source} gives ${FIELD_WORDS[field]}`;
}

function asOfTime(asOf: string | null): number {
  if (asOf === null) return Number.NEGATIVE_INFINITY;
  const t = Date.parse(asOf);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

function claimValue<F extends IdentityField>(claim: IdentityClaim | undefined, field: F): IdentityClaim[F] | null {
  return claim ? claim[field] : null;
}

function resolveIdentity<F extends IdentityField>(
  field: F,
  claims: FieldResolutionInput['claims'],
  idInfo: CitizenIdInfo | null,
): ResolvedField<NonNullable<IdentityClaim[F]>> {
  type V = NonNullable<IdentityClaim[F]>;
  const order = FIELD_PRECEDENCE[field];
  const rankedCandidates: { rank: number; candidate: FieldCandidate<V> }[] = [];
  order.forEach((rank, index) => {
    const inRank: FieldCandidate<V>[] = [];
    for (const source of rank) {
      if (source === 'citizen-id') {
        const encoded = idInfo === null ? null : field === 'sex' ? idInfo.sex : field === 'birthDate' ? idInfo.birthDate : null;
        if (encoded !== null) inRank.push({ source, value: encoded as V, asOf: null });
        continue;
      }
      const claim = claims[source];
      const value = claimValue(claim, field);
      if (claim && value !== null) inRank.push({ source, value: value as V, asOf: claim.fieldAsOf[field] });
    }
    // Ties within a rank: the latest as-of first; equal times keep the listed order (stable sort).
    inRank.sort((a, b) => asOfTime(b.asOf) - asOfTime(a.asOf));
    for (const candidate of inRank) rankedCandidates.push({ rank: index + 1, candidate });
  });
  const candidates = rankedCandidates.map((c) => c.candidate);
  const winner = rankedCandidates[0];
  if (!winner) return { value: null, source: null, reason: `no source gives ${FIELD_WORDS[field]}`, candidates };
  const tied = rankedCandidates.filter((c) => c.rank === winner.rank).map((c) => c.candidate.source);
  const tieNote = tied.length > 1 ? `, the latest of ${tied.join(' and ')} (as of ${winner.candidate.asOf ?? 'unknown'})` : '';
  const higher = order.slice(0, winner.rank - 1).flat();
  const higherNote = higher.length > 0 ? `; ${higher.join(', ')} ${higher.length === 1 ? 'gives' : 'give'} none` : '';
  return {
    value: winner.candidate.value,
    source: winner.candidate.source,
    reason: `${why(field, winner.candidate.source)}${tieNote} (precedence ${winner.rank})${higherNote}`,
    candidates,
  };
}

function single(field: ResolvedFieldName, source: FieldSource, value: string | null, asOf: string | null, because: string): ResolvedField<string> {
  if (value === null) return { value: null, source: null, reason: `no source gives ${FIELD_WORDS[field]}`, candidates: [] };
  return { value, source, reason: because, candidates: [{ source, value, asOf }] };
}

/**
 * For each field of the registration record, the value that stands, the source it comes from, why
 * (the documented precedence), and what every source says. `idInfo` is what the person's citizen ID
 * encodes when the ID is valid, else null: a valid ID ranks second for sex and birth date.
 */
export function resolveFields(record: FieldResolutionInput, idInfo: CitizenIdInfo | null): ResolvedFields {
  const survey = record.claims.survey ?? null;
  return {
    name: resolveIdentity('name', record.claims, idInfo),
    sex: resolveIdentity('sex', record.claims, idInfo),
    birthDate: resolveIdentity('birthDate', record.claims, idInfo),
    phone: resolveIdentity('phone', record.claims, idInfo),
    address: resolveIdentity('address', record.claims, idInfo),
    hukouDivision: single(
      'hukouDivision',
      'public-security',
      record.household?.villageCode ?? null,
      record.household?.asOf ?? null,
      'public-security keeps the household registration (precedence 1); only it states one',
    ),
    residenceDivision: single(
      'residenceDivision',
      'survey',
      record.collected?.residenceDivision ?? null,
      survey?.asOf ?? null,
      'the approved collected information states the usual residence (precedence 1); no department does',
    ),
  };
}
