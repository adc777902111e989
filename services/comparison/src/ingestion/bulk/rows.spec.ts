import type { Department, RegistrationEvent } from '@qmcb/contracts';
import type { EventLogProducer } from '@qmcb/event-log';
import { AuditService, createValidationPipe } from '@qmcb/platform';
import type { AuditRecorder } from '@qmcb/platform';
import { IngestionService } from '../ingestion.service';
import { RecordBatchDto } from '../record-batch.dto';
import { parseRows } from './rows';
import type { LoadFormat, Row } from './rows';
import { csvHeader, csvLine, deathRecord, householdRecord, ndjsonLine } from './testing/fixtures';

async function rowsOf(text: string | Buffer[], format: LoadFormat, department: Department = 'public-security'): Promise<Row[]> {
  const chunks = typeof text === 'string' ? [Buffer.from(text)] : text;
  async function* source(): AsyncGenerator<Buffer> {
    for (const c of chunks) yield c;
  }
  const out: Row[] = [];
  for await (const batch of parseRows(source(), { format, department, context: { actor: 'key:test', correlationId: 'load-1' } })) out.push(...batch);
  return out;
}

const summary = (rows: Row[]): string[] => rows.map((r) => (r.ok ? `${r.line}:ok` : `${r.line}:${r.violations.map((v) => `${v.field}/${v.rule}`).join('+')}`));

describe('parseRows', () => {
  const records = [householdRecord(1), householdRecord(2), deathRecord(3)];
  const csv = `${[csvHeader(), ...records.map((r) => csvLine(r))].join('\r\n')}\r\n`;
  const ndjson = `${records.map(ndjsonLine).join('\n')}\n`;

  it('turns a CSV and an NDJSON file of the same records into the same events', async () => {
    const fromCsv = await rowsOf(csv, 'csv');
    const fromNdjson = await rowsOf(ndjson, 'ndjson');
    const events = (rows: Row[]): RegistrationEvent[] => rows.flatMap((r) => (r.ok ? [{ ...r.event, recordedAt: 'x' }] : []));
    expect(fromCsv.map((r) => r.line)).toEqual([2, 3, 4]);
    expect(fromNdjson.map((r) => r.line)).toEqual([1, 2, 3]);
    expect(events(fromCsv)).toHaveLength(3);
    expect(events(fromCsv)).toEqual(events(fromNdjson));
  });

  it('builds exactly the events POST /records builds for the same records', async () => {
    const appended: RegistrationEvent[] = [];
    const producer = { append: async (events: RegistrationEvent[]) => void appended.push(...events) } as unknown as EventLogProducer;
    const body = (await createValidationPipe().transform({ records }, { type: 'body', metatype: RecordBatchDto })) as RecordBatchDto;
    await new IngestionService(producer, new AuditService(undefined as unknown as AuditRecorder)).ingest('public-security', 'key:test', body.records);
    const bulk = (await rowsOf(ndjson, 'ndjson')).flatMap((r) => (r.ok ? [r.event] : []));
    const strip = (e: RegistrationEvent): object => ({ ...e, recordedAt: undefined, correlationId: undefined });
    expect(bulk.map(strip)).toEqual(appended.map(strip));
    expect(bulk.map((e) => e.eventId)).toEqual(appended.map((e) => e.eventId));
  });

  it('gives the same rows however the file is cut into chunks', async () => {
    const bytes = Buffer.from(csv);
    const whole = summary(await rowsOf(csv, 'csv'));
    for (let i = 1; i < bytes.length; i += 7) {
      expect(summary(await rowsOf([bytes.subarray(0, i), bytes.subarray(i)], 'csv'))).toEqual(whole);
    }
  });

  it('accepts an invalid citizen ID, flagged, under a surrogate person key', async () => {
    const [row] = await rowsOf(`${ndjsonLine(householdRecord(5, { citizenId: '440981198503151230' }))}\n`, 'ndjson');
    expect(row.ok).toBe(true);
    if (!row.ok) return;
    expect(row.event.payload).toMatchObject({ citizenIdAsSent: '440981198503151230', citizenIdValid: false });
    expect(row.event.personKey).toMatch(/^X-[0-9a-f]{32}$/);
  });

  it('refuses bad NDJSON lines with every reason, keeping the good ones beside them', async () => {
    const lines = [
      ndjsonLine(householdRecord(1)),
      '{"sourceRecordId": "broken"',
      '[1,2]',
      '',
      JSON.stringify({ ...householdRecord(2), facts: { ...householdRecord(2).facts, villageCode: '4409', phone: '123' } }),
      JSON.stringify({ ...householdRecord(3), mode: 'full', extra: 1 }),
      JSON.stringify({ ...householdRecord(4), facts: { kind: 'pension' } }),
      JSON.stringify({ ...householdRecord(5), facts: { kind: 'tax', employed: true } }),
      JSON.stringify({ ...householdRecord(6), asOf: '2026-02-30T00:00:00Z' }),
      ndjsonLine(householdRecord(7)),
    ];
    expect(summary(await rowsOf(lines.join('\n'), 'ndjson'))).toEqual([
      '1:ok',
      '2:(row)/json',
      '3:(record)/isObject',
      '5:facts.villageCode/matches+facts.phone/matches',
      '6:extra/whitelistValidation+mode/isIn',
      '7:facts.kind/isIn',
      '8:facts.kind/kindNotAllowed',
      '9:asOf/isCalendarDateTime',
      '10:ok',
    ]);
  });

  it('refuses bad CSV rows (syntax, column count, validation, department) and reads the rest', async () => {
    const good = householdRecord(1);
    const lines = [
      csvHeader(),
      csvLine(good),
      `${csvLine(householdRecord(2))},extra`,
      'T-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,tax,,,,,,,,,true',
      'X-1,440981198503151235,snapshot,2026-11-01T00:00:00Z,household,"bad"quote,,,,,,,,',
      csvLine(householdRecord(4, { mode: 'change' })).replace(',change,', ',,'),
      csvLine(householdRecord(5)).replace('agricultural', 'urban'),
      csvLine(householdRecord(6)),
    ];
    expect(summary(await rowsOf(lines.join('\n'), 'csv'))).toEqual([
      '2:ok',
      '3:(row)/columnCount',
      '4:facts.kind/kindNotAllowed',
      '5:(row)/csvSyntax',
      '6:mode/isIn',
      '7:facts.hukouType/isIn',
      '8:ok',
    ]);
  });

  it('refuses a CSV file whose header is not one', async () => {
    await expect(rowsOf(`${csvLine(householdRecord(1))}\n`, 'csv')).rejects.toThrow(/neither a record column/);
    await expect(rowsOf('', 'csv')).rejects.toThrow(/the file is empty/);
    expect(await rowsOf('', 'ndjson')).toEqual([]);
  });
});
