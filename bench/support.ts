/** What several benchmarks build the same way: a public-security household record on the log. */
import { SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import { LOCAL_DEFAULTS } from '@qmcb/testing';

export interface HouseholdRecordOptions {
  /** Namespaces the deterministic IDs (`bench`, `bench-rebuild`, …) so benches never share events. */
  idPrefix: string;
  /** The record's number within the run: its event ID, correlation ID and `sourceRecordId` suffix. */
  index: number;
  sourceRecordId: string;
  citizenId: string;
  villageCode: string;
  sex: 'male' | 'female';
  /** recordedAt, occurredAt and asOf. */
  now: string;
}

/** A `source.record-received` of a household record (public security), valid under its contract. */
export function householdRecordEvent(o: HouseholdRecordOptions): EventOf<typeof SOURCE_RECORD_RECEIVED> {
  return {
    eventId: deterministicId(o.idPrefix, String(o.index)),
    type: SOURCE_RECORD_RECEIVED,
    schemaVersion: 1,
    personKey: o.citizenId,
    occurredAt: o.now,
    recordedAt: o.now,
    source: 'dept:public-security',
    actor: 'key:bench',
    correlationId: deterministicId(`${o.idPrefix}-correlation`, String(o.index)),
    causationId: null,
    basedOnVersion: null,
    payload: {
      department: 'public-security',
      sourceRecordId: o.sourceRecordId,
      mode: 'snapshot',
      citizenIdAsSent: o.citizenId,
      citizenIdValid: true,
      asOf: o.now,
      facts: { kind: 'household', name: `居民${o.index}`, villageCode: o.villageCode, status: 'normal', sex: o.sex },
    },
  };
}

/**
 * Benches run outside jest: the secrets and sealing keys the services and the bench's own producer
 * and readers need are this run's own (as a test run's are), unless the shell set them
 * (`source deploy/local/env.sh`). Call before anything reads the environment.
 */
export function useRunSecrets(): void {
  for (const name of ['AUTH_JWT_SECRET', 'API_KEY_SECRET', 'PERSON_ID_SECRET', 'KEYRING_MASTER_KEYS', 'LOG_PERSON_REF_SECRET'] as const) {
    process.env[name] ??= LOCAL_DEFAULTS[name];
  }
}

/**
 * With BENCH_PROFILE_DIR set, the environment that profiles a process (bench/tools/cpu-profile.js,
 * written when it is stopped), named `name`; otherwise nothing. BENCH_PROFILE picks which services
 * (comma-separated; default comparison). `nodeOptions`: the process's other Node options.
 */
export function profileEnv(name: string, service: string = name, nodeOptions: string | undefined = process.env.NODE_OPTIONS): NodeJS.ProcessEnv {
  const dir = process.env.BENCH_PROFILE_DIR;
  const which = (process.env.BENCH_PROFILE ?? 'comparison').split(',').map((s) => s.trim());
  if (!dir || !which.includes(service)) return {};
  const hook = require.resolve('./tools/cpu-profile.js');
  return { NODE_OPTIONS: `${nodeOptions ?? ''} --require ${hook}`.trim(), CPU_PROFILE_DIR: dir, CPU_PROFILE_NAME: name };
}
