import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { RegistryTables1700000004000 } from './migrations/1700000004000-registry-tables';
import { RegistryHandler } from './projection/registry.handler';
import { RegistryController } from './registry/registry.controller';

/** 动态更新: the authoritative registry view of every person and its history. */
@Module({})
export class DynamicUpdateModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: DynamicUpdateModule,
      imports: [
        ServiceKitModule.forService({ name: 'dynamic-update', config, kafka, migrations: [RegistryTables1700000004000], handler: RegistryHandler }),
      ],
      controllers: [RegistryController],
    };
  }
}
