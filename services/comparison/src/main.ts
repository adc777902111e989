import { bootstrapService } from '@qmcb/platform';
import { loadServiceConfig } from '@qmcb/service-kit';
import { ComparisonModule } from './comparison.module';

const { config, kafka } = loadServiceConfig('comparison');
void bootstrapService({ name: 'comparison', module: ComparisonModule.register(config, kafka), port: config.PORT });
