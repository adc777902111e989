import { jsonDepthExceeds } from './body';
import { DEFAULT_RATE_LIMITS, parseRateLimits } from './rate-limit';

describe('jsonDepthExceeds', () => {
  it('finds where JSON nests deeper than the limit, skipping brackets in strings and escaped quotes', () => {
    expect(jsonDepthExceeds('{"a":[1,{"b":2}]}', 3)).toBeUndefined();
    expect(jsonDepthExceeds('{"a":[1,{"b":[2]}]}', 3)).toBe(13);
    expect(jsonDepthExceeds('{"a":"[[[[[[[[[[[[","b":"\\"[[[[[["}', 1)).toBeUndefined();
    expect(jsonDepthExceeds(`${'['.repeat(10_000)}${']'.repeat(10_000)}`)).toBe(32);
  });
});

describe('parseRateLimits', () => {
  it('reads class=budget pairs, leaving the others at their defaults, and refuses anything else', () => {
    expect(parseRateLimits(undefined)).toEqual({});
    expect(parseRateLimits(' list=10, auth-failure=5 ')).toEqual({ list: 10, 'auth-failure': 5 });
    expect(DEFAULT_RATE_LIMITS).toEqual({ read: 300, list: 60, export: 6, write: 300, bulk: 120, 'auth-failure': 30 });
    expect(() => parseRateLimits('list=0')).toThrow('RATE_LIMITS: "list=0" is not <class>=<positive integer>');
    expect(() => parseRateLimits('lists=3')).toThrow('"lists=3"');
  });
});
