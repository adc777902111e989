import { maskCitizenId } from '@qmcb/domain';
import { maskText } from '@qmcb/platform';

/**
 * What the demo prints of the rectification ledger (整改台账): the row of its person, found by their
 * citizen ID in the CSV lines, with the ID masked as the rest of the demo prints it (first 6 and last
 * 4 kept) and any other citizen ID or mobile number in it masked too.
 */
export function ledgerRowForDisplay(lines: readonly string[], citizenId: string): string | undefined {
  const row = lines.find((l) => l.includes(citizenId));
  return row === undefined ? undefined : maskText(row.split(citizenId).join(maskCitizenId(citizenId)));
}
