import type { EntityManager } from 'typeorm';

/**
 * A table of a service whose rows written before ADR 0011 hold personal values plain (stage 4):
 * `seal-records` seals them in place in steps, after the person records, as it does those.
 */
export interface PlainRowSealer {
  /** The table, as the command reports it. */
  readonly table: string;
  /** How many of its rows still hold personal values plain. */
  countPlain(manager: EntityManager): Promise<number>;
  /**
   * Seals up to `limit` of those rows after `after` (in the table's own key order), locked, in the
   * manager's transaction: the last key looked at (null: none left) and how many were sealed (a
   * person erased meanwhile is left to the erasure).
   */
  sealPlainRows(manager: EntityManager, after: string | null, limit: number): Promise<{ last: string | null; sealed: number }>;
}

/** Injection token of a service's `PlainRowSealer[]` (none: only `person_record` is sealed in place). */
export const PLAIN_ROW_SEALERS = Symbol('PLAIN_ROW_SEALERS');
