/**
 * A refresh run on a timer, one at a time (a slow one is never stacked under the next), for
 * business gauges recounted from the database rather than per scrape or per request.
 */
export class PeriodicRefresh {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly refresh: () => Promise<void>) {}

  /** Runs now and every `intervalMs` after; `0` runs nothing. */
  start(intervalMs: number): void {
    if (intervalMs === 0) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    this.running ??= this.refresh().finally(() => (this.running = undefined));
  }

  /** Stops the timer and waits for a refresh in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
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
