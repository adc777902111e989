import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { KafkaSettings } from '@qmcb/event-log';
import { KEY_COLUMNS as KEY_COLUMNS_TOKEN, PLAIN_ROW_SEALERS, ServiceKitModule } from '@qmcb/service-kit';
import type { PersonColumn, ServiceConfig } from '@qmcb/service-kit';
import { ReviewItemRepository } from './items/review-item.repository';
import { ReviewTables1700000003000 } from './migrations/1700000003000-review-tables';
import { ReviewItemsOfEveryChannel1700000003100 } from './migrations/1700000003100-review-items-of-every-channel';
import { LinkReview1700000010300 } from './migrations/1700000010300-link-review';
import { ReviewSealed1764892800000 } from './migrations/1764892800000-review-sealed';
import { LinkReviewRepository } from './links/link-review.repository';
import { LinksController } from './links/links.controller';
import { LinksService } from './links/links.service';
import { ChangesService } from './changes/changes.service';
import { ChannelsController } from './changes/channels.controller';
import { SelfServiceController } from './changes/self-service.controller';
import { WindowController } from './changes/window.controller';
import { QueueGauges } from './reviews/queue-gauges';
import { PersonsController } from './persons/persons.controller';
import { ReviewProjection } from './projection/review.projection';
import { ReviewsController } from './reviews/reviews.controller';
import { ReviewsService } from './reviews/reviews.service';

/**
 * Every column of review's schema that holds a person key, which holds the person ID since ADR 0011's
 * stage 5 (`PersonKeyColumn`; rows written before hold the plain key until re-keyed). `link_review.record_key`
 * (the key of the records under a mistyped ID) is plain only in a row not sealed yet (stage 4), null in a sealed one.
 */
export const KEY_COLUMNS: PersonColumn[] = [
  { table: 'person_record', column: 'person_key' },
  { table: 'review_item', column: 'person_key' },
  { table: 'link_review', column: 'person_key' },
  { table: 'link_review', column: 'record_key' },
];

export const REVIEW_MIGRATIONS = [ReviewTables1700000003000, ReviewItemsOfEveryChannel1700000003100, LinkReview1700000010300, ReviewSealed1764892800000];

/**
 * 审核: changes from every channel (survey, window, self-service, grassroots, department), and the identity links
 * comparison proposes, through township initial review (初审) and county final approval (审定).
 */
@Module({})
export class ReviewModule {
  static register(config: ServiceConfig, kafka: KafkaSettings): DynamicModule {
    return {
      module: ReviewModule,
      imports: [ServiceKitModule.forService({ name: 'review', config, kafka, migrations: REVIEW_MIGRATIONS })],
      controllers: [ReviewProjection, ReviewsController, LinksController, WindowController, SelfServiceController, ChannelsController, PersonsController],
      providers: [
        ReviewItemRepository,
        ReviewsService,
        ChangesService,
        QueueGauges,
        LinkReviewRepository,
        LinksService,
        // Rows written before ADR 0011's stage 4, sealed in place by `seal-records`.
        // What `seal-records` re-keys besides person_record (ADR 0011, stage 5), before it seals.
        { provide: KEY_COLUMNS_TOKEN, useValue: KEY_COLUMNS.filter((c) => c.table !== 'person_record') },
        { provide: PLAIN_ROW_SEALERS, inject: [ReviewItemRepository, LinkReviewRepository], useFactory: (...tables: unknown[]) => tables },
      ],
    };
  }
}
