import { command } from '@qmcb/service-kit';
import { SurveyTaskingModule } from './survey-tasking.module';

command('survey-tasking', (config, kafka) => SurveyTaskingModule.register(config, kafka));
