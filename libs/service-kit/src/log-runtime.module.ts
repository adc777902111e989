import { Inject, Injectable, Module } from '@nestjs/common';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown, Provider, Type } from '@nestjs/common';
import { AuthModule } from '@qmcb/auth';
import {
  EventLogProducer,
  OutboxRelay,
  ProjectionRunner,
  ensureTopics,
  eventLogMigrations,
  openDataSource,
  pingKafka,
} from '@qmcb/event-log';
import type { KafkaSettings, MigrationList, ProjectionHandler } from '@qmcb/event-log';
import {
  AuditModule,
  AuditTables1700000000100,
  HealthModule,
  MetricsModule,
  PostgresHealthCheck,
  REDIS,
  RedisHealthCheck,
  RedisModule,
  healthCheck,
} from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { PersonReader } from './person-reader';
import { PersonRecordTables1700000000200 } from './person-record.migration';
import type { ServiceConfig } from './service.config';

export const PROJECTION_HANDLER = Symbol('PROJECTION_HANDLER');
export const RUNTIME_OPTIONS = Symbol('RUNTIME_OPTIONS');

export interface LogRuntimeOptions {
  /** Service name: projection name, and the consumer group unless CONSUMER_GROUP is set. */
  name: string;
  config: ServiceConfig;
  kafka: KafkaSettings;
  /** The service's own migrations, after the shared ones. */
  migrations: MigrationList;
  handler: Type<ProjectionHandler>;
}

/** Every migration a service runs, in order: the event-log's tables, audit, the record fold, its own. */
export function allMigrations(own: MigrationList): MigrationList {
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
    const { config, kafka, name } = this.options;
    if (config.RELAY_OUTBOX) {
      this.relay = new OutboxRelay({ dataSource: this.dataSource, producer: this.producer, schema: config.DB_SCHEMA });
      this.relay.start();
    }
    if (config.CONSUME) {
      this.runner = new ProjectionRunner({
        name,
        dataSource: this.dataSource,
        schema: config.DB_SCHEMA,
        handler: this.handler,
        settings: kafka,
        groupId: config.CONSUMER_GROUP || name,
        consumer: {
          partitionsConsumedConcurrently: config.CONSUMER_CONCURRENCY,
          applyBatchSize: config.CONSUMER_APPLY_BATCH_SIZE,
          maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
        },
      });
      await this.runner.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.runner?.stop();
    await this.relay?.stop();
    await this.producer.disconnect();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Everything a service needs around its own logic: its database (migrated), the log (producer,
 * projection runner, outbox relay), Redis, authentication, metrics, health and read audit.
 */
@Module({})
export class ServiceKitModule {
  static forService(options: LogRuntimeOptions): DynamicModule {
    const { config, kafka } = options;
    const providers: Provider[] = [
      { provide: RUNTIME_OPTIONS, useValue: options },
      {
        provide: DataSource,
        useFactory: async () => {
          if (config.KAFKA_ENSURE_TOPICS) await ensureTopics(kafka);
          return openDataSource({
            url: config.DATABASE_URL,
            schema: config.DB_SCHEMA,
            migrations: allMigrations(options.migrations),
            runMigrations: config.MIGRATIONS_RUN,
          });
        },
      },
      { provide: EventLogProducer, useFactory: () => EventLogProducer.connect(kafka) },
      options.handler,
      { provide: PROJECTION_HANDLER, useExisting: options.handler },
      LogRuntime,
      PersonReader,
    ];
    return {
      module: ServiceKitModule,
      global: true,
      imports: [
        RedisModule.forRoot({ url: config.REDIS_URL, connectionName: options.name }),
        AuthModule.forRoot({ jwtSecret: config.AUTH_JWT_SECRET, apiKeySecret: config.API_KEY_SECRET, revocationRedis: REDIS }),
        MetricsModule,
        AuditModule,
        HealthModule.forRoot({
          checks: [PostgresHealthCheck, RedisHealthCheck, healthCheck('kafka', () => pingKafka(kafka))],
        }),
      ],
      providers,
      exports: [DataSource, EventLogProducer, PROJECTION_HANDLER, RUNTIME_OPTIONS, LogRuntime, PersonReader],
    };
  }
}
