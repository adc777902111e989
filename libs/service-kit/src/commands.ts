import { NestFactory } from '@nestjs/core';
import type { DynamicModule } from '@nestjs/common';
import { rebuildProjection, replayDeadLetters } from '@qmcb/event-log';
import type { KafkaSettings, ProjectionHandler } from '@qmcb/event-log';
import { JsonLogger } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { PROJECTION_HANDLER, RUNTIME_OPTIONS, allMigrations } from './log-runtime.module';
import type { LogRuntimeOptions } from './log-runtime.module';
import { loadServiceConfig } from './service.config';
import type { ServiceConfig } from './service.config';

const USAGE = `usage: <service> cli <command>
  rebuild                      rebuild the projection from offset zero beside the live one, then swap it in
  replay-dead-letters [id...]  re-apply dead letters (all pending ones, or the given ids) through the handler`;

/**
 * Operator commands of a service, run against its own database and the log while the service keeps
 * serving: this process neither consumes nor relays.
 */
export async function runServiceCommand(
  name: string,
  register: (config: ServiceConfig, kafka: KafkaSettings) => DynamicModule,
  argv: string[] = process.argv.slice(2),
): Promise<number> {
  const [command, ...args] = argv;
  if (command !== 'rebuild' && command !== 'replay-dead-letters') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const { config, kafka } = loadServiceConfig(name, { ...process.env, CONSUME: 'false', RELAY_OUTBOX: 'false' });
  const app = await NestFactory.createApplicationContext(register(config, kafka), { logger: new JsonLogger({ service: name, level: 'warn' }) });
  try {
    const dataSource = app.get(DataSource);
    const handler = app.get<ProjectionHandler>(PROJECTION_HANDLER);
    const options = app.get<LogRuntimeOptions>(RUNTIME_OPTIONS);
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
