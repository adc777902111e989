import { Injectable } from '@nestjs/common';
import { actorOf, assertInDivision } from '@qmcb/auth';
import type { Principal } from '@qmcb/auth';
import { newId } from '@qmcb/contracts';
import type { LinkedSource } from '@qmcb/contracts';
import { citizenIdInfo, insuranceEntries, maskCitizenId, resolveFields } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { AuditService, DomainError, PersonIds } from '@qmcb/platform';
import { Decisions, PersonRecordRepository } from '@qmcb/service-kit';
import { DataSource } from 'typeorm';
import type { EntityManager } from 'typeorm';
import { decide } from './link-review.decider';
import type { LinkDecision, LinkReview, LinkReviewStage, LinkReviewStatus } from './link-review.decider';
import { LinkReviewRepository } from './link-review.repository';

/** A link review as answered: person IDs and the person's masked citizen ID, never person keys. */
export type LinkReviewView = Pick<
  LinkReview,
  'linkId' | 'score' | 'threshold' | 'criteria' | 'villageCode' | 'stage' | 'status' | 'proposedAt' | 'initialReviewer' | 'initialComment' | 'decidedBy' | 'decisionNote' | 'decidedAt' | 'version'
> & {
  /** The person the records are proposed to belong to. */
  personId: string;
  citizenIdMasked: string | null;
  /** The records under the mistyped ID: their person ID, the ID as the departments sent it, where they came from. */
  records: { personId: string; citizenIdAsSent: string; sources: LinkedSource[] };
};

/** What one side of a link says of the identity, and the insurance it holds. */
export interface LinkSide {
  personId: string;
  name: string | null;
  sex: string | null;
  birthDate: string | null;
  address: string | null;
  insurance: { insuranceType: string; scheme: string; status: string; region: string; department: string | null }[];
}

export interface LinkView {
  link: LinkReviewView;
  /** The person as the registry resolves them (the valid ID's birth date and sex included). */
  person: LinkSide | null;
  /** The records under the mistyped ID as their departments sent them (nothing taken from the mistyped ID). */
  records: LinkSide | null;
}

export interface LinkDecisionResult {
  linkId: string;
  eventId: string;
  stage: LinkReviewStage;
  status: LinkReviewStatus;
  version: number;
}

export type LinkRequest =
  | { kind: 'initial-approval'; expectedVersion: number; comment: string }
  | { kind: 'final-approval'; expectedVersion: number; comment: string }
  | { kind: 'reject'; expectedVersion: number; reason: string };

/**
 * Review of identity links (procedure §19, §21 for a correction of the citizen ID; docs/api/review.md):
 * the queue of links comparison proposed in a division, one link beside both records, and the
 * decisions, each serialised per link (row lock plus the version the reviewer saw), decided by the
 * link review's decider and committed through the outbox. Comparison applies the confirmation or
 * rejection and compares both sides again.
 */
@Injectable()
export class LinksService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly links: LinkReviewRepository,
    private readonly records: PersonRecordRepository,
    private readonly decisions: Decisions,
    private readonly audit: AuditService,
    private readonly ids: PersonIds,
  ) {}

  present(r: LinkReview): LinkReviewView {
    return {
      linkId: r.linkId,
      personId: this.ids.idOf(r.personKey),
      citizenIdMasked: r.personKey.startsWith('X-') ? null : maskCitizenId(r.personKey),
      records: { personId: this.ids.idOf(r.recordKey), citizenIdAsSent: r.citizenIdAsSent, sources: r.sources },
      score: r.score,
      threshold: r.threshold,
      criteria: r.criteria,
      villageCode: r.villageCode,
      stage: r.stage,
      status: r.status,
      proposedAt: r.proposedAt,
      initialReviewer: r.initialReviewer,
      initialComment: r.initialComment,
      decidedBy: r.decidedBy,
      decisionNote: r.decisionNote,
      decidedAt: r.decidedAt,
      version: r.version,
    };
  }

  /** The links within a division, oldest proposal first (everyone listed, both sides, named to the audit). */
  async list(
    principal: Principal,
    q: { division?: string; stage?: LinkReviewStage; status?: LinkReviewStatus; limit: number; offset: number },
  ): Promise<{ total: number; limit: number; offset: number; items: LinkReviewView[] }> {
    const within = q.division ?? (principal.kind === 'person' ? principal.division : '');
    assertInDivision(principal, within);
    const page = await this.links.list(this.dataSource.manager, { within, stage: q.stage, status: q.status, limit: q.limit, offset: q.offset });
    this.audit.concerns(page.items.flatMap((r) => [r.personKey, r.recordKey]));
    return { total: page.total, limit: q.limit, offset: q.offset, items: page.items.map((r) => this.present(r)) };
  }

  /** One link beside what each side says of the identity and the insurance the records hold. */
  async view(principal: Principal, linkId: string): Promise<LinkView> {
    const { manager } = this.dataSource;
    const review = await this.load(manager, principal, linkId, false);
    const both = await this.records.findMany(manager, [review.personKey, review.recordKey]);
    return { link: this.present(review), person: this.side(both.get(review.personKey), true), records: this.side(both.get(review.recordKey), false) };
  }

  private side(record: RegistrationRecord | undefined, trustId: boolean): LinkSide | null {
    if (!record) return null;
    const info = trustId && record.citizenIdValid && record.citizenId !== null ? citizenIdInfo(record.citizenId) : null;
    const f = resolveFields(record, info);
    return {
      personId: this.ids.idOf(record.personKey),
      name: f.name.value,
      sex: f.sex.value,
      birthDate: f.birthDate.value,
      address: f.address.value,
      insurance: insuranceEntries(record).map((e) => ({ insuranceType: e.insuranceType, scheme: e.scheme, status: e.status, region: e.region, department: e.department ?? null })),
    };
  }

  async decide(principal: Principal, linkId: string, request: LinkRequest): Promise<LinkDecisionResult> {
    if (principal.kind !== 'person') throw new DomainError('FORBIDDEN', 'links are reviewed by people');
    return this.dataSource.transaction(async (manager) => {
      const review = await this.load(manager, principal, linkId, true);
      const record = await this.records.find(manager, review.personKey);
      const decision = {
        ...request,
        reviewer: { id: principal.sub, role: principal.role, division: principal.division, actor: actorOf(principal) },
        recordVersion: record?.version ?? null,
        correlationId: newId(),
        now: new Date().toISOString(),
      } as LinkDecision;
      const [event] = decide(decision, review);
      if (!event) throw new Error('a link decision decides one event');
      await this.decisions.commit(manager, [event]);
      const after = await this.load(manager, principal, linkId, false);
      return { linkId, eventId: event.eventId, stage: after.stage, status: after.status, version: after.version };
    });
  }

  /** The link within the caller's division (404 otherwise, as for no such link); both sides named to the audit. */
  private async load(manager: EntityManager, principal: Principal, linkId: string, lock: boolean): Promise<LinkReview> {
    const review = await this.links.find(manager, linkId, lock);
    if (!review) throw new DomainError('NOT_FOUND', 'not found');
    this.audit.concerns([review.personKey, review.recordKey]);
    assertInDivision(principal, review.villageCode);
    return review;
  }
}
