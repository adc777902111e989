// npm run keyring -- status | rotate | erase --citizen-id <id> --reason <text>   (ADR 0009, ADR 0010)
// The same as `<service> cli keyring …` in the image. Reads KEYRING_DATABASE_URL, KEYRING_MASTER_KEYS
// and LOG_PERSON_REF_SECRET from the environment, and for erase the Kafka settings (KAFKA_BROKERS,
// LOG_TOPIC, …) too (locally: source deploy/local/env.sh first).
import { keyringCommand } from '@qmcb/service-kit';

keyringCommand(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`keyring: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  },
);
