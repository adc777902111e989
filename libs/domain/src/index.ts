export * from './citizen-id';
export * from './divisions';
export * from './registration-record';
export * from './evolve';
export * from './field-resolution';
export * from './identity-statements';
export * from './region-policy';
export * from './record-divisions';
