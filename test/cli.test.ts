// Issue 5: the goheap command. Spawns cli/bin.mjs (help, usage errors, sizeclasses, run
// --json, run --plot, replay errors) and calls runScenario in-process for exact deltas.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { memStatsFields } from '../src/index.js';
import { runScenario, ScenarioError, type ReplayResult } from '../cli/replay.js';
import { main } from '../cli/goheap.js';
import { gctraceLine } from '../cli/report.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'cli', 'bin.mjs');

interface Ran { code: number | null; stdout: string; stderr: string }

function goheap(args: string[], env: Record<string, string> = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: { ...process.env, GOGC: '', ...env } });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

// The spawned commands run side by side: each is mostly process start-up (~0.8 s of CPU
// for tsx), so only the cases the issue names are spawned; the other cases call main()
// in-process below.
test('goheap command (spawned)', { concurrency: true }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'goheap-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const subtests: Promise<void>[] = [];

  const helps: [string[], string[]][] = [
    [['--help'], ['run', 'replay', 'sizeclasses', 'help', 'Exit status']],
    [['run', '--help'], ['--ops', '--duration', '--seed', '--reserve', '--gogc', '--workers', '--json', '--plot', '--quiet', 'churn', 'mix', 'large', 'fragment']],
    [['replay', '--help'], ['--out', '--reserve', 'checkpoint', 'alloc', 'freeEvery', 'releaseOS', 'deltas']],
    [['sizeclasses', '--help'], ['size class table', '--help']],
  ];
  for (const [args, words] of helps) {
    subtests.push(t.test(`goheap ${args.join(' ')}: exit 0, mentions ${words.length} options`, async () => {
      const r = await goheap(args);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      for (const w of words) assert.ok(r.stdout.includes(w), `help of '${args.join(' ')}' mentions ${w}`);
    }));
  }

  subtests.push(t.test('goheap run --ops abc: usage error, exit 2, cause and fix on stderr', async () => {
    const r = await goheap(['run', '--ops', 'abc']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^goheap run: --ops must be an integer >= 1 .*got 'abc'\n {2}fix: /);
  }));

  subtests.push(t.test('goheap sizeclasses: the 67 classes of Go 1.19', async () => {
    const r = await goheap(['sizeclasses']);
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter((l) => /^\/\/\s+\d+\s+\d+\s+\d+\s+\d+\s+\d+\s+[\d.]+%\s+\d+$/.test(l));
    assert.equal(rows.length, 67);
    assert.match(rows[0]!, /^\/\/\s+1\s+8\s+8192\s+1024\s+0\s+87\.50%\s+8$/);
    assert.match(rows[66]!, /^\/\/\s+67\s+32768\s+32768\s+1\s+0\s+12\.50%\s+8192$/);
  }));

  subtests.push(t.test('goheap run --ops 20000 --json: one JSON document with MemStats and gc cycles', async () => {
    const r = await goheap(['run', '--ops', '20000', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '', 'no progress bar when stderr is not a terminal');
    const doc = JSON.parse(r.stdout) as { workload: string; opsDone: number; gcs: { cycle: number; forced: boolean }[]; samples: unknown[]; memstats: Record<string, unknown> };
    assert.equal(doc.workload, 'mix');
    assert.ok(doc.opsDone >= 20000 && doc.opsDone < 20010);
    for (const f of memStatsFields) assert.ok(f in doc.memstats, `memstats has ${f}`);
    const ms = doc.memstats as Record<string, number>;
    assert.equal(ms.HeapIdle! + ms.HeapInuse!, ms.HeapSys);
    assert.equal(ms.HeapAlloc, ms.Alloc);
    assert.ok(doc.gcs.length >= 2, 'the mix workload ends with gc() and freeOSMemory()');
    assert.deepEqual(doc.gcs.map((g) => g.cycle), doc.gcs.map((_, i) => i + 1));
    assert.equal(ms.NumGC, doc.gcs.length);
    assert.ok(doc.gcs.some((g) => g.forced));
    assert.ok(doc.samples.length > 100);
  }));

  subtests.push(t.test('goheap run --plot x.svg: an SVG with 6 series (the heap fields and RSS)', async () => {
    const svg = join(dir, 'x.svg');
    const r = await goheap(['run', 'fragment', '--ops', '40000', '--plot', svg, '--quiet']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /^gc \d/m, '--quiet: no gctrace lines');
    const text = readFileSync(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.match(text, /<\/svg>\n$/);
    const series = [...text.matchAll(/<polyline data-series="(\w+)"[^>]* points="([^"]*)"/g)];
    assert.deepEqual(series.map((m) => m[1]).sort(), ['HeapAlloc', 'HeapIdle', 'HeapInuse', 'HeapReleased', 'HeapSys', 'RSS']);
    for (const m of series) assert.ok(m[2]!.split(' ').length > 50, `${m[1]} has points`);
    // Well-formed: every element closed, in order.
    const stack: string[] = [];
    for (const m of text.matchAll(/<(\/?)([a-zA-Z][\w-]*)[^>]*?(\/?)>/g)) {
      if (m[3] === '/') continue;
      if (m[1] === '/') assert.equal(stack.pop(), m[2]);
      else stack.push(m[2]!);
    }
    assert.deepEqual(stack, []);
    for (const label of ['HeapSys', 'HeapInuse', 'HeapAlloc', 'HeapIdle', 'HeapReleased', 'MiB', 'operations', '40k<', 'forced GC']) assert.ok(text.includes(label), `has ${label}`);
  }));
  await Promise.all(subtests);
});

// ----- main() in-process: more usage errors, replay errors, the human report -------------

interface Captured { code: number; stdout: string; stderr: string }

async function inProcess(args: string[]): Promise<Captured> {
  let stdout = '', stderr = '';
  const code = await main(args, { stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } } });
  return { code, stdout, stderr };
}

test('main: usage errors exit 2 with the cause and a fix on stderr', async () => {
  const cases: [string[], RegExp][] = [
    [['run', '--opps', '10'], /unknown option '--opps'\n {2}fix: did you mean '--ops'\?/],
    [['run', 'nosuch'], /unknown workload 'nosuch'[\s\S]*churn, mix, large, fragment/],
    [['run', '--workers', '0'], /--workers must be an integer from 1 to 16, got '0'\n {2}fix: /],
    [['run', '--workers', 'abc'], /--workers must be an integer from 1 to 16, got 'abc'\n {2}fix: /],
    [['run', '--workers', '17'], /--workers must be an integer from 1 to 16, got '17'\n {2}fix: /],
    [['run', '--workers', '2.5'], /--workers must be an integer from 1 to 16/],
    [['run', '--workers', '4', '--ops', '3'], /--ops 3 is fewer than --workers 4/],
    [['run', '--reserve', '5g'], /more than 4 GiB/],
    [['run', '--reserve', '100000'], /multiple of 64 KiB/],
    [['run', '--gogc', 'fast'], /--gogc must be a percentage/],
    [['run', '--ops', '10', '--duration', '1'], /--ops and --duration both given/],
    [['run', '--json=yes'], /takes no value/],
    [['run', '--plot'], /'--plot' needs a value/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['sizeclasses', 'extra'], /unexpected argument 'extra'/],
    [['replay'], /missing the scenario file/],
    [['help', 'nope'], /unknown command 'nope'/],
  ];
  for (const [args, re] of cases) {
    const r = await inProcess(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '', args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
  for (const args of [['help'], ['help', 'run'], ['help', 'replay'], ['help', 'sizeclasses'], ['help', 'help'], ['--version'], []]) {
    const r = await inProcess(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.ok(r.stdout.length > 0);
  }
});

test('main: replay failures exit 1 (bad stack depth, bad op, missing file); --out writes the file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'goheap-cli-'));
  try {
    const stacks = join(dir, 'stacks.json');
    writeFileSync(stacks, JSON.stringify({ name: 's', ops: [{ op: 'checkpoint', label: 'a' }, { op: 'stack', goroutines: 2, depth: 3000 }, { op: 'checkpoint', label: 'b' }] }));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ name: 'b', ops: [{ op: 'checkpoint', label: 'a' }, { op: 'alloc', size: 0, count: 1 }] }));
    const notJson = join(dir, 'not.json');
    writeFileSync(notJson, '{"name": "x", ops: []}');
    const r1 = await inProcess(['replay', stacks]);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /op 1 \("stack"\): "depth" must be a power of two/);
    const r2 = await inProcess(['replay', bad]);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /op 1 \("alloc"\): "size" must be an integer in \[1, 4294967296\], got 0/);
    const r3 = await inProcess(['replay', join(dir, 'missing.json')]);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /cannot read .*missing\.json.*no such file/);
    const r4 = await inProcess(['replay', notJson]);
    assert.equal(r4.code, 1);
    assert.match(r4.stderr, /is not valid JSON/);

    const sc = join(dir, 'small.json'), out = join(dir, 'small-out.json');
    writeFileSync(sc, JSON.stringify({ name: 'small', ops: [{ op: 'checkpoint', label: 'a' }, { op: 'alloc', size: 24, count: 100, keep: 's' }, { op: 'checkpoint', label: 'b' }] }));
    const r5 = await inProcess(['replay', sc, '--out', out]);
    assert.equal(r5.code, 0, r5.stderr);
    assert.equal(r5.stdout, '');
    const res = JSON.parse(readFileSync(out, 'utf8')) as ReplayResult;
    assert.equal(res.name, 'small');
    assert.deepEqual(res.deltas[0]!.bySize, [{ class: 3, size: 24, Mallocs: 100, Frees: 0 }]);
    const r6 = await inProcess(['replay', sc]);
    assert.deepEqual(JSON.parse(r6.stdout).deltas, res.deltas);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('main: run prints gctrace lines, then the report grouped as in Go\'s docs', async () => {
  const r = await inProcess(['run', 'churn', '--ops', '300k', '--gogc', '50']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '', 'no progress bar: stderr is not a terminal');
  assert.match(r.stdout, /^gc 1 @\d+\.\d{3}s \d+%: [\d.]+ ms clock, \d+->\d+->\d+ MB, \d+ MB goal, 1 P$/m);
  let at = -1;
  for (const g of ['General statistics', 'Heap memory statistics', 'Stack memory statistics', 'Off-heap memory statistics', 'Garbage collector statistics', 'BySize']) {
    const i = r.stdout.indexOf(`\n${g}`);
    assert.ok(i > at, `${g} comes next`);
    at = i;
  }
  assert.match(r.stdout, /\n {2}HeapSys +[\d.]+ MiB \([\d,]+ B\)/);
  assert.match(r.stdout, /GOGC=50/);
  const q = await inProcess(['run', 'large', '--ops', '400', '--gogc', 'off', '--quiet']);
  assert.equal(q.code, 0, q.stderr);
  assert.doesNotMatch(q.stdout, /^gc /m);
  assert.match(q.stdout, /GOGC=off/);
  assert.match(q.stdout, /NumGC +0 /);
});

test('main: run churn --workers 2 --ops 50000 --json: per-worker counts, consistent MemStats', async () => {
  const r = await inProcess(['run', 'churn', '--workers', '2', '--ops', '50000', '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, '');
  const doc = JSON.parse(r.stdout) as {
    options: { workers: number; ops: number }; opsDone: number; elapsedSec: number; opsPerSec: number;
    workers: { id: number; seed: number; ops: number; opsDone: number; elapsedSec: number; opsPerSec: number; gcCycles: number }[];
    gcs: { cycle: number; worker: number }[]; samples: { ops: number }[]; memstats: Record<string, number>;
  };
  assert.equal(doc.options.workers, 2);
  assert.equal(doc.workers.length, 2);
  assert.deepEqual(doc.workers.map((w) => [w.id, w.seed, w.ops, w.opsDone]), [[0, 1, 25000, 25000], [1, 2, 25000, 25000]], '--ops is split between the workers; seed + index');
  assert.equal(doc.opsDone, 50000);
  for (const w of doc.workers) assert.ok(w.elapsedSec > 0 && w.opsPerSec > 0 && w.elapsedSec <= doc.elapsedSec + 0.05, JSON.stringify(w));
  assert.ok(doc.opsPerSec > 0);
  const ms = doc.memstats;
  for (const f of memStatsFields) assert.ok(f in ms, `memstats has ${f}`);
  assert.equal(ms.HeapIdle! + ms.HeapInuse!, ms.HeapSys);
  assert.equal(ms.Sys, ms.HeapSys! + ms.StackSys! + ms.MSpanSys! + ms.MCacheSys! + ms.BuckHashSys! + ms.GCSys! + ms.OtherSys!);
  // churn fills its window of 65,536 objects first: 25,000 ops per worker are all mallocs (16-512 B, none tiny).
  assert.equal(ms.Mallocs, 50000);
  assert.equal(ms.Frees, 0);
  assert.equal(ms.HeapObjects, 50000);
  assert.ok(ms.NumGC! >= 0);
  assert.equal(ms.NumGC, doc.gcs.length, 'every cycle a worker ran was reported');
  assert.deepEqual(doc.gcs.map((g) => g.cycle).sort((a, b) => a - b), doc.gcs.map((_, i) => i + 1));
  for (const g of doc.gcs) assert.ok(g.worker === 0 || g.worker === 1);
  assert.equal(doc.workers[0]!.gcCycles + doc.workers[1]!.gcCycles, doc.gcs.length);
  assert.ok(doc.samples.length >= 2);
  assert.equal(doc.samples.at(-1)!.ops, 50000);
});

test('gctraceLine: with --workers, N P and the worker that ran the cycle', () => {
  const ev = { cycle: 3, forced: false, heapBefore: 12 << 20, heapAfter: 13 << 20, heapMarked: 6 << 20, goal: 26 << 20, pauseNs: 190_000, at: 0.512, opsDone: 1000, worker: 1 };
  assert.equal(gctraceLine(ev, 10e6, 0.5, 2), 'gc 3 @0.512s 1%: 0.19 ms clock, 12->13->6 MB, 26 MB goal, 2 P (w1)');
  assert.equal(gctraceLine({ ...ev, worker: undefined, forced: true }, 10e6, 0.5), 'gc 3 @0.512s 2%: 0.19 ms clock, 12->13->6 MB, 26 MB goal, 1 P (forced)');
});

// ----- runScenario: exact deltas -------------------------------------------------------

type Fields = ReplayResult['deltas'][number]['fields'];
const zero: Fields = {
  HeapAlloc: 0, HeapInuse: 0, HeapIdle: 0, HeapReleased: 0, HeapSys: 0, HeapObjects: 0, Mallocs: 0,
  Frees: 0, TotalAlloc: 0, StackInuse: 0, StackSys: 0, MSpanInuse: 0, Sys: 0,
};

test('runScenario: 32,768 x 16 B noscan fill 64 spans of class 2', () => {
  const r = runScenario({
    name: 'small-16',
    ops: [
      { op: 'checkpoint', label: 'before' },
      { op: 'alloc', size: 16, count: 32768, pointers: false, keep: 'a' },
      { op: 'checkpoint', label: 'after' },
    ],
  });
  assert.equal(r.name, 'small-16');
  assert.deepEqual(r.checkpoints.map((c) => c.label), ['before', 'after']);
  for (const f of memStatsFields) {
    if (f !== 'PauseNs' && f !== 'PauseEnd') assert.ok(f in r.checkpoints[0]!.memstats, `checkpoint has ${f}`);
  }
  assert.equal(r.checkpoints[0]!.memstats.BySize.length, 61);
  const first = r.checkpoints[0]!.memstats;
  assert.ok(first.HeapSys > 0, 'warmed up: the heap has grown once, as the Go runner\'s has');
  assert.equal(first.HeapIdle, first.HeapReleased, 'warmed up: every idle page is released');
  assert.equal(first.EnableGC, false, 'GC off, like GOGC=off');
  assert.equal(r.deltas.length, 1);
  const d = r.deltas[0]!;
  assert.equal(d.from, 'before');
  assert.equal(d.to, 'after');
  assert.equal(d.fields.HeapInuse, 524_288);
  assert.equal(d.fields.HeapAlloc, 524_288);
  assert.equal(d.fields.Mallocs, 32_768);
  assert.equal(d.fields.HeapObjects, 32_768);
  assert.equal(d.fields.TotalAlloc, 524_288);
  assert.equal(d.fields.Frees, 0);
  assert.deepEqual(d.bySize, [{ class: 2, size: 16, Mallocs: 32768, Frees: 0 }]);
  assert.equal(d.fields.HeapIdle + d.fields.HeapInuse, d.fields.HeapSys);
});

test('runScenario: 65,536 x 16 B kept, free every 2nd, gc: HeapAlloc -524,288, HeapInuse unchanged', () => {
  const r = runScenario({
    name: 'frag-16',
    ops: [
      { op: 'checkpoint', label: 'before' },
      { op: 'alloc', size: 16, count: 65536, keep: 'a' },
      { op: 'checkpoint', label: 'allocated' },
      { op: 'free', set: 'a', freeEvery: 2 },
      { op: 'gc' },
      { op: 'checkpoint', label: 'after-gc' },
    ],
  });
  assert.equal(r.deltas.length, 2);
  const [alloc, gc] = r.deltas;
  assert.equal(alloc!.fields.HeapAlloc, 1_048_576);
  assert.equal(alloc!.fields.HeapInuse, 1_048_576);
  assert.equal(gc!.from, 'allocated');
  assert.equal(gc!.fields.HeapAlloc, -524_288);
  assert.equal(gc!.fields.HeapInuse, 0, 'every span keeps half its objects');
  assert.equal(gc!.fields.Frees, 32_768);
  assert.equal(gc!.fields.HeapObjects, -32_768);
  assert.equal(gc!.fields.Mallocs, 0);
  assert.deepEqual(gc!.bySize, [{ class: 2, size: 16, Mallocs: 0, Frees: 32768 }]);
});

test('runScenario: free without gc changes nothing (freed objects wait for the sweep)', () => {
  const r = runScenario({
    name: 'free-without-gc',
    ops: [
      { op: 'alloc', size: 256, count: 5000, keep: 'a' },
      { op: 'alloc', size: 50000, count: 5, keep: 'a' },
      { op: 'checkpoint', label: 'allocated' },
      { op: 'free', set: 'a' },
      { op: 'checkpoint', label: 'freed' },
      { op: 'free', set: 'a', note: 'the set is empty now' },
      { op: 'checkpoint', label: 'freed-again' },
    ],
  });
  assert.equal(r.deltas.length, 2);
  for (const d of r.deltas) {
    assert.deepEqual(d.fields, zero, `${d.from} -> ${d.to}`);
    assert.deepEqual(d.bySize, []);
  }
});

test('runScenario: validation names the op; stack ops allocate N stacks of D bytes', () => {
  const bad = (ops: unknown[], re: RegExp, index: number): void => {
    assert.throws(() => runScenario({ name: 'x', ops }), (e: unknown) => e instanceof ScenarioError && re.test(e.message) && e.opIndex === index);
  };
  const cp = (label: string): unknown => ({ op: 'checkpoint', label });
  bad([cp('a'), cp('a')], /^op 1 \("checkpoint"\): duplicate checkpoint label "a"$/, 1);
  bad([cp('a'), { op: 'free', set: 'nope' }], /set "nope" was never kept into/, 1);
  bad([cp('a'), { op: 'alloc', size: 12, pointers: true }], /multiple of 8/, 1);
  bad([cp('a'), { op: 'alloc', size: 8, count: 1.5 }], /"count" must be an integer/, 1);
  bad([cp('a'), { op: 'alloc', size: 8, keeep: 'x' }], /unknown key "keeep"/, 1);
  bad([cp('a'), { op: 'malloc', size: 8 }], /^op 1: unknown op "malloc"$/, 1);
  bad([{ op: 'alloc', size: 8, keep: 'x' }, cp('a'), { op: 'free', set: 'x', freeEvery: 0 }], /^op 2 \("free"\): "freeEvery" must be an integer in \[1, /, 2);
  bad([{ op: 'alloc', size: 8 }], /no checkpoint/, -1);
  bad([cp('a'), { op: 'stack', goroutines: 4, depth: 3000 }], /^op 1 \("stack"\): "depth" must be a power of two/, 1);
  const st = runScenario({ name: 's', ops: [cp('a'), { op: 'stack', goroutines: 4, depth: 8192 }, cp('b'), { op: 'stackRelease' }, cp('c')] });
  assert.equal(st.deltas[0]!.fields.StackInuse, 32768, 'four 8 KiB stacks fill one 32 KiB pool span');
  assert.equal(st.deltas[1]!.fields.StackInuse, -32768, 'released: the span goes back to the heap');
  assert.throws(() => runScenario({ ops: [] }), /needs a "name"/);
  assert.throws(() => runScenario([]), /must be a JSON object/);
});

test('runScenario: freeEvery leaves holes, as the Go runner does', () => {
  // 8 objects of 1 KiB; freeEvery 2 frees 0,2,4,6; then freeEvery 3 frees 3 (0 and 6 are holes).
  const r = runScenario({
    name: 'holes',
    ops: [
      { op: 'alloc', size: 1024, count: 8, keep: 'a' },
      { op: 'gc' },
      { op: 'checkpoint', label: 'a' },
      { op: 'free', set: 'a', freeEvery: 2 },
      { op: 'gc' },
      { op: 'checkpoint', label: 'b' },
      { op: 'free', set: 'a', freeEvery: 3 },
      { op: 'gc' },
      { op: 'checkpoint', label: 'c' },
      { op: 'free', set: 'a' },
      { op: 'gc' },
      { op: 'checkpoint', label: 'd' },
    ],
  });
  assert.deepEqual(r.deltas.map((d) => d.fields.Frees), [4, 1, 3]);
});

test('main: run --memlimit / GOMEMLIMIT with GOGC off, GODEBUG=scavtrace=1 lines, total memory and RSS in the report', async () => {
  const saved = { GOMEMLIMIT: process.env.GOMEMLIMIT, GODEBUG: process.env.GODEBUG };
  try {
    process.env.GODEBUG = 'gctrace=1,scavtrace=1';
    process.env.GOMEMLIMIT = '24MiB';
    const r = await inProcess(['run', 'churn', '--ops', '400k', '--gogc', 'off']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /GOGC=off, GOMEMLIMIT=24 MiB/);
    // GOGC off, yet cycles run: the memory limit starts them.
    assert.match(r.stdout, /^gc 1 @/m);
    assert.match(r.stdout, /^gc \d+ .*\n(scav \d+ KiB work, \d+ KiB total, \d+% util)$/m);
    assert.match(r.stdout, /\n {2}total memory +[\d.]+ MiB/);
    assert.match(r.stdout, /\n {2}RSS +[\d.]+ MiB \([\d,]+ B\) +the whole process's resident memory.*release mode (madvise|none)/);
    const m = /NumGC +(\d+)/.exec(r.stdout);
    assert.ok(m !== null && Number(m[1]) > 0);
    // --memlimit wins over GOMEMLIMIT; --json carries memlimit, rss, releaseMode and RSS samples.
    const j = await inProcess(['run', 'large', '--ops', '400', '--memlimit', '64m', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const doc = JSON.parse(j.stdout);
    assert.equal(doc.options.memlimit, 64 << 20);
    assert.ok(doc.rss > 0 && typeof doc.releaseMode === 'string');
    assert.ok(doc.samples.every((s: { RSS: number }) => s.RSS > 0));
    delete process.env.GOMEMLIMIT;
    const off = await inProcess(['run', 'large', '--ops', '400', '--memlimit', 'off', '--json']);
    assert.equal(JSON.parse(off.stdout).options.memlimit, 'off');
    const bad = await inProcess(['run', '--memlimit', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--memlimit must be a byte count/);
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  }
});
