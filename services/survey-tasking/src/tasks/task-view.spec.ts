import { PersonIds } from '@qmcb/platform';
import { publicHouseholdKey, storedHouseholdKey, withPersonIds } from './task-view';

describe('household keys as clients see them', () => {
  const ids = new PersonIds('task-view-spec-secret-0123456789abcdefghij');
  const citizenId = '440981198512157673';

  it("names a person's own household by the person ID, never the citizen ID, and turns it back", () => {
    const stored = `P-${citizenId}`;
    const shown = publicHouseholdKey(stored, ids);
    expect(shown).toBe(`P-${ids.idOf(citizenId)}`);
    expect(shown).not.toContain(citizenId);
    expect(storedHouseholdKey(shown, ids)).toBe(stored);
  });

  it('leaves a village household (<village>-<户号>) as it is, both ways', () => {
    expect(publicHouseholdKey('440981002001-0001', ids)).toBe('440981002001-0001');
    expect(storedHouseholdKey('440981002001-0001', ids)).toBe('440981002001-0001');
  });

  it('refuses a P- key that is not a person ID of this deployment, a citizen ID there included', () => {
    expect(storedHouseholdKey(`P-${citizenId}`, ids)).toBeUndefined();
    expect(storedHouseholdKey(`P-${new PersonIds('another-deployment-secret-0123456789abcdef').idOf(citizenId)}`, ids)).toBeUndefined();
    expect(storedHouseholdKey('P-', ids)).toBeUndefined();
  });

  it('withPersonIds rewrites every householdKey and personKey of an answer, nested ones included', () => {
    const answer = {
      households: [{ householdKey: `P-${citizenId}`, members: [{ personKey: citizenId, name: '李明' }] }, { householdKey: '440981002001-0001', members: [] }],
      householdKey: `P-${citizenId}`,
    };
    const out = withPersonIds(answer, ids);
    expect(out).toEqual({
      households: [{ householdKey: `P-${ids.idOf(citizenId)}`, members: [{ personId: ids.idOf(citizenId), name: '李明' }] }, { householdKey: '440981002001-0001', members: [] }],
      householdKey: `P-${ids.idOf(citizenId)}`,
    });
    expect(JSON.stringify(out)).not.toContain(citizenId);
  });
});
