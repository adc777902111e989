import { Injectable, Logger } from '@nestjs/common';
import { AuditService, DomainError } from '@qmcb/platform';
import type { Principal } from '@qmcb/auth';
import { DataSource } from 'typeorm';
import { nonLocalInsuredLines } from './non-local-insured';
import { NonLocalInsuredRepository } from './non-local-insured.repository';

export { EXPORT_FETCH_SIZE } from './non-local-insured.repository';
/** Exports running at once in one replica: each holds a database connection for its whole run. */
export const MAX_CONCURRENT_EXPORTS = 2;

/** Where the lines go: `write` resolves when the sink can take more; `closed` when the reader went away. */
export interface LineSink {
  write(chunk: string): Promise<void>;
  closed(): boolean;
}

export interface ExportResult {
  people: number;
  lines: number;
  /** The reader went away before the end. */
  aborted: boolean;
}

/**
 * Cross-region exchange (procedure §10), outbound: people insured here (an active insurance entry
 * with region = the county) whose household registration is not here, as NDJSON insurance records
 * for the higher registry. Read through a server-side cursor in one REPEATABLE READ snapshot, so the
 * export is consistent and never all in memory; each exported person is an audited read.
 */
@Injectable()
export class ExchangeService {
  private readonly logger = new Logger('ExchangeService');
  private running = 0;

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

  async exportNonLocalInsured(principal: Principal, region: string, sink: LineSink): Promise<ExportResult> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    const result: ExportResult = { people: 0, lines: 0, aborted: false };
    try {
      await runner.startTransaction('REPEATABLE READ');
      await runner.query(`SET TRANSACTION READ ONLY`);
      await this.nonLocal.open(runner, region);
      for (;;) {
        const records = await this.nonLocal.next(runner);
        if (records.length === 0) break;
        const people = records.map((record) => ({ personKey: record.personKey, lines: nonLocalInsuredLines(record, region) })).filter((p) => p.lines.length > 0);
        if (sink.closed()) {
          result.aborted = true;
          break;
        }
        // Before the lines are sent; systems (the higher registry) are audited too: this is a disclosure.
        await this.audit.recordReads({ principal, service: 'comparison', purpose: 'comparison:exchange-export' }, people.map((p) => p.personKey));
        const text = people.flatMap((p) => p.lines.map((line) => `${JSON.stringify(line)}\n`)).join('');
        if (text) await sink.write(text);
        result.people += people.length;
        result.lines += people.reduce((n, p) => n + p.lines.length, 0);
      }
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
