import { runServiceCommand } from '@qmcb/service-kit';
import { ComparisonModule } from './comparison.module';

runServiceCommand('comparison', (config, kafka) => ComparisonModule.register(config, kafka)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
