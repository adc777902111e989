import { main } from '@qmcb/service-kit';
import { DynamicUpdateModule } from './dynamic-update.module';

main('dynamic-update', (config, kafka) => DynamicUpdateModule.register(config, kafka));
