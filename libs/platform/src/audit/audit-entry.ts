import { createHash } from 'crypto';

/** What became of the request an entry records. */
export const AUDIT_RESULTS = ['ok', 'partial', 'aborted', 'refused', 'invalid', 'failed'] as const;
export type AuditResult = (typeof AUDIT_RESULTS)[number];

/**
 * One audit entry (MLPS 2.0 level 3, 安全审计): who (actor, role, division), from where (source
 * address), which request, what (method, route, action, the people concerned), why (the purpose the
 * caller stated and its reference) and the result. Stored as the exact JSON text hashed into the chain.
 */
export interface AuditEntry {
  service: string;
  requestId: string | null;
  /** `user:<sub>`, `key:<keyId>`, `anonymous` (a refused request), or `operator` (a command). */
  actor: string;
  /** The person's role, `dept:<department>` for a system; null when anonymous. */
  role: string | null;
  division: string | null;
  source: string | null;
  method: string | null;
  /** The route template (`/persons/:personId`), never the URL. */
  route: string | null;
  /** read, list, export, write; `access` for a refused request to a route without personal data; purge; legacy-read. */
  action: string;
  purpose: string | null;
  purposeRef: string | null;
  /**
   * The people concerned, by person key as the services name them; stored by person ID
   * (AuditStore: entries written before that keep the keys), and read back as keys.
   */
  people: string[];
  /** How many people (for an export's final entry: all it sent). */
  count: number;
  result: AuditResult;
  status: number | null;
  code: string | null;
  detail: string | null;
}

/** The entry as stored and hashed: JSON with a fixed key order and a version. */
export function canonicalEntry(e: AuditEntry): string {
  return JSON.stringify({
    v: 1,
    service: e.service,
    requestId: e.requestId,
    actor: e.actor,
    role: e.role,
    division: e.division,
    source: e.source,
    method: e.method,
    route: e.route,
    action: e.action,
    purpose: e.purpose,
    purposeRef: e.purposeRef,
    people: e.people,
    count: e.count,
    result: e.result,
    status: e.status,
    code: e.code,
    detail: e.detail,
  });
}

export const GENESIS_HASH = Buffer.alloc(32);

/**
 * The chain: hash(n) = SHA-256(hash(n-1) ‖ UTF-8("<seq>\n<at>\n<entry>")), `at` as
 * YYYY-MM-DDTHH:MM:SS.ffffffZ (UTC, microseconds). The database computes it on insert (trigger
 * audit.chain); `audit verify` recomputes it here, independently.
 */
export function chainHash(previous: Buffer, seq: string, at: string, entry: string): Buffer {
  return createHash('sha256').update(previous).update(`${seq}\n${at}\n${entry}`, 'utf8').digest();
}
