import { command } from '@qmcb/service-kit';
import { ComparisonModule } from './comparison.module';

command('comparison', (config, kafka) => ComparisonModule.register(config, kafka));
