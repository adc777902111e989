/**
 * Work run on a timer, one run at a time: a slow run is never stacked under the next tick, and a
 * caller asking for a run while one is in flight joins it (`run()`). Used for the business gauges
 * recounted from the database and for the services' sweeps (feed numbering, webhook rounds,
 * recompare days). A failed tick goes to `onError` and the next tick tries again.
 */
export class PeriodicTask<T = void> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<T>;

  constructor(
    private readonly work: () => Promise<T>,
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /** Runs every `intervalMs` (and at once unless `immediately` is false); `0` or less runs nothing. */
  start(intervalMs: number, { immediately = true }: { immediately?: boolean } = {}): void {
    if (intervalMs <= 0) return;
    if (immediately) this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  /** Runs now, or joins the run in flight; resolves with that run's result. */
  run(): Promise<T> {
    this.running ??= this.work().finally(() => (this.running = undefined));
    return this.running;
  }

  private tick(): void {
    this.run().catch(this.onError);
  }

  /** Stops the timer and waits for a run in flight (its failure is not this caller's). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }
}

/** A refresh interval in milliseconds from the environment: a whole number, `0` for off, `fallback` when unset. */
export function intervalFromEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`${name} must be a whole number of milliseconds, got ${JSON.stringify(raw)}`);
  return ms;
}
