import { checkCharacter } from '@qmcb/domain';
import { bodyOf, expectedLink, meetingKeys, relation, score } from './linking';

const BODY = '44098119850315123';
const ID = BODY + checkCharacter(BODY);
const person = { name: '李明', birthDate: '1985-03-15', sex: 'male', address: '南宫社区12号' };
const nothing = { name: null, birthDate: null, sex: null, address: null };

describe('the linking restated for the ground truth', () => {
  it('reads relations on the 17-digit body', () => {
    expect(bodyOf(ID)).toBe(BODY);
    expect(bodyOf('440981850315123')).toBe(BODY);
    expect([relation(BODY, BODY), relation('44098119850315124', BODY), relation('44098119850315132', BODY), relation('44098119850315231', BODY)]).toEqual([
      'check-character', 'one-digit', 'transposition', null,
    ]);
    const shared = meetingKeys('44098119850315124').filter((k) => meetingKeys(BODY).includes(k));
    expect(shared).toHaveLength(1);
  });

  it('scores as the design page: 50 or 35 for the ID, 30/-40 name, 15/-30 birth date, 5/-10 sex, 10/0 address', () => {
    expect(score('check-character', { ...nothing, name: ' 李明' }, person)).toBe(80);
    expect(score('one-digit', { ...nothing, name: '李明' }, person)).toBe(65);
    expect(score('transposition', person, person)).toBe(95);
    expect(score('one-digit', { name: '王芳', birthDate: '1985-03-16', sex: 'female', address: 'x' }, person)).toBe(35 - 40 - 30 - 10);
  });

  it('links to the one strong candidate; to none when none or two are strong', () => {
    const typed = `${BODY.slice(0, 16)}4${ID[17]}`;
    const other = '44098119850315125';
    expect(expectedLink(typed, { ...person, address: null }, [{ personKey: ID, identity: person }]).personKey).toBe(ID);
    expect(expectedLink(typed, { ...nothing, name: '李明' }, [{ personKey: ID, identity: person }]).personKey).toBeNull();
    const twins = [{ personKey: ID, identity: person }, { personKey: other + checkCharacter(other), identity: person }];
    expect(expectedLink(typed, { ...person, address: null }, twins)).toMatchObject({ personKey: null, strong: 2 });
  });
});
