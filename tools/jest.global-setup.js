// Jest globalSetup for the int and e2e projects (jest.config.js): finds Kafka, PostgreSQL and
// Redis for the run. With a Docker engine, throwaway containers (testcontainers); without one,
// the local stack of deploy/local/up.sh (variables as set, else docs/conventions.md defaults).
// The variables it sets in process.env are inherited by jest's workers.
require('./register.js');

module.exports = async function globalSetup() {
  const { startContainersIfDocker } = require('../libs/testing/src/infrastructure.ts');
  const infra = await startContainersIfDocker();
  // The log's keyring (ADR 0009): a database of the test runs' own, inherited by workers and services.
  const { ensureTestKeyringDatabase } = require('../libs/testing/src/database.ts');
  await ensureTestKeyringDatabase();
  const { KAFKA_BROKERS, PGHOST, PGPORT, REDIS_URL } = infra.env;
  process.stdout.write(
    `\n[jest] infrastructure: ${infra.source} (KAFKA_BROKERS=${KAFKA_BROKERS} PGHOST=${PGHOST}:${PGPORT} REDIS_URL=${REDIS_URL})\n`,
  );
};
