import { Injectable } from '@nestjs/common';
import type { RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { EntityManager } from 'typeorm';
import { coverageRowOf, sameCoverageRow } from './coverage-row';
import type { CoverageRow } from './coverage-row';
import { CoverageRepository } from './coverage.repository';
import type { CoverageVersion } from './coverage.repository';

/**
 * Keeps the statistics rows of the comparison projection (docs/design/coverage-statistics.md): after
 * each event, the person's row as the record now stands; a changed row starts a new version at the
 * event's `recordedAt` (when the registry learnt it), the old one goes to the history. Runs while
 * rebuilding too: the rows follow from the log.
 */
@Injectable()
export class CoverageRecorder {
  constructor(private readonly rows: CoverageRepository) {}

  async record(manager: EntityManager, events: readonly RegistrationEvent[], after: readonly (RegistrationRecord | null)[]): Promise<void> {
    // Organisational streams (no record) are no person's: not counted.
    const keys = [...new Set(events.filter((_, i) => after[i]).map((e) => e.personKey))];
    const held = await this.rows.current(manager, keys);
    const state = new Map<string, CoverageVersion | null>(held);
    const history: (CoverageVersion & { validTo: string })[] = [];
    const touched = new Set<string>();
    events.forEach((event, i) => {
      const record = after[i];
      if (!record) return;
      const key = event.personKey;
      const next: CoverageRow | null = coverageRowOf(record);
      const previous = state.get(key) ?? null;
      if (sameCoverageRow(previous?.row ?? null, next)) return;
      // Times only move forward per person: an emitted decision is applied before events recorded a moment earlier.
      const at = previous && Date.parse(previous.validFrom) > Date.parse(event.recordedAt) ? previous.validFrom : new Date(event.recordedAt).toISOString();
      if (previous && Date.parse(previous.validFrom) < Date.parse(at)) history.push({ ...previous, validTo: at });
      state.set(key, next ? { row: next, validFrom: at } : null);
      touched.add(key);
    });
    if (touched.size === 0) return;
    await this.rows.insertHistory(manager, history);
    const current: CoverageVersion[] = [];
    const gone: string[] = [];
    for (const key of touched) {
      const version = state.get(key);
      if (version) current.push(version);
      else gone.push(key);
    }
    await this.rows.saveCurrent(manager, current, gone);
  }
}
