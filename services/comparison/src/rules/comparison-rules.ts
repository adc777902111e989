/** Kept for existing imports: the comparison model lives in `./index`. */
export * from './index';
export { DEFAULT_REGION_POLICY as DEFAULT_POLICY } from './region-policy';
