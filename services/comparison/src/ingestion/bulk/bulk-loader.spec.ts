import { parseRows } from './rows';
import type { Row } from './rows';
import { splitByContract } from './bulk-loader';
import { csvHeader, csvLine, householdRecord } from './testing/fixtures';

describe('splitByContract (when the producer refuses a batch)', () => {
  it('singles out the events that break their contract, with its violations, and keeps the rest', async () => {
    const text = `${[csvHeader(), csvLine(householdRecord(1)), csvLine(householdRecord(2))].join('\n')}\n`;
    const rows: Row[] = [];
    async function* source(): AsyncGenerator<Buffer> {
      yield Buffer.from(text);
    }
    for await (const batch of parseRows(source(), { format: 'csv', department: 'public-security', context: { actor: 'key:t', correlationId: 'c' } })) rows.push(...batch);
    const valid = rows.flatMap((r) => (r.ok ? [{ line: r.line, raw: r.raw, event: r.event }] : []));
    valid[1] = { ...valid[1], event: { ...valid[1].event, personKey: 'not-a-key' } };
    const split = splitByContract(valid);
    expect(split.valid.map((r) => r.line)).toEqual([2]);
    expect(split.refused).toEqual([{ line: 3, raw: valid[1].raw, violations: [expect.objectContaining({ field: 'personKey', rule: 'matches' })] }]);
  });
});
