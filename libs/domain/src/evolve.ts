import {
  OUTCOME_DETERMINED,
  REVIEW_FINAL_APPROVED,
  REVIEW_INITIAL_APPROVED,
  REVIEW_RETURNED,
  SOURCE_RECORD_RECEIVED,
  SURVEY_FORM_SUBMITTED,
  SURVEY_TASK_CREATED,
} from '@qmcb/contracts';
import type { CollectedForm, EventOf, HouseholdFacts, InsuranceFacts, RegistrationEvent } from '@qmcb/contracts';
import { isSurrogatePersonKey, maskCitizenId } from './citizen-id';
import { insuranceKey } from './registration-record';
import type {
  CollectedFormData,
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
    sources: {},
    comparison: null,
    flags: { needsSurvey: false, duplicate: false, inaccurate: surrogate },
    survey: null,
    review: null,
    collected: null,
  };
}

/** Equal times count as newer: of two records as of the same moment, the later on the log wins. */
function isNotOlder(asOf: string, than: string | null | undefined): boolean {
  if (than === null || than === undefined) return true;
  const a = Date.parse(asOf);
  const b = Date.parse(than);
  return Number.isNaN(a) || Number.isNaN(b) || a >= b;
}

function applyHousehold(record: RegistrationRecord, facts: HouseholdFacts, asOf: string): RegistrationRecord {
  if (!isNotOlder(asOf, record.householdAsOf)) return record;
  return {
    ...record,
    name: facts.name,
    sex: facts.sex ?? record.sex,
    birthDate: facts.birthDate ?? record.birthDate,
    ethnicity: facts.ethnicity ?? record.ethnicity,
    hukouDivision: facts.villageCode,
    hukouAddress: facts.address ?? record.hukouAddress,
    hukouType: facts.hukouType ?? record.hukouType,
    hukouStatus: facts.status,
    householdAsOf: asOf,
    phone: facts.phone ?? record.phone,
  };
}

function applyInsurance(
  record: RegistrationRecord,
  event: EventOf<typeof SOURCE_RECORD_RECEIVED>,
  facts: InsuranceFacts,
): RegistrationRecord {
  const key = insuranceKey(facts.insuranceType, facts.scheme, facts.region);
  const { asOf, department } = event.payload;
  const named = record.name === null && facts.name !== undefined ? { name: facts.name } : {};
  if (!isNotOlder(asOf, record.insurance[key]?.asOf)) return { ...record, ...named };
  const entry: InsuranceEntry = {
    insuranceType: facts.insuranceType,
    scheme: facts.scheme,
    status: facts.status,
    region: facts.region,
    employer: facts.employer ?? null,
    since: facts.since ?? null,
    receivingBenefit: facts.receivingBenefit ?? null,
    source: 'department',
    department,
    asOf,
    eventId: event.eventId,
  };
  return { ...record, ...named, insurance: { ...record.insurance, [key]: entry } };
}

function onSourceRecord(record: RegistrationRecord, event: EventOf<typeof SOURCE_RECORD_RECEIVED>): RegistrationRecord {
  const { department, sourceRecordId, mode, asOf, citizenIdAsSent, citizenIdValid, facts } = event.payload;
  const withId: RegistrationRecord = {
    ...record,
    citizenId: citizenIdAsSent,
    citizenIdValid,
    flags: { ...record.flags, inaccurate: !citizenIdValid },
    sources: isNotOlder(asOf, record.sources[department]?.asOf)
      ? { ...record.sources, [department]: { sourceRecordId, mode, asOf, eventId: event.eventId } }
      : record.sources,
  };
  switch (facts.kind) {
    case 'household':
      return applyHousehold(withId, facts, asOf);
    case 'insurance':
      return applyInsurance(withId, event, facts);
    case 'tax':
    case 'welfare':
    case 'death':
    case 'enrolment':
    case 'custody':
      // Kept as a source reference only until the comparison model folds these kinds (issue 3).
      return withId;
  }
}

function onOutcome(record: RegistrationRecord, event: EventOf<typeof OUTCOME_DETERMINED>): RegistrationRecord {
  const { outcome, previousOutcome, reasons } = event.payload;
  return {
    ...record,
    comparison: {
      outcome,
      previousOutcome,
      reasons: reasons.map(({ code, rule, ruleVersion, detail }) => ({ code, rule, ruleVersion, detail })),
      decidedAt: event.occurredAt,
      eventId: event.eventId,
    },
    flags: { ...record.flags, needsSurvey: outcome === 'needs-survey', duplicate: outcome === 'duplicate' },
  };
}

/** A review of an older submission must not move the survey of a newer one. */
function surveyAfterReview(survey: SurveyState | null, submissionId: string, status: SurveyStatus): SurveyState | null {
  if (!survey || (survey.submissionId !== null && survey.submissionId !== submissionId)) return survey;
  return { ...survey, status, submissionId };
}

function formData(form: CollectedForm): CollectedFormData {
  return {
    name: form.name,
    phone: form.phone,
    employmentStatus: form.employmentStatus,
    residenceAddress: form.residenceAddress,
    residenceDivision: form.residenceDivision,
    insurance: form.insurance.map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region })),
    notInsuredReason: form.notInsuredReason ?? null,
    insuredElsewhere: form.insuredElsewhere,
  };
}

function onFinalApproved(record: RegistrationRecord, event: EventOf<typeof REVIEW_FINAL_APPROVED>): RegistrationRecord {
  const { reviewId, submissionId, reviewerId, form } = event.payload;
  const collected = formData(form);
  const insurance = { ...record.insurance };
  for (const item of collected.insurance) {
    const key = insuranceKey(item.insuranceType, item.scheme, item.region);
    const previous = insurance[key];
    // The form does not ask for employer, start date or benefits: what a department said stays.
    insurance[key] = {
      ...item,
      employer: previous?.employer ?? null,
      since: previous?.since ?? null,
      receivingBenefit: previous?.receivingBenefit ?? null,
      source: 'survey',
      department: null,
      asOf: event.occurredAt,
      eventId: event.eventId,
    };
  }
  return {
    ...record,
    name: collected.name,
    phone: collected.phone,
    employmentStatus: collected.employmentStatus,
    residenceDivision: collected.residenceDivision,
    residenceAddress: collected.residenceAddress,
    insurance,
    notInsuredReason: collected.notInsuredReason,
    insuredElsewhere: collected.insuredElsewhere,
    flags: { ...record.flags, needsSurvey: false },
    survey: surveyAfterReview(record.survey, submissionId, 'approved'),
    review: {
      reviewId,
      submissionId,
      stage: 'final',
      status: 'approved',
      reviewerId,
      reason: null,
      comment: null,
      decidedAt: event.occurredAt,
    },
    collected,
  };
}

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
    case REVIEW_FINAL_APPROVED:
      return onFinalApproved(record, event);
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
