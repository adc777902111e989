/**
 * Why personal data is processed (PIPL art. 6 and 17: a clear, stated purpose; MLPS 2.0 level 3:
 * the audit records it). A caller states one with the `X-Purpose` header, optionally with a
 * reference (`X-Purpose-Ref`: a window ticket, a case number); each route lists the purposes it
 * serves (`@PersonalData({ purposes })`). docs/security.md, "Purposes".
 */
export const PURPOSES = {
  survey: '入户调查: finding and registering people at their door (procedure §15-§19)',
  review: '审核: initial review and final approval of collected information (§19, §21)',
  'window-service': '窗口经办: serving the person at a counter (§13)',
  'self-service': '本人查询更正: the person looks at or corrects their own record (§14, §23)',
  'registry-maintenance': '登记库维护: keeping the registry complete and accurate (dynamic update)',
  'comparison-check': '比对核查: checking and explaining comparison results',
  'cross-region-exchange': '跨地区信息交换: exchange with the higher registry (§10)',
  statistics: '统计分析: aggregate figures; personal values stay masked',
  'operations-support': '运维支持: investigating an incident; personal values stay masked',
  audit: '安全审计: an auditor examines who processed whose data',
  'data-submission': '部门报送: a department system sends its records (§8, §9)',
  'data-sharing': '数据共享: a department system receives the registry changes it subscribed to (change feed, dynamic update)',
} as const;
export type Purpose = keyof typeof PURPOSES;

export const PURPOSE_CODES = Object.keys(PURPOSES) as Purpose[];

export function isPurpose(value: unknown): value is Purpose {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(PURPOSES, value);
}

export const PURPOSE_HEADER = 'x-purpose';
export const PURPOSE_REF_HEADER = 'x-purpose-ref';
/** A reference: 1-64 visible ASCII characters (an HTTP header carries no others). */
export const PURPOSE_REF_PATTERN = /^[\x21-\x7e][\x20-\x7e]{0,63}$/;
