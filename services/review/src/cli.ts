import { runServiceCommand } from '@qmcb/service-kit';
import { ReviewModule } from './review.module';

runServiceCommand('review', (config, kafka) => ReviewModule.register(config, kafka)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
