import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/**
 * Transaction-scoped advisory locks per village. Giving villages to teams (and their targets to
 * surveyors) takes them exclusively; giving a new target of the village to a surveyor takes them
 * shared. So a target created while its village changes hands is seen by one of the two: it is
 * never left without a surveyor. Taken in key order, so two transactions cannot deadlock on them.
 */
@Injectable()
export class SurveyLocks {
  shared(manager: EntityManager, villageCodes: readonly string[]): Promise<void> {
    return this.take(manager, villageCodes, 'pg_advisory_xact_lock_shared');
  }

  exclusive(manager: EntityManager, villageCodes: readonly string[]): Promise<void> {
    return this.take(manager, villageCodes, 'pg_advisory_xact_lock');
  }

  /** A county's campaigns (one open at a time). */
  async county(manager: EntityManager, countyCode: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('survey-county:' || $1, 0))`, [countyCode]);
  }

  /**
   * Households, exclusively, in one order (no deadlock between two takers): the projection giving new
   * targets to surveyors holds them until its batch commits, so members of one household applied
   * from different partitions at once see each other's surveyor and the household goes whole to one.
   */
  async households(manager: EntityManager, householdKeys: readonly string[]): Promise<void> {
    if (householdKeys.length === 0) return;
    await manager.query(
      `SELECT count(pg_advisory_xact_lock(k)) FROM (SELECT DISTINCT hashtextextended('survey-household:' || h, 0) AS k FROM unnest($1::text[]) AS h ORDER BY 1) s`,
      [[...new Set(householdKeys)]],
    );
  }

  /** One person's survey (two surveyors adding the same person found on site at once). */
  async person(manager: EntityManager, personKey: string): Promise<void> {
    await manager.query(`SELECT pg_advisory_xact_lock(hashtextextended('survey-person:' || $1, 0))`, [personKey]);
  }

  private async take(manager: EntityManager, villageCodes: readonly string[], fn: 'pg_advisory_xact_lock_shared' | 'pg_advisory_xact_lock'): Promise<void> {
    if (villageCodes.length === 0) return;
    await manager.query(
      `SELECT count(${fn}(k)) FROM (SELECT DISTINCT hashtextextended('survey-village:' || v, 0) AS k FROM unnest($1::text[]) AS v ORDER BY 1) s`,
      [[...new Set(villageCodes)]],
    );
  }
}
