import { Injectable, Logger } from '@nestjs/common';
import { DomainError } from '@qmcb/platform';
import type { Principal } from '@qmcb/auth';
import type { RegistrationRecord } from '@qmcb/domain';
import { DataSource } from 'typeorm';
import { auditReads } from '../flags/audit-reads';
import { nonLocalInsuredLines } from './non-local-insured';

/** Rows fetched from the cursor at a time: what is in memory at once. */
export const EXPORT_FETCH_SIZE = 500;
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

  constructor(private readonly dataSource: DataSource) {}

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
      // Narrowed in SQL (active entry in the region; household absent, elsewhere or moved out),
      // checked again in nonLocalInsuredLines, which builds the lines.
      await runner.query(
        `DECLARE non_local_insured NO SCROLL CURSOR FOR
           SELECT record FROM person_record
            WHERE jsonb_path_exists(record->'insurance', '$.* ? (@.region == $r && @.status == "active")', jsonb_build_object('r', $1::text))
              AND (record->>'hukouDivision' IS NULL OR left(record->>'hukouDivision', 6) <> $1 OR record->>'hukouStatus' = 'moved-out')
            ORDER BY person_key`,
        [region],
      );
      for (;;) {
        const rows: { record: RegistrationRecord }[] = await runner.query(`FETCH ${EXPORT_FETCH_SIZE} FROM non_local_insured`);
        if (rows.length === 0) break;
        const people = rows.map((r) => ({ personKey: r.record.personKey, lines: nonLocalInsuredLines(r.record, region) })).filter((p) => p.lines.length > 0);
        if (sink.closed()) {
          result.aborted = true;
          break;
        }
        // Before the lines are sent; systems (the higher registry) are audited too: this is a disclosure.
        await auditReads(this.dataSource, principal, people.map((p) => p.personKey), 'comparison:exchange-export');
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
