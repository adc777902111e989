// A projection runner in its own process, for the crash test to SIGKILL in the middle of a batch.
// usage: node -r ./tools/register.js libs/event-log/src/test-support/slow-runner.ts <topic> <db-url> <schema> <delay-ms> [group-id]
import { ProjectionRunner } from '../runner';
import { kafkaSettingsFromEnv } from '../settings';
import { openTally, TallyHandler, TEST_TUNING, testLogger } from './tally';

async function main(): Promise<void> {
  const [topic, url, schema, delay, groupId] = process.argv.slice(2);
  if (!topic || !url || !schema) throw new Error('usage: slow-runner.ts <topic> <db-url> <schema> <delay-ms> [group-id]');
  const dataSource = await openTally(url, schema);
  const handler = new TallyHandler();
  handler.delayMs = Number(delay ?? '20');
  handler.before = async (_event, _ctx, call) => {
    process.stdout.write(`applying ${call}\n`);
  };
  const runner = new ProjectionRunner({
    name: 'crash-test',
    groupId,
    dataSource,
    schema,
    handler,
    settings: { ...kafkaSettingsFromEnv('qmcb-event-log-test'), topic, partitions: 1, replication: 1 },
    logger: testLogger(),
    consumer: { ...TEST_TUNING, sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
  });
  await runner.start();
  process.stdout.write('started\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
