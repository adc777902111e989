import { Injectable } from '@nestjs/common';
import { OUTCOME_DETERMINED, REVIEW_FINAL_APPROVED, SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { EventOf, RegistrationEvent } from '@qmcb/contracts';
import type { RegistrationRecord } from '@qmcb/domain';
import type { ApplyContext, ProjectionHandler } from '@qmcb/event-log';
import { applyToRecord, recordDivision } from '@qmcb/service-kit';
import { compare, decisionChanged, inComparisonScope, loadRegionPolicies, policyFor } from '../rules';

/** Events after which a person is compared again: any new fact about them. */
const RECOMPARE_ON = new Set<string>([SOURCE_RECORD_RECEIVED, REVIEW_FINAL_APPROVED]);

@Injectable()
export class ComparisonHandler implements ProjectionHandler {
  /** Read and validated when the service starts, so a bad policy file stops it there. */
  private readonly policies = loadRegionPolicies();

  async apply(event: RegistrationEvent, ctx: ApplyContext): Promise<void> {
    const record = await applyToRecord(ctx.manager, event);
    if (event.type === OUTCOME_DETERMINED) {
      await this.recordOutcome(ctx, event, record);
      return;
    }
    if (!RECOMPARE_ON.has(event.type) || !inComparisonScope(record)) return;
    const decision = compare(record, policyFor(record, this.policies), event.occurredAt);
    if (!decisionChanged(record.comparison, decision)) return;
    const now = new Date().toISOString();
    const outcome: EventOf<typeof OUTCOME_DETERMINED> = {
      eventId: deterministicId('comparison', 'outcome', event.eventId),
      type: OUTCOME_DETERMINED,
      schemaVersion: 2,
      personKey: event.personKey,
      occurredAt: now,
      recordedAt: now,
      source: 'svc:comparison',
      actor: 'svc:comparison',
      correlationId: event.correlationId,
      causationId: event.eventId,
      basedOnVersion: record.version,
      payload: {
        outcome: decision.outcome,
        previousOutcome: record.comparison?.outcome ?? 'none',
        reasons: decision.reasons,
      },
    };
    await ctx.emit([outcome]);
  }

  private async recordOutcome(ctx: ApplyContext, event: EventOf<typeof OUTCOME_DETERMINED>, record: RegistrationRecord): Promise<void> {
    const p = event.payload;
    await ctx.manager.query(
      `INSERT INTO outcome_history (event_id, person_key, outcome, previous_outcome, reasons, based_on_version, decided_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
      [event.eventId, event.personKey, p.outcome, p.previousOutcome, JSON.stringify(p.reasons), event.basedOnVersion, event.occurredAt],
    );
    await ctx.manager.query(
      `INSERT INTO current_outcome (person_key, outcome, reason_codes, division, decided_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (person_key) DO UPDATE SET outcome = EXCLUDED.outcome, reason_codes = EXCLUDED.reason_codes,
         division = EXCLUDED.division, decided_at = EXCLUDED.decided_at`,
      [event.personKey, p.outcome, p.reasons.map((r) => r.code), recordDivision(record), event.occurredAt],
    );
  }
}
