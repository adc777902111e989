import { command } from '@qmcb/service-kit';
import { ReviewModule } from './review.module';

command('review', (config, kafka) => ReviewModule.register(config, kafka));
