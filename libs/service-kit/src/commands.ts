import { rebuildProjection, replayDeadLetters } from '@qmcb/event-log';
import { JsonLogger } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { LogTransport } from './log/log-transport';
import { createCommandApp } from './run';
import type { ServiceModuleFactory } from './run';
import { allMigrations } from './service-kit.module';
import { SERVICE_OPTIONS } from './service-options';
import type { ServiceOptions } from './service-options';
import { loadServiceConfig } from './service.config';

const USAGE = `usage: <service> cli <command>
  rebuild                      rebuild the projection from offset zero beside the live one, then swap it in
  replay-dead-letters [id...]  re-apply dead letters (all pending ones, or the given ids) through the handler`;

/**
 * Operator commands of a service, run against its own database and the log while the service keeps
 * serving: this process neither consumes nor relays. The projection handler is the service's own
 * @EventPattern(REGISTRATION_LOG) handler, reached through the log transport.
 */
export async function runServiceCommand(name: string, register: ServiceModuleFactory, argv: string[] = process.argv.slice(2)): Promise<number> {
  const [command, ...args] = argv;
  if (command !== 'rebuild' && command !== 'replay-dead-letters') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { config, kafka } = loadServiceConfig(name, { ...process.env, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  const app = await createCommandApp(register(config, kafka), new JsonLogger({ service: name, level: 'warn' }));
  try {
    const dataSource = app.get(DataSource);
    const handler = app.get(LogTransport);
    const options = app.get<ServiceOptions>(SERVICE_OPTIONS);
    if (command === 'rebuild') {
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
      const replayed = await replayDeadLetters({ dataSource, handler, ids: args.length ? args : undefined });
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
      process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
