// The public API of the event-log runtime. kafkajs types stay inside this library (ADR 0001).
export { jsonLogger, maskPersonalData, quietLogger, silentLogger } from './logger';
export type { Logger } from './logger';
export { deadLetterTopic, deleteTopics, ensureTopics, kafkaSettingsFromEnv, KafkaSettingsError, listTopics, pingKafka } from './settings';
export { createAcls, describeTopics, joinGroup } from './access';
export type { AclEntry } from './access';
export type { KafkaSettings } from './settings';
export { metricValue, registerEventLogMetrics } from './metrics';
export { EventLogProducer, HEADER } from './producer';
export type { EventAppender, EventLogProducerOptions, OutboxItem, OutboxPublisher } from './producer';
export {
  assertSchemaName,
  dataSourceOptions,
  dataSourceUrl,
  eventLogMigrations,
  EventLogTables1732300000000,
  openDataSource,
  quoteIdent,
  SchemaNameError,
} from './database';
export type { DataSourceParams, EntityList, MigrationList } from './database';
export { enqueueOutbox, OutboxRelay } from './outbox';
export type { OutboxRelayOptions } from './outbox';
export { applyEvents, commitDecisions, EmitDepthError, lastPerPersonAndType } from './apply';
export type { ApplyBase, Positioned, ProjectionContext, ProjectionHandler } from './apply';
export { DEAD_LETTER_HEADER, ProjectionRunner } from './runner';
export type { ProjectionRunnerOptions } from './runner';
export type { ConsumerTuning } from './consumer';
export { rebuildProjection } from './rebuild';
export { dropOldSchemas, listOldSchemas } from './old-schemas';
export type { OldSchema } from './old-schemas';
export { appendOne, awaitConsumerGroups } from './erasure';
export type { AwaitGroupsOptions, GroupPosition, LogPosition } from './erasure';
export type { RebuildOptions } from './rebuild';
export { replayDeadLetters } from './dead-letters';
export type { ReplayDeadLettersOptions } from './dead-letters';
export { readEvents, readTopic } from './read-topic';
export type { TopicRecord } from './read-topic';
export { measureRawKafka } from './raw-baseline';
export { aesGcmOpen, aesGcmSeal, Keyring, KEYRING_SCHEMA, KeyringConfigError, KeyringTables1764547200000, parseMasterKeys, UnknownMasterKeyError } from './keyring';
export type { KeyringOptions, KeyringStatus, KeyState, MasterKey } from './keyring';
export { closeSealers, LogSealer, openSealed, parseValue, personRefOf, SealedEnvelopeError, sealedValueOf, sealerFor, sealEvent, sealingFromEnv } from './seal';
export type { Opened, SealingSettings, Unopened } from './seal';
export type { RawKafkaResult } from './raw-baseline';
export { measureRawKafkaPaced } from './raw-latency';
export type { RawPacedResult } from './raw-latency';
/** A consumer batch's transaction that must be on disk before its commit is acknowledged (sql.ts). */
export { commitAsynchronously, durableCommitIfAsync, holdSwapLockShared } from './sql';
