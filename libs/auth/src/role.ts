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
  /** Reads the audit trail (MLPS 2.0 level 3 安全审计), nothing else. */
  Auditor: 'auditor',
  /** A resident signed in as themselves (self-service, procedure §14, §23): bound to their own citizen ID. */
  Citizen: 'citizen',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export const ROLES: readonly Role[] = Object.values(Role);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Levels of a GB/T 2260 division code, by its length. */
export const DIVISION_LEVELS = ['province', 'city', 'county', 'township', 'village'] as const;
export type DivisionLevel = (typeof DIVISION_LEVELS)[number];

const LEVEL_OF_LENGTH: Readonly<Record<number, DivisionLevel>> = { 2: 'province', 4: 'city', 6: 'county', 9: 'township', 12: 'village' };

/** The level of a division code (2, 4, 6, 9 or 12 digits); undefined for anything else. */
export function levelOfDivision(code: string): DivisionLevel | undefined {
  return typeof code === 'string' && /^\d+$/.test(code) ? LEVEL_OF_LENGTH[code.length] : undefined;
}

/**
 * The division levels a person of each role works at. A token whose division is at another level is
 * refused (403) on every route: a surveyor's scope is their township or village, never a province,
 * so a mis-issued token cannot list whole counties. Every role must be listed here (the type says so).
 */
export const ROLE_DIVISION_LEVELS: Readonly<Record<Role, readonly DivisionLevel[]>> = {
  surveyor: ['township', 'village'],
  'grassroots-reviewer': ['township', 'village'],
  'county-approver': ['county'],
  'window-clerk': ['county', 'township'],
  analyst: ['province', 'city', 'county'],
  operations: ['province', 'city', 'county'],
  admin: ['province', 'city', 'county'],
  auditor: ['province', 'city', 'county'],
  // A citizen's scope is their own citizen ID (claim cid), not a division; the division names where they registered.
  citizen: ['county', 'township', 'village'],
};

/** Why a role may not hold a division, or undefined when it may. */
export function divisionLevelProblem(role: Role, division: string): string | undefined {
  const level = levelOfDivision(division);
  const allowed = ROLE_DIVISION_LEVELS[role];
  if (level && allowed.includes(level)) return undefined;
  return `role ${role} works at ${allowed.join(' or ')} level, not ${level ?? 'an unknown'} level (division ${division})`;
}
