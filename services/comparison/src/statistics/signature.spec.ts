import { INSURANCE_TYPES } from '@qmcb/contracts';
import { STATUS_CODES, fromSignature, signatureOf } from './signature';
import type { Signed } from './signature';

describe('the signature of a statistics row', () => {
  it('round-trips every outcome, surveyed reason and status of every type', () => {
    const outcomes = ['none', 'registered', 'duplicate', 'needs-survey', 'exempt'] as const;
    const reasons = [null, 'unwilling', 'cannot-afford', 'other'] as const;
    let n = 0;
    for (const outcome of outcomes) {
      for (const surveyedReason of reasons) {
        for (const [i] of STATUS_CODES.entries()) {
          const statuses = Object.fromEntries(INSURANCE_TYPES.map((t, k) => {
            const [status, reason] = STATUS_CODES[(i + k) % STATUS_CODES.length] as (typeof STATUS_CODES)[number];
            return [t, { status, reason }];
          })) as Signed['statuses'];
          const signed: Signed = { outcome, surveyedReason, statuses };
          const sig = signatureOf(signed);
          expect(sig).toBeLessThan(2 ** 31);
          expect(fromSignature(sig)).toEqual(signed);
          n += 1;
        }
      }
    }
    expect(n).toBe(5 * 4 * STATUS_CODES.length);
  });

  it('counts a pair the rule never gives as no status', () => {
    const statuses = Object.fromEntries(INSURANCE_TYPES.map((t) => [t, { status: 'not-insured', reason: null }])) as Signed['statuses'];
    expect(fromSignature(signatureOf({ outcome: 'registered', surveyedReason: null, statuses })).statuses.pension).toEqual({ status: null, reason: null });
  });
});
