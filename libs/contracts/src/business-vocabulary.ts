/**
 * Vocabulary of business events (procedure §20-§24): what the social-insurance business systems, the
 * card system and other departments tell the registry as it happens. Values are stable wire strings.
 */

/** Why an insurance was suspended (暂停/中断). */
export const SUSPENSION_REASONS = ['contributions-interrupted', 'employment-ended', 'other'] as const;
export type SuspensionReason = (typeof SUSPENSION_REASONS)[number];

/** Why an insurance ended (终止). */
export const END_REASONS = ['transferred-out', 'deceased', 'emigrated', 'duplicate-cleared', 'other'] as const;
export type EndReason = (typeof END_REASONS)[number];

/** Who paid a contribution: the person, the employer, or the government on behalf of a vulnerable person (代缴). */
export const CONTRIBUTION_PAYERS = ['self', 'employer', 'government'] as const;
export type ContributionPayer = (typeof CONTRIBUTION_PAYERS)[number];

/** Benefits a social-insurance business system approves and pays (待遇核定, 支付). */
export const BENEFIT_KINDS = ['basic-pension', 'medical', 'unemployment-benefit', 'work-injury-benefit', 'maternity-benefit'] as const;
export type BenefitKind = (typeof BENEFIT_KINDS)[number];

export const PAYMENT_STOP_REASONS = ['deceased', 'suspended', 'ended', 'other'] as const;
export type PaymentStopReason = (typeof PAYMENT_STOP_REASONS)[number];

/** Why a card was replaced (补换卡). */
export const CARD_REPLACEMENT_REASONS = ['lost', 'damaged', 'renewal'] as const;
export type CardReplacementReason = (typeof CARD_REPLACEMENT_REASONS)[number];

/** 社会保障卡 numbers: 9 to 20 upper-case letters and digits. */
export const CARD_NUMBER = /^[0-9A-Z]{9,20}$/;
/** Unified social credit code (统一社会信用代码). */
export const CREDIT_CODE = /^[0-9A-HJ-NPQRTUWXY]{18}$/;
export const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
export const MONTH_PATTERN = /^\d{4}-\d{2}$/;
