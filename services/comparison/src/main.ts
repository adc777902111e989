import { main } from '@qmcb/service-kit';
import { ComparisonModule } from './comparison.module';

main('comparison', (config, kafka) => ComparisonModule.register(config, kafka));
