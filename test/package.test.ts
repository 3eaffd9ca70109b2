// Issue 13: goheap as a published package. Packs the tarball (`npm pack`, whose "prepare"
// script builds dist/) from a copy of the package's sources, installs it offline into a
// new project (goheap has no runtime dependencies), and uses it there as a user would:
// imports `goheap` and `goheap/node`, runs the README's examples (examples/), and runs
// `npx goheap` (help, and a run on worker threads, which starts dist/cli/run-worker.js).
// Also checks the tarball's file list: the build and the docs, no tests, benchmarks,
// Go fixtures or CI files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));
const run = promisify(execFile);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';

/** What package.json's "files" must let through, and what it must keep out. */
const mustShip = [
  'package.json', 'README.md', 'LICENSE', 'cli/bin.mjs', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/node.js',
  'dist/src/node.d.ts', 'dist/cli/goheap.js', 'dist/cli/run-worker.js', 'dist/vis/server.js', 'dist/vis/page/index.html', 'dist/vis/page/app.js',
  'native/binding.gyp', 'native/release.cc', 'native/build.mjs',
];
const mustNotShip = /^(test|goref|bench|scenarios|docs|examples|\.ci|node_modules|src|dist\/test|dist\/bench)\/|(?<!\.d)\.ts$|\.map$|fixtures/;

test('npm pack: the tarball installs offline and works (import, examples, npx goheap)', { timeout: 240_000 }, async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'goheap-pack-'));
  t.after(() => rmSync(tmp, { recursive: true, force: true }));
  // A copy of what `npm pack` reads, so that its build does not touch this checkout's dist/
  // (other test files run the CLI from it at the same time).
  const stage = join(tmp, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'LICENSE', 'tsconfig.json', 'tsconfig.build.json', 'src', 'cli', 'vis', 'native']) cpSync(join(root, f), join(stage, f), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  const { stdout } = await run(npm, ['pack', '--json', '--pack-destination', tmp], { cwd: stage, maxBuffer: 1 << 24 });
  // The build (the prepare script) prints too: the JSON is the last thing, from a line "[".
  const [packed] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as [{ filename: string; files: { path: string }[]; entryCount: number }];
  const files = packed.files.map((f) => f.path).sort();

  await t.test('file list: dist, README, LICENSE, the CLI launcher; no tests, Go fixtures, CI', () => {
    for (const f of mustShip) assert.ok(files.includes(f), `tarball lacks ${f}`);
    const bad = files.filter((f) => mustNotShip.test(f));
    assert.deepEqual(bad, [], 'files that must not ship');
    assert.ok(files.every((f) => f.startsWith('dist/') || f.startsWith('native/') || ['package.json', 'README.md', 'LICENSE', 'cli/bin.mjs'].includes(f)), files.join(' '));
    assert.deepEqual(files.filter((f) => f.startsWith('native/')), ['native/binding.gyp', 'native/build.mjs', 'native/release.cc'], 'the addon ships as source (built at install), never a build of this machine');
  });

  await t.test('cli/bin.mjs runs dist/ when it is current, the sources (tsx) when one is newer', async () => {
    const version = async (): Promise<string> => (await run(process.execPath, [join(stage, 'cli', 'bin.mjs'), '--version'], { cwd: stage })).stdout;
    assert.match(await version(), /; compiled\)\n$/);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(stage, 'src', 'heap.ts'), later, later);
    assert.match(await version(), /; TypeScript sources\)\n$/);
  });

  const proj = join(tmp, 'proj');
  mkdirSync(proj);
  writeFileSync(join(proj, 'package.json'), JSON.stringify({ name: 'uses-goheap', private: true, type: 'module' }));
  await run(npm, ['install', '--offline', '--no-audit', '--no-fund', join(tmp, packed.filename)], { cwd: proj });

  await t.test('import goheap and goheap/node (with their types)', async () => {
    const code = `
      import { Heap, NoFreePError, InvalidPointerError } from 'goheap';
      import { spawnHeapWorker, attachFromWorkerData, serveVisualiser } from 'goheap/node';
      const heap = Heap.create({ reserve: 1 << 26 });
      const a = heap.mallocAs(Float64Array, 4);
      a[3] = 1.5;
      heap.free(a);
      heap.check();
      // The visualiser's page ships built (dist/vis/page): no esbuild needed.
      const vis = await serveVisualiser(heap, { port: 0 });
      const page = await (await fetch(vis.url)).text();
      await vis.close();
      console.log(JSON.stringify([typeof spawnHeapWorker, typeof attachFromWorkerData, NoFreePError.name, new InvalidPointerError('x') instanceof Error, heap.readMemStats().Mallocs, page.includes('<html'), heap.releaseMode]));`;
    const { stdout: out } = await run(process.execPath, ['--input-type=module', '-e', code], { cwd: proj });
    // The install script built the release addon from the shipped sources (g++ and Node's
    // headers are on every machine this project targets): released memory leaves RSS.
    assert.deepEqual(JSON.parse(out), ['function', 'function', 'NoFreePError', true, 1, true, 'madvise']);
    const pkg = join(proj, 'node_modules', 'goheap');
    const shipped = readdirSync(join(pkg, 'dist', 'src'));
    assert.ok(shipped.includes('heap.d.ts') && shipped.includes('index.d.ts'));
  });

  // goheap/node's types use Node's (worker_threads), as any Node project has them: @types/node.
  await t.test('TypeScript finds the types of goheap and goheap/node (package exports)', async () => {
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', strict: true, noEmit: true, typeRoots: [join(root, 'node_modules', '@types')], types: ['node'] }, include: ['check.ts'] }));
    writeFileSync(join(proj, 'check.ts'), [
      "import { Heap, type HeapDescriptor, type MemStats } from 'goheap';",
      "import { attachFromWorkerData } from 'goheap/node';",
      'const heap: Heap = Heap.create();',
      'const xs: Float64Array = heap.mallocAs(Float64Array, 8);',
      'const d: HeapDescriptor = heap.share();',
      'const ms: MemStats = heap.readMemStats();',
      'const attach: () => Heap = attachFromWorkerData;',
      'export { xs, d, ms, attach };',
      '// @ts-expect-error: malloc takes a number',
      "heap.malloc('16');",
    ].join('\n'));
    const tsc = await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', proj], { cwd: proj }).catch((e: { stdout: string }) => e);
    assert.equal(tsc.stdout, '');
  });

  await t.test('the README examples run against the installed package', async () => {
    for (const f of readdirSync(join(root, 'examples')).filter((n) => n.endsWith('.mjs'))) cpSync(join(root, 'examples', f), join(proj, f));
    const { stdout: out } = await run(process.execPath, ['use-it.mjs'], { cwd: proj });
    assert.equal(out, 'HeapAlloc 112 HeapInuse 8192\n');
    const { stdout: w } = await run(process.execPath, ['workers.mjs'], { cwd: proj });
    assert.match(w, /^worker freed its object; live objects after: 1$/m);
  });

  await t.test('npx goheap --help, and a run on 2 worker threads, from dist/', async () => {
    const { stdout: help } = await run(npx, ['--offline', 'goheap', '--help'], { cwd: proj });
    assert.match(help, /^Usage:\n {2}goheap <command> \[options\]/m);
    const { stdout: out } = await run(npx, ['--offline', 'goheap', 'run', 'churn', '--ops', '20k', '--workers', '2', '--quiet'], { cwd: proj });
    assert.match(out, /^goheap run churn: 20,000 operations on 2 workers/m);
  });
});
