import { bootstrapService } from '@qmcb/platform';
import { loadServiceConfig } from '@qmcb/service-kit';
import { DynamicUpdateModule } from './dynamic-update.module';

const { config, kafka } = loadServiceConfig('dynamic-update');
void bootstrapService({ name: 'dynamic-update', module: DynamicUpdateModule.register(config, kafka), port: config.PORT });
