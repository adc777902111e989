import { bootstrapService } from '@qmcb/platform';
import { loadServiceConfig } from '@qmcb/service-kit';
import { ReviewModule } from './review.module';

const { config, kafka } = loadServiceConfig('review');
void bootstrapService({ name: 'review', module: ReviewModule.register(config, kafka), port: config.PORT });
