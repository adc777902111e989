import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { AUDIT_OPTIONS, AuditRecorder } from './audit-recorder';
import type { AuditOptions } from './audit-recorder';
import { AuditController } from './audit.controller';
import { AuditService } from './audit.service';

/**
 * The audit of a service (docs/security.md, "Audit"): the recorder the platform writes entries with,
 * AuditService for services, and `POST /audit/search` for auditors. Needs DataSource and PersonIds
 * providers. configureApp installs the interceptor and the middleware that use it.
 */
@Global()
@Module({})
export class AuditModule {
  static forRoot(options: AuditOptions): DynamicModule {
    return {
      module: AuditModule,
      controllers: [AuditController],
      providers: [{ provide: AUDIT_OPTIONS, useValue: options }, AuditRecorder, AuditService],
      exports: [AuditRecorder, AuditService],
    };
  }
}
