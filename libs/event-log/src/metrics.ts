import { Counter, Gauge, register } from 'prom-client';

// Several runners (and, in tests, several copies of this module) share prom-client's default
// registry, so every metric is looked up before it is created.
function counter<L extends string>(name: string, help: string, labelNames: readonly L[]): Counter<L> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  if (existing) register.removeSingleMetric(name);
  return new Counter({ name, help, labelNames });
}

function gauge<L extends string>(name: string, help: string, labelNames: readonly L[]): Gauge<L> {
  const existing = register.getSingleMetric(name);
  if (existing instanceof Gauge) return existing as Gauge<L>;
  if (existing) register.removeSingleMetric(name);
  return new Gauge({ name, help, labelNames });
}

export const metrics = {
  get applied(): Counter<'projection'> {
    return counter('qmcb_events_applied_total', 'Events applied to a projection', ['projection']);
  },
  get skipped(): Counter<'projection'> {
    return counter('qmcb_events_skipped_total', 'Events skipped because their event ID was already applied', ['projection']);
  },
  get lag(): Gauge<'projection' | 'partition'> {
    return gauge('qmcb_consumer_lag', 'High watermark minus the projection checkpoint, per partition', ['projection', 'partition']);
  },
  get deadLetters(): Counter<'projection'> {
    return counter('qmcb_dead_letters_total', 'Messages sent to the dead-letter topic', ['projection']);
  },
  get outboxPending(): Gauge<'schema'> {
    return gauge('qmcb_outbox_pending', 'Outbox rows not yet published', ['schema']);
  },
  get outboxPublished(): Counter<'schema'> {
    return counter('qmcb_outbox_published_total', 'Outbox rows published to the log', ['schema']);
  },
  get chunkSplits(): Counter<'projection'> {
    return counter('qmcb_chunk_splits_total', 'Chunks whose handler call failed and were applied again as two halves (down to one event)', ['projection']);
  },
  get shreddedSkipped(): Counter<'projection'> {
    return counter('qmcb_events_shredded_skipped_total', 'Events skipped because their person was erased (data key shredded, ADR 0009)', ['projection']);
  },
  get erasedDropped(): Counter<string> {
    return counter('qmcb_events_erased_not_appended_total', 'Events not appended because their person was erased (ADR 0009)', []);
  },
  get produceGroups(): Counter<string> {
    return counter('qmcb_log_append_groups_total', 'Groups of appends sent to the log together and acknowledged (appends waiting for the one request in flight go out in one group)', []);
  },
  get appended(): Counter<string> {
    return counter('qmcb_events_appended_total', 'Events appended to the log and acknowledged by all in-sync replicas', []);
  },
};

/** Registers every event-log metric up front, so a scrape shows them before the first event. */
export function registerEventLogMetrics(): void {
  void [metrics.applied, metrics.skipped, metrics.lag, metrics.deadLetters, metrics.outboxPending, metrics.outboxPublished, metrics.chunkSplits, metrics.appended, metrics.produceGroups, metrics.shreddedSkipped, metrics.erasedDropped];
}

registerEventLogMetrics();

/** Current value of one series in the default registry (0 when absent); for tests and health pages. */
export async function metricValue(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = register.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const match = values.find((v) => Object.entries(labels).every(([k, val]) => String(v.labels[k]) === val));
  return match?.value ?? 0;
}
