import { Module } from '@nestjs/common';
import { ensureDefaultMetrics } from './http-metrics';

/**
 * The process's default metrics. `GET /metrics` is served on the management port
 * (startManagementServer), never on the service's own; request timing is set by configureApp.
 */
@Module({})
export class MetricsModule {
  constructor() {
    ensureDefaultMetrics();
  }
}
