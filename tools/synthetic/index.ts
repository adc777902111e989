export * from './model';
export * from './options';
export * from './oracle';
export * from './generate';
export { Population } from './population';
export type { GeneratedPerson } from './population';
export { Rng, hash32 } from './prng';
