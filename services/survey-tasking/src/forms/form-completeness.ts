import { IDENTITY_CORRECTION_FIELDS } from '@qmcb/contracts';
import type { ChangeField, ChangeRequest, HouseholdReport } from '@qmcb/contracts';
import { FIELD_LABELS, identityViolations, maskCitizenId, normaliseCitizenId, reasonLabel } from '@qmcb/domain';
import type { RegionPolicy, RegistrationRecord } from '@qmcb/domain';
import type { Violation } from '@qmcb/platform';

/**
 * Completeness of a registration form (三不漏, seeds 000 and 001): "人不漏项" — every required item is
 * filled in or explicitly marked unknown with a reason; "户不漏人" — every registered member of the
 * household is accounted for, and anyone else met there is added as found on site (§18). Identity
 * corrections rest on evidence and agree with the citizen ID. Pure: the list of what is missing or
 * wrong, field by field, empty when the form may be submitted.
 */

/** A registered member of a household (public security's 户号), as survey tasking holds them. */
export interface HouseholdMember {
  personKey: string;
  /** The citizen ID as registered (null for a surrogate key without one). */
  citizenId: string | null;
  name: string | null;
  relation: string | null;
  /** `household`: public security's household record; `found`: met at a visit and added (§18). */
  source: 'household' | 'found';
}

export interface FormContext {
  /** The target's person and their record now (null: no record yet, a person found on site). */
  personKey: string;
  record: RegistrationRecord | null;
  /** Why the person is a target: the items each reason asks for are required. */
  reasons: readonly string[];
  /** The household's members as registered, the target's person among them, and those found there before. */
  members: readonly HouseholdMember[];
  policy: Pick<RegionPolicy, 'requirePhone' | 'requireAddress' | 'pensionSchemes' | 'medicalSchemes'>;
  /** Where to add someone met at the door who is not registered here. */
  foundPath: string;
  now: Date;
}

/** Items of the registration form (全民参保登记表, §7) asked of everyone. */
const ALWAYS: readonly ChangeField[] = ['citizenId', 'name', 'sex', 'birthDate', 'employmentStatus', 'insurance', 'insuredElsewhere'];

const label = (field: ChangeField): string => `${field} (${FIELD_LABELS[field]})`;

function activeCovered(request: ChangeRequest, policy: FormContext['policy']): boolean {
  const active = (request.fields.insurance ?? []).filter((i) => i.status === 'active');
  const pension = active.some((i) => i.insuranceType === 'pension' && policy.pensionSchemes.includes(i.scheme));
  const medical = active.some((i) => i.insuranceType === 'medical' && policy.medicalSchemes.includes(i.scheme));
  return pension && medical;
}

/** The items this form must carry (filled in, or marked unknown with a reason), in CHANGE_FIELDS order of the form. */
export function requiredFields(request: ChangeRequest, ctx: Pick<FormContext, 'reasons' | 'policy'>): ChangeField[] {
  const required = new Set<ChangeField>(ALWAYS);
  if (ctx.policy.requirePhone) required.add('phone');
  if (ctx.policy.requireAddress) {
    required.add('residenceDivision');
    required.add('residenceAddress');
  }
  if (request.fields.employmentStatus === 'employed') required.add('employer');
  if (!activeCovered(request, ctx.policy)) required.add('notInsuredReason');
  for (const code of ctx.reasons) {
    // A death is recorded as a visit outcome, not on a registration form; why someone is not insured
    // is asked only while they are not (someone enrolled at the door has no such reason any more).
    for (const field of reasonLabel(code).collect) if (field !== 'deathDate' && field !== 'notInsuredReason') required.add(field);
  }
  return [...required];
}

function recordValue(record: RegistrationRecord | null, personKey: string, field: (typeof IDENTITY_CORRECTION_FIELDS)[number]): string | null {
  if (field === 'citizenId') return record?.citizenId ?? (personKey.startsWith('X-') ? null : personKey);
  return record?.[field] ?? null;
}

function sameValue(field: ChangeField, a: string, b: string): boolean {
  return field === 'citizenId' ? normaliseCitizenId(a) === normaliseCitizenId(b) : a.trim() === b.trim();
}

export function formViolations(request: ChangeRequest, household: HouseholdReport, ctx: FormContext): Violation[] {
  const out: Violation[] = [];
  const fields = request.fields;
  if (request.kind !== 'registration-form') {
    out.push({ field: 'request.kind', rule: 'equals', message: 'request.kind must be registration-form for a survey form' });
  }

  // 人不漏项: every required item filled in or marked unknown, never both, never twice.
  const unknown = new Map<ChangeField, number>();
  request.unknown.forEach((u) => unknown.set(u.field, (unknown.get(u.field) ?? 0) + 1));
  for (const [field, times] of unknown) {
    if (times > 1) out.push({ field: 'request.unknown', rule: 'unique', message: `request.unknown lists ${label(field)} ${times} times` });
    if (fields[field] !== undefined) out.push({ field: 'request.unknown', rule: 'notFilled', message: `request.unknown lists ${label(field)}, which is filled in: keep one` });
  }
  for (const field of requiredFields(request, ctx)) {
    if (fields[field] === undefined && !unknown.has(field)) {
      out.push({ field: `request.fields.${field}`, rule: 'filledOrUnknown', message: `request.fields.${field} (${FIELD_LABELS[field]}) must be filled in or marked unknown with a reason` });
    }
  }

  // The citizen ID as confirmed must be a valid one; sex and birth date must agree with it (the
  // rules of every channel: identityViolations).
  out.push(
    ...identityViolations(
      fields,
      { citizenId: recordValue(ctx.record, ctx.personKey, 'citizenId'), sex: ctx.record?.sex ?? null, birthDate: ctx.record?.birthDate ?? null },
      ctx.now,
      'request.fields.',
    ),
  );

  // A correction of identity (an item that differs from the record) rests on a document.
  const corrected = IDENTITY_CORRECTION_FIELDS.filter((f) => {
    const given = fields[f];
    const held = recordValue(ctx.record, ctx.personKey, f);
    return typeof given === 'string' && held !== null && !sameValue(f, given, held);
  });
  if (corrected.length > 0 && request.evidence.length === 0) {
    out.push({
      field: 'request.evidence',
      rule: 'evidenceForCorrection',
      message: `request.evidence must name the document (ID card, household book) for the correction of ${corrected.map(label).join(', ')}`,
    });
  }

  // 户不漏人: every registered member accounted for; anyone else met there added as found on site first.
  const key = (id: string): string => normaliseCitizenId(id);
  const reported = new Set(household.members.filter((m) => m.citizenId).map((m) => key(m.citizenId as string)));
  const known = new Set(ctx.members.filter((m) => m.citizenId).map((m) => key(m.citizenId as string)));
  for (const m of ctx.members) {
    if (m.citizenId && !reported.has(key(m.citizenId))) {
      out.push({
        field: 'household.members',
        rule: 'accountedFor',
        message: `household.members must account for ${m.name ?? '(no name)'} (${m.relation ?? 'relation unknown'}, ${maskCitizenId(m.citizenId)})`,
      });
    }
  }
  household.members.forEach((m, i) => {
    if (!m.citizenId) {
      out.push({ field: `household.members.${i}.citizenId`, rule: 'isDefined', message: `household.members.${i}.citizenId is needed: ${m.name} is not a registered member of this household (add them with ${ctx.foundPath})` });
    } else if (!known.has(key(m.citizenId))) {
      out.push({ field: `household.members.${i}`, rule: 'foundOnSite', message: `household.members.${i} (${m.name}) is not a registered member of this household: add them with ${ctx.foundPath} first` });
    }
  });
  return out;
}

/** What a visit without a form must carry for its follow-up (nobody home: when again; deceased: date and evidence; …). */
export interface VisitDetails {
  outcome: 'refused' | 'nobody-home' | 'away' | 'moved-out' | 'deceased' | 'not-found';
  visitedAt: string;
  reason?: string;
  revisitOn?: string;
  whereRegion?: string;
  whereText?: string;
  deathDate?: string;
  evidence: { kind: string; reference: string }[];
}

/** A visit's time may run ahead of the server's clock by this much (phones' clocks). */
const CLOCK_SKEW_MS = 10 * 60 * 1000;

export function visitViolations(v: VisitDetails, now: Date): Violation[] {
  const out: Violation[] = [];
  const visitedDay = v.visitedAt.slice(0, 10);
  if (Date.parse(v.visitedAt) > now.getTime() + CLOCK_SKEW_MS) out.push({ field: 'visitedAt', rule: 'notInFuture', message: 'visitedAt must not be in the future' });
  const need = (field: keyof VisitDetails, why: string): void => {
    if (v[field] === undefined || v[field] === '') out.push({ field, rule: 'isDefined', message: `${field} must be given when the outcome is ${v.outcome} (${why})` });
  };
  switch (v.outcome) {
    case 'refused':
      need('reason', 'why the person refuses');
      break;
    case 'nobody-home':
      need('revisitOn', 'the planned revisit');
      if (v.revisitOn !== undefined && v.revisitOn < visitedDay) out.push({ field: 'revisitOn', rule: 'notBeforeVisit', message: 'revisitOn must not be before the visit' });
      break;
    case 'away':
      break;
    case 'moved-out':
      if (v.whereRegion === undefined && (v.whereText ?? '') === '') {
        out.push({ field: 'whereText', rule: 'isDefined', message: 'whereRegion or whereText must be given when the outcome is moved-out (where to transfer)' });
      }
      break;
    case 'deceased':
      need('deathDate', 'the date of death');
      if (v.deathDate !== undefined && v.deathDate > visitedDay) out.push({ field: 'deathDate', rule: 'notAfterVisit', message: 'deathDate must not be after the visit' });
      if (v.evidence.length === 0) out.push({ field: 'evidence', rule: 'arrayNotEmpty', message: 'evidence must name at least one document (death or cremation certificate) when the outcome is deceased' });
      break;
    case 'not-found':
      break;
  }
  return out;
}
