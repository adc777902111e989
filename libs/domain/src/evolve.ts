import {
  CARD_ISSUED,
  CARD_LOST,
  CARD_REPLACED,
  COMPARISON_RECOMPARE_DUE,
  PERSON_ERASED,
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  INSURANCE_BENEFIT_APPROVED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  LINK_CONFIRMED,
  LINK_INITIAL_APPROVED,
  LINK_PROPOSED,
  LINK_REJECTED,
  REGISTRY_ABSENT_FROM_ROSTER,
  REGISTRY_CHANGE_APPROVED,
  REGISTRY_CHANGE_PROPOSED,
  REGISTRY_CHANGE_REJECTED,
  OUTCOME_DETERMINED,
  RECOMPARE_REQUESTED,
  CHANGE_FIELDS,
  REVIEW_CHANGE_SUBMITTED,
  REVIEW_CLOSED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_REBASED,
  REVIEW_REJECTED,
  REVIEW_RETURNED,
  SOURCE_RECORD_RECEIVED,
  SURVEY_CAMPAIGN_CLOSED,
  SURVEY_CAMPAIGN_OPENED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_PERSON_FOUND,
  SURVEY_TARGET_ASSIGNED,
  SURVEY_TEAM_CHANGED,
  SURVEY_TEAM_FORMED,
  SURVEY_VILLAGES_ASSIGNED,
  SURVEY_TASK_CLOSED,
  SURVEY_TASK_CREATED,
  SURVEY_TASK_REOPENED,
  SURVEY_VISIT_RECORDED,
} from '@qmcb/contracts';
import type {
  ChangeField,
  ChangeFields,
  CustodyFacts,
  DeathFacts,
  EnrolmentFacts,
  EventOf,
  HouseholdFacts,
  InsuranceFacts,
  RegistrationEvent,
  Sex,
  SourceMode,
  TaxFacts,
  WelfareFacts,
} from '@qmcb/contracts';
import { citizenIdInfo, isSurrogatePersonKey, maskCitizenId } from './citizen-id';
import { applyBusinessEvent, applyRegistryEvent, clearAbsence } from './evolve-business';
import { resolveFields } from './field-resolution';
import { NO_IDENTITY, identityStatements } from './identity-statements';
import { supersedes } from './insurance-precedence';
import { slotOfFacts } from './slots';
import { IDENTITY_FIELDS, insuranceKey } from './registration-record';
import type {
  Claimant,
  CollectedApproval,
  CollectedData,
  IdentityClaim,
  IdentityClaims,
  IdentityField,
  IdentityLinkState,
  InsuranceEntry,
  RegistrationRecord,
  SurveyState,
  SurveyStatus,
} from './registration-record';

export class PersonKeyMismatchError extends Error {
  constructor(recordKey: string, eventId: string) {
    super(`event ${eventId} belongs to another person than record ${maskCitizenId(recordKey)}`);
    this.name = 'PersonKeyMismatchError';
  }
}

function emptyRecord(event: RegistrationEvent): RegistrationRecord {
  const surrogate = isSurrogatePersonKey(event.personKey);
  return {
    personKey: event.personKey,
    citizenId: surrogate ? null : event.personKey,
    citizenIdValid: !surrogate,
    version: 0,
    lastEventId: event.eventId,
    updatedAt: event.occurredAt,
    name: null,
    sex: null,
    birthDate: null,
    ethnicity: null,
    hukouDivision: null,
    hukouAddress: null,
    hukouType: null,
    hukouStatus: null,
    householdAsOf: null,
    residenceDivision: null,
    residenceAddress: null,
    phone: null,
    employmentStatus: null,
    insurance: {},
    notInsuredReason: null,
    insuredElsewhere: null,
    household: null,
    tax: null,
    welfare: {},
    death: null,
    enrolment: null,
    custody: null,
    claims: {},
    sources: {},
    comparison: null,
    flags: { needsSurvey: false, duplicate: false, inaccurate: surrogate },
    survey: null,
    review: null,
    collected: null,
    links: {},
    card: null,
    contributions: {},
    benefits: {},
    employer: null,
    migration: null,
    rosterAbsences: {},
    pendingChanges: {},
  };
}

/** Equal times count as newer: of two records as of the same moment, the later on the log wins. */
function isNotOlder(asOf: string, than: string | null | undefined): boolean {
  if (than === null || than === undefined) return true;
  const a = Date.parse(asOf);
  const b = Date.parse(than);
  return Number.isNaN(a) || Number.isNaN(b) || a >= b;
}

/**
 * `snapshot` replaces what the department said of that kind; `change` merges the fields it carries
 * over the previous ones (a field it leaves out, null here, keeps its previous value).
 */
function merged<T extends object>(mode: SourceMode, previous: T | null | undefined, next: T): T {
  if (mode === 'snapshot' || !previous) return next;
  const out = { ...next };
  for (const key of Object.keys(next) as (keyof T)[]) {
    if (out[key] === null) out[key] = previous[key];
  }
  return out;
}

type SourceEvent = EventOf<typeof SOURCE_RECORD_RECEIVED>;

function applyHousehold(record: RegistrationRecord, event: SourceEvent, facts: HouseholdFacts): RegistrationRecord {
  const { asOf, mode } = event.payload;
  if (!isNotOlder(asOf, record.household?.asOf)) return record;
  const household = merged(mode, record.household, {
    name: facts.name,
    sex: facts.sex ?? null,
    birthDate: facts.birthDate ?? null,
    ethnicity: facts.ethnicity ?? null,
    address: facts.address ?? null,
    villageCode: facts.villageCode,
    hukouType: facts.hukouType ?? null,
    status: facts.status,
    phone: facts.phone ?? null,
    householdNo: facts.householdNo ?? null,
    relationToHead: facts.relationToHead ?? null,
    asOf,
    eventId: event.eventId,
  });
  return {
    ...record,
    household,
    ethnicity: household.ethnicity,
    hukouDivision: household.villageCode,
    hukouAddress: household.address,
    hukouType: household.hukouType,
    hukouStatus: household.status,
    householdAsOf: household.asOf,
  };
}

function applyInsurance(record: RegistrationRecord, event: SourceEvent, facts: InsuranceFacts): RegistrationRecord {
  const key = insuranceKey(facts.insuranceType, facts.scheme, facts.region);
  const { asOf, department, mode } = event.payload;
  const previous = record.insurance[key];
  // Source precedence (insurance-precedence.ts): the insuring region's business system over relays and forms, then the newer.
  if (!supersedes(previous, { source: 'department', department, asOf })) return record;
  const sameHolder = previous?.source === 'department' && previous.department === department ? previous : null;
  const entry: InsuranceEntry = merged(mode, sameHolder, {
    insuranceType: facts.insuranceType,
    scheme: facts.scheme,
    status: facts.status,
    region: facts.region,
    employer: facts.employer ?? null,
    since: facts.since ?? null,
    receivingBenefit: facts.receivingBenefit ?? null,
    benefitStatus: facts.benefitStatus ?? null,
    name: facts.name ?? null,
    sex: facts.sex ?? null,
    birthDate: facts.birthDate ?? null,
    phone: facts.phone ?? null,
    address: facts.address ?? null,
    source: 'department',
    department,
    asOf,
    eventId: event.eventId,
  });
  return { ...record, insurance: { ...record.insurance, [key]: entry } };
}

function applyTax(record: RegistrationRecord, event: SourceEvent, facts: TaxFacts): RegistrationRecord {
  const { asOf, mode } = event.payload;
  if (!isNotOlder(asOf, record.tax?.asOf)) return record;
  const tax = merged(mode, record.tax, {
    employed: facts.employed,
    employer: facts.employer ?? null,
    employerCreditCode: facts.employerCreditCode ?? null,
    lastContributionMonth: facts.lastContributionMonth ?? null,
    monthlyWage: facts.monthlyWage ?? null,
    name: facts.name ?? null,
    asOf,
    eventId: event.eventId,
  });
  return { ...record, tax };
}

/** One entry per category: a snapshot of one category leaves the others as they are. */
function applyWelfare(record: RegistrationRecord, event: SourceEvent, facts: WelfareFacts): RegistrationRecord {
  const { asOf, mode } = event.payload;
  const previous = record.welfare[facts.category];
  if (!isNotOlder(asOf, previous?.asOf)) return record;
  const entry = merged(mode, previous, { active: facts.active, since: facts.since ?? null, name: facts.name ?? null, asOf, eventId: event.eventId });
  return { ...record, welfare: { ...record.welfare, [facts.category]: entry } };
}

/** One death registration: the newest of either department stands; a change merges only over the same department's. */
function applyDeath(record: RegistrationRecord, event: SourceEvent, facts: DeathFacts): RegistrationRecord {
  const { asOf, mode, department } = event.payload;
  if (!isNotOlder(asOf, record.death?.asOf)) return record;
  const previous = record.death?.department === department ? record.death : null;
  const death = merged(mode, previous, { deathDate: facts.deathDate, name: facts.name ?? null, department, asOf, eventId: event.eventId });
  return { ...record, death };
}

function applyEnrolment(record: RegistrationRecord, event: SourceEvent, facts: EnrolmentFacts): RegistrationRecord {
  const { asOf, mode } = event.payload;
  if (!isNotOlder(asOf, record.enrolment?.asOf)) return record;
  const enrolment = merged(mode, record.enrolment, {
    enrolled: facts.enrolled,
    school: facts.school ?? null,
    level: facts.level ?? null,
    expectedGraduationYear: facts.expectedGraduationYear ?? null,
    name: facts.name ?? null,
    sex: facts.sex ?? null,
    birthDate: facts.birthDate ?? null,
    asOf,
    eventId: event.eventId,
  });
  return { ...record, enrolment };
}

function applyCustody(record: RegistrationRecord, event: SourceEvent, facts: CustodyFacts): RegistrationRecord {
  const { asOf, mode } = event.payload;
  if (!isNotOlder(asOf, record.custody?.asOf)) return record;
  const custody = merged(mode, record.custody, {
    inCustody: facts.inCustody,
    since: facts.since ?? null,
    releaseDate: facts.releaseDate ?? null,
    name: facts.name ?? null,
    asOf,
    eventId: event.eventId,
  });
  return { ...record, custody };
}

function time(asOf: string): number {
  const t = Date.parse(asOf);
  return Number.isNaN(t) ? Number.NEGATIVE_INFINITY : t;
}

/**
 * Each department's claim, field by field: the value of its newest held record that gives the
 * field (ties within one department: the latest as-of; equal times: the higher event ID, so the
 * result does not depend on the order the records arrived in). The survey's claim is kept as set.
 */
function departmentClaims(record: RegistrationRecord): IdentityClaims {
  const ordered = identityStatements(record).sort((a, b) => time(a.asOf) - time(b.asOf) || (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const claims: IdentityClaims = {};
  for (const st of ordered) {
    const previous = claims[st.claimant];
    const claim: IdentityClaim = previous
      ? { ...previous, asOf: st.asOf, eventId: st.eventId, fieldAsOf: { ...previous.fieldAsOf } }
      : { ...NO_IDENTITY, asOf: st.asOf, eventId: st.eventId, fieldAsOf: { name: null, sex: null, birthDate: null, phone: null, address: null } };
    for (const field of IDENTITY_FIELDS) {
      const value = st[field];
      if (value === null) continue;
      setField(claim, field, value);
      claim.fieldAsOf[field] = st.asOf;
    }
    claims[st.claimant] = claim;
  }
  const sorted: IdentityClaims = {};
  for (const claimant of Object.keys(claims).sort() as Claimant[]) sorted[claimant] = claims[claimant];
  if (record.claims.survey) sorted.survey = record.claims.survey;
  return sorted;
}

function setField(claim: IdentityClaim, field: IdentityField, value: string): void {
  if (field === 'sex') claim.sex = value as Sex;
  else claim[field] = value;
}

/** Claims rebuilt from what is held, and the record's identity fields set to the winners of the field precedence. */
function withIdentity(record: RegistrationRecord): RegistrationRecord {
  const claims = departmentClaims(record);
  const idInfo = record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
  const fields = resolveFields({ claims, household: record.household, collected: record.collected }, idInfo);
  return { ...record, claims, name: fields.name.value, sex: fields.sex.value, birthDate: fields.birthDate.value, phone: fields.phone.value };
}

function applyFacts(record: RegistrationRecord, event: SourceEvent): RegistrationRecord {
  const { facts } = event.payload;
  switch (facts.kind) {
    case 'household':
      return applyHousehold(record, event, facts);
    case 'insurance':
      return applyInsurance(record, event, facts);
    case 'tax':
      return applyTax(record, event, facts);
    case 'welfare':
      return applyWelfare(record, event, facts);
    case 'death':
      return applyDeath(record, event, facts);
    case 'enrolment':
      return applyEnrolment(record, event, facts);
    case 'custody':
      return applyCustody(record, event, facts);
  }
}

function onSourceRecord(record: RegistrationRecord, event: SourceEvent): RegistrationRecord {
  const { department, sourceRecordId, mode, asOf, citizenIdAsSent, citizenIdValid } = event.payload;
  const withId: RegistrationRecord = {
    ...record,
    citizenId: citizenIdAsSent,
    citizenIdValid,
    flags: { ...record.flags, inaccurate: !citizenIdValid },
    sources: isNotOlder(asOf, record.sources[department]?.asOf)
      ? { ...record.sources, [department]: { sourceRecordId, mode, asOf, eventId: event.eventId } }
      : record.sources,
  };
  return withIdentity(clearAbsence(applyFacts(withId, event), department, slotOfFacts(event.payload.facts), asOf));
}

function onOutcome(record: RegistrationRecord, event: EventOf<typeof OUTCOME_DETERMINED>): RegistrationRecord {
  const { outcome, previousOutcome, reasons, coverage } = event.payload;
  return {
    ...record,
    comparison: {
      outcome,
      previousOutcome,
      reasons: reasons.map(({ code, rule, ruleVersion, detail }) => ({ code, rule, ruleVersion, detail })),
      coverage: coverage.map(({ insuranceType, status, reason, regions, rule, ruleVersion, detail }) => ({
        insuranceType,
        status,
        reason: reason ?? null,
        regions: [...regions],
        rule,
        ruleVersion,
        detail,
      })),
      decidedAt: event.occurredAt,
      eventId: event.eventId,
    },
    flags: { ...record.flags, needsSurvey: outcome === 'needs-survey', duplicate: outcome === 'duplicate' },
  };
}

/**
 * A review moves the survey of its own submission only: not a newer one's, and not a target not yet
 * visited (a change from a window or self-service does not do the visit; the target closes by itself
 * when the person's outcome leaves needs-survey).
 */
function surveyAfterReview(survey: SurveyState | null, submissionId: string, status: SurveyStatus): SurveyState | null {
  if (!survey || survey.submissionId !== submissionId) return survey;
  return { ...survey, status, submissionId };
}

const NOTHING_COLLECTED: CollectedData = {
  citizenId: null,
  name: null,
  sex: null,
  birthDate: null,
  ethnicity: null,
  hukouType: null,
  phone: null,
  residenceDivision: null,
  residenceAddress: null,
  employmentStatus: null,
  employer: null,
  insurance: null,
  notInsuredReason: null,
  insuredElsewhere: null,
  deathDate: null,
  approvals: {},
};

/** The approved fields over what was approved before, each with the approval it now comes from. */
function collectedAfter(previous: CollectedData | null, fields: ChangeFields, approval: CollectedApproval): CollectedData {
  const next: CollectedData = { ...(previous ?? NOTHING_COLLECTED), approvals: { ...(previous?.approvals ?? {}) } };
  const approved = (field: ChangeField): boolean => fields[field] !== undefined;
  for (const field of CHANGE_FIELDS) {
    if (!approved(field)) continue;
    next.approvals[field] = approval;
    switch (field) {
      case 'employer':
        next.employer = fields.employer ? { name: fields.employer.name, creditCode: fields.employer.creditCode ?? null } : null;
        break;
      case 'insurance':
        next.insurance = (fields.insurance ?? []).map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region }));
        break;
      case 'citizenId':
        next.citizenId = fields.citizenId ? fields.citizenId.toUpperCase() : null;
        break;
      default:
        (next as unknown as Record<string, unknown>)[field] = fields[field] ?? null;
    }
  }
  return next;
}

/** The approved collected information as the survey's identity claim (precedence: field-resolution.ts). */
function collectedClaim(collected: CollectedData, at: string, eventId: string): IdentityClaim {
  const since = (field: ChangeField): string | null => collected.approvals[field]?.approvedAt ?? null;
  return {
    name: collected.name,
    sex: collected.sex,
    birthDate: collected.birthDate,
    phone: collected.phone,
    address: collected.residenceAddress,
    asOf: at,
    eventId,
    fieldAsOf: { name: since('name'), sex: since('sex'), birthDate: since('birthDate'), phone: since('phone'), address: since('residenceAddress') },
  };
}

/**
 * County final approval (审定) of a change from any channel: the approved fields enter the record
 * (and only those), the needs-survey flag is lifted (comparison decides again right after), the
 * survey target that brought it is approved (or its person deceased, for a death claim).
 */
function onFinalApproved(record: RegistrationRecord, event: EventOf<typeof REVIEW_FINAL_APPROVED>): RegistrationRecord {
  const { reviewId, submissionId, reviewerId, channel, request } = event.payload;
  const at = event.occurredAt;
  const fields = request.fields;
  const collected = collectedAfter(record.collected, fields, { reviewId, channel, kind: request.kind, approvedAt: at });
  const insurance = { ...record.insurance };
  for (const item of fields.insurance ?? []) {
    const key = insuranceKey(item.insuranceType, item.scheme, item.region);
    const previous = insurance[key];
    // The form does not override the insuring region's business system (insurance-precedence.ts).
    if (!supersedes(previous, { source: 'survey', department: null, asOf: event.occurredAt })) continue;
    // The form does not ask for employer, start date or benefits: what a department said stays.
    insurance[key] = {
      insuranceType: item.insuranceType,
      scheme: item.scheme,
      status: item.status,
      region: item.region,
      employer: previous?.employer ?? null,
      since: previous?.since ?? null,
      receivingBenefit: previous?.receivingBenefit ?? null,
      benefitStatus: previous?.benefitStatus ?? null,
      // The change states the person's identity once, as the survey's claim, not per entry.
      ...NO_IDENTITY,
      source: 'survey',
      department: null,
      asOf: at,
      eventId: event.eventId,
    };
  }
  const death =
    fields.deathDate !== undefined
      ? { deathDate: fields.deathDate, name: collected.name ?? record.name, department: 'collected' as const, asOf: at, eventId: event.eventId }
      : record.death;
  const has = (field: ChangeField): boolean => fields[field] !== undefined;
  return withIdentity({
    ...record,
    claims: { ...record.claims, survey: collectedClaim(collected, at, event.eventId) },
    ethnicity: has('ethnicity') ? collected.ethnicity : record.ethnicity,
    hukouType: has('hukouType') ? collected.hukouType : record.hukouType,
    employmentStatus: has('employmentStatus') ? collected.employmentStatus : record.employmentStatus,
    residenceDivision: has('residenceDivision') ? collected.residenceDivision : record.residenceDivision,
    residenceAddress: has('residenceAddress') ? collected.residenceAddress : record.residenceAddress,
    insurance,
    notInsuredReason: has('notInsuredReason') ? collected.notInsuredReason : record.notInsuredReason,
    insuredElsewhere: has('insuredElsewhere') ? collected.insuredElsewhere : record.insuredElsewhere,
    death,
    flags: { ...record.flags, needsSurvey: false },
    survey: surveyAfterReview(record.survey, submissionId, request.kind === 'death-claim' ? 'deceased' : 'approved'),
    review: { reviewId, submissionId, stage: 'final', status: 'approved', reviewerId, reason: null, comment: null, decidedAt: at },
    collected,
  });
}

/** Link events (docs/design/identity-linking.md), on the person the records under a mistyped ID belong to. */
function onLink(
  record: RegistrationRecord,
  event: EventOf<typeof LINK_PROPOSED> | EventOf<typeof LINK_CONFIRMED> | EventOf<typeof LINK_REJECTED>,
): RegistrationRecord {
  const links = record.links ?? {};
  const { recordKey, linkId } = event.payload;
  const previous = links[recordKey]?.linkId === linkId ? links[recordKey] : undefined;
  let link: IdentityLinkState;
  switch (event.type) {
    case LINK_PROPOSED:
      // A proposal never undoes a decision already taken on the same link.
      if (previous && previous.status !== 'proposed') return record;
      link = {
        linkId,
        recordKey,
        citizenIdAsSent: event.payload.citizenIdAsSent,
        status: 'proposed',
        score: event.payload.score,
        proposedAt: event.occurredAt,
        decidedAt: null,
        decidedBy: null,
        note: null,
        eventId: event.eventId,
      };
      break;
    case LINK_CONFIRMED:
    case LINK_REJECTED:
      link = {
        linkId,
        recordKey,
        citizenIdAsSent: previous?.citizenIdAsSent ?? null,
        status: event.type === LINK_CONFIRMED ? 'confirmed' : 'rejected',
        score: previous?.score ?? null,
        proposedAt: previous?.proposedAt ?? null,
        decidedAt: event.occurredAt,
        decidedBy: event.payload.reviewerId,
        note: event.type === LINK_CONFIRMED ? event.payload.comment : event.payload.reason,
        eventId: event.eventId,
      };
      break;
  }
  const next: Record<string, IdentityLinkState> = {};
  for (const key of [...Object.keys(links).filter((k) => k !== recordKey), recordKey].sort()) next[key] = key === recordKey ? link : (links[key] as IdentityLinkState);
  return { ...record, links: next };
}
const STATUS_AFTER_VISIT: Record<EventOf<typeof SURVEY_VISIT_RECORDED>['payload']['outcome'], SurveyStatus> = {
  refused: 'refused',
  'nobody-home': 'revisit',
  away: 'away',
  'moved-out': 'moved-out',
  deceased: 'death-claimed',
  'not-found': 'not-found',
};

function applyEvent(record: RegistrationRecord, event: RegistrationEvent): RegistrationRecord {
  switch (event.type) {
    case SOURCE_RECORD_RECEIVED:
      return onSourceRecord(record, event);
    case OUTCOME_DETERMINED:
      return onOutcome(record, event);
    case SURVEY_TASK_CREATED: {
      const { taskId, villageCode, reasons } = event.payload;
      return {
        ...record,
        survey: { taskId, villageCode, status: 'open', reasons: [...reasons], submissionId: null, surveyorId: null },
      };
    }
    case SURVEY_PERSON_FOUND: {
      // Found at a household visit (§18): a target of their own, open until their form is submitted.
      const { taskId, villageCode } = event.payload;
      return { ...record, survey: { taskId, villageCode, status: 'open', reasons: ['FOUND_ON_SITE'], submissionId: null, surveyorId: null } };
    }
    case SURVEY_TARGET_ASSIGNED:
      // Who is responsible for the visit is survey tasking's; the record keeps who submitted.
      return record;
    case SURVEY_CAMPAIGN_OPENED:
    case SURVEY_CAMPAIGN_CLOSED:
    case SURVEY_TEAM_FORMED:
    case SURVEY_TEAM_CHANGED:
    case SURVEY_VILLAGES_ASSIGNED:
      // Organisational streams: never a person's (PersonRecordRepository.fold skips them).
      return record;
    case SURVEY_TASK_CLOSED:
      return record.survey?.taskId === event.payload.taskId ? { ...record, survey: { ...record.survey, status: 'closed' } } : record;
    case SURVEY_TASK_REOPENED: {
      const { taskId, reasons } = event.payload;
      return record.survey?.taskId === taskId ? { ...record, survey: { ...record.survey, status: 'open', reasons: [...reasons] } } : record;
    }
    case SURVEY_VISIT_RECORDED: {
      const { taskId, visitId, surveyorId, outcome } = event.payload;
      if (record.survey?.taskId !== taskId) return record;
      return { ...record, survey: { ...record.survey, status: STATUS_AFTER_VISIT[outcome], submissionId: visitId, surveyorId } };
    }
    case SURVEY_FORM_SUBMITTED: {
      const { taskId, submissionId, surveyorId } = event.payload;
      const sameTask = record.survey?.taskId === taskId;
      return {
        ...record,
        survey: {
          taskId,
          villageCode: sameTask && record.survey ? record.survey.villageCode : null,
          status: 'submitted',
          reasons: sameTask && record.survey ? record.survey.reasons : [],
          submissionId,
          surveyorId,
        },
      };
    }
    case REVIEW_INITIAL_APPROVED: {
      const { reviewId, submissionId, reviewerId, comment } = event.payload;
      return {
        ...record,
        survey: surveyAfterReview(record.survey, submissionId, 'initial-approved'),
        review: {
          reviewId,
          submissionId,
          stage: 'initial',
          status: 'approved',
          reviewerId,
          reason: null,
          comment,
          decidedAt: event.occurredAt,
        },
      };
    }
    case REVIEW_RETURNED: {
      const { reviewId, submissionId, stage, reviewerId, reason } = event.payload;
      return {
        ...record,
        survey: surveyAfterReview(record.survey, submissionId, 'returned'),
        review: { reviewId, submissionId, stage, status: 'returned', reviewerId, reason, comment: null, decidedAt: event.occurredAt },
      };
    }
    case REVIEW_REJECTED: {
      // A rejected submission leaves its target to be visited again.
      const { reviewId, submissionId, stage, reviewerId, reason } = event.payload;
      return {
        ...record,
        survey: surveyAfterReview(record.survey, submissionId, 'open'),
        review: { reviewId, submissionId, stage, status: 'rejected', reviewerId, reason, comment: null, decidedAt: event.occurredAt },
      };
    }
    case REVIEW_CLOSED: {
      const { reviewId, submissionId, reviewerId, reason } = event.payload;
      const stage = record.review?.reviewId === reviewId ? record.review.stage : 'initial';
      return {
        ...record,
        survey: surveyAfterReview(record.survey, submissionId, 'open'),
        review: { reviewId, submissionId, stage, status: 'closed', reviewerId, reason, comment: null, decidedAt: event.occurredAt },
      };
    }
    case REVIEW_CHANGE_SUBMITTED:
    case REVIEW_REBASED:
      return record;
    case REVIEW_FINAL_APPROVED:
      return onFinalApproved(record, event);
    case LINK_PROPOSED:
    case LINK_CONFIRMED:
    case LINK_REJECTED:
      return onLink(record, event);
    // The township passed a link on to the county: it stays proposed (review keeps the stage).
    case LINK_INITIAL_APPROVED:
      return record;
    // Dynamic update (issue 9): business events, reviewed changes, rosters (evolve-business.ts).
    case INSURANCE_ENROLLED:
    case INSURANCE_SUSPENDED:
    case INSURANCE_ENDED:
    case INSURANCE_CONTRIBUTION_PAID:
    case INSURANCE_BENEFIT_APPROVED:
    case INSURANCE_PAYMENT_STARTED:
    case INSURANCE_PAYMENT_STOPPED:
    case CARD_ISSUED:
    case CARD_LOST:
    case CARD_REPLACED:
    case DEATH_REGISTERED:
    case HOUSEHOLD_MOVED_OUT:
    case HOUSEHOLD_MOVED_IN:
    case EMPLOYER_OPENED:
    case EMPLOYER_CLOSED:
      return withIdentity(applyBusinessEvent(record, event));
    case REGISTRY_CHANGE_PROPOSED:
    case REGISTRY_CHANGE_APPROVED:
    case REGISTRY_CHANGE_REJECTED:
    case REGISTRY_ABSENT_FROM_ROSTER:
      return withIdentity(applyRegistryEvent(record, event));
    // A request to compare again (the other side of a link changed), or a day on which comparison
    // compares again: nothing about the person changed.
    case RECOMPARE_REQUESTED:
    case COMPARISON_RECOMPARE_DUE:
      return record;
    // The person's erasure (ADR 0010): the projections delete the record instead of folding it
    // (the log transport hands it to their erasure handler, never to a fold).
    case PERSON_ERASED:
      return record;
  }
}

/**
 * Applies one event to a person's record, or starts the record from `null`. Pure: the input is
 * never changed. An event whose ID is the last one applied is a redelivery and changes nothing;
 * any other repeat must be filtered by the caller.
 */
export function evolve(record: RegistrationRecord | null, event: RegistrationEvent): RegistrationRecord {
  if (record && record.personKey !== event.personKey) {
    throw new PersonKeyMismatchError(record.personKey, event.eventId);
  }
  if (record && record.lastEventId === event.eventId) return record;
  const next = applyEvent(record ?? emptyRecord(event), event);
  return { ...next, version: (record?.version ?? 0) + 1, lastEventId: event.eventId, updatedAt: event.occurredAt };
}

export function foldEvents(events: Iterable<RegistrationEvent>, initial: RegistrationRecord | null = null): RegistrationRecord | null {
  let record = initial;
  for (const event of events) record = evolve(record, event);
  return record;
}
