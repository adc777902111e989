import { maskFreeText, maskPersonalData, maskText } from './mask';

describe('maskText', () => {
  it('keeps the first 6 and last 4 characters of 18- and 15-digit citizen IDs', () => {
    expect(maskText('id 44098119850315123X ok')).toBe('id 440981********123X ok');
    expect(maskText('440981198503151234')).toBe('440981********1234');
    expect(maskText('old id 440981850315123')).toBe('old id 440981*****5123');
  });

  it('keeps the first 3 and last 4 digits of mobile numbers, with or without +86', () => {
    expect(maskText('call 13812345678.')).toBe('call 138****5678.');
    expect(maskText('+8613812345678')).toBe('+86138****5678');
  });

  it('leaves other numbers alone', () => {
    expect(maskText('offset 12345 of partition 3, at 1700000000000, village 440981002001')).toBe(
      'offset 12345 of partition 3, at 1700000000000, village 440981002001',
    );
    expect(maskText('12345678901')).toBe('12345678901');
  });
});

describe('maskPersonalData', () => {
  it('masks values under personal keys, recursively and whatever their shape', () => {
    const input = {
      personKey: '44098119850315123X',
      form: {
        name: '张三丰',
        phone: '13812345678',
        residenceAddress: '广东省茂名市高州市石仔岭街道南宫居委会1号',
        insurance: [{ insuranceType: 'pension', region: '440981' }],
      },
      citizenIdAsSent: '440981850315123',
      citizenIds: ['44098119850315123X', 440981850315123],
      contacts: [{ name: 'Li', mobile: '+86 139-1234-5678' }],
      address: { street: '南宫居委会', no: 1 },
    };
    expect(maskPersonalData(input)).toEqual({
      personKey: '440981********123X',
      form: {
        name: '张**',
        phone: '138****5678',
        residenceAddress: '广东省茂名市****',
        insurance: [{ insuranceType: 'pension', region: '440981' }],
      },
      citizenIdAsSent: '440981*****5123',
      citizenIds: ['440981********123X', '440981*****5123'],
      contacts: [{ name: 'L**', mobile: '139****5678' }],
      address: { street: '****', no: '****' },
    });
  });

  it('masks IDs and phones inside free text, errors and arrays, and does not mutate its input', () => {
    const err = new Error('duplicate key (citizen_id)=(44098119850315123X)');
    const input = { note: 'phoned 13812345678', err, list: ['13912345678'] };
    const out = maskPersonalData(input) as { note: string; err: { message: string; stack: string }; list: string[] };
    expect(out.note).toBe('phoned 138****5678');
    expect(out.err.message).toBe('duplicate key (citizen_id)=(440981********123X)');
    expect(out.err.stack).not.toContain('44098119850315123X');
    expect(out.list).toEqual(['139****5678']);
    expect(input.note).toBe('phoned 13812345678');
  });

  it('survives cycles and leaves non-personal values as they are', () => {
    const a: Record<string, unknown> = { count: 3, ok: true, none: null, at: new Date('2030-01-01T00:00:00Z') };
    a['self'] = a;
    expect(maskPersonalData(a)).toEqual({ count: 3, ok: true, none: null, at: '2030-01-01T00:00:00.000Z', self: '[Circular]' });
    expect(maskPersonalData('plain')).toBe('plain');
    expect(maskPersonalData(13812345678)).toBe('138****5678');
  });

  it('keeps only the year of a birth date under a key that names one', () => {
    expect(maskPersonalData({ birthDate: '1985-03-15', facts: { dateOfBirth: '1990-07-01' }, asOf: '2026-11-01' })).toEqual({ birthDate: '1985-**-**', facts: { dateOfBirth: '1990-**-**' }, asOf: '2026-11-01' });
  });
});

describe('maskFreeText', () => {
  it('masks names, addresses, citizen IDs and phones in a message', () => {
    expect(maskFreeText('李小宝 is already a member of this household (孙女) at 13812345678')).toBe('李** is already a member of this household (孙女) at 138****5678');
    expect(maskFreeText('欧阳娜娜 moved to 广东省茂名市高州市石鼓镇新塘村3组12号')).toBe('欧** moved to 广东省茂名市****3组12号');
    expect(maskFreeText('names differ: 张三 vs 张叁 for 44098119850315123X')).toBe('names differ: 张** vs 张** for 440981********123X');
    expect(maskFreeText('relation 外孙女 of 王五')).toBe('relation 外孙女 of 王**');
  });

  it('keeps ordinary words: relations, statuses, the labels of items and reasons, a place by its name', () => {
    expect(maskFreeText('household.status must be 正常, not 迁出')).toBe('household.status must be 正常, not 迁出');
    expect(maskFreeText('reason 姓名不一致 (缺少联系电话), item 常住地址, 已在外地参保')).toBe('reason 姓名不一致 (缺少联系电话), item 常住地址, 已在外地参保');
    expect(maskFreeText('division 高州市 has no village 新塘村')).toBe('division 高州市 has no village 新塘村');
    expect(maskFreeText('户主 and 配偶 of household H-1')).toBe('户主 and 配偶 of household H-1');
  });
});
