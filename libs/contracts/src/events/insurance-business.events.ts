import { IsIn, IsNumber, IsOptional, IsString, Length, Matches, MaxLength, Min } from 'class-validator';
import { IsCalendarDate, IsCalendarMonth } from '../calendar-date';
import {
  BENEFIT_KINDS,
  CONTRIBUTION_PAYERS,
  CREDIT_CODE,
  DATE_PATTERN,
  END_REASONS,
  MONTH_PATTERN,
  PAYMENT_STOP_REASONS,
  SUSPENSION_REASONS,
} from '../business-vocabulary';
import type { BenefitKind, ContributionPayer, EndReason, PaymentStopReason, SuspensionReason } from '../business-vocabulary';
import { DEPARTMENTS, DIVISION_PATTERNS, INSURANCE_TYPES, SCHEMES } from '../vocabulary';
import type { Department, InsuranceType, Scheme } from '../vocabulary';

export const INSURANCE_ENROLLED = 'insurance.enrolled';
export const INSURANCE_SUSPENDED = 'insurance.suspended';
export const INSURANCE_ENDED = 'insurance.ended';
export const INSURANCE_CONTRIBUTION_PAID = 'insurance.contribution-paid';
export const INSURANCE_BENEFIT_APPROVED = 'insurance.benefit-approved';
export const INSURANCE_PAYMENT_STARTED = 'insurance.payment-started';
export const INSURANCE_PAYMENT_STOPPED = 'insurance.payment-stopped';

/** What every business event carries: who sent it (set from the API key) and the sender's own transaction ID. */
export abstract class BusinessEventBase {
  @IsIn(DEPARTMENTS)
  department: Department;

  /** The business system's ID of this transaction (业务流水号): with the department, the type and the content it makes the event ID. */
  @IsString() @Length(1, 128)
  businessId: string;
}

/** The insurance entry a business event is about: type, scheme and the insuring county (the entry `type:scheme:region`). */
export abstract class InsuranceBusinessEvent extends BusinessEventBase {
  @IsIn(INSURANCE_TYPES)
  insuranceType: InsuranceType;

  @IsIn(SCHEMES)
  scheme: Scheme;

  @Matches(DIVISION_PATTERNS.county, { message: 'region must be a 6-digit county code' })
  region: string;
}

const date = (field: string): { message: string } => ({ message: `${field} must be YYYY-MM-DD` });

/** 参保登记: the person is enrolled (or enrolled again); with `transferredFrom`, a transfer (转移接续) from another county. */
export class InsuranceEnrolledV1 extends InsuranceBusinessEvent {
  @Matches(DATE_PATTERN, date('since')) @IsCalendarDate()
  since: string;

  @IsOptional() @IsString() @MaxLength(128)
  employer?: string;

  @IsOptional() @Matches(CREDIT_CODE, { message: 'employerCreditCode must be an 18-character unified social credit code' })
  employerCreditCode?: string;

  /** The county the insurance was transferred from: its entry of the same type and scheme ends with this enrolment. */
  @IsOptional() @Matches(DIVISION_PATTERNS.county, { message: 'transferredFrom must be a 6-digit county code' })
  transferredFrom?: string;
}

/** 暂停/中断: the insurance is suspended. */
export class InsuranceSuspendedV1 extends InsuranceBusinessEvent {
  @Matches(DATE_PATTERN, date('effectiveDate')) @IsCalendarDate()
  effectiveDate: string;

  @IsIn(SUSPENSION_REASONS)
  reason: SuspensionReason;
}

/** 终止: the insurance ended. */
export class InsuranceEndedV1 extends InsuranceBusinessEvent {
  @Matches(DATE_PATTERN, date('effectiveDate')) @IsCalendarDate()
  effectiveDate: string;

  @IsIn(END_REASONS)
  reason: EndReason;
}

/** 缴费: a month's contribution was paid. */
export class InsuranceContributionPaidV1 extends InsuranceBusinessEvent {
  @Matches(MONTH_PATTERN, { message: 'month must be YYYY-MM' }) @IsCalendarMonth()
  month: string;

  @IsIn(CONTRIBUTION_PAYERS)
  paidBy: ContributionPayer;

  @IsOptional() @IsNumber({ maxDecimalPlaces: 2 }) @Min(0)
  amount?: number;
}

/** 待遇核定: a benefit was approved. */
export class InsuranceBenefitApprovedV1 extends InsuranceBusinessEvent {
  @IsIn(BENEFIT_KINDS)
  benefit: BenefitKind;

  @Matches(DATE_PATTERN, date('effectiveDate')) @IsCalendarDate()
  effectiveDate: string;
}

/** 待遇支付: payment of a benefit started. */
export class InsurancePaymentStartedV1 extends InsuranceBusinessEvent {
  @IsIn(BENEFIT_KINDS)
  benefit: BenefitKind;

  @Matches(DATE_PATTERN, date('effectiveDate')) @IsCalendarDate()
  effectiveDate: string;
}

/** Payment of a benefit stopped. */
export class InsurancePaymentStoppedV1 extends InsuranceBusinessEvent {
  @IsIn(BENEFIT_KINDS)
  benefit: BenefitKind;

  @Matches(DATE_PATTERN, date('effectiveDate')) @IsCalendarDate()
  effectiveDate: string;

  @IsIn(PAYMENT_STOP_REASONS)
  reason: PaymentStopReason;
}
