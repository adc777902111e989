import { DEFAULT_REGION_POLICY } from '@qmcb/domain';
import { checkCharacter } from '@qmcb/domain';
import { admitBusinessEvents } from './business-event-admission';
import { route } from './business-routing';

const F = '44098119700315123';
const ID = `${F}${checkCharacter(F)}`;
const [moveOut] = admitBusinessEvents([{ type: 'household.moved-out', businessId: 'M-1', citizenId: ID, occurredAt: '2026-05-01T08:00:00+08:00', payload: { movedOn: '2026-05-01', toDivision: '440902' } }], {
  department: 'public-security',
  actor: 'key:ps-1',
  correlationId: 'c-1',
  recordedAt: '2026-05-02T00:00:00.000Z',
});
if (!moveOut) throw new Error('not admitted');

describe('routing business events by region policy (procedure §21-§22)', () => {
  it('given a region that does not review the type, then the event goes to the log as is', () => {
    expect(route(moveOut, DEFAULT_REGION_POLICY, '440981002001')).toEqual({ event: moveOut, status: 'applied', proposalId: null });
  });

  it('given a region that reviews it, then a proposal carrying the event waits for the county, with IDs made of the event', () => {
    const routed = route(moveOut, { ...DEFAULT_REGION_POLICY, reviewBusinessEvents: ['household.moved-out'] }, '440981002001');
    expect(routed.status).toBe('pending-review');
    expect(routed.event).toMatchObject({
      type: 'registry.change-proposed',
      personKey: ID,
      source: 'svc:dynamic-update',
      actor: 'key:ps-1',
      occurredAt: '2026-05-02T00:00:00.000Z',
      payload: {
        proposalId: routed.proposalId,
        reason: "region policy 440981002001: household.moved-out enters the registry after the county's approval",
        change: { type: 'household.moved-out', occurredAt: moveOut.occurredAt, source: 'dept:public-security', actor: 'key:ps-1', eventId: moveOut.eventId, payload: moveOut.payload },
      },
    });
    expect(route(moveOut, { ...DEFAULT_REGION_POLICY, reviewBusinessEvents: ['household.moved-out'] }, '440981002001')).toEqual(routed);
  });
});
