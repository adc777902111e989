import { Inject, Injectable } from '@nestjs/common';
import { REVIEW_FINAL_APPROVED, REVIEW_INITIAL_APPROVED, REVIEW_RETURNED, deterministicId, newId } from '@qmcb/contracts';
import type { CollectedForm, RegistrationEvent } from '@qmcb/contracts';
import { assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import type { ProjectionHandler } from '@qmcb/event-log';
import { DomainError } from '@qmcb/platform';
import { PROJECTION_HANDLER, commitDecisions, loadRecord } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';

export interface ReviewRow {
  reviewId: string;
  submissionId: string;
  taskId: string;
  personKey: string;
  villageCode: string;
  townshipCode: string;
  countyCode: string;
  stage: 'initial' | 'final' | 'done';
  status: 'pending' | 'approved' | 'returned';
  form: CollectedForm;
  surveyorId: string;
  submittedAt: string;
  basedOnVersion: number | null;
  initialReviewer: string | null;
  initialComment: string | null;
  finalReviewer: string | null;
  returnReason: string | null;
  updatedAt: string;
  version: number;
}

const COLUMNS = `review_id AS "reviewId", submission_id AS "submissionId", task_id AS "taskId", person_key AS "personKey",
  village_code AS "villageCode", township_code AS "townshipCode", county_code AS "countyCode", stage, status, form,
  surveyor_id AS "surveyorId", submitted_at AS "submittedAt", based_on_version AS "basedOnVersion",
  initial_reviewer AS "initialReviewer", initial_comment AS "initialComment", final_reviewer AS "finalReviewer",
  return_reason AS "returnReason", updated_at AS "updatedAt", version`;

export interface DecisionResult {
  reviewId: string;
  eventId: string;
  stage: ReviewRow['stage'];
  status: ReviewRow['status'];
}

type Action = 'initial-approval' | 'final-approval' | 'return';

/**
 * Two-stage review (procedure §19, §21): the grassroots platform's initial review (初审), then the
 * county's final approval (审定). Each decision is serialised per item (row lock plus the version the
 * reviewer saw) and leaves through the outbox.
 */
@Injectable()
export class ReviewsService {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(PROJECTION_HANDLER) private readonly handler: ProjectionHandler,
  ) {}

  async list(principal: Principal, q: { stage?: string; status?: string; division?: string; limit: number; offset: number }): Promise<{ total: number; items: ReviewRow[] }> {
    const scope = principal.kind === 'person' ? principal.division : '';
    const within = q.division ?? scope;
    assertInDivision(principal, within);
    const params = [`${within}%`, q.stage ?? null, q.status ?? null];
    const where = `village_code LIKE $1 AND ($2::text IS NULL OR stage = $2) AND ($3::text IS NULL OR status = $3)`;
    const [{ total }] = await this.dataSource.query(`SELECT count(*)::int AS total FROM review_item WHERE ${where}`, params);
    const items: ReviewRow[] = await this.dataSource.query(
      `SELECT ${COLUMNS} FROM review_item WHERE ${where} ORDER BY submitted_at, review_id LIMIT $4 OFFSET $5`,
      [...params, q.limit, q.offset],
    );
    return { total, items };
  }

  async get(principal: Principal, reviewId: string): Promise<ReviewRow> {
    return this.load(this.dataSource.manager, principal, reviewId, false);
  }

  async forPerson(personKey: string): Promise<ReviewRow[]> {
    return this.dataSource.query(`SELECT ${COLUMNS} FROM review_item WHERE person_key = $1 ORDER BY submitted_at`, [personKey]);
  }

  approveInitial(principal: Principal, reviewId: string, expectedVersion: number, comment: string): Promise<DecisionResult> {
    return this.decide(principal, reviewId, expectedVersion, 'initial-approval', (item, now, basedOn) => ({
      eventId: deterministicId('review', 'initial-approved', reviewId, String(item.version)),
      type: REVIEW_INITIAL_APPROVED,
      schemaVersion: 1,
      ...this.common(principal, item, now, basedOn),
      payload: { reviewId, submissionId: item.submissionId, reviewerId: this.who(principal), townshipCode: item.townshipCode, comment },
    }));
  }

  approveFinal(principal: Principal, reviewId: string, expectedVersion: number): Promise<DecisionResult> {
    return this.decide(principal, reviewId, expectedVersion, 'final-approval', (item, now, basedOn) => ({
      eventId: deterministicId('review', 'final-approved', reviewId, String(item.version)),
      type: REVIEW_FINAL_APPROVED,
      schemaVersion: 1,
      ...this.common(principal, item, now, basedOn),
      payload: { reviewId, submissionId: item.submissionId, reviewerId: this.who(principal), countyCode: item.countyCode, form: item.form },
    }));
  }

  returnToSurveyor(principal: Principal, reviewId: string, expectedVersion: number, reason: string): Promise<DecisionResult> {
    return this.decide(principal, reviewId, expectedVersion, 'return', (item, now, basedOn) => ({
      eventId: deterministicId('review', 'returned', reviewId, String(item.version)),
      type: REVIEW_RETURNED,
      schemaVersion: 1,
      ...this.common(principal, item, now, basedOn),
      payload: { reviewId, submissionId: item.submissionId, stage: item.stage === 'final' ? 'final' : 'initial', reviewerId: this.who(principal), reason },
    }));
  }

  private async decide(
    principal: Principal,
    reviewId: string,
    expectedVersion: number,
    action: Action,
    build: (item: ReviewRow, now: string, basedOnVersion: number | null) => RegistrationEvent,
  ): Promise<DecisionResult> {
    return this.dataSource.transaction(async (manager) => {
      const item = await this.load(manager, principal, reviewId, true);
      this.checkStage(principal, item, action);
      if (item.version !== expectedVersion) {
        throw new DomainError('CONFLICT', `review ${reviewId} is at version ${item.version}, not ${expectedVersion}: reload it and decide again`);
      }
      const record = await loadRecord(manager, item.personKey);
      const event = build(item, new Date().toISOString(), record?.version ?? null);
      await commitDecisions(manager, this.handler, [event]);
      const after = await this.load(manager, principal, reviewId, false);
      return { reviewId, eventId: event.eventId, stage: after.stage, status: after.status };
    });
  }

  /** Who may act at which stage, and where: township reviewers at initial review, county approvers at final. */
  private checkStage(principal: Principal, item: ReviewRow, action: Action): void {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'reviews are decided by people');
    if (item.status !== 'pending') throw new DomainError('CONFLICT', `review ${item.reviewId} is ${item.status}, not pending`);
    const stageFor: Record<string, ReviewRow['stage']> = { 'grassroots-reviewer': 'initial', 'county-approver': 'final' };
    const myStage = stageFor[principal.role];
    if (!myStage) throw new DomainError('FORBIDDEN', `role ${principal.role} does not review`);
    if (action === 'initial-approval' && myStage !== 'initial') throw new DomainError('FORBIDDEN', 'initial review is done by a grassroots reviewer');
    if (action === 'final-approval' && myStage !== 'final') throw new DomainError('FORBIDDEN', 'final approval is done by a county approver');
    if (item.stage !== myStage) {
      throw new DomainError('CONFLICT', `review ${item.reviewId} is at the ${item.stage} stage, not ${myStage}`);
    }
  }

  private async load(manager: EntityManager, principal: Principal, reviewId: string, lock: boolean): Promise<ReviewRow> {
    const rows: ReviewRow[] = await manager.query(`SELECT ${COLUMNS} FROM review_item WHERE review_id = $1${lock ? ' FOR UPDATE' : ''}`, [reviewId]);
    const item = rows[0];
    if (!item) throw new DomainError('NOT_FOUND', `review ${reviewId} not found`);
    assertInDivision(principal, item.villageCode);
    return item;
  }

  private who(principal: Principal): string {
    return principal.kind === 'person' ? principal.sub : principal.keyId;
  }

  private common(principal: Principal, item: ReviewRow, now: string, basedOnVersion: number | null) {
    return {
      personKey: item.personKey,
      occurredAt: now,
      recordedAt: now,
      source: 'svc:review',
      actor: principal.kind === 'person' ? `user:${principal.sub}` : `key:${principal.keyId}`,
      correlationId: newId(),
      causationId: null,
      basedOnVersion,
    };
  }
}
