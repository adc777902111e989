import { ESLint } from 'eslint';
import { join } from 'path';

/**
 * The lint rules the docs claim, run with the workspace's own .eslintrc.json on fixtures that break
 * them (tools/lint/fixtures/, ignored by `npm run lint`): an import cycle is refused (the TypeScript
 * resolver lets import/no-cycle see `./b`), and kafkajs is refused outside libs/event-log.
 */
const ROOT = join(__dirname, '..', '..');

async function rulesBroken(...files: string[]): Promise<string[]> {
  const eslint = new ESLint({ cwd: ROOT, ignore: false });
  const results = await eslint.lintFiles(files.map((f) => join(ROOT, 'tools/lint/fixtures', f)));
  return results.flatMap((r) => r.messages.map((m) => `${r.filePath.slice(ROOT.length + 1)}: ${m.ruleId ?? m.message}`)).sort();
}

describe('lint rules', () => {
  jest.setTimeout(60_000);

  it('refuses an import cycle', async () => {
    expect(await rulesBroken('cycle/a.ts', 'cycle/b.ts')).toEqual([
      'tools/lint/fixtures/cycle/a.ts: import/no-cycle',
      'tools/lint/fixtures/cycle/b.ts: import/no-cycle',
    ]);
  });

  it('refuses kafkajs outside libs/event-log', async () => {
    expect(await rulesBroken('kafkajs.ts')).toEqual(['tools/lint/fixtures/kafkajs.ts: no-restricted-imports']);
  });
});
