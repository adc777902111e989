import type { ChangeRequest } from '@qmcb/contracts';
import { checkCharacter } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { formViolations, requiredFields } from './form-completeness';
import type { FormContext } from './form-completeness';

const id = (first17: string): string => `${first17}${checkCharacter(first17)}`;
const ME = id('44098119850315123');
const SPOUSE = id('44098119870101124');
const POLICY = { requirePhone: true, requireAddress: true, pensionSchemes: ['employee', 'resident'], medicalSchemes: ['employee', 'resident'] } as FormContext['policy'];
const ctx = (patch: Partial<FormContext> = {}): FormContext => ({
  personKey: ME, record: { citizenId: ME, name: '李明', sex: 'male', birthDate: '1985-03-15' } as RegistrationRecord, reasons: ['UNINSURED'],
  members: [{ personKey: ME, citizenId: ME, name: '李明', relation: '户主', source: 'household' }, { personKey: SPOUSE, citizenId: SPOUSE, name: '王芳', relation: '配偶', source: 'household' }],
  policy: POLICY, foundPath: 'POST /tasks/t/found-persons', now: new Date('2026-12-01T00:00:00Z'), ...patch,
});
const FULL: ChangeRequest['fields'] = {
  citizenId: ME, name: '李明', sex: 'male', birthDate: '1985-03-15', phone: '13800138000', residenceDivision: '440981002001', residenceAddress: '南宫 12 号', employmentStatus: 'farmer',
  insurance: [{ insuranceType: 'pension', scheme: 'resident', status: 'active', region: '440981' }, { insuranceType: 'medical', scheme: 'resident', status: 'active', region: '440981' }], insuredElsewhere: false,
};
const req = (fields: ChangeRequest['fields'], patch: Partial<ChangeRequest> = {}): ChangeRequest => ({ kind: 'registration-form', fields, evidence: [], unknown: [], ...patch });
const everyone = { members: [{ citizenId: ME, name: '李明', relation: '户主', status: 'present' as const }, { citizenId: SPOUSE, name: '王芳', relation: '配偶', status: 'away' as const }] };

describe('form completeness (三不漏)', () => {
  it('given every item and every member, then nothing is missing', () => {
    expect(formViolations(req(FULL), everyone, ctx())).toEqual([]);
  });

  it('requires the employer of someone employed, why someone uninsured is not insured, and what each reason asks; region policy may drop phone and address', () => {
    expect(requiredFields(req({ ...FULL, employmentStatus: 'employed', insurance: [] }), { reasons: ['MISSING_PHONE'], policy: POLICY })).toEqual([
      'citizenId', 'name', 'sex', 'birthDate', 'employmentStatus', 'insurance', 'insuredElsewhere', 'phone', 'residenceDivision', 'residenceAddress', 'employer', 'notInsuredReason',
    ]);
    expect(requiredFields(req(FULL), { reasons: [], policy: { ...POLICY, requirePhone: false, requireAddress: false } })).toEqual(['citizenId', 'name', 'sex', 'birthDate', 'employmentStatus', 'insurance', 'insuredElsewhere']);
  });

  it('accepts an item marked unknown with a reason instead, refuses one both filled in and unknown, or unknown twice', () => {
    const { phone: _p, ...noPhone } = FULL;
    expect(formViolations(req(noPhone, { unknown: [{ field: 'phone', reason: '无手机' }] }), everyone, ctx())).toEqual([]);
    expect(formViolations(req(FULL, { unknown: [{ field: 'phone', reason: 'x' }, { field: 'phone', reason: 'y' }] }), everyone, ctx())).toEqual([
      { field: 'request.unknown', rule: 'unique', message: 'request.unknown lists phone (联系电话) 2 times' },
      { field: 'request.unknown', rule: 'notFilled', message: 'request.unknown lists phone (联系电话), which is filled in: keep one' },
    ]);
  });

  it('refuses an invalid citizen ID and a birth date the ID contradicts', () => {
    const bad = `${ME.slice(0, 17)}${ME[17] === '0' ? '1' : '0'}`;
    expect(formViolations(req({ ...FULL, citizenId: bad }), everyone, ctx())).toEqual([
      { field: 'request.fields.citizenId', rule: 'citizenId', message: 'request.fields.citizenId fails GB 11643: the check character does not match (ISO 7064 MOD 11-2)' },
      { field: 'request.evidence', rule: 'evidenceForCorrection', message: 'request.evidence must name the document (ID card, household book) for the correction of citizenId (公民身份号码)' },
    ]);
    expect(formViolations(req({ ...FULL, birthDate: '1985-03-16' }, { evidence: [{ kind: 'household-book', reference: '户口簿' }] }), everyone, ctx())).toEqual([
      { field: 'request.fields.birthDate', rule: 'matchesCitizenId', message: 'request.fields.birthDate is 1985-03-16 but citizen ID 440981********' + ME.slice(-4) + ' says 1985-03-15' },
    ]);
  });

  it('accounts for every registered member, and sends anyone else met there to be added as found on site', () => {
    const stranger = id('44098120000101001');
    expect(formViolations(req(FULL), { members: [everyone.members[0] as never, { citizenId: stranger, name: '张三', relation: '租户', status: 'present' }, { name: '无证者', relation: '亲戚', status: 'present' }] }, ctx())).toEqual([
      { field: 'household.members', rule: 'accountedFor', message: `household.members must account for 王芳 (配偶, 440981********${SPOUSE.slice(-4)})` },
      { field: 'household.members.1', rule: 'foundOnSite', message: 'household.members.1 (张三) is not a registered member of this household: add them with POST /tasks/t/found-persons first' },
      { field: 'household.members.2.citizenId', rule: 'isDefined', message: 'household.members.2.citizenId is needed: 无证者 is not a registered member of this household (add them with POST /tasks/t/found-persons)' },
    ]);
  });
});
