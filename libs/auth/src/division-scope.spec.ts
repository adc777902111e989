import { HttpException } from '@nestjs/common';
import { assertInDivision, inDivision } from './division-scope';
import type { Principal } from './principal';

describe('division scope', () => {
  it('contains codes that start with the division, at every level', () => {
    expect(inDivision('44', '440981002001')).toBe(true);
    expect(inDivision('4409', '440981')).toBe(true);
    expect(inDivision('440981', '440981')).toBe(true);
    expect(inDivision('440981002', '440981002001')).toBe(true);
  });

  it('excludes siblings, parents and malformed codes', () => {
    expect(inDivision('440981', '440982001001')).toBe(false);
    expect(inDivision('440981002', '440981')).toBe(false);
    expect(inDivision('440981', '')).toBe(false);
    expect(inDivision('440981', '440981%')).toBe(false);
    expect(inDivision('', '440981')).toBe(false);
    expect(inDivision('4409811', '440981100')).toBe(false);
  });

  it('answers 404 NOT_FOUND for a person outside the division, and lets a person inside through', () => {
    const person: Principal = { kind: 'person', sub: 'u1', name: 'n', role: 'window-clerk', division: '440981' };
    expect(() => assertInDivision(person, '440981002001')).not.toThrow();
    let error: unknown;
    try {
      assertInDivision(person, '440100001001');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HttpException);
    expect((error as HttpException).getStatus()).toBe(404);
    // The reason is for the audit; the platform's error filter sends the body without it.
    expect((error as HttpException).getResponse()).toEqual({ statusCode: 404, code: 'NOT_FOUND', message: 'not found', reason: "outside the caller's division 440981" });
  });

  it('does not scope department systems by division', () => {
    expect(() => assertInDivision({ kind: 'system', department: 'tax', keyId: 'k' }, '110101001001')).not.toThrow();
  });
});
