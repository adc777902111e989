import { randomBytes } from 'crypto';
import type { RegistrationEvent } from '@qmcb/contracts';
import { deleteTopics, ensureTopics, kafkaSettingsFromEnv, listTopics, readEvents, readTopic, sealingFromEnv } from '@qmcb/event-log';
import type { KafkaSettings, TopicRecord } from '@qmcb/event-log';

/** Settings from the environment, pointed at a test topic. */
export function testKafkaSettings(topic: string, partitions = 3, clientId = 'qmcb-test'): KafkaSettings {
  return { ...kafkaSettingsFromEnv(clientId), topic, partitions, replication: 1 };
}

/**
 * A new topic `test.<random>` with infinite retention. Its dead-letter topics
 * (`<topic>.dlq.<group>`) are created by the runners that need them.
 */
export async function createTestTopic(partitions = 3): Promise<string> {
  const topic = `test.${randomBytes(6).toString('hex')}`;
  await ensureTopics(testKafkaSettings(topic, partitions));
  return topic;
}

/** Deletes a test topic and its dead-letter topics. */
export async function deleteTestTopic(topic: string): Promise<void> {
  const settings = testKafkaSettings(topic);
  const dlqs = await listTopics(settings, `${topic}.dlq.`);
  await deleteTopics(settings, [topic, ...dlqs]);
}

/** Every record of a topic from offset zero to the high watermark, in partition/offset order. */
export async function readAllRecords(settings: KafkaSettings, topic: string = settings.topic): Promise<TopicRecord[]> {
  return readTopic(settings, topic);
}

/**
 * Every event of a topic from offset zero to the high watermark, opened (ADR 0009: the sealing
 * settings of the environment when the given ones have none) and decoded, in partition/offset
 * order; events of erased persons are left out.
 */
export async function readAllEvents(settings: KafkaSettings, topic: string = settings.topic): Promise<RegistrationEvent[]> {
  return readEvents({ ...settings, sealing: settings.sealing ?? sealingFromEnv(process.env) }, topic);
}
