import { runServiceCommand } from '@qmcb/service-kit';
import { DynamicUpdateModule } from './dynamic-update.module';

runServiceCommand('dynamic-update', (config, kafka) => DynamicUpdateModule.register(config, kafka)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
