import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import type { ChangeField, ChangeKind, ChangeRequest, Channel } from '@qmcb/contracts';
import { FIELD_LABELS, currentValues, filingDivision, identityViolations, insuranceEntries, isSurrogatePersonKey, maskCitizenId, normaliseCitizenId, personKeyFor, proposedFields, reasonLabel, surveyVillage } from '@qmcb/domain';
import type { FieldValue, RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds } from '@qmcb/platform';
import { Decisions, PersonRecordRepository, RegionPolicyProvider } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { decide, reviewIdFor } from '../items/review-item.decider';
import type { ItemStage, ItemStatus, ReviewItem } from '../items/review-item.decider';
import { ReviewItemRepository } from '../items/review-item.repository';
import type { ChangeBodyDto } from './changes.dto';

/** A gap of a person's record in words a clerk reads to them, and what to collect for it. */
export interface Gap {
  code: string;
  label: string;
  explanation: string;
  collect: { field: ChangeField; label: string; current: FieldValue }[];
}

export interface Gaps {
  person: { name: string | null; citizenIdMasked: string | null; division: string | null };
  /** The comparison outcome recorded on the log (`none`: never compared). */
  outcome: string;
  needsSurvey: boolean;
  gaps: Gap[];
  /** Changes of this person still in review. */
  pending: { reviewId: string; channel: Channel; kind: ChangeKind; stage: ItemStage; fields: ChangeField[]; submittedAt: string }[];
}

export interface Submitted {
  reviewId: string;
  submissionId: string;
  channel: Channel;
  stage: ItemStage;
  status: ItemStatus;
  version: number;
}

/** The kind of change each channel submits. */
const KIND_OF_CHANNEL: Record<Exclude<Channel, 'survey'>, ChangeKind> = {
  window: 'collection',
  'self-service': 'correction',
  grassroots: 'correction',
  department: 'department-change',
};

/**
 * Changes entering review from the window (§13), self-service (§14, §23), the grassroots platform
 * (§21) and departments, and the gaps a window or a citizen is shown (what is missing or inaccurate,
 * and why). The same decider admits every channel; the item then waits for its review.
 */
@Injectable()
export class ChangesService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly records: PersonRecordRepository,
    private readonly items: ReviewItemRepository,
    private readonly decisions: Decisions,
    private readonly audit: AuditService,
    private readonly policies: RegionPolicyProvider,
    private readonly ids: PersonIds,
  ) {}

  /** The person a citizen ID names, if the caller may serve them; 404 otherwise (the same answer either way). */
  async personFor(principal: Principal, citizenId: string): Promise<RegistrationRecord> {
    // The audit names whom the caller asked for, found or not.
    this.audit.concerns([personKeyFor(citizenId)]);
    const record = await this.records.find(this.dataSource.manager, personKeyFor(citizenId));
    if (!record) throw new DomainError('NOT_FOUND', 'no such person');
    this.assertServes(principal, record);
    return record;
  }

  /** A citizen's own record (role citizen: bound to the ID in their token). */
  async ownRecord(principal: Principal): Promise<RegistrationRecord> {
    const citizenId = ownCitizenId(principal);
    const record = await this.records.find(this.dataSource.manager, personKeyFor(citizenId));
    if (!record) throw new DomainError('NOT_FOUND', 'your record is not in the registry yet: ask your community service point');
    return record;
  }

  /** The gaps of a person's record and their changes in review (an audited read: the platform writes the entry). */
  async gaps(record: RegistrationRecord): Promise<Gaps> {
    const pending = await this.items.pendingForPerson(this.dataSource.manager, record.personKey);
    this.audit.concerns([record.personKey]);
    const values = currentValues(record);
    const needsSurvey = record.comparison?.outcome === 'needs-survey';
    const gaps = needsSurvey
      ? (record.comparison?.reasons ?? []).map((r) => {
          const label = reasonLabel(r.code);
          return { code: r.code, label: label.label, explanation: label.explanation, collect: label.collect.map((field) => ({ field, label: FIELD_LABELS[field], current: values[field] })) };
        })
      : [];
    return {
      person: { name: record.name, citizenIdMasked: record.citizenId === null ? null : maskCitizenId(record.citizenId), division: filingDivision(record) },
      outcome: record.comparison?.outcome ?? 'none',
      needsSurvey,
      gaps,
      pending: pending.map((i) => ({ reviewId: i.reviewId, channel: i.channel, kind: i.kind, stage: i.stage, fields: proposedFields(i.request.fields), submittedAt: i.submittedAt })),
    };
  }

  /** A citizen's own record as the registry holds it (§7 items), for self-service. */
  ownView(record: RegistrationRecord): object {
    return {
      citizenId: record.citizenId,
      name: record.name,
      sex: record.sex,
      birthDate: record.birthDate,
      ethnicity: record.ethnicity,
      hukouDivision: record.hukouDivision,
      hukouAddress: record.hukouAddress,
      residenceDivision: record.residenceDivision,
      residenceAddress: record.residenceAddress,
      phone: record.phone,
      employmentStatus: record.employmentStatus,
      insurance: insuranceEntries(record).map(({ insuranceType, scheme, status, region }) => ({ insuranceType, scheme, status, region })),
      notInsuredReason: record.notInsuredReason,
      insuredElsewhere: record.insuredElsewhere,
    };
  }

  /**
   * Submits a change for review. The same submission ID again returns the first answer (a retry
   * after a lost response); used for another person, it is refused.
   */
  async submit(principal: Principal, channel: Exclude<Channel, 'survey'>, record: RegistrationRecord, body: ChangeBodyDto): Promise<Submitted> {
    const request: ChangeRequest = { kind: KIND_OF_CHANNEL[channel], fields: body.fields, evidence: body.evidence, unknown: [], ...(body.note ? { note: body.note } : {}) };
    const policy = this.policies.forRecord(record);
    const now = new Date();
    return this.dataSource.transaction(async (manager) => {
      const current = await this.records.find(manager, record.personKey, true);
      if (!current) throw new DomainError('NOT_FOUND', 'no such person');
      const existing = await this.items.find(manager, reviewIdFor(body.submissionId), true);
      if (existing) {
        if (existing.personKey !== current.personKey || existing.submitterId !== submitterOf(principal)) {
          throw new DomainError('CONFLICT', `submission ${body.submissionId} was already used for another change`);
        }
        return submitted(existing);
      }
      await this.assertIdentityHolds(manager, current, body, now);
      const villageCode = current.survey?.villageCode ?? surveyVillage(current, policy);
      if (!villageCode) throw new DomainError('CONFLICT', 'the person has no household or residence village to be reviewed in: record one first');
      const events = decide(
        {
          kind: 'submit-change',
          channel,
          personKey: current.personKey,
          submissionId: body.submissionId,
          submitter: { id: submitterOf(principal), actor: actorOf(principal) },
          request,
          villageCode,
          skipInitial: policy.reviewSkipsInitial.includes(channel),
          recordVersion: current.version,
          correlationId: newId(),
          now: now.toISOString(),
        },
        null,
      );
      await this.decisions.commit(manager, events);
      const item = await this.items.find(manager, reviewIdFor(body.submissionId));
      if (!item) throw new Error('a submitted change opens its review item');
      return submitted(item);
    });
  }

  /** The requests a submitter made (a citizen's own; a window's by submission ID). */
  async status(principal: Principal, submissionId: string): Promise<Submitted & { returnReason: string | null; fieldsToFix: ChangeField[]; rejectReason: string | null }> {
    const item = await this.items.find(this.dataSource.manager, reviewIdFor(submissionId));
    if (!item || item.submitterId !== submitterOf(principal)) throw new DomainError('NOT_FOUND', 'not found');
    return { ...submitted(item), returnReason: item.returnReason, fieldsToFix: item.fieldsToFix, rejectReason: item.rejectReason };
  }

  /** Every change a citizen submitted about themselves (with the person ID, never the person key). */
  async ownRequests(principal: Principal): Promise<(Omit<ReviewItem, 'personKey'> & { personId: string })[]> {
    const record = await this.ownRecord(principal);
    const items = (await this.items.forPerson(this.dataSource.manager, record.personKey)).filter((i) => i.submitterId === submitterOf(principal));
    return items.map(({ personKey, ...rest }) => ({ ...rest, personId: this.ids.idOf(personKey) }));
  }

  /**
   * The identity items of a change hold together (the rules of every channel, identityViolations:
   * 400 naming each item and rule), and a corrected citizen ID is no other registered person's (409,
   * without saying whose: two records of one person are linked by registry maintenance, never by a
   * correction that would leave two people under one ID).
   */
  private async assertIdentityHolds(manager: EntityManager, current: RegistrationRecord, body: ChangeBodyDto, now: Date): Promise<void> {
    const held = current.citizenId ?? (isSurrogatePersonKey(current.personKey) ? null : current.personKey);
    const violations = identityViolations(body.fields, { citizenId: held, sex: current.sex, birthDate: current.birthDate }, now);
    if (violations.length > 0) {
      throw new DomainError('VALIDATION_FAILED', `the citizen ID, sex and birth date of the change must agree: ${violations.length} item${violations.length === 1 ? '' : 's'} wrong`, { violations });
    }
    if (body.fields.citizenId === undefined) return;
    const otherKey = personKeyFor(body.fields.citizenId);
    if (otherKey === current.personKey || (held !== null && normaliseCitizenId(held) === normaliseCitizenId(body.fields.citizenId))) return;
    if (await this.records.find(manager, otherKey)) {
      // The audit names whom the refusal consulted, as for any lookup.
      this.audit.concerns([current.personKey, otherKey]);
      throw new DomainError('CONFLICT', 'fields.citizenId is the citizen ID of another person in the registry: a correction cannot give it to this one (if both records are one person, registry maintenance links them)');
    }
  }

  private assertServes(principal: Principal, record: RegistrationRecord): void {
    if (principal.kind === 'system') return;
    if (principal.role === 'citizen') {
      if (record.personKey !== personKeyFor(ownCitizenId(principal))) throw new DomainError('NOT_FOUND', 'no such person');
      return;
    }
    assertInDivision(principal, filingDivision(record) ?? '', 'no such person');
  }
}

function ownCitizenId(principal: Principal): string {
  if (principal.kind !== 'person' || principal.role !== 'citizen' || !principal.citizenId) {
    throw new DomainError('FORBIDDEN', 'self-service is for a citizen signed in as themselves');
  }
  return principal.citizenId;
}

/** The submitter's ID on the item: a person's subject, a department key's ID. */
export function submitterOf(principal: Principal): string {
  return principal.kind === 'person' ? principal.sub : principal.keyId;
}

function submitted(item: ReviewItem): Submitted {
  return { reviewId: item.reviewId, submissionId: item.submissionId, channel: item.channel, stage: item.stage, status: item.status, version: item.version };
}
