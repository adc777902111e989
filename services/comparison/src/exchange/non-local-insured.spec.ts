import { InsuranceFacts, SOURCE_RECORD_RECEIVED, deterministicId } from '@qmcb/contracts';
import type { Department, EventOf, SourceFacts } from '@qmcb/contracts';
import { checkCharacter, foldEvents, personKeyFor } from '@qmcb/domain';
import type { RegistrationRecord } from '@qmcb/domain';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { exchangeRecordId, isNonLocal, nonLocalInsuredLines } from './non-local-insured';

const COUNTY = '440981';
const ID17 = '44010619880808017';
const ID = `${ID17}${checkCharacter(ID17)}`;
const AS_OF = '2026-11-01T00:00:00.000Z';

let n = 0;
function received(department: Department, facts: SourceFacts, asOf = AS_OF): EventOf<typeof SOURCE_RECORD_RECEIVED> {
  n += 1;
  return {
    eventId: deterministicId('spec', String(n)),
    type: SOURCE_RECORD_RECEIVED,
    schemaVersion: 1,
    personKey: ID,
    occurredAt: asOf,
    recordedAt: asOf,
    source: `dept:${department}`,
    actor: 'spec',
    correlationId: 'spec',
    causationId: null,
    basedOnVersion: null,
    payload: { department, sourceRecordId: `r-${n}`, mode: 'snapshot', citizenIdAsSent: ID, citizenIdValid: true, asOf, facts },
  };
}

function fold(...events: EventOf<typeof SOURCE_RECORD_RECEIVED>[]): RegistrationRecord {
  const record = foldEvents(events);
  if (!record) throw new Error('no record');
  return record;
}

const pension = (region: string, status: 'active' | 'ended' = 'active'): SourceFacts =>
  ({ kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status, region, name: '赵雷', phone: '13900139005' }) as SourceFacts;
const household = (villageCode: string, status: 'normal' | 'moved-out' = 'normal'): SourceFacts =>
  ({ kind: 'household', name: '赵雷', sex: 'male', birthDate: '1988-08-08', villageCode, status, address: '广东省高州市潘州街道1号' }) as SourceFacts;

describe('isNonLocal', () => {
  it('is non-local without a household, with a household in another county, or moved out', () => {
    expect(isNonLocal({ hukouDivision: null, hukouStatus: null }, COUNTY)).toBe(true);
    expect(isNonLocal({ hukouDivision: '440902001001', hukouStatus: 'normal' }, COUNTY)).toBe(true);
    expect(isNonLocal({ hukouDivision: '440981002001', hukouStatus: 'moved-out' }, COUNTY)).toBe(true);
    expect(isNonLocal({ hukouDivision: '440981002001', hukouStatus: 'normal' }, COUNTY)).toBe(false);
    expect(isNonLocal({ hukouDivision: '440981002001', hukouStatus: 'deceased' }, COUNTY)).toBe(false);
  });
});

describe('nonLocalInsuredLines', () => {
  it('gives one insurance record per active entry in the region, with the resolved identity, loadable as is', () => {
    const record = fold(received('social-insurance', pension(COUNTY)), received('social-insurance', pension('440902')));
    const lines = nonLocalInsuredLines(record, COUNTY);
    expect(lines).toEqual([
      {
        sourceRecordId: exchangeRecordId(ID, { insuranceType: 'pension', scheme: 'employee', region: COUNTY }),
        citizenId: ID,
        mode: 'snapshot',
        asOf: AS_OF,
        // Sex and birth date as the valid citizen ID encodes them (no department gave them).
        facts: { kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status: 'active', region: COUNTY, name: '赵雷', sex: 'male', birthDate: '1988-08-08', phone: '13900139005' },
      },
    ]);
    expect(validateSync(plainToInstance(InsuranceFacts, lines[0].facts), { whitelist: true, forbidNonWhitelisted: true })).toEqual([]);
  });

  it('gives nothing for a local person, an ended entry, or insurance only elsewhere', () => {
    expect(nonLocalInsuredLines(fold(received('public-security', household('440981002001')), received('social-insurance', pension(COUNTY))), COUNTY)).toEqual([]);
    expect(nonLocalInsuredLines(fold(received('social-insurance', pension(COUNTY, 'ended'))), COUNTY)).toEqual([]);
    expect(nonLocalInsuredLines(fold(received('social-insurance', pension('440902'))), COUNTY)).toEqual([]);
  });

  it('gives nothing for records under an ID that fails GB 11643: a mistyped local person, not a non-local one', () => {
    const typo = `${ID17}${ID[17] === '0' ? '1' : '0'}`;
    const event = received('social-insurance', pension(COUNTY));
    const record = fold({ ...event, personKey: personKeyFor(typo), payload: { ...event.payload, citizenIdAsSent: typo, citizenIdValid: false } });
    expect(record.citizenIdValid).toBe(false);
    expect(nonLocalInsuredLines(record, COUNTY)).toEqual([]);
  });

  it('exports a person whose household moved out, with the household address', () => {
    const lines = nonLocalInsuredLines(fold(received('public-security', household('440981002001', 'moved-out')), received('social-insurance', pension(COUNTY))), COUNTY);
    expect(lines.map((l) => l.facts)).toEqual([
      { kind: 'insurance', insuranceType: 'pension', scheme: 'employee', status: 'active', region: COUNTY, name: '赵雷', sex: 'male', birthDate: '1988-08-08', phone: '13900139005', address: '广东省高州市潘州街道1号' },
    ]);
  });

  it('keys records stably per person, type, scheme and region, without the citizen ID', () => {
    const a = exchangeRecordId(ID, { insuranceType: 'pension', scheme: 'employee', region: COUNTY });
    expect(a).toMatch(/^XR-440981-pension-employee-[0-9a-f]{24}$/);
    expect(a).toBe(exchangeRecordId(ID, { insuranceType: 'pension', scheme: 'employee', region: COUNTY }));
    expect(a).not.toBe(exchangeRecordId(ID, { insuranceType: 'pension', scheme: 'resident', region: COUNTY }));
    expect(a).not.toContain(ID);
  });
});
