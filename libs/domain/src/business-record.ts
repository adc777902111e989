import type { BenefitKind, BusinessEventType, ContributionPayer, Department, FactKind, PaymentStopReason } from '@qmcb/contracts';

/**
 * The parts of the registration record kept up to date by business events (procedure §20-§24): the
 * social-security card, contributions and benefits per insurance entry, the employer, household
 * moves, roster absences and changes waiting for review. Plain JSON like the rest of the record.
 */

/** 社会保障卡 as the card system last said (seed 004). */
export interface CardState {
  status: 'active' | 'lost';
  cardNumber: string;
  /** Null for a card only heard of as lost. */
  issuedOn: string | null;
  /** The county that issued it; null when only a replacement was heard of. */
  issuingRegion: string | null;
  lostOn: string | null;
  /** Business time (`occurredAt`) of the card event applied. */
  asOf: string;
  eventId: string;
}

/** The latest month paid into one insurance entry (缴费). */
export interface ContributionState {
  /** YYYY-MM */
  lastMonth: string;
  paidBy: ContributionPayer;
  amount: number | null;
  asOf: string;
  eventId: string;
}

/** A benefit of one insurance entry as the business system approved and paid it (待遇核定, 支付). */
export interface BenefitState {
  benefit: BenefitKind;
  status: 'approved' | 'paying' | 'stopped';
  approvedOn: string | null;
  paymentStartedOn: string | null;
  paymentStoppedOn: string | null;
  stopReason: PaymentStopReason | null;
  asOf: string;
  eventId: string;
}

/** The person's employer as tax or market regulation last reported it opened or closed. */
export interface EmployerState {
  creditCode: string;
  name: string | null;
  status: 'open' | 'closed';
  effectiveDate: string;
  department: Department;
  asOf: string;
  eventId: string;
}

/** Household moves (户口迁入/迁出): the person stays in the registry whatever moves. */
export interface MigrationState {
  movedOutOn: string | null;
  /** Where to, when known. */
  movedOutTo: string | null;
  /** The village the registration left. */
  movedOutFrom: string | null;
  movedInOn: string | null;
  movedInFrom: string | null;
  asOf: string;
  eventId: string;
}

/** A held record a department's full roster left out (procedure §24): flagged, never deleted. */
export interface RosterAbsence {
  snapshotId: string;
  department: Department;
  kind: FactKind;
  /** `household`, `insurance:pension:resident:440981`, `welfare:extreme-poverty`, … */
  slot: string;
  scope: string;
  rosterAsOf: string;
  eventId: string;
}

/** A business event that region policy routed to review, waiting for the county's decision. */
export interface PendingChange {
  proposalId: string;
  type: BusinessEventType;
  occurredAt: string;
  source: string;
  actor: string;
  /** The ID the business event would have had. */
  changeEventId: string;
  payload: Record<string, unknown>;
  reason: string;
  proposedAt: string;
  eventId: string;
}
