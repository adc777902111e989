import { Inject, Injectable, Module } from '@nestjs/common';
import { createHash } from 'crypto';
import type { DynamicModule, OnApplicationBootstrap, OnApplicationShutdown, Provider } from '@nestjs/common';
import { AuthModule } from '@qmcb/auth';
import { closeSealers, EventLogProducer, OutboxRelay, ensureTopics, eventLogMigrations, openDataSource, pingKafka } from '@qmcb/event-log';
import type { MigrationList } from '@qmcb/event-log';
import {
  AuditModule,
  AuditReadRetired1700000000300,
  AuditStore,
  AuditTables1700000000100,
  HealthModule,
  MetricsModule,
  PersonIds,
  PersonIdsModule,
  PostgresHealthCheck,
  REDIS,
  RedisHealthCheck,
  RedisModule,
  RedisRateLimiter,
  SecurityModule,
  healthCheck,
  parseRateLimits,
} from '@qmcb/platform';
import { DataSource } from 'typeorm';
import { Decisions } from './log/decisions';
import { ErasedPersonTable1764720000000 } from './log/erasure';
import { LogTransport } from './log/log-transport';
import { PersonReader } from './records/person-reader';
import { PersonRecordSealed1764806400000, PersonRecordTables1700000000200 } from './records/person-record.migration';
import { PersonalDataSealer, RecordSealer } from './records/record-sealer';
import { sealerFor } from '@qmcb/event-log';
import { PersonKeyColumn } from './records/person-key-column';
import { PersonRecordRepository } from './records/person-record.repository';
import { RegionPolicyProvider } from './region-policies.provider';
import { SERVICE_OPTIONS } from './service-options';
import type { ServiceOptions } from './service-options';

/**
 * Every migration of a service's projection schema, in order: the event-log's tables, the record
 * fold, its own. (The audit trail has its own schema and DDL, AuditStore.migrate; the two audit
 * migrations here create and then retire the old `audit_read` table.)
 */
export function allMigrations(own: MigrationList): MigrationList {
  return [...eventLogMigrations(), AuditTables1700000000100, PersonRecordTables1700000000200, AuditReadRetired1700000000300, ...own, ErasedPersonTable1764720000000, PersonRecordSealed1764806400000];
}

function rateScope(name: string, config: ServiceOptions['config']): string {
  const where = config.DATABASE_URL.replace(/\/\/[^@/]*@/, '//');
  return `${name}:${createHash('sha256').update(`${where}#${config.DB_SCHEMA}`).digest('hex').slice(0, 12)}`;
}

/** Starts the outbox relay with the application and, on shutdown, stops it, the producer and the database. */
@Injectable()
export class LogRuntime implements OnApplicationBootstrap, OnApplicationShutdown {
  private relay?: OutboxRelay;

  constructor(
    @Inject(SERVICE_OPTIONS) private readonly options: ServiceOptions,
    private readonly dataSource: DataSource,
    private readonly producer: EventLogProducer,
    private readonly log: LogTransport,
  ) {}

  onApplicationBootstrap(): void {
    const { config } = this.options;
    if (config.RELAY_OUTBOX) {
      this.relay = new OutboxRelay({
        dataSource: this.dataSource,
        producer: this.producer,
        schema: config.DB_SCHEMA,
        listen: config.OUTBOX_LISTEN,
        pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
      });
      this.relay.start();
    }
  }

  async onApplicationShutdown(): Promise<void> {
    // Normally closed already by Nest with the microservice; a process that never connected it closes it here.
    await this.log.close();
    await this.relay?.stop();
    await this.producer.disconnect();
    await closeSealers();
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

/**
 * Everything a service needs around its own logic: its database (migrated), the log (producer, the
 * log transport whose runner feeds the service's @Projection, the outbox relay), decisions, Redis,
 * authentication, metrics, health, region policies and audited reads of a person.
 */
@Module({})
export class ServiceKitModule {
  static forService(options: ServiceOptions): DynamicModule {
    const { config, kafka } = options;
    const providers: Provider[] = [
      { provide: SERVICE_OPTIONS, useValue: options },
      {
        provide: DataSource,
        useFactory: async () => {
          if (config.KAFKA_ENSURE_TOPICS) await ensureTopics(kafka);
          return openDataSource({
            url: config.DATABASE_URL,
            schema: config.DB_SCHEMA,
            migrations: allMigrations(options.migrations),
            runMigrations: config.MIGRATIONS_RUN,
            // The audit schema first: the projection's migrations move old audit rows into it.
            beforeMigrations: async (dataSource) => {
              await new AuditStore(dataSource).migrate();
            },
          });
        },
      },
      { provide: EventLogProducer, useFactory: () => EventLogProducer.connect(kafka) },
      {
        provide: LogTransport,
        inject: [DataSource, PersonIds],
        useFactory: (dataSource: DataSource, personIds: PersonIds) =>
          new LogTransport({
            name: options.name,
            dataSource,
            personIds,
            schema: config.DB_SCHEMA,
            kafka,
            consume: config.CONSUME,
            groupId: config.CONSUMER_GROUP || options.name,
            auditDivision: config.DEPLOYMENT_DIVISION ?? null,
            tuning: {
              partitionsConsumedConcurrently: config.CONSUMER_CONCURRENCY,
              applyBatchSize: config.CONSUMER_APPLY_BATCH_SIZE,
              maxBytesPerPartition: config.CONSUMER_MAX_BYTES_PER_PARTITION,
              maxWaitTimeMs: config.CONSUMER_MAX_WAIT_MS,
              minBytes: config.CONSUMER_MIN_BYTES,
            },
          }),
      },
      LogRuntime,
      Decisions,
      // The process's keyring connection at each use (a rebuild run in the same process closes it; the next use connects again).
      { provide: RecordSealer, useFactory: () => new RecordSealer(() => sealerFor(kafka)) },
      // Personal values of the projections sealed under each person's data key (ADR 0011).
      // Resolved at each use, as the log transport's (a keyring closed by closeSealers is connected again).
      { provide: PersonalDataSealer, useFactory: () => new PersonalDataSealer(() => sealerFor(kafka)) },
      { provide: PersonKeyColumn, inject: [PersonIds], useFactory: (ids: PersonIds) => new PersonKeyColumn(ids) },
      { provide: PersonRecordRepository, inject: [RecordSealer, PersonKeyColumn], useFactory: (sealer: RecordSealer, keys: PersonKeyColumn) => new PersonRecordRepository(sealer, keys) },
      PersonReader,
      RegionPolicyProvider,
    ];
    return {
      module: ServiceKitModule,
      global: true,
      imports: [
        RedisModule.forRoot({ url: config.REDIS_URL, connectionName: options.name, tlsCaFile: config.REDIS_TLS_CA_FILE }),
        // Budgets are shared by the replicas of one deployment of a service (same database and schema), not across deployments.
        SecurityModule.forRoot({ service: rateScope(options.name, config), limits: parseRateLimits(config.RATE_LIMITS), windowMs: config.RATE_LIMIT_WINDOW_MS }),
        AuthModule.forRoot({
          jwtSecret: config.AUTH_JWT_SECRET,
          apiKeySecret: config.API_KEY_SECRET,
          revocationRedis: REDIS,
          maxTokenTtlSeconds: config.AUTH_MAX_TOKEN_TTL_SECONDS,
          limiter: RedisRateLimiter,
        }),
        PersonIdsModule.forRoot({ secret: config.PERSON_ID_SECRET, previousSecret: config.PERSON_ID_SECRET_PREVIOUS }),
        MetricsModule,
        AuditModule.forRoot({ service: options.name, deploymentDivision: config.DEPLOYMENT_DIVISION }),
        HealthModule.forRoot({
          checks: [PostgresHealthCheck, RedisHealthCheck, healthCheck('kafka', () => pingKafka(kafka))],
        }),
      ],
      providers,
      exports: [SERVICE_OPTIONS, DataSource, EventLogProducer, LogTransport, Decisions, PersonKeyColumn, PersonRecordRepository, PersonalDataSealer, PersonReader, RegionPolicyProvider],
    };
  }
}
