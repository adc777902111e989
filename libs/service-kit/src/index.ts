export * from './person-record.migration';
export * from './person-record.store';
export * from './person-reader';
export * from './log-runtime.module';
export * from './service.config';
export * from './decisions';
export * from './commands';
