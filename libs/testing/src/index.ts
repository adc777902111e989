export * from './infrastructure';
export * from './kafka';
export * from './database';
export * from './wait';
export * from './stack';
export * from './private-infra';
export * from './forms';
