import { planAssignment, planTakeOver } from './assignment-plan';
import type { PlanHousehold } from './assignment-plan';

const hh = (villageCode: string, householdKey: string, n: number): PlanHousehold => ({ villageCode, householdKey, taskIds: Array.from({ length: n }, (_, i) => `${householdKey}-t${i}`) });

describe('the balanced distribution of a township', () => {
  it('given households of three villages and two teams, then runs of households in village order, each within one household of the fair share, a household whole to one surveyor', () => {
    const households = [hh('V3', 'h5', 1), hh('V1', 'h1', 2), hh('V1', 'h2', 1), hh('V2', 'h3', 1), hh('V2', 'h4', 1), hh('V3', 'h6', 1), hh('V3', 'h7', 1), hh('V3', 'h8', 2)];
    const plan = planAssignment(households, [{ teamId: 'T1', members: ['a', 'b'] }, { teamId: 'T2', members: ['c', 'd'] }]);
    expect(plan.villages).toEqual([
      { villageCode: 'V1', teamIds: ['T1'] },
      { villageCode: 'V2', teamIds: ['T1'] },
      { villageCode: 'V3', teamIds: ['T2'] },
    ]);
    const by = (surveyor: string): string[] => plan.targets.filter((t) => t.surveyorId === surveyor).map((t) => t.taskId);
    expect(by('a')).toEqual(['h1-t0', 'h1-t1', 'h4-t0']);
    expect(by('b')).toEqual(['h2-t0', 'h3-t0']);
    expect(by('c')).toEqual(['h5-t0', 'h7-t0']);
    expect(by('d')).toEqual(['h6-t0', 'h8-t0', 'h8-t1']);
    expect(plan.targets).toHaveLength(10);
  });

  it('given one big village and two teams, then the village is split between them at a household boundary (two teams per village)', () => {
    const households = Array.from({ length: 10 }, (_, i) => hh('V1', `h${String(i).padStart(2, '0')}`, 1));
    const plan = planAssignment(households, [{ teamId: 'T1', members: ['a', 'b'] }, { teamId: 'T2', members: ['c', 'd'] }]);
    expect(plan.villages).toEqual([{ villageCode: 'V1', teamIds: ['T1', 'T2'] }]);
    expect(plan.targets.filter((t) => t.teamId === 'T1')).toHaveLength(5);
    expect(new Set(plan.targets.map((t) => t.surveyorId))).toEqual(new Set(['a', 'b', 'c', 'd']));
  });

  it('given no team with members or no target, then nothing', () => {
    expect(planAssignment([hh('V1', 'h1', 1)], [{ teamId: 'T1', members: [] }])).toEqual({ villages: [], targets: [] });
    expect(planAssignment([], [{ teamId: 'T1', members: ['a'] }])).toEqual({ villages: [], targets: [] });
  });

  it('is the same whatever order the households come in', () => {
    const households = [hh('V2', 'x', 2), hh('V1', 'y', 1), hh('V1', 'z', 3), hh('V2', 'w', 1)];
    const teams = [{ teamId: 'T1', members: ['a', 'b', 'c'] }];
    expect(planAssignment([...households].reverse(), teams)).toEqual(planAssignment(households, teams));
  });

  it('takes over the targets of who left: household by household to the one with the fewest', () => {
    const out = planTakeOver([hh('V1', 'h1', 2), hh('V1', 'h2', 1), hh('V1', 'h3', 1)], ['a', 'e'], new Map([['a', 3]]));
    expect(Object.fromEntries(out)).toEqual({ 'h1-t0': 'e', 'h1-t1': 'e', 'h2-t0': 'e', 'h3-t0': 'a' });
    expect(planTakeOver([hh('V1', 'h1', 1)], [], new Map()).size).toBe(0);
  });
});
