#!/usr/bin/env node
// Creates the log topic and the dead-letter topics (docs/conventions.md, "Kafka"), or checks the
// ones that exist. Never deletes a topic and never changes a partition count.
//   LOG_TOPIC (registration.changes.v1): LOG_PARTITIONS (6) partitions, LOG_REPLICATION (1)
//     replicas, retention.ms=-1, retention.bytes=-1, cleanup.policy=delete,
//     min.insync.replicas = 1 when the replication is 1, else 2.
//   <LOG_TOPIC>.dlq.<group> for each consumer group: 3 partitions, same retention and replication.
// An existing topic whose retention/cleanup/min.insync settings differ is corrected (its other
// per-topic settings are kept); a different partition count is only reported.
// Plain JS: it runs from deploy/local/up.sh before anything is compiled.
'use strict';
const { Kafka, logLevel, ConfigResourceTypes, ConfigSource } = require('kafkajs');

const brokers = (process.env.KAFKA_BROKERS || '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean);
const logTopic = process.env.LOG_TOPIC || 'registration.changes.v1';
const partitions = int('LOG_PARTITIONS', 6);
const replication = int('LOG_REPLICATION', 1);
const groups = ['comparison', 'survey-tasking', 'review', 'dynamic-update'];
const DLQ_PARTITIONS = 3;

function int(name, dflt) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) {
    console.error(`[topics] ERROR: ${name}=${raw} is not a positive integer`);
    process.exit(2);
  }
  return n;
}

const configs = {
  'retention.ms': '-1',
  'retention.bytes': '-1',
  'cleanup.policy': 'delete',
  'min.insync.replicas': replication === 1 ? '1' : '2',
};
const wanted = [
  { topic: logTopic, numPartitions: partitions, replicationFactor: replication, isLog: true },
  ...groups.map((g) => ({
    topic: `${logTopic}.dlq.${g}`,
    numPartitions: DLQ_PARTITIONS,
    replicationFactor: replication,
    isLog: false,
  })),
];

const say = (m) => console.log(`[topics] ${m}`);
const warn = (m) => console.warn(`[topics] WARNING: ${m}`);

async function main() {
  const kafka = new Kafka({
    clientId: 'qmcb-topics',
    brokers,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 300 },
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = wanted.filter((t) => !existing.has(t.topic));
    const present = wanted.filter((t) => existing.has(t.topic));

    if (missing.length > 0) {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((t) => ({
          topic: t.topic,
          numPartitions: t.numPartitions,
          replicationFactor: t.replicationFactor,
          configEntries: Object.entries(configs).map(([name, value]) => ({ name, value })),
        })),
      });
      for (const t of missing) {
        say(`created ${t.topic} (${t.numPartitions} partitions, replication ${t.replicationFactor})`);
      }
    }

    if (present.length > 0) {
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: present.map((t) => t.topic) });
      for (const t of present) {
        const m = meta.find((x) => x.name === t.topic);
        const n = m ? m.partitions.length : 0;
        if (n !== t.numPartitions) {
          const what = t.isLog ? 'LOG_PARTITIONS' : 'expected';
          warn(`${t.topic} exists with ${n} partitions (${what} ${t.numPartitions}); kept as is, partition counts are never changed here`);
        }
      }
    }

    // Check (and correct) the settings of every topic, including the ones just created.
    const described = await admin.describeConfigs({
      includeSynonyms: false,
      resources: wanted.map((t) => ({ type: ConfigResourceTypes.TOPIC, name: t.topic })),
    });
    const fixes = [];
    for (const r of described.resources) {
      if (r.errorCode) throw new Error(`describeConfigs ${r.resourceName}: ${r.errorMessage || r.errorCode}`);
      const byName = new Map(r.configEntries.map((e) => [e.configName, e]));
      const wrong = Object.entries(configs).filter(([k, v]) => (byName.get(k) || {}).configValue !== v);
      if (wrong.length === 0) continue;
      warn(`${r.resourceName}: ${wrong.map(([k, v]) => `${k}=${(byName.get(k) || {}).configValue} (want ${v})`).join(', ')}; correcting`);
      // AlterConfigs replaces all per-topic settings: keep the topic's other dynamic ones.
      const keep = r.configEntries
        .filter((e) => e.configSource === ConfigSource.TOPIC_CONFIG && !(e.configName in configs) && !e.isSensitive)
        .map((e) => ({ name: e.configName, value: e.configValue }));
      fixes.push({
        type: ConfigResourceTypes.TOPIC,
        name: r.resourceName,
        configEntries: [...keep, ...Object.entries(configs).map(([name, value]) => ({ name, value }))],
      });
    }
    if (fixes.length > 0) await admin.alterConfigs({ validateOnly: false, resources: fixes });

    const cfg = Object.entries(configs).map(([k, v]) => `${k}=${v}`).join(' ');
    say(
      `${logTopic} (${partitions}p) and ${groups.length} DLQ topics (${DLQ_PARTITIONS}p) ready, replication ${replication}, ${cfg}` +
        (present.length > 0 && missing.length === 0 ? ' (all existed)' : ''),
    );
  } finally {
    await admin.disconnect();
  }
}

main().catch((e) => {
  console.error(`[topics] ERROR on ${brokers.join(',')}: ${e && e.message ? e.message : e}`);
  process.exit(1);
});
