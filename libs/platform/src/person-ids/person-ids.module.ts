import { Global, Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { PersonIds } from './person-ids';

export interface PersonIdsOptions {
  /** PERSON_ID_SECRET. */
  secret: string;
  /** PERSON_ID_SECRET_PREVIOUS, while IDs made with it are still in circulation. */
  previousSecret?: string;
}

/** PersonIds for the whole application (services, the audit, the auditors' search). */
@Global()
@Module({})
export class PersonIdsModule {
  static forRoot(options: PersonIdsOptions): DynamicModule {
    return {
      module: PersonIdsModule,
      providers: [{ provide: PersonIds, useValue: new PersonIds(options.secret, options.previousSecret) }],
      exports: [PersonIds],
    };
  }
}
