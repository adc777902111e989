import { spawn } from 'child_process';
import { join } from 'path';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { EventLogProducer } from './producer';
import { ProjectionRunner } from './runner';
import type { KafkaSettings } from './settings';
import { sql } from './sql';
import { eventsFor, expectedTally, openTally, readTally, TallyHandler, TEST_TUNING, testLogger } from './test-support/tally';
import { newDatabase, newTopic, waitUntil, testGroup } from './test-support/harness';
import type { TestDatabase, TestTopic } from './test-support/harness';
import { readEvents } from './read-topic';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '..', '..', '..');

async function appliedCount(ds: DataSource): Promise<number> {
  const { rows } = await sql(ds.manager, `select count(*)::int as n from applied_event`);
  return Number(rows[0]?.['n']);
}

describe('a consumer dying in the middle of a batch', () => {
  let db: TestDatabase;
  let testTopic: TestTopic;
  let topic: string;
  let settings: KafkaSettings;
  let producer: EventLogProducer;

  beforeAll(async () => {
    // One partition, so the whole backlog arrives as one batch.
    testTopic = await newTopic(1);
    ({ topic, settings } = testTopic);
    db = await newDatabase();
    producer = await EventLogProducer.connect(settings, { logger: testLogger() });
  });

  afterAll(async () => {
    await producer?.disconnect();
    await db?.drop();
    await testTopic?.drop();
  });

  it('SIGKILLed process: the batch is rolled back and a restarted runner applies everything exactly once', async () => {
    const schema = 'crash_kill';
    const ds = await openTally(db.url, schema);
    try {
      const events = eventsFor(6, 100, 'kill');
      await producer.append(events);

      const child = spawn(process.execPath, ['-r', './tools/register.js', 'libs/event-log/src/test-support/slow-runner.ts', topic, db.url, schema, '40', testGroup('crash-test')], {
        cwd: ROOT,
        env: process.env,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let calls = 0;
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        for (const m of chunk.toString().matchAll(/applying (\d+)/g)) calls = Math.max(calls, Number(m[1]));
      });
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      try {
        await waitUntil(() => calls >= 30 || child.exitCode !== null, 60_000, 'the child runner to be mid-batch');
        expect(stderr).toBe('');
        expect(child.exitCode).toBeNull();
      } finally {
        child.kill('SIGKILL');
        await exited;
      }

      // What the dead process had applied in its open transaction is gone.
      const committed = await appliedCount(ds);
      expect(committed).toBeLessThan(calls);
      expect(Object.values(await readTally(ds)).flat()).toHaveLength(committed);

      const handler = new TallyHandler();
      const runner = new ProjectionRunner({ name: 'crash-test', groupId: testGroup('crash-test'), dataSource: ds, schema, handler, settings, logger: testLogger(), consumer: TEST_TUNING });
      await runner.start();
      try {
        await runner.waitUntilCaughtUp(60_000);
      } finally {
        await runner.stop();
      }
      const log = await readEvents(settings);
      expect(await readTally(ds)).toEqual(expectedTally(log));
      expect(await appliedCount(ds)).toBe(100);
      expect(handler.totalCalls).toBe(100 - committed);
    } finally {
      await ds.destroy();
    }
  });

  it('transaction aborted under the runner (backend terminated mid-batch): retried, exactly once', async () => {
    const schema = 'crash_terminate';
    const ds = await openTally(db.url, schema);
    const admin = new Client({ connectionString: db.url });
    await admin.connect();
    const handler = new TallyHandler();
    let terminated = 0;
    handler.before = async (_event, ctx, call) => {
      if (call === 15 && terminated === 0) {
        terminated += 1;
        const [row] = await sql(ctx.manager, 'select pg_backend_pid() as pid').then((r) => r.rows);
        await admin.query('select pg_terminate_backend($1)', [row?.['pid']]);
      }
    };
    const runner = new ProjectionRunner({ name: 'crash-terminate', groupId: testGroup('crash-terminate'), dataSource: ds, schema, handler, settings, logger: testLogger(), consumer: TEST_TUNING });
    try {
      await runner.start();
      await runner.waitUntilCaughtUp(60_000);
      expect(terminated).toBe(1);
      expect(handler.totalCalls).toBeGreaterThan(100);
      expect(await readTally(ds)).toEqual(expectedTally(await readEvents(settings)));
      expect(await appliedCount(ds)).toBe(100);
    } finally {
      await runner.stop();
      await admin.end();
      await ds.destroy();
    }
  });

  it('stopped while a slow batch is in flight: the applied part commits, a new runner does the rest once', async () => {
    const schema = 'crash_stop';
    const ds = await openTally(db.url, schema);
    try {
      const handler = new TallyHandler();
      handler.delayMs = 15;
      // Chunks of 10: a stop lets the chunk in flight finish and commits the chunks done.
      const first = new ProjectionRunner({ name: 'crash-stop', groupId: testGroup('crash-stop'), dataSource: ds, schema, handler, settings, logger: testLogger(), consumer: { ...TEST_TUNING, applyBatchSize: 10 } });
      await first.start();
      await waitUntil(() => handler.totalCalls >= 20, 30_000, 'the batch to be under way');
      await first.stop();
      const committed = await appliedCount(ds);
      expect(committed).toBeGreaterThanOrEqual(20);
      expect(committed).toBeLessThan(100);
      expect(handler.totalCalls).toBe(committed);

      const again = new TallyHandler();
      const second = new ProjectionRunner({ name: 'crash-stop', groupId: testGroup('crash-stop'), dataSource: ds, schema, handler: again, settings, logger: testLogger(), consumer: TEST_TUNING });
      await second.start();
      try {
        await second.waitUntilCaughtUp(30_000);
      } finally {
        await second.stop();
      }
      expect(again.totalCalls).toBe(100 - committed);
      expect(await readTally(ds)).toEqual(expectedTally(await readEvents(settings)));
    } finally {
      await ds.destroy();
    }
  });
});
