import { Module } from '@nestjs/common';
import { ExchangeController } from './exchange.controller';
import { ExchangeService } from './exchange.service';
import { NonLocalInsuredRepository } from './non-local-insured.repository';

/** Cross-region exchange with the higher registry (procedure §10). */
@Module({
  controllers: [ExchangeController],
  providers: [ExchangeService, NonLocalInsuredRepository],
})
export class ExchangeModule {}
