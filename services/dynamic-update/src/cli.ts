import { command } from '@qmcb/service-kit';
import { DynamicUpdateModule } from './dynamic-update.module';

command('dynamic-update', (config, kafka) => DynamicUpdateModule.register(config, kafka));
