import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { RegistryTables1700000004000 } from './migrations/1700000004000-registry-tables';
import { RegistryProjection } from './projection/registry.projection';
import { RecordHistoryRepository } from './registry/record-history.repository';
import { RegistryController } from './registry/registry.controller';
import { RegistryService } from './registry/registry.service';

/** 动态更新: the authoritative registry view of every person and its history. */
@Module({})
export class DynamicUpdateModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: DynamicUpdateModule,
      imports: [ServiceKitModule.forService({ name: 'dynamic-update', config, kafka, migrations: [RegistryTables1700000004000] })],
      controllers: [RegistryProjection, RegistryController],
      providers: [RecordHistoryRepository, RegistryService],
    };
  }
}
