// Unique topics and databases for the event-log's own tests. Services use @qmcb/testing, which
// builds on this library; the event-log cannot depend on it back (module boundaries, no cycles).
import { randomBytes } from 'crypto';
import { Client } from 'pg';
import { deleteTopics, ensureTopics, kafkaSettingsFromEnv, listTopics } from '../settings';
import type { KafkaSettings } from '../settings';

export interface TestTopic {
  topic: string;
  settings: KafkaSettings;
  /** Deletes the topic and its dead-letter topics. */
  drop(): Promise<void>;
}

export async function newTopic(partitions: number): Promise<TestTopic> {
  const topic = `test.${randomBytes(6).toString('hex')}`;
  const settings: KafkaSettings = { ...kafkaSettingsFromEnv('qmcb-event-log-test'), topic, partitions, replication: 1 };
  await ensureTopics(settings);
  return {
    topic,
    settings,
    drop: async () => deleteTopics(settings, [topic, ...(await listTopics(settings, `${topic}.dlq.`))]),
  };
}

function serverUrl(database: string): string {
  const user = encodeURIComponent(process.env['PGUSER'] || 'postgres');
  const password = process.env['PGPASSWORD'] ? `:${encodeURIComponent(process.env['PGPASSWORD'])}` : '';
  return `postgres://${user}${password}@${process.env['PGHOST'] || '127.0.0.1'}:${process.env['PGPORT'] || '5432'}/${database}`;
}

async function onServer(statement: string): Promise<void> {
  const client = new Client({ connectionString: serverUrl('postgres') });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function newDatabase(): Promise<TestDatabase> {
  const name = `qmcb_test_${randomBytes(6).toString('hex')}`;
  await onServer(`create database ${name}`);
  return { url: serverUrl(name), drop: () => onServer(`drop database if exists ${name} with (force)`) };
}

export async function waitUntil(fn: () => boolean | Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${message}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const RUN = Math.random().toString(36).slice(2, 8);

/** A consumer group of this test run only: runs sharing a broker (CI beside a developer) never join each other's groups. */
export function testGroup(name: string): string {
  return `${name}.${RUN}`;
}
