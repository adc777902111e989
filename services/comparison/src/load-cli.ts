import { NestFactory } from '@nestjs/core';
import { DEPARTMENTS } from '@qmcb/contracts';
import type { Department } from '@qmcb/contracts';
import { EventLogProducer } from '@qmcb/event-log';
import { JsonLogger, REDIS } from '@qmcb/platform';
import type { RedisClient } from '@qmcb/platform';
import { loadServiceConfig, PersonalDataSealer } from '@qmcb/service-kit';
import { accessSync, constants, createReadStream } from 'fs';
import { userInfo } from 'os';
import { basename, extname } from 'path';
import { DataSource } from 'typeorm';
import { ComparisonModule } from './comparison.module';
import { BulkLoader } from './ingestion/bulk/bulk-loader';
import { RedisLoadProgress } from './ingestion/bulk/load-progress';
import type { LoadReport } from './ingestion/bulk/load-store';
import { LOAD_FORMATS } from './ingestion/bulk/rows';
import type { LoadFormat } from './ingestion/bulk/rows';

const USAGE = `usage: npm run load -- --department <department> --file <path|-> [--format csv|ndjson] [--file-name <name>] [--every <rows>]
  Streams a department file (CSV or NDJSON, docs/api/bulk-load.md) through the same pipeline as POST /loads,
  straight to the log and this service's database. Progress goes to stderr every <rows> rows (default 100000),
  the final report to stdout as JSON. Exit code 0 when the load completed, 1 when it failed, 2 on bad arguments.
  departments: ${DEPARTMENTS.join(', ')}`;

interface CliArgs {
  department: Department;
  file: string;
  format: LoadFormat;
  fileName: string | null;
  every: number;
}

class UsageError extends Error {}

export function parseArgs(argv: string[]): CliArgs {
  const values: Record<string, string> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    if (eq > 0) values[arg.slice(2, eq)] = arg.slice(eq + 1);
    else {
      const value = argv[i + 1];
      if (value === undefined || (value.startsWith('--') && value !== '-')) throw new UsageError(`${arg} needs a value`);
      values[arg.slice(2)] = value;
      i += 1;
    }
  }
  for (const name of Object.keys(values)) {
    if (!['department', 'file', 'format', 'file-name', 'every'].includes(name)) throw new UsageError(`unknown option --${name}`);
  }
  const department = values['department'];
  if (!department || !(DEPARTMENTS as readonly string[]).includes(department)) throw new UsageError('--department must be one of the departments below');
  const file = values['file'];
  if (!file) throw new UsageError('--file is required');
  const extension = extname(file).toLowerCase();
  const format = values['format'] ?? (extension === '.csv' ? 'csv' : extension === '.ndjson' || extension === '.jsonl' ? 'ndjson' : undefined);
  if (!format || !(LOAD_FORMATS as readonly string[]).includes(format)) throw new UsageError('--format must be csv or ndjson (not guessed from this file name)');
  const every = Number(values['every'] ?? 100_000);
  if (!Number.isInteger(every) || every < 1) throw new UsageError('--every must be a positive whole number');
  return {
    department: department as Department,
    file,
    format: format as LoadFormat,
    fileName: values['file-name'] ?? (file === '-' ? null : basename(file)),
    every,
  };
}

function progressLine(report: LoadReport): string {
  const perSecond = report.durationMs > 0 ? Math.round((report.rows * 1000) / report.durationMs) : 0;
  return `load ${report.loadId}: ${report.rows} rows (${report.accepted} accepted, ${report.duplicates} duplicates, ${report.quarantined} quarantined), ${perSecond} rows/s\n`;
}

async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${e.message}\n${USAGE}\n`);
    return 2;
  }
  if (args.file !== '-') {
    try {
      accessSync(args.file, constants.R_OK);
    } catch {
      process.stderr.write(`cannot read ${args.file}\n`);
      return 2;
    }
  }
  // stdout carries only the final report (for `| jq`): whatever else writes there (the libraries'
  // own log lines) goes to stderr with the progress.
  const writeReport = process.stdout.write.bind(process.stdout);
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  // This process neither consumes the log nor relays the outbox: it only loads.
  const { config, kafka } = loadServiceConfig('comparison', { ...process.env, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  const app = await NestFactory.createApplicationContext(ComparisonModule.register(config, kafka), {
    logger: new JsonLogger({ service: 'comparison', level: 'warn' }),
  });
  try {
    let printedAt = 0;
    const loader = new BulkLoader({
      dataSource: app.get(DataSource),
      sealer: app.get(PersonalDataSealer),
      appender: app.get(EventLogProducer),
      progress: new RedisLoadProgress(app.get<RedisClient>(REDIS)),
      onProgress: (report) => {
        if (report.status === 'running' ? report.rows - printedAt < args.every : report.rows === printedAt) return;
        printedAt = report.rows;
        process.stderr.write(progressLine(report));
      },
    });
    const source = args.file === '-' ? process.stdin : createReadStream(args.file, { highWaterMark: 256 * 1024 });
    const { report, failure } = await loader.load(
      { department: args.department, format: args.format, fileName: args.fileName, actor: `cli:${userInfo().username}`.slice(0, 128) },
      source,
    );
    writeReport(`${JSON.stringify(report, null, 2)}\n`);
    return failure ? 1 : 0;
  } finally {
    await app.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
