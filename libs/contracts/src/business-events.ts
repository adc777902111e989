import type { ClassConstructor } from 'class-transformer';
import { CARD_ISSUED, CARD_LOST, CARD_REPLACED, CardIssuedV1, CardLostV1, CardReplacedV1 } from './events/card.events';
import {
  DEATH_REGISTERED,
  EMPLOYER_CLOSED,
  EMPLOYER_OPENED,
  HOUSEHOLD_MOVED_IN,
  HOUSEHOLD_MOVED_OUT,
  DeathRegisteredV1,
  EmployerClosedV1,
  EmployerOpenedV1,
  HouseholdMovedInV1,
  HouseholdMovedOutV1,
} from './events/department-notice.events';
import {
  INSURANCE_BENEFIT_APPROVED,
  INSURANCE_CONTRIBUTION_PAID,
  INSURANCE_ENDED,
  INSURANCE_ENROLLED,
  INSURANCE_PAYMENT_STARTED,
  INSURANCE_PAYMENT_STOPPED,
  INSURANCE_SUSPENDED,
  InsuranceBenefitApprovedV1,
  InsuranceContributionPaidV1,
  InsuranceEndedV1,
  InsuranceEnrolledV1,
  InsurancePaymentStartedV1,
  InsurancePaymentStoppedV1,
  InsuranceSuspendedV1,
} from './events/insurance-business.events';
import type { Department } from './vocabulary';

/**
 * Business events (procedure §20-§24): typed facts the social-insurance business systems, the card
 * system and other departments post as they happen, each of one person. Their current payload class
 * and the departments that may send each.
 */
export const BUSINESS_EVENTS = {
  [INSURANCE_ENROLLED]: { payload: InsuranceEnrolledV1, departments: ['social-insurance'] },
  [INSURANCE_SUSPENDED]: { payload: InsuranceSuspendedV1, departments: ['social-insurance'] },
  [INSURANCE_ENDED]: { payload: InsuranceEndedV1, departments: ['social-insurance'] },
  [INSURANCE_CONTRIBUTION_PAID]: { payload: InsuranceContributionPaidV1, departments: ['social-insurance'] },
  [INSURANCE_BENEFIT_APPROVED]: { payload: InsuranceBenefitApprovedV1, departments: ['social-insurance'] },
  [INSURANCE_PAYMENT_STARTED]: { payload: InsurancePaymentStartedV1, departments: ['social-insurance'] },
  [INSURANCE_PAYMENT_STOPPED]: { payload: InsurancePaymentStoppedV1, departments: ['social-insurance'] },
  [CARD_ISSUED]: { payload: CardIssuedV1, departments: ['social-security-card'] },
  [CARD_LOST]: { payload: CardLostV1, departments: ['social-security-card'] },
  [CARD_REPLACED]: { payload: CardReplacedV1, departments: ['social-security-card'] },
  [DEATH_REGISTERED]: { payload: DeathRegisteredV1, departments: ['civil-affairs', 'public-security'] },
  [HOUSEHOLD_MOVED_OUT]: { payload: HouseholdMovedOutV1, departments: ['public-security'] },
  [HOUSEHOLD_MOVED_IN]: { payload: HouseholdMovedInV1, departments: ['public-security'] },
  [EMPLOYER_OPENED]: { payload: EmployerOpenedV1, departments: ['tax', 'market-regulation'] },
  [EMPLOYER_CLOSED]: { payload: EmployerClosedV1, departments: ['tax', 'market-regulation'] },
} as const satisfies Record<string, { payload: ClassConstructor<object>; departments: readonly Department[] }>;

export type BusinessEventType = keyof typeof BUSINESS_EVENTS;
export const BUSINESS_EVENT_TYPES = Object.keys(BUSINESS_EVENTS) as BusinessEventType[];

export function isBusinessEventType(value: unknown): value is BusinessEventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(BUSINESS_EVENTS, value);
}

/** Whether the department may send business events of this type. */
export function departmentMaySendBusinessEvent(department: Department, type: BusinessEventType): boolean {
  return (BUSINESS_EVENTS[type].departments as readonly Department[]).includes(department);
}
