import { INSURANCE_TYPES } from '@qmcb/contracts';
import type { CoverageReason, CoverageStatus, InsuranceType } from '@qmcb/contracts';
import { maskCitizenId, policyRegion } from '@qmcb/domain';
import { ageFacts, detailOf, entryFact, noneActive } from './context';
import type { CoverageHit, FactRef, RuleContext } from './types';

/**
 * Status per insurance type (现参保情况 per type, procedure §7, §27-§29; issue 10). For each of the
 * five types, the first that applies:
 *
 * 1. exempt for every type: the record belongs to another person (`LINKED`), deceased (`DECEASED`),
 *    moved out (`MOVED_OUT`), in the military (`MILITARY`), in prison (`PRISONER`: household status,
 *    or in custody before the release date);
 * 2. not due, `NOT_ASSESSED`: the region's policy does not assess the type (`coverageTypes`);
 * 3. pension only: exempt as an enrolled student before the expected graduation (`STUDENT`, seed 003:
 *    outside the pension denominator);
 * 4. insured: an active entry of the type that counts under the region's policy (pension and medical:
 *    its schemes); `insured-here` when one of them is in the person's home county (of the household
 *    registration, else the residence, else the county whose social-insurance system reports them),
 *    else `insured-elsewhere`; `regions` lists every county of an active entry;
 * 5. not due: pension below `pensionMinAge` (`UNDER_AGE`, when the age is known); unemployment,
 *    work injury and maternity when not employed (`NOT_EMPLOYED`: tax, or a newer employer opening or
 *    closing in effect, as the partly-insured rule reads it);
 * 6. not insured: `LAPSED` when an entry of the type exists (suspended, ended, or of a scheme the policy
 *    does not count), else `NEVER_ENROLLED`.
 */
export const coverageStatusRule = { name: 'coverage-status', version: 1 } as const;

/** Types that fall due with employment (职工参保): unemployment, work injury, maternity. */
export const EMPLOYMENT_TYPES: readonly InsuranceType[] = ['unemployment', 'work-injury', 'maternity'];

function item(type: InsuranceType, status: CoverageStatus, reason: CoverageReason | null, regions: string[], summary: string, facts: FactRef[]): CoverageHit {
  return {
    insuranceType: type,
    status,
    reason,
    regions,
    rule: coverageStatusRule.name,
    ruleVersion: coverageStatusRule.version,
    detail: detailOf(summary, facts),
    facts,
  };
}

/** The exemption that takes the person out of every type's denominator, in the order of the rule. */
function personExemption(ctx: RuleContext): { reason: CoverageReason; summary: string; facts: FactRef[] } | null {
  const linkedTo = ctx.links.linkedTo;
  if (linkedTo) {
    return {
      reason: 'LINKED',
      summary: 'the records belong to another person (mistyped citizen ID)',
      facts: [{ source: 'record', field: 'linkedTo', value: `${maskCitizenId(linkedTo.personKey)} (${linkedTo.status})`, asOf: null }],
    };
  }
  if (ctx.deathFacts.length > 0) return { reason: 'DECEASED', summary: 'deceased', facts: ctx.deathFacts };
  const h = ctx.record.household;
  const hukou: FactRef[] = h ? [{ source: 'public-security', field: 'hukouStatus', value: h.status, asOf: h.asOf }] : [];
  if (h?.status === 'moved-out') return { reason: 'MOVED_OUT', summary: 'household registration moved out', facts: hukou };
  if (h?.status === 'military') return { reason: 'MILITARY', summary: 'serving in the military', facts: hukou };
  const custody = ctx.record.custody;
  const prison: FactRef[] = [
    ...(h?.status === 'prison' ? hukou : []),
    // In custody before the release date, as the exemption rule reads it.
    ...(ctx.inCustody && custody ? [{ source: 'justice' as const, field: 'inCustody', value: true, asOf: custody.asOf }] : []),
  ];
  if (prison.length > 0) return { reason: 'PRISONER', summary: 'in prison', facts: prison };
  return null;
}

/** The county a person is "here" in: of their household village, else residence, else the reporting social-insurance system. */
export function homeCounty(ctx: Pick<RuleContext, 'record'>): string | null {
  return policyRegion(ctx.record)?.slice(0, 6) ?? null;
}

function typeStatus(ctx: RuleContext, type: InsuranceType, home: string | null): CoverageHit {
  const { policy } = ctx;
  if (!policy.coverageTypes.includes(type)) {
    return item(type, 'not-due', 'NOT_ASSESSED', [], `${type} is not assessed in the region`, [
      { source: 'policy', field: 'coverageTypes', value: policy.coverageTypes.join(', '), asOf: null },
    ]);
  }
  const enrolment = ctx.record.enrolment;
  if (type === 'pension' && ctx.student && enrolment) {
    return item(type, 'exempt', 'STUDENT', [], 'enrolled student: outside the pension denominator', [
      { source: 'education', field: 'enrolled', value: true, asOf: enrolment.asOf },
    ]);
  }
  const active = ctx.active(type);
  if (active.length > 0) {
    const regions = [...new Set(active.map((e) => e.region))].sort();
    const here = home !== null && regions.includes(home);
    const facts: FactRef[] = [...active.map((e) => entryFact(e)), { source: 'record', field: 'home county', value: home, asOf: null }];
    return item(type, here ? 'insured-here' : 'insured-elsewhere', null, regions, here ? `insured in the home county` : `insured in another county`, facts);
  }
  if (type === 'pension' && ctx.age !== null && ctx.age < policy.pensionMinAge) {
    return item(type, 'not-due', 'UNDER_AGE', [], `below the pension age of ${policy.pensionMinAge}`, [
      ...ageFacts(ctx),
      { source: 'policy', field: 'pensionMinAge', value: policy.pensionMinAge, asOf: null },
    ]);
  }
  const employment = ctx.employment;
  if (EMPLOYMENT_TYPES.includes(type) && !employment.employed) {
    return item(type, 'not-due', 'NOT_EMPLOYED', [], `due with employment; not employed per ${employment.per}`, employment.facts.length > 0 ? employment.facts : [{ source: 'record', field: 'tax', value: null, asOf: null }]);
  }
  const entries = ctx.entries.filter((e) => e.insuranceType === type);
  if (entries.length > 0) return item(type, 'not-insured', 'LAPSED', [], `no counting active ${type} entry: lapsed`, entries.map((e) => entryFact(e)));
  return item(type, 'not-insured', 'NEVER_ENROLLED', [], `never enrolled in ${type}`, [noneActive(type)]);
}

/** The person's status in each insurance type, in INSURANCE_TYPES order. Pure. */
export function coverageStatus(ctx: RuleContext): CoverageHit[] {
  const exemption = personExemption(ctx);
  if (exemption) return INSURANCE_TYPES.map((type) => item(type, 'exempt', exemption.reason, [], exemption.summary, exemption.facts));
  const home = homeCounty(ctx);
  return INSURANCE_TYPES.map((type) => typeStatus(ctx, type, home));
}
