import { dropOldSchemas, holdSwapLockShared, listOldSchemas, rebuildProjection, replayDeadLetters } from '@qmcb/event-log';
import { AuditStore, ConfigError, JsonLogger } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { LogTransport } from './log/log-transport';
import { keyringCommand } from './keyring-command';
import { PersonRecordRepository } from './records/person-record.repository';
import { PersonKeyColumn } from './records/person-key-column';
import { PLAIN_ROW_SEALERS } from './records/plain-rows';
import { countPlainKeys, KEY_COLUMNS, rekeyStep } from './records/rekey';
import type { KeyColumn } from './records/rekey';
import type { PlainRowSealer } from './records/plain-rows';
import { createCommandApp } from './run';
import type { ServiceModuleFactory } from './run';
import { allMigrations } from './service-kit.module';
import { SERVICE_OPTIONS } from './service-options';
import type { ServiceOptions } from './service-options';
import { loadServiceConfig } from './service.config';

const USAGE = `usage: <service> cli <command>
  rebuild                      rebuild the projection from offset zero beside the live one, then swap it in
  old-schemas                  list the projections earlier rebuilds left behind (<schema>__old_<epoch>, and the
                               <schema>__rebuild of one that stopped before its swap, while none is running)
  old-schemas drop [--keep N]  drop them, all swapped-out ones but the newest N (default 0): they keep the personal data of
                               the projection as it was, erased persons included (with the owner's DATABASE_URL)
  seal-records                 re-key the person key columns written before ADR 0011's stage 5 (citizen IDs become
                               person IDs; run it before the upgraded consumers start), then seal the person
                               records written before stage 3 and the service's other personal rows written
                               before their stage 4, in place, 500 per transaction (a rebuild does all of it too)
  replay-dead-letters [id...]  re-apply dead letters (all pending ones, or the given ids) through the handler
  migrate                      create or upgrade the audit schema and the projection schema, then exit
                               (with the owner's DATABASE_URL, where the service's own role may not)
  audit verify                 recompute the audit trail's hash chain; exit 1 and name the entry where it breaks
  audit purge                  remove audit entries older than AUDIT_RETENTION_DAYS (at least 183), leaving
                               a purge entry that anchors the chain (with the owner's DATABASE_URL)
  keyring status|rotate|erase  the log's keyring (ADR 0009; \`keyring\` alone for its usage)`;

async function withDatabase<T>(url: string, application: string, fn: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = new DataSource({ type: 'postgres', url, synchronize: false, logging: false, extra: { application_name: `qmcb:${application}`, max: 2 } });
  await dataSource.initialize();
  try {
    return await fn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

function withAuditStore<T>(url: string, fn: (store: AuditStore) => Promise<T>): Promise<T> {
  return withDatabase(url, 'audit-cli', (dataSource) => fn(new AuditStore(dataSource)));
}

async function oldSchemasCommand(name: string, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const keepAt = rest.indexOf('--keep');
  const keepText = keepAt >= 0 ? rest[keepAt + 1] : '0';
  const keep = /^\d{1,4}$/.test(keepText ?? '') ? Number(keepText) : NaN;
  if ((sub !== undefined && sub !== 'drop') || Number.isNaN(keep) || rest.some((a, i) => a !== '--keep' && i !== keepAt + 1)) {
    process.stderr.write(`old-schemas: usage: old-schemas [drop [--keep N]] (N a whole number)\n${USAGE}\n`);
    return 2;
  }
  const { config } = loadServiceConfig(name, { ...process.env, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  const schemas = await withDatabase(config.DATABASE_URL, 'old-schemas-cli', (ds) => (sub === 'drop' ? dropOldSchemas(ds, config.DB_SCHEMA, keep) : listOldSchemas(ds, config.DB_SCHEMA)));
  for (const s of schemas) process.stdout.write(`old-schemas ${name}: ${s.name} (${s.swappedOutAt ? `swapped out ${s.swappedOutAt}` : 'a rebuild that stopped before its swap'})${sub === 'drop' ? ' dropped' : ''}\n`);
  process.stdout.write(`old-schemas ${name}: ${schemas.length} ${sub === 'drop' ? `dropped${keep ? `, the newest ${keep} kept` : ''}` : `left behind by rebuilds of ${config.DB_SCHEMA}`}\n`);
  return 0;
}

async function auditCommand(name: string, sub: string | undefined): Promise<number> {
  const { config } = loadServiceConfig(name, { ...process.env, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  if (sub === 'verify') {
    const result = await withAuditStore(config.DATABASE_URL, (store) => store.verify());
    if (result.ok) {
      process.stdout.write(`audit ${name}: intact, ${result.entries} entries (seq ${result.first ?? '-'}..${result.last ?? '-'}), head ${result.head ?? '-'}\n`);
      return 0;
    }
    process.stdout.write(`audit ${name}: BROKEN at entry ${result.problem?.seq}: ${result.problem?.reason} (${result.entries} entries verified before it)\n`);
    return 1;
  }
  if (sub === 'purge') {
    const { removed, through } = await withAuditStore(config.DATABASE_URL, (store) => store.purge(config.AUDIT_RETENTION_DAYS));
    process.stdout.write(`audit ${name}: ${removed} entries older than ${config.AUDIT_RETENTION_DAYS} days removed${through ? ` (through seq ${through})` : ''}\n`);
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

/** The service's other tables with plain rows to seal (PLAIN_ROW_SEALERS), if it has any. */
function optionalPlainRowSealers(app: { get<T>(token: symbol, options: { strict: boolean }): T }): PlainRowSealer[] {
  try {
    return app.get<PlainRowSealer[]>(PLAIN_ROW_SEALERS, { strict: false });
  } catch {
    return [];
  }
}

/** The service's key columns besides person_record's (KEY_COLUMNS), if it has any. */
function optionalKeyColumns(app: { get<T>(token: symbol, options: { strict: boolean }): T }): KeyColumn[] {
  try {
    return app.get<KeyColumn[]>(KEY_COLUMNS, { strict: false });
  } catch {
    return [];
  }
}

/** Re-keys a column in steps of 500 distinct values, each its own transaction under the swap lock. */
async function rekeyInSteps(name: string, dataSource: DataSource, keys: PersonKeyColumn, col: KeyColumn): Promise<void> {
  const label = `${col.table}.${col.column}`;
  const total = await countPlainKeys(dataSource.manager, col);
  process.stdout.write(`seal-records ${name}: ${total} rows of ${label} hold a plain person key\n`);
  let after: string | null = null;
  let changed = 0;
  for (;;) {
    const step: { last: string | null; changed: number } = await dataSource.transaction(async (manager) => {
      await holdSwapLockShared(manager);
      return rekeyStep(manager, keys, col, after, 500);
    });
    if (step.last === null) break;
    after = step.last;
    changed += step.changed;
    if (step.changed > 0) process.stdout.write(`seal-records ${name}: ${label} ${changed} rows re-keyed\n`);
  }
  process.stdout.write(`seal-records ${name}: ${label} done, ${changed} rows re-keyed\n`);
}

/** Seals a table's plain rows in steps of 500, each its own transaction under the swap lock, reporting as it goes. */
async function sealInSteps(name: string, schema: string, dataSource: DataSource, table: PlainRowSealer): Promise<void> {
  const total = await table.countPlain(dataSource.manager);
  process.stdout.write(`seal-records ${name}: ${total} rows of ${schema}.${table.table} not sealed yet\n`);
  let after: string | null = null;
  let sealed = 0;
  for (;;) {
    const step: { last: string | null; sealed: number } = await dataSource.transaction(async (manager) => {
      // As every writer of the projection: never half-written into a schema a rebuild swaps away.
      await holdSwapLockShared(manager);
      return table.sealPlainRows(manager, after, 500);
    });
    if (step.last === null) break;
    after = step.last;
    sealed += step.sealed;
    process.stdout.write(`seal-records ${name}: ${table.table} ${sealed}/${total} sealed\n`);
  }
  const left = await table.countPlain(dataSource.manager);
  process.stdout.write(`seal-records ${name}: ${table.table} done, ${sealed} sealed${left ? `; ${left} left as they are (people erased meanwhile, whose rows the erasure deletes)` : ''}\n`);
}

/**
 * Operator commands of a service, run against its own database and the log while the service keeps
 * serving: this process neither consumes nor relays. The projection handler is the service's own
 * @EventPattern(REGISTRATION_LOG) handler, reached through the log transport.
 */
export async function runServiceCommand(name: string, register: ServiceModuleFactory, argv: string[] = process.argv.slice(2)): Promise<number> {
  const [command, ...args] = argv;
  if (command === 'audit') return auditCommand(name, args[0]);
  if (command === 'keyring') return keyringCommand(args);
  if (command === 'old-schemas') return oldSchemasCommand(name, args);
  if (command !== 'rebuild' && command !== 'replay-dead-letters' && command !== 'migrate' && command !== 'seal-records') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const overrides = command === 'migrate' ? { MIGRATIONS_RUN: 'true' } : {};
  const { config, kafka } = loadServiceConfig(name, { ...process.env, ...overrides, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  const app = await createCommandApp(register(config, kafka), new JsonLogger({ service: name, level: 'warn' }));
  try {
    const dataSource = app.get(DataSource);
    const handler = app.get(LogTransport);
    const options = app.get<ServiceOptions>(SERVICE_OPTIONS);
    if (command === 'migrate') {
      process.stdout.write(`migrate ${name}: the audit schema and ${config.DB_SCHEMA} are up to date\n`);
    } else if (command === 'seal-records') {
      const records = app.get(PersonRecordRepository);
      // Keys first: sealing writes rows back under the stored key, which must be the row's own.
      const keyColumns: KeyColumn[] = [{ table: 'person_record', column: 'person_key' }, ...optionalKeyColumns(app)];
      for (const col of keyColumns) await rekeyInSteps(name, dataSource, app.get(PersonKeyColumn), col);
      const tables: PlainRowSealer[] = [
        {
          table: 'person_record',
          countPlain: async (m) => ((await m.query(`SELECT count(*)::int AS n FROM person_record WHERE sealed IS NULL`)) as [{ n: number }])[0].n,
          sealPlainRows: (m, after, limit) => records.sealPlainRows(m, after, limit),
        },
        ...optionalPlainRowSealers(app),
      ];
      for (const table of tables) await sealInSteps(name, config.DB_SCHEMA, dataSource, table);
    } else if (command === 'rebuild') {
      let lastPrinted = 0;
      const result = await rebuildProjection({
        dataSource,
        schema: config.DB_SCHEMA,
        migrations: allMigrations(options.migrations),
        handler,
        settings: kafka,
        name,
        onProgress: ({ applied, total }) => {
          if (applied - lastPrinted >= 1000 || applied === total) {
            lastPrinted = applied;
            process.stdout.write(`rebuild ${name}: ${applied}/${total} events\n`);
          }
        },
      });
      process.stdout.write(`rebuild ${name}: done, ${result.applied} events applied; the previous projection is kept as schema ${result.oldSchema}\n`);
    } else {
      const replayed = await replayDeadLetters({ dataSource, handler, settings: kafka, ids: args.length ? args : undefined });
      process.stdout.write(`replay ${name}: ${replayed} dead letters re-applied\n`);
    }
    return 0;
  } finally {
    await app.close();
  }
}

/** A service's cli.ts: runs the command and exits with its code. */
export function command(name: string, register: ServiceModuleFactory): void {
  runServiceCommand(name, register).then(
    (code) => process.exit(code),
    (e: unknown) => {
      // A configuration problem is the operator's to fix: its list of variables, no stack trace.
      const hint = e instanceof ConfigError ? '\n(the local stack\'s settings: `source deploy/local/env.sh` first; docs/conventions.md lists them all)' : '';
      process.stderr.write(`${e instanceof ConfigError ? e.message : e instanceof Error ? e.stack ?? e.message : String(e)}${hint}\n`);
      process.exit(1);
    },
  );
}
