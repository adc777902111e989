import { Injectable, Logger } from '@nestjs/common';
import type { Principal } from '@qmcb/auth';
import { AuditService, DomainError, exportStallMs, maskPersonalData } from '@qmcb/platform';
import type { LineSink } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { nonLocalInsuredLines } from './non-local-insured';
import { NonLocalInsuredRepository } from './non-local-insured.repository';

export { EXPORT_FETCH_SIZE } from './non-local-insured.repository';
/** Exports running at once in one replica: each holds a database connection for its whole run. */
export const MAX_CONCURRENT_EXPORTS = 2;
/** The whole export (the route's deadline): past it the stream is cut. */
export const EXPORT_TIMEOUT_MS = 30 * 60_000;
/** A reader that takes nothing for EXPORT_STALL_TIMEOUT_MS is gone: the export stops and frees its slot and transaction. */
export { EXPORT_STALL_ENV, exportStallMs } from '@qmcb/platform';
export type { LineSink } from '@qmcb/platform';

export interface ExportResult {
  people: number;
  lines: number;
  /** The reader went away (or stopped reading) before the end. */
  aborted: boolean;
}

/**
 * Cross-region exchange (procedure §10), outbound: people insured here (an active insurance entry
 * with region = the county) whose household registration is not here, as NDJSON insurance records
 * for the higher registry. A person caller gets only the people filed in their division (whom
 * `GET /persons` would show them); the higher registry all of them. Read through a server-side
 * cursor in one REPEATABLE READ snapshot, bounded in time (statement and idle-in-transaction
 * timeouts), so the export is consistent, never all in memory, and never holds a transaction open
 * for a reader who stopped reading. Each batch is audited before it is sent; lines are masked unless
 * the caller's role and purpose need the full values.
 */
@Injectable()
export class ExchangeService {
  private readonly logger = new Logger('ExchangeService');
  private running = 0;
  readonly stallMs = exportStallMs();

  constructor(
    private readonly dataSource: DataSource,
    private readonly nonLocal: NonLocalInsuredRepository,
    private readonly audit: AuditService,
  ) {}

  /** Claims an export slot, or refuses with 503 before anything is sent. Call `release` when done. */
  acquire(): () => void {
    if (this.running >= MAX_CONCURRENT_EXPORTS) throw new DomainError('UNAVAILABLE', `${MAX_CONCURRENT_EXPORTS} exports are already running; retry later`);
    this.running += 1;
    let released = false;
    return () => {
      if (!released) this.running -= 1;
      released = true;
    };
  }

  /** Exports running in this replica now (tests and operators). */
  get runningExports(): number {
    return this.running;
  }

  async exportNonLocalInsured(principal: Principal, region: string, sink: LineSink): Promise<ExportResult> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const result: ExportResult = { people: 0, lines: 0, aborted: false };
    const unmasked = this.audit.unmasked();
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query(`SET TRANSACTION READ ONLY`);
      // If this process ever stops fetching (a bug, a hang), PostgreSQL ends the transaction itself.
      await runner.query(`SELECT set_config('statement_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $2, true)`, [
        `${this.stallMs * 2}ms`,
        `${this.stallMs * 2}ms`,
      ]);
      await this.nonLocal.open(runner, region, principal.kind === 'person' ? principal.division : null);
      for (;;) {
        const records = await this.nonLocal.next(runner);
        if (records.length === 0) break;
        const people = records.map((record) => ({ personKey: record.personKey, lines: nonLocalInsuredLines(record, region) })).filter((p) => p.lines.length > 0);
        if (sink.closed()) {
          result.aborted = true;
          break;
        }
        // Before the lines are sent; systems (the higher registry) are audited too: this is a disclosure.
        await this.audit.disclose(people.map((p) => p.personKey));
        const text = people.flatMap((p) => p.lines.map((line) => `${JSON.stringify(unmasked ? line : maskPersonalData(line))}\n`)).join('');
        if (text) await sink.write(text);
        result.people += people.length;
        result.lines += people.reduce((n, p) => n + p.lines.length, 0);
      }
      if (sink.closed()) result.aborted = true;
      await runner.commitTransaction();
    } catch (e) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw e;
    } finally {
      await runner.release();
    }
    this.logger.log({ msg: 'non-local insured exported', region, people: result.people, lines: result.lines, aborted: result.aborted });
    return result;
  }
}
