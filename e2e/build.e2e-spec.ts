import { mintApiKey } from '@qmcb/auth';
import { SERVICES, builtEntrypoint, httpJson, startIsolatedStack } from '@qmcb/testing';
import type { IsolatedStack, ServiceName } from '@qmcb/testing';
import { execFileSync, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from 'fs';
import { builtinModules } from 'module';
import { dirname, join, relative, resolve } from 'path';

/**
 * The build (docs/adr/0003-build-with-swc.md): `nx run-many -t build` compiles the four services and
 * the libraries they use to dist/, and each service then runs with plain
 * `node dist/services/<service>/src/main.js` (no register hook, no tsconfig paths, NODE_ENV=production
 * as in the image) against a database and topic of its own, healthy on every check. What the image's
 * runtime stage adds on top (a production-only install) is checked by tools/check-runtime-stage.sh.
 */
const ROOT = join(__dirname, '..');
const DIST = join(ROOT, 'dist');
const NAMES: ServiceName[] = SERVICES.map((s) => s.name);
const KEY_SECRET = randomBytes(24).toString('hex');
const JWT_SECRET = randomBytes(24).toString('hex');

const node = (args: string[], cwd = ROOT): { status: number | null; stdout: string; stderr: string } => {
  const { NODE_OPTIONS: _options, NODE_PATH: _path, TS_NODE_PROJECT: _project, ...env } = process.env;
  const run = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
};

/** Every file `require`d from the entry points, following relative requires; and the packages named. */
function requireGraph(entries: string[]): { files: Set<string>; packages: Map<string, string> } {
  const files = new Set<string>();
  const packages = new Map<string, string>();
  const visit = (file: string): void => {
    if (files.has(file)) return;
    files.add(file);
    for (const [, spec] of readFileSync(file, 'utf8').matchAll(/require\("([^"]+)"\)/g)) {
      if (spec.startsWith('.')) {
        visit(require.resolve(resolve(dirname(file), spec)));
      } else {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!builtinModules.includes(name.replace(/^node:/, ''))) packages.set(name, relative(ROOT, file));
      }
    }
  };
  entries.forEach(visit);
  return { files, packages };
}

describe('the build', () => {
  beforeAll(() => {
    // The Nx target itself (cached when nothing changed), libraries first (dependsOn ^build).
    execFileSync(process.execPath, [join(ROOT, 'node_modules/nx/bin/nx.js'), 'run-many', '-t', 'build', '--projects', NAMES.join(','), '--outputStyle=static'], {
      cwd: ROOT,
      env: { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false' },
      stdio: 'pipe',
    });
  }, 120_000);

  it('emits every service and its operator CLI as plain JavaScript, runtime files included', () => {
    for (const name of NAMES) {
      expect(existsSync(builtEntrypoint(name, 'main'))).toBe(true);
      expect(existsSync(builtEntrypoint(name, 'cli'))).toBe(true);
      expect(existsSync(join(DIST, 'services', name, 'src', 'main.js.map'))).toBe(true);
    }
  });

  it('leaves no alias, no TypeScript and no devDependency to resolve at run time', () => {
    const entries = NAMES.flatMap((name) => [builtEntrypoint(name, 'main'), builtEntrypoint(name, 'cli')]);
    const { files, packages } = requireGraph([...entries, join(DIST, 'services/comparison/src/load-cli.js')]);
    for (const file of files) {
      expect(relative(DIST, file).startsWith('..')).toBe(false);
      expect(file.endsWith('.js')).toBe(true);
    }
    const { dependencies, devDependencies } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, Record<string, string>>;
    const notInDependencies = [...packages].filter(([name]) => !(name in dependencies)).map(([name, from]) => `${name} (${from}${name in devDependencies ? ', a devDependency' : ''})`);
    expect(notInDependencies).toEqual([]);
    expect(packages.has('@nestjs/core')).toBe(true);
  });

  it('prints the CLI usage and exits 2 without a command, for every service', () => {
    for (const name of NAMES) {
      const run = node([builtEntrypoint(name, 'cli')]);
      expect({ name, status: run.status }).toEqual({ name, status: 2 });
      expect(run.stderr).toContain('usage: <service> cli <command>');
      expect(run.stderr).toContain('rebuild');
    }
  });

  describe('tools/build.js', () => {
    // A throwaway project inside the workspace (tmp/ is git-ignored), built to dist/tmp/…
    const project = join('tmp', `build-check-${process.pid}`);
    const write = (file: string, text: string): void => {
      mkdirSync(dirname(join(ROOT, project, file)), { recursive: true });
      writeFileSync(join(ROOT, project, file), text);
    };
    const out = (file: string): string => join(DIST, project, file);

    beforeEach(() => {
      rmSync(join(ROOT, project), { recursive: true, force: true });
      write('project.json', '{}');
    });
    afterAll(() => {
      rmSync(join(ROOT, project), { recursive: true, force: true });
      rmSync(join(DIST, project), { recursive: true, force: true });
      if (readdirSync(join(DIST, 'tmp')).length === 0) rmdirSync(join(DIST, 'tmp'));
    });

    it('rewrites the @qmcb/* aliases to relative paths, keeps decorator metadata and leaves tests out', () => {
      write(
        'src/thing.ts',
        [
          "import { Injectable } from '@nestjs/common';",
          "import { deterministicId } from '@qmcb/contracts';",
          "import { Other } from './other';",
          '@Injectable()',
          'export class Thing {',
          '  constructor(readonly other: Other) {}',
          '  id = (): string => deterministicId("x");',
          '}',
        ].join('\n'),
      );
      write('src/other.ts', 'export class Other {}\n');
      write('src/thing.spec.ts', 'it("is left out", () => undefined);\n');
      write('config/settings.json', '{"a":1}\n');
      const run = node([join(ROOT, 'tools/build.js'), project]);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const js = readFileSync(out('src/thing.js'), 'utf8');
      expect(js).toContain('require("../../../libs/contracts/src")');
      expect(js).not.toContain('@qmcb/');
      expect(js).toMatch(/_ts_metadata\("design:paramtypes", \[\s*typeof _other\.Other/);
      expect(existsSync(out('src/thing.spec.js'))).toBe(false);
      expect(readFileSync(out('config/settings.json'), 'utf8')).toBe('{"a":1}\n');
    });

    it('fails on a syntax error and leaves no half-built output', () => {
      write('src/fine.ts', 'export const fine = 1;\n');
      write('src/broken.ts', 'export const broken = ;\n');
      const run = node([join(ROOT, 'tools/build.js'), project]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('broken.ts');
      expect(existsSync(out('src/fine.js'))).toBe(false);
    });

    it('fails on an @qmcb/* import that tsconfig.base.json does not map', () => {
      write('src/stray.ts', "import { x } from '@qmcb/nowhere';\nexport const y = x;\n");
      const run = node([join(ROOT, 'tools/build.js'), project]);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('@qmcb/nowhere is not in tsconfig.base.json paths');
    });
  });

  describe('the four services run from dist/ with plain node', () => {
    let stack: IsolatedStack | undefined;

    beforeAll(async () => {
      stack = await startIsolatedStack({
        entry: 'dist',
        logDir: join(ROOT, 'tmp', 'e2e-logs', 'build'),
        ports: { comparison: 3241, 'survey-tasking': 3242, review: 3243, 'dynamic-update': 3244 },
        // As in the image (NODE_ENV changes nothing: secrets are checked whatever it says).
        env: () => ({ NODE_ENV: 'production', AUTH_JWT_SECRET: JWT_SECRET, API_KEY_SECRET: KEY_SECRET }),
      });
    }, 120_000);

    afterAll(async () => {
      await stack?.stop();
    });

    it.each(NAMES)('%s answers /health 200 with every check up', async (name) => {
      const health = await httpJson(stack!.urls[name], 'GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body.status).toBe('ok');
      expect(Object.keys(health.body.checks).sort()).toEqual(['kafka', 'postgres', 'redis']);
      expect(Object.values(health.body.checks).every((c) => c === 'up')).toBe(true);
      const openapi = await httpJson(stack!.managementUrls[name], 'GET', '/api/docs-json');
      expect(openapi.status).toBe(200);
      expect(openapi.body.paths['/health']).toBeDefined();
    });

    it('validates a request body from the compiled DTOs (decorators and their metadata survived the build)', async () => {
      const key = { 'x-api-key': mintApiKey('public-security', 'ps-build', KEY_SECRET) };
      const res = await httpJson(stack!.urls.comparison, 'POST', '/records', key, { records: [{ sourceRecordId: 'B-1', citizenId: 'not-a-citizen-id' }] });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(res.body.violations.length).toBeGreaterThan(0);
    });
  });
});
