import { REGISTRY_CHANGE_APPROVED, REGISTRY_CHANGE_PROPOSED, REGISTRY_CHANGE_REJECTED, deterministicId, newEvent } from '@qmcb/contracts';
import type { EventOf } from '@qmcb/contracts';
import { ProposalDecisionError, decide, decisionEventId, evolve } from './change-proposal.decider';
import type { ChangeProposal } from './change-proposal.decider';

const ID = '440981197003151236';
const proposalId = deterministicId('p');
const origin = { source: 'svc:dynamic-update', actor: 'key:ps-1', occurredAt: '2026-05-02T00:00:00.000Z', correlationId: 'c' };
const proposed: EventOf<typeof REGISTRY_CHANGE_PROPOSED> = newEvent(
  REGISTRY_CHANGE_PROPOSED,
  deterministicId('e'),
  ID,
  {
    proposalId,
    reason: 'region policy',
    change: { type: 'household.moved-out', occurredAt: '2026-05-01T00:00:00.000Z', source: 'dept:public-security', actor: 'key:ps-1', eventId: deterministicId('m'), payload: { department: 'public-security', businessId: 'M-1', movedOn: '2026-05-01' } },
  },
  origin,
);
const approve = { kind: 'approve' as const, reviewerId: 'county-1', countyCode: '440981', comment: '核实', at: '2026-05-03T00:00:00.000Z', correlationId: 'c2' };
const reject = { kind: 'reject' as const, reviewerId: 'county-1', countyCode: '440981', reason: '未迁出', at: '2026-05-03T00:00:00.000Z', correlationId: 'c2' };

function given(...events: Parameters<typeof evolve>[1][]): ChangeProposal | null {
  return events.reduce<ChangeProposal | null>((s, e) => evolve(s, e, '440981002001'), null);
}

describe('a proposed change in the county queue', () => {
  it('given a proposal, then it waits, filed where the person is', () => {
    expect(given(proposed)).toEqual({
      proposalId,
      personKey: ID,
      division: '440981002001',
      type: 'household.moved-out',
      changeEventId: deterministicId('m'),
      occurredAt: '2026-05-01T00:00:00.000Z',
      proposedAt: '2026-05-02T00:00:00.000Z',
      reason: 'region policy',
      status: 'pending',
      decidedBy: null,
      decidedAt: null,
      decisionEventId: null,
    });
  });

  it('given a waiting proposal, when the county approves, then one approval event whose ID is the proposal\'s decision', () => {
    expect(decide(approve, given(proposed))).toEqual([
      {
        eventId: decisionEventId(proposalId),
        type: REGISTRY_CHANGE_APPROVED,
        schemaVersion: 1,
        personKey: ID,
        occurredAt: '2026-05-03T00:00:00.000Z',
        recordedAt: '2026-05-03T00:00:00.000Z',
        source: 'svc:dynamic-update',
        actor: 'user:county-1',
        correlationId: 'c2',
        causationId: null,
        basedOnVersion: null,
        payload: { proposalId, reviewerId: 'county-1', countyCode: '440981', comment: '核实' },
      },
    ]);
  });

  it('given a waiting proposal, when the county rejects, then the rejection with its reason', () => {
    expect(decide(reject, given(proposed))).toMatchObject([{ type: REGISTRY_CHANGE_REJECTED, payload: { proposalId, reason: '未迁出' } }]);
  });

  it('given a decided proposal, when anyone decides again, then 409; an unknown one, 404', () => {
    const [approval] = decide(approve, given(proposed)) as [EventOf<typeof REGISTRY_CHANGE_APPROVED>];
    const decided = given(proposed, approval);
    expect(decided).toMatchObject({ status: 'approved', decidedBy: 'county-1', decisionEventId: approval.eventId });
    expect(() => decide(reject, decided)).toThrow(new ProposalDecisionError('CONFLICT', 'this change was already approved'));
    expect(() => decide(approve, null)).toThrow(new ProposalDecisionError('NOT_FOUND', 'no such proposed change'));
  });

  it('given an approval already applied, when a rejection arrives on the log, then the first decision stands', () => {
    const [approval] = decide(approve, given(proposed)) as [EventOf<typeof REGISTRY_CHANGE_APPROVED>];
    const rejection = newEvent(REGISTRY_CHANGE_REJECTED, deterministicId('r'), ID, { proposalId, reviewerId: 'x', countyCode: '440981', reason: 'x' }, origin);
    expect(given(proposed, approval, rejection)).toMatchObject({ status: 'approved', decidedBy: 'county-1' });
  });
});
