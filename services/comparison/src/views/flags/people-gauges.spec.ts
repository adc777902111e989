import { GAUGE_INTERVAL_ENV, gaugeIntervalMs } from './people-gauges';

describe('gaugeIntervalMs', () => {
  it('defaults to a minute, accepts whole milliseconds (0 turns the refresh off) and refuses anything else', () => {
    expect(gaugeIntervalMs({})).toBe(60_000);
    expect(gaugeIntervalMs({ [GAUGE_INTERVAL_ENV]: '' })).toBe(60_000);
    expect(gaugeIntervalMs({ [GAUGE_INTERVAL_ENV]: '500' })).toBe(500);
    expect(gaugeIntervalMs({ [GAUGE_INTERVAL_ENV]: '0' })).toBe(0);
    expect(() => gaugeIntervalMs({ [GAUGE_INTERVAL_ENV]: '-1' })).toThrow(`${GAUGE_INTERVAL_ENV} must be a whole number of milliseconds, got "-1"`);
    expect(() => gaugeIntervalMs({ [GAUGE_INTERVAL_ENV]: '1s' })).toThrow(GAUGE_INTERVAL_ENV);
  });
});
