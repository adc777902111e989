import { bootstrapService } from '@qmcb/platform';
import { loadServiceConfig } from '@qmcb/service-kit';
import { SurveyTaskingModule } from './survey-tasking.module';

const { config, kafka } = loadServiceConfig('survey-tasking');
void bootstrapService({ name: 'survey-tasking', module: SurveyTaskingModule.register(config, kafka), port: config.PORT });
