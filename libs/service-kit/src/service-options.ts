import type { KafkaSettings, MigrationList } from '@qmcb/event-log';
import type { ServiceConfig } from './service.config';

/** Injection token of the ServiceOptions. */
export const SERVICE_OPTIONS = Symbol('SERVICE_OPTIONS');

export interface ServiceOptions {
  /** Service name: projection name, and the consumer group unless CONSUMER_GROUP is set. */
  name: string;
  config: ServiceConfig;
  kafka: KafkaSettings;
  /** The service's own migrations, after the shared ones. */
  migrations: MigrationList;
}
