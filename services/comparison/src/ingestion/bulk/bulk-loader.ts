import { ContractViolationError, newId, parseEvent } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import type { EventAppender } from '@qmcb/event-log';
import type { DataSource } from 'typeorm';
import { NO_PROGRESS } from './load-progress';
import type { LoadProgress } from './load-progress';
import { emptyCounts, LoadStore, toReport } from './load-store';
import type { PersonalDataSealer } from '@qmcb/service-kit';
import type { LoadCounts, LoadMeta, LoadReport, QuarantinedRow } from './load-store';
import { CsvHeaderError } from './row-conversion';
import { InputStreamError, parseRows } from './rows';
import type { LoadFormat, Row } from './rows';
import type { SourceRecordEvent } from '../source-record-event';

export interface BulkLoadOptions {
  department: Department;
  format: LoadFormat;
  fileName?: string | null;
  /** The envelope's actor: `key:<keyId>` over HTTP, `cli:<user>` from the command line. */
  actor: string;
  /** Stops the load after the rows read so far (the service shutting down): it ends `failed`. */
  signal?: AbortSignal;
}

/** The load was stopped from outside (service shutdown) before the end of its file. */
export class LoadAbortedError extends Error {
  constructor() {
    super('the load was stopped');
    this.name = 'LoadAbortedError';
  }
}

/** Only counts and IDs: never a row, a citizen ID or a name (logs carry no personal data). */
export interface LoadLogger {
  log(message: { msg: string } & Record<string, unknown>): void;
  warn(message: { msg: string } & Record<string, unknown>): void;
}

export interface BulkLoaderDeps {
  dataSource: DataSource;
  /** Seals quarantined lines (ADR 0011). */
  sealer: PersonalDataSealer;
  appender: EventAppender;
  progress?: LoadProgress;
  logger?: LoadLogger;
  /** Rows per chunk: deduplicated, appended and recorded together (default 2,000). */
  chunkSize?: number;
  /** Events per append call, so a record batch stays well under the broker's message size limit. */
  appendBatch?: number;
  /** Called after each chunk is recorded and at the end. */
  onProgress?: (report: LoadReport) => void;
}

/** Why a load stopped: a client problem (bad header, upload cut) or a dependency (log, database). */
export type LoadFailureKind = 'input' | 'unavailable';

export interface LoadOutcome {
  report: LoadReport;
  failure?: { kind: LoadFailureKind; message: string };
}

export interface StartedLoad {
  loadId: string;
  /** The report as the load starts (status `running`, no rows yet). */
  initial: LoadReport;
  /** Never rejects: a failed load resolves with status `failed` and the reason. */
  done: Promise<LoadOutcome>;
}

interface ValidRow {
  line: number;
  raw: string;
  event: SourceRecordEvent;
}

interface Chunk {
  valid: ValidRow[];
  bad: QuarantinedRow[];
}

const newChunk = (): Chunk => ({ valid: [], bad: [] });

/**
 * The streamed bulk load (docs/api/bulk-load.md), the same for `POST /loads` and `npm run load`:
 * rows parsed and validated as they arrive, bad ones quarantined with their reasons, good ones
 * appended in chunks. Per chunk: repeats within it and event IDs some load already appended are
 * counted as duplicates and not appended again; the rest go to the log, and only once the log has
 * acknowledged them are their IDs, the chunk's quarantined rows and the new counts recorded, in one
 * transaction. A crash between the two re-appends that chunk on retry; consumers skip it by event ID.
 * One chunk is appended while the next is parsed; the source is read only as fast as chunks are
 * written (back-pressure), so memory stays bounded whatever the file's size.
 */
export class BulkLoader {
  private readonly store: LoadStore;
  private readonly progress: LoadProgress;
  private readonly chunkSize: number;
  private readonly appendBatch: number;

  constructor(private readonly deps: BulkLoaderDeps) {
    this.store = new LoadStore(deps.dataSource, deps.sealer);
    this.progress = deps.progress ?? NO_PROGRESS;
    this.chunkSize = deps.chunkSize ?? 2000;
    this.appendBatch = deps.appendBatch ?? 500;
  }

  /** Records the load as running and starts reading `source`; resolves once the load has its ID. */
  async start(options: BulkLoadOptions, source: AsyncIterable<Buffer | string>): Promise<StartedLoad> {
    const meta: LoadMeta = {
      loadId: newId(),
      department: options.department,
      format: options.format,
      fileName: options.fileName ?? null,
      actor: options.actor,
      startedAt: new Date(),
    };
    await this.store.create(meta);
    const initial = toReport(meta, 'running', emptyCounts(), null);
    await this.progress.publish(initial);
    this.deps.logger?.log({ msg: 'load started', loadId: meta.loadId, department: meta.department, format: meta.format });
    return { loadId: meta.loadId, initial, done: this.run(meta, source, options.signal) };
  }

  /** start() and wait for the end. */
  async load(options: BulkLoadOptions, source: AsyncIterable<Buffer | string>): Promise<LoadOutcome> {
    return (await this.start(options, source)).done;
  }

  private async run(meta: LoadMeta, source: AsyncIterable<Buffer | string>, signal?: AbortSignal): Promise<LoadOutcome> {
    const counts = emptyCounts();
    let chunk = newChunk();
    let inflight: Promise<void> | undefined;
    const flushNext = async (): Promise<void> => {
      if (inflight) await inflight;
      const full = chunk;
      chunk = newChunk();
      inflight = this.flush(meta, full, counts);
      // Awaited before the next flush or at the end; this only keeps it from counting as unhandled.
      inflight.catch(() => undefined);
    };
    let failure: LoadOutcome['failure'];
    try {
      const rows = parseRows(signal ? abortable(source, signal) : source, {
        format: meta.format,
        department: meta.department,
        context: { actor: meta.actor, correlationId: meta.loadId },
      });
      for await (const batch of rows) {
        if (signal?.aborted) throw new LoadAbortedError();
        for (const row of batch) {
          addRow(chunk, row);
          if (chunk.valid.length >= this.chunkSize || chunk.bad.length >= this.chunkSize) await flushNext();
        }
      }
      await flushNext();
      await inflight;
    } catch (e) {
      failure = describeFailure(e);
      this.deps.logger?.warn({
        msg: 'load stopped',
        loadId: meta.loadId,
        kind: failure.kind,
        error: e instanceof Error ? e.name : typeof e,
        // The message of a failed dependency helps operations; an input error's may quote the file.
        detail: failure.kind === 'unavailable' && e instanceof Error ? e.message : undefined,
      });
      // Rows parsed before the input failed or the load was stopped are whole rows: record them
      // (unless the log or the database is what failed).
      if (e instanceof CsvHeaderError || e instanceof InputStreamError || e instanceof LoadAbortedError) {
        try {
          await flushNext();
          await inflight;
        } catch (e2) {
          failure = describeFailure(e2);
        }
      } else {
        await inflight?.catch(() => undefined);
      }
    }
    const status = failure ? 'failed' : 'completed';
    const finishedAt = new Date();
    const report = toReport(meta, status, counts, finishedAt, failure?.message);
    try {
      await this.store.finish(meta.loadId, status, counts, finishedAt, failure?.message ?? null);
    } catch (e) {
      this.deps.logger?.warn({ msg: 'recording the end of a load failed', loadId: meta.loadId, err: (e as Error).message });
    }
    await this.progress.publish(report);
    this.deps.onProgress?.(report);
    const { loadId, rows, accepted, duplicates, quarantined, durationMs } = report;
    const rowsPerSecond = durationMs > 0 ? Math.round((rows * 1000) / durationMs) : rows;
    this.deps.logger?.log({ msg: `load ${status}`, loadId, rows, accepted, duplicates, quarantined, durationMs, rowsPerSecond, failure: failure?.kind });
    return failure ? { report, failure } : { report };
  }

  /**
   * Appends a batch. The producer checks every event against its contract (parseEvent) before it
   * sends any; if it refuses the batch, the refused events are singled out and quarantined with the
   * contract's violations, and the rest appended.
   */
  private async append(batch: ValidRow[], appended: ValidRow[], refused: QuarantinedRow[]): Promise<void> {
    try {
      await this.deps.appender.append(batch.map((r) => r.event));
      appended.push(...batch);
    } catch (e) {
      if (!(e instanceof ContractViolationError)) throw e;
      const split = splitByContract(batch);
      await this.deps.appender.append(split.valid.map((r) => r.event));
      appended.push(...split.valid);
      refused.push(...split.refused);
    }
  }

  private async flush(meta: LoadMeta, chunk: Chunk, counts: LoadCounts): Promise<void> {
    if (chunk.valid.length === 0 && chunk.bad.length === 0) return;
    const firstById = new Map<string, ValidRow>();
    for (const row of chunk.valid) if (!firstById.has(row.event.eventId)) firstById.set(row.event.eventId, row);
    const known = await this.store.alreadyIngested([...firstById.keys()]);
    const fresh = [...firstById.values()].filter((r) => !known.has(r.event.eventId));
    const appended: ValidRow[] = [];
    const refused: QuarantinedRow[] = [];
    for (let i = 0; i < fresh.length; i += this.appendBatch) {
      await this.append(fresh.slice(i, i + this.appendBatch), appended, refused);
    }
    // Acknowledged by the log: only now are the IDs recorded, with the counts they bring.
    const bad = refused.length ? [...chunk.bad, ...refused] : chunk.bad;
    const next: LoadCounts = {
      rows: counts.rows + chunk.valid.length + chunk.bad.length,
      accepted: counts.accepted + appended.length,
      duplicates: counts.duplicates + chunk.valid.length - fresh.length,
      quarantined: counts.quarantined + bad.length,
      quarantinedByReason: { ...counts.quarantinedByReason },
    };
    for (const row of bad) {
      const reason = row.violations[0]?.rule ?? 'unknown';
      next.quarantinedByReason[reason] = (next.quarantinedByReason[reason] ?? 0) + 1;
    }
    await this.store.commitChunk(meta.loadId, appended.map((r) => ({ eventId: r.event.eventId, line: r.line })), bad, next);
    Object.assign(counts, next);
    const report = toReport(meta, 'running', counts, null);
    await this.progress.publish(report);
    this.deps.onProgress?.(report);
  }
}

function addRow(chunk: Chunk, row: Row): void {
  if (row.ok) chunk.valid.push({ line: row.line, raw: row.raw, event: row.event });
  else chunk.bad.push({ line: row.line, raw: row.raw, violations: row.violations });
}

/** The source, ending with LoadAbortedError as soon as the signal fires (even while a read waits). */
async function* abortable(source: AsyncIterable<Buffer | string>, signal: AbortSignal): AsyncGenerator<Buffer | string> {
  const iterator = source[Symbol.asyncIterator]();
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(new LoadAbortedError());
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    for (;;) {
      const next = await Promise.race([iterator.next(), aborted]);
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
    // A stream's iterator finishes a return() only after its pending read: never wait for a stalled client.
    const closing = iterator.return?.();
    if (signal.aborted) closing?.catch(() => undefined);
    else await closing;
  }
}

/** The event contracts, checked one by one: only when the producer refused a batch. */
export function splitByContract(rows: ValidRow[]): { valid: ValidRow[]; refused: QuarantinedRow[] } {
  const valid: ValidRow[] = [];
  const refused: QuarantinedRow[] = [];
  for (const row of rows) {
    try {
      parseEvent(row.event);
      valid.push(row);
    } catch (e) {
      if (!(e instanceof ContractViolationError)) throw e;
      refused.push({ line: row.line, raw: row.raw, violations: e.violations });
    }
  }
  return { valid, refused };
}

function describeFailure(e: unknown): NonNullable<LoadOutcome['failure']> {
  if (e instanceof CsvHeaderError) return { kind: 'input', message: e.message };
  if (e instanceof LoadAbortedError || (e instanceof InputStreamError && e.cause instanceof LoadAbortedError)) {
    return { kind: 'unavailable', message: 'the service stopped before the end of the file; re-send the file (rows already accepted count as duplicates)' };
  }
  if (e instanceof InputStreamError) return { kind: 'input', message: 'the upload was interrupted before the end of the file; re-send the file (rows already accepted count as duplicates)' };
  return { kind: 'unavailable', message: 'appending to the log or recording the load failed; re-send the file (rows already accepted count as duplicates)' };
}
