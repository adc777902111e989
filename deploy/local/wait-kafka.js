#!/usr/bin/env node
// Waits until the Kafka cluster in KAFKA_BROKERS answers a metadata request (admin listTopics).
// Plain JS: it runs from deploy/local/up.sh before anything is compiled.
// Usage: node deploy/local/wait-kafka.js [timeoutSeconds=60]
'use strict';
const { Kafka, logLevel } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
const timeoutMs = Number(process.argv[2] || 60) * 1000;

async function attempt() {
  const kafka = new Kafka({
    clientId: 'qmcb-wait-kafka',
    brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 2000,
    requestTimeout: 5000,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    const { brokers: members } = await admin.describeCluster();
    return { topics: topics.length, brokers: members.length };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

(async () => {
  const start = Date.now();
  let lastError;
  while (Date.now() - start < timeoutMs) {
    try {
      const r = await attempt();
      const secs = ((Date.now() - start) / 1000).toFixed(1);
      console.log(`[up] Kafka: metadata OK on ${brokers.join(',')} (${r.brokers} broker(s), ${r.topics} topic(s), ${secs}s)`);
      return;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  console.error(
    `[up] ERROR: no metadata from Kafka on ${brokers.join(',')} within ${timeoutMs / 1000}s: ${lastError && lastError.message}`,
  );
  process.exit(1);
})();
