import { runServiceCommand } from '@qmcb/service-kit';
import { SurveyTaskingModule } from './survey-tasking.module';

runServiceCommand('survey-tasking', (config, kafka) => SurveyTaskingModule.register(config, kafka)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exit(1);
  },
);
