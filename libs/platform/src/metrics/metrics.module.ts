import { Module } from '@nestjs/common';
import { ensureDefaultMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';

/** `GET /metrics` (public) from prom-client's default registry. Request timing is set by configureApp. */
@Module({ controllers: [MetricsController] })
export class MetricsModule {
  constructor() {
    ensureDefaultMetrics();
  }
}
