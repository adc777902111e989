import { Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import {
  EventLogProducer,
  OutboxRelay,
  ProjectionRunner,
  eventLogMigrations,
  openDataSource,
  pingKafka,
} from '@qmcb/event-log';
import type { KafkaSettings, ProjectionHandler } from '@qmcb/event-log';
import { AuditTables1700000000100, HEALTH_CHECKS } from '@qmcb/platform';
import type { HealthCheck } from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { PersonRecordTables1700000000200 } from './person-record.migration';

export const PROJECTION_HANDLER = Symbol('PROJECTION_HANDLER');
export const RUNTIME_OPTIONS = Symbol('RUNTIME_OPTIONS');

export interface LogRuntimeOptions {
  /** Service name: projection name and consumer group. */
  name: string;
  databaseUrl: string;
  schema: string;
  kafka: KafkaSettings;
  /** The service's own migrations, after the shared ones. */
  migrations: Function[];
  handler: Type<ProjectionHandler>;
  /** Whether this process relays its outbox to the log. */
  relay: boolean;
  /** Whether to consume the log (off for one-shot commands). */
  consume: boolean;
}

export function allMigrations(own: Function[]): Function[] {
  return [...eventLogMigrations(), AuditTables1700000000100, PersonRecordTables1700000000200, ...own];
}

/** Starts the projection runner and the outbox relay with the application, stops them with it. */
@Injectable()
export class LogRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private runner?: ProjectionRunner;
  private relay?: OutboxRelay;

  constructor(
    @Inject(RUNTIME_OPTIONS) private readonly options: LogRuntimeOptions,
    private readonly dataSource: DataSource,
    private readonly producer: EventLogProducer,
    @Inject(PROJECTION_HANDLER) private readonly handler: ProjectionHandler,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.relay) {
      this.relay = new OutboxRelay({ dataSource: this.dataSource, producer: this.producer, schema: this.options.schema });
      this.relay.start();
    }
    if (this.options.consume) {
      this.runner = new ProjectionRunner({
        name: this.options.name,
        dataSource: this.dataSource,
        schema: this.options.schema,
        handler: this.handler,
        settings: this.options.kafka,
      });
      await this.runner.start();
    }
  }

  /** For tests and the demo: resolves when this service has applied everything on the log. */
  async waitUntilCaughtUp(timeoutMs = 60_000): Promise<void> {
    if (!this.runner) throw new Error(`${this.options.name} does not consume the log in this process`);
    await this.runner.waitUntilCaughtUp(timeoutMs);
  }

  async drainOutbox(): Promise<number> {
    return this.relay ? this.relay.runOnce() : 0;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
    await this.relay?.stop();
    await this.producer.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

@Module({})
export class LogRuntimeModule {
  static forService(options: LogRuntimeOptions): DynamicModule {
    const providers: Provider[] = [
      { provide: RUNTIME_OPTIONS, useValue: options },
      {
        provide: DataSource,
        useFactory: () =>
          openDataSource({ url: options.databaseUrl, schema: options.schema, migrations: allMigrations(options.migrations) }),
      },
      { provide: EventLogProducer, useFactory: () => EventLogProducer.connect(options.kafka) },
      options.handler,
      { provide: PROJECTION_HANDLER, useExisting: options.handler },
      LogRuntime,
      {
        provide: HEALTH_CHECKS,
        useFactory: (ds: DataSource): HealthCheck[] => [
          { name: 'postgres', check: async () => void (await ds.query('SELECT 1')) },
          { name: 'kafka', check: () => pingKafka(options.kafka) },
        ],
        inject: [DataSource],
      },
    ];
    return {
      module: LogRuntimeModule,
      global: true,
      providers,
      exports: [DataSource, EventLogProducer, PROJECTION_HANDLER, LogRuntime, RUNTIME_OPTIONS, HEALTH_CHECKS],
    };
  }
}
