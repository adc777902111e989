import { main } from '@qmcb/service-kit';
import { SurveyTaskingModule } from './survey-tasking.module';

main('survey-tasking', (config, kafka) => SurveyTaskingModule.register(config, kafka));
