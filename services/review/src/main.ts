import { main } from '@qmcb/service-kit';
import { ReviewModule } from './review.module';

main('review', (config, kafka) => ReviewModule.register(config, kafka));
