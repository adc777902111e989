import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { ServiceKitModule } from '@qmcb/service-kit';
import type { ServiceConfig } from '@qmcb/service-kit';
import { ReviewItemRepository } from './items/review-item.repository';
import { ReviewTables1700000003000 } from './migrations/1700000003000-review-tables';
import { PersonsController } from './persons/persons.controller';
import { ReviewProjection } from './projection/review.projection';
import { ReviewsController } from './reviews/reviews.controller';
import { ReviewsService } from './reviews/reviews.service';

/** 审核: township initial review (初审) and county final approval (审定). */
@Module({})
export class ReviewModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: ReviewModule,
      imports: [ServiceKitModule.forService({ name: 'review', config, kafka, migrations: [ReviewTables1700000003000] })],
      controllers: [ReviewProjection, ReviewsController, PersonsController],
      providers: [ReviewItemRepository, ReviewsService],
    };
  }
}
