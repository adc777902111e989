/**
 * Roles of people (docs/conventions.md, HTTP). A const enum-like object, so that both `Role.Surveyor`
 * and the wire string `'surveyor'` type-check where a Role is expected.
 */
export const Role = {
  Surveyor: 'surveyor',
  /** Township 初审. */
  GrassrootsReviewer: 'grassroots-reviewer',
  /** County 审定. */
  CountyApprover: 'county-approver',
  WindowClerk: 'window-clerk',
  Analyst: 'analyst',
  Operations: 'operations',
  Admin: 'admin',
  /** A resident signed in as themselves (self-service, procedure §14, §23): bound to their own citizen ID. */
  Citizen: 'citizen',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLES: readonly Role[] = Object.values(Role);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}
