import type { Department } from '@qmcb/contracts';
import { forbidden } from './http-errors';
import type { Role } from './role';

/** A person authenticated by a bearer token. */
export interface PersonPrincipal {
  kind: 'person';
  sub: string;
  name: string;
  role: Role;
  /** GB/T 2260 division code (2, 4, 6, 9 or 12 digits): the scope of what this person may see. */
  division: string;
  /** The token's iat (epoch seconds): a person revoked at T loses every token issued before T. */
  issuedAt?: number;
  /** The token's jti, by which one token is revoked. */
  tokenId?: string;
  /** A citizen's own citizen ID (role `citizen` only): the one record they may see and correct. */
  citizenId?: string;
}

/** A department system authenticated by an API key. */
export interface SystemPrincipal {
  kind: 'system';
  department: Department;
  keyId: string;
}

export type Principal = PersonPrincipal | SystemPrincipal;

/** What the AuthGuard leaves on the request. */
export interface RequestWithPrincipal {
  principal?: Principal;
}
/** The envelope's `actor`: `user:<sub>` for a person, `key:<keyId>` for a department system. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'person' ? `user:${principal.sub}` : `key:${principal.keyId}`;
}

/** The department a system caller is bound to; a person has none (403). */
export function departmentOf(principal: Principal): Department {
  if (principal.kind !== 'system') throw forbidden('only department systems may call this endpoint');
  return principal.department;
}
