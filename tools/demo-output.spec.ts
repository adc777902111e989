import { maskCitizenId } from '@qmcb/domain';
import { ledgerRowForDisplay } from './demo-output';

describe('the demo’s ledger row', () => {
  const citizenId = '44098119850315131X';
  const lines = [
    '序号,村（居）,户号,姓名,公民身份号码,性别,常住地址,联系电话,状态',
    '1,南宫居委会,0001,王芳,440981197706011422,女,高州市石仔岭街道南宫居委会 12 号,13800000002,待调查',
    `2,南宫居委会,0001,李明,${citizenId},男,高州市石仔岭街道南宫居委会 12 号,13800138000,已审定入库`,
  ];

  it('is their row, with the citizen ID masked as the rest of the demo prints it, and the phone masked', () => {
    const row = ledgerRowForDisplay(lines, citizenId) as string;
    expect(row).toBe(`2,南宫居委会,0001,李明,${maskCitizenId(citizenId)},男,高州市石仔岭街道南宫居委会 12 号,138****8000,已审定入库`);
    expect(row).not.toContain(citizenId);
    expect(row).not.toContain(citizenId.slice(6, 14));
  });

  it('is nothing when the ledger has no row of theirs', () => {
    expect(ledgerRowForDisplay(lines.slice(0, 2), citizenId)).toBeUndefined();
  });
});
