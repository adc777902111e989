import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes } from 'kafkajs';
import { silentLogger } from './logger';
import { createKafka, withAdmin } from './settings';
import type { KafkaSettings } from './settings';

/** One Kafka ACL as deploy/compose/kafka-acls.txt lists it. */
export interface AclEntry {
  user: string;
  operation: 'ALL' | 'READ' | 'WRITE' | 'DESCRIBE' | 'CREATE' | 'DELETE';
  type: 'TOPIC' | 'GROUP';
  pattern: 'LITERAL' | 'PREFIXED';
  name: string;
}

/** Grants the ACLs (ALLOW, any host), as the settings' user (a super user): what kafka-init does in the deployment. */
export async function createAcls(settings: KafkaSettings, entries: AclEntry[]): Promise<void> {
  await withAdmin(settings, (admin) =>
    admin.createAcls({
      acl: entries.map((a) => ({
        resourceType: AclResourceTypes[a.type],
        resourceName: a.name,
        resourcePatternType: ResourcePatternTypes[a.pattern],
        principal: `User:${a.user}`,
        host: '*',
        operation: AclOperationTypes[a.operation],
        permissionType: AclPermissionTypes.ALLOW,
      })),
    }),
  );
}

/** The topics' names as the settings' user may see them; rejects when it may not describe one. */
export async function describeTopics(settings: KafkaSettings, topics: string[]): Promise<string[]> {
  return withAdmin(settings, async (admin) => (await admin.fetchTopicMetadata({ topics })).topics.map((t) => t.name), silentLogger, { retry: { retries: 0 } });
}

/**
 * Joins a consumer group on a topic as the settings' user: resolves once it was given partitions,
 * rejects with the broker's refusal (an ACL, a password) or after `timeoutMs`.
 */
export async function joinGroup(settings: KafkaSettings, groupId: string, topic: string, timeoutMs = 15_000): Promise<void> {
  // Default retries: the coordinator may need a moment; a refusal (an ACL) is not retried by the client.
  const consumer = createKafka(settings, silentLogger).consumer({ groupId });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        await consumer.connect();
        const joined = new Promise<void>((resolve, reject) => {
          consumer.on(consumer.events.GROUP_JOIN, () => resolve());
          consumer.on(consumer.events.CRASH, (e) => reject(e.payload.error));
        });
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await consumer.run({ eachMessage: async () => undefined });
        await joined;
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`did not join ${groupId} within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await consumer.disconnect().catch(() => undefined);
  }
}
