import { age60NoPension } from './age-60-no-pension.rule';
import { benefitAfterDeath } from './benefit-after-death.rule';
import { duplicateEnrollment } from './duplicate-enrollment.rule';
import { exemption } from './exemption.rule';
import { idLinking } from './id-linking.rule';
import { inaccurateInformation } from './inaccurate-information.rule';
import { missingInformation } from './missing-information.rule';
import { partlyInsured } from './partly-insured.rule';
import { registeredDirectly } from './registered-directly.rule';
import type { Rule } from './types';
import { uninsured } from './uninsured.rule';

/**
 * Every rule, in evaluation order. Each sees the hits of those before it: the exemption comes after
 * the coverage rules (a student is exempt only from them), and "registered directly" last.
 */
export const RULES: readonly Rule[] = [
  benefitAfterDeath,
  duplicateEnrollment,
  inaccurateInformation,
  idLinking,
  missingInformation,
  uninsured,
  partlyInsured,
  age60NoPension,
  exemption,
  registeredDirectly,
];
