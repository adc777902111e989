#!/usr/bin/env node
// Compiles a project's TypeScript to CommonJS under dist/, mirroring the workspace layout
// (libs/platform/src/x.ts -> dist/libs/platform/src/x.js), so that `node dist/services/<svc>/src/main.js`
// runs with no register hook (docs/adr/0003-build-with-swc.md).
//
//   node tools/build.js <projectRoot>...        (what the Nx `build` target runs, nx.json)
//
// - Compiler options are .swcrc's (the ones jest uses: legacy decorators + decorator metadata,
//   which NestJS needs), with source maps written beside each file instead of inline.
// - The @qmcb/* aliases are rewritten to relative paths at compile time from tsconfig.base.json
//   `paths` (jsc.baseUrl + jsc.paths), the single list tools/register.js and jest.config.js read too:
//   services/x/src/main.ts `from '@qmcb/platform'` -> dist/services/x/src/main.js `require("../../../libs/platform/src")`.
//   Each library is built by its own target (`dependsOn: ["^build"]`), so those paths exist in dist/.
//   An @qmcb/* import left as is (an alias missing from `paths`) fails the build.
// - Compiled: <projectRoot>/src/**/*.ts except tests (*.spec.ts, *.int-spec.ts, *.e2e-spec.ts),
//   declarations (*.d.ts) and test-support/ folders.
// - Copied as is: <projectRoot>/config/ (runtime files a project reads next to its code, e.g.
//   services/comparison/config/region-policies.json, found from __dirname).
// - dist/<projectRoot> is emptied first, so a deleted source leaves no stale output behind.
// - Any file that does not parse fails the build (exit 1, dist/<projectRoot> removed) after every
//   error is printed. No type check here: that is `npm run typecheck` (tsc --noEmit).
'use strict';
const fs = require('fs');
const path = require('path');
const swc = require('@swc/core');

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;

function swcOptions() {
  const rc = JSON.parse(fs.readFileSync(path.join(ROOT, '.swcrc'), 'utf8'));
  delete rc.$schema;
  const { paths } = require(path.join(ROOT, 'tsconfig.base.json')).compilerOptions;
  return {
    ...rc,
    swcrc: false,
    configFile: false,
    sourceMaps: true,
    // baseUrl must be absolute; the rewritten imports are relative to each source file, and dist/
    // mirrors the workspace, so they stay correct in the output.
    jsc: { ...rc.jsc, baseUrl: ROOT, paths },
  };
}

function sources(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !TEST_FILE.test(f))
    .filter((f) => !path.relative(dir, f).split(path.sep).includes('test-support'))
    .sort();
}

async function compile(file, options) {
  const outFile = path.join(DIST, path.relative(ROOT, file)).replace(/\.ts$/, '.js');
  const outDir = path.dirname(outFile);
  const { code, map } = await swc.transformFile(file, {
    ...options,
    filename: file,
    sourceFileName: path.relative(outDir, file).split(path.sep).join('/'),
  });
  const alias = /require\("(@qmcb\/[^"]*)"\)/.exec(code);
  if (alias) throw new Error(`${alias[1]} is not in tsconfig.base.json paths, so it would not resolve at run time`);
  fs.mkdirSync(outDir, { recursive: true });
  const mapName = `${path.basename(outFile)}.map`;
  fs.writeFileSync(outFile, `${code}\n//# sourceMappingURL=${mapName}\n`);
  if (map) fs.writeFileSync(path.join(outDir, mapName), map);
}

async function buildProject(projectRoot, options) {
  const root = path.resolve(ROOT, projectRoot);
  const rel = path.relative(ROOT, root);
  if (!rel || rel.startsWith('..') || !fs.existsSync(path.join(root, 'project.json'))) {
    throw new Error(`${projectRoot}: not a project of this workspace (no project.json)`);
  }
  const out = path.join(DIST, rel);
  fs.rmSync(out, { recursive: true, force: true });
  const files = sources(path.join(root, 'src'));
  if (files.length === 0) throw new Error(`${rel}: nothing to compile under ${rel}/src`);
  const results = await Promise.allSettled(files.map((f) => compile(f, options)));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [[files[i], r.reason]] : []));
  for (const [file, err] of failures) {
    // swc's message ends with a Rust backtrace when RUST_BACKTRACE is set: the source excerpt is enough.
    const message = (err instanceof Error ? err.message : String(err)).split('\nStack backtrace:')[0].trimEnd();
    process.stderr.write(`${path.relative(ROOT, file)}: ${message}\n`);
  }
  if (failures.length) {
    fs.rmSync(out, { recursive: true, force: true }); // no half-built project to run by mistake
    throw new Error(`${rel}: ${failures.length} of ${files.length} files failed to compile`);
  }
  const config = path.join(root, 'config');
  if (fs.existsSync(config)) fs.cpSync(config, path.join(out, 'config'), { recursive: true });
  process.stdout.write(`${rel}: ${files.length} files -> ${path.relative(ROOT, out)}\n`);
}

async function main(argv) {
  if (argv.length === 0) {
    process.stderr.write('usage: node tools/build.js <projectRoot>...\n');
    return 2;
  }
  const options = swcOptions();
  for (const projectRoot of argv) await buildProject(projectRoot, options);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`build failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
