import { Module } from '@nestjs/common';
import { CoverageGauges } from './coverage-gauges';
import { CoverageRepository } from './coverage.repository';
import { StatisticsController } from './statistics.controller';
import { StatisticsService } from './statistics.service';

/** Statistics (procedure §27-§31, docs/design/coverage-statistics.md): figures, detail lists, reports, gauges. */
@Module({
  controllers: [StatisticsController],
  providers: [CoverageRepository, StatisticsService, CoverageGauges],
})
export class StatisticsModule {}
