// Issue 13: the CLI's rough edges a new user hit. In-process (main() with captured
// streams) except where the process environment matters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../cli/goheap.js';
import { runScenario, ScenarioError } from '../cli/replay.js';
import { plotSVG } from '../cli/plot.js';
import { runWorkload, type GCEvent, type Sample } from '../cli/run.js';
import { workloads } from '../cli/workloads.js';

interface Captured { code: number; stdout: string; stderr: string }

async function goheap(args: string[], env: Record<string, string | undefined> = {}): Promise<Captured> {
  const saved: Record<string, string | undefined> = {};
  for (const k of Object.keys(env)) { saved[k] = process.env[k]; if (env[k] === undefined) delete process.env[k]; else process.env[k] = env[k]; }
  let stdout = '', stderr = '';
  try {
    const code = await main(args, { stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } } });
    return { code, stdout, stderr };
  } finally {
    for (const k of Object.keys(saved)) { if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k]; }
  }
}

const noEnv = { GOGC: undefined, GODEBUG: undefined };

test('--ops N does exactly N operations, for every workload (300k was 300,001)', async () => {
  for (const w of workloads.keys()) {
    for (const ops of w === 'large' ? [1, 7, 3001] : [1, 7, 3001, 300_000]) {
      const r = await runWorkload({ workload: w, ops, seed: 1, reserve: 1 << 30, gogc: 100 });
      assert.equal(r.opsDone, ops, `${w} --ops ${ops}`);
    }
  }
  const r = await goheap(['run', 'mix', '--ops', '300k', '--quiet'], noEnv);
  assert.match(r.stdout, /^goheap run mix: 300,000 operations in /m);
});

test('"1 operation", not "1 operations"', async () => {
  const r = await goheap(['run', 'churn', '--ops', '1', '--quiet'], noEnv);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^goheap run churn: 1 operation in /m);
});

test('GOGC=abc: a clear cause and fix line; --gogc overrides a bad GOGC', async () => {
  const r = await goheap(['run', '--ops', '1000'], { GOGC: 'abc', GODEBUG: undefined });
  assert.equal(r.code, 2);
  assert.equal(r.stderr, "goheap run: the environment variable GOGC=abc must be a percentage (an integer >= 0, like GOGC=100) or 'off'\n" +
    '  fix: set GOGC=100 or GOGC=off, or unset GOGC (or give --gogc, which overrides it)\n');
  const ok = await goheap(['run', '--ops', '1000', '--gogc', '50', '--quiet'], { GOGC: 'abc' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /GOGC=50/);
});

test('--seed abc: a seed message, not one about k/m suffixes', async () => {
  for (const seed of ['abc', '-1', '1.5', '4294967296', '2k']) {
    const r = await goheap(['run', '--seed', seed, '--ops', '100'], noEnv);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `goheap run: --seed must be an integer from 0 to 4294967295, got '${seed}'\n  fix: write e.g. --seed 42\n`);
  }
  const r = await goheap(['run', 'churn', '--seed', '4294967295', '--ops', '100', '--quiet'], noEnv);
  assert.equal(r.code, 0, r.stderr);
});

test('GODEBUG=gctrace=0 turns the gctrace lines off (gctrace=1 and other settings keep them)', async () => {
  const off = await goheap(['run', 'churn', '--ops', '200k'], { GOGC: undefined, GODEBUG: 'madvdontneed=1,gctrace=0' });
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stdout, /^gc \d+ @/m);
  assert.match(off.stdout, /^goheap run churn: 200,000 operations/);
  assert.match(off.stdout, /NumGC {9}[1-9]/);
  for (const godebug of ['gctrace=1', 'madvdontneed=1', '']) {
    const on = await goheap(['run', 'churn', '--ops', '200k'], { GOGC: undefined, GODEBUG: godebug });
    assert.match(on.stdout, /^gc 1 @/m, `GODEBUG=${godebug}`);
  }
});

test('--plot: refuses a non-.svg name and an unwritable path before running', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'goheap-edges-'));
  try {
    const png = await goheap(['run', '--ops', '1000', '--plot', join(dir, 'x.png')], noEnv);
    assert.equal(png.code, 2);
    assert.match(png.stderr, /--plot writes an SVG image; '.*x\.png' does not end in \.svg\n {2}fix: write --plot .*x\.svg/);
    assert.equal(existsSync(join(dir, 'x.png')), false);
    // A path in a missing directory fails at once: no run (no gctrace, no report).
    const missing = await goheap(['run', 'churn', '--ops', '3m', '--plot', join(dir, 'no', 'such', 'x.svg')], noEnv);
    assert.equal(missing.code, 2);
    assert.equal(missing.stdout, '');
    assert.match(missing.stderr, /cannot write --plot '.*x\.svg': the directory '.*such' does not exist\n {2}fix: create the directory first/);
    mkdirSync(join(dir, 'd.svg'));
    const isDir = await goheap(['run', '--ops', '1000', '--plot', join(dir, 'd.svg')], noEnv);
    assert.equal(isDir.code, 2);
    assert.match(isDir.stderr, /is a directory\n {2}fix: /);
    // replay --out too.
    const sc = join(dir, 's.json');
    writeFileSync(sc, JSON.stringify({ name: 's', ops: [{ op: 'checkpoint', label: 'a' }] }));
    const out = await goheap(['replay', sc, '--out', join(dir, 'nope', 'o.json')], noEnv);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /cannot write --out .*fix: /s);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--plot with thousands of GC cycles: close markers are merged, the SVG stays small', () => {
  const samples: Sample[] = [];
  const gcs: GCEvent[] = [];
  for (let i = 0; i <= 400; i++) samples.push({ t: i / 100, ops: i * 25_000, HeapAlloc: 1e6 + i, HeapInuse: 2e6, HeapIdle: 1e5, HeapReleased: 5e4, HeapSys: 3e6, RSS: 4e6, NumGC: i * 10 });
  for (let c = 1; c <= 4000; c++) {
    gcs.push({ cycle: c, forced: c % 1000 === 0, at: c / 1000, opsDone: c * 2500, heapBefore: 1, heapAfter: 1, heapMarked: 1, goal: 2, pauseNs: 1000 } as GCEvent);
  }
  const svg = plotSVG({ title: 't', subtitle: 's', samples, gcs, xAxis: 'ops' });
  const group = svg.slice(svg.indexOf('<g id="gc-cycles">'), svg.indexOf('</g>', svg.indexOf('<g id="gc-cycles">')));
  const lines = group.match(/<line /g)?.length ?? 0;
  assert.ok(lines > 100 && lines <= 1000 / 6 + 8, `${lines} markers for 4,000 cycles over 886 px`);
  assert.match(group, /<title>gc 1–\d+: \d+ cycles<\/title>/);
  assert.match(group, /<title>gc 1000 \(forced\) @1\.000s<\/title>/, 'forced cycles keep markers of their own');
  assert.ok(svg.length < 200_000, `${svg.length} bytes`);
  // Every cycle is in exactly one marker.
  let total = 0;
  for (const m of group.matchAll(/<title>gc (\d+)(?:–(\d+): (\d+)(?: forced)? cycles| )/g)) total += m[3] !== undefined ? Number(m[3]) : 1;
  assert.equal(total, 4000);
  // A few cycles far apart keep one marker each.
  const few = plotSVG({ title: 't', subtitle: 's', samples, gcs: gcs.filter((g) => g.cycle % 400 === 0), xAxis: 'ops' });
  assert.equal(few.match(/<title>gc \d+ (\(forced\) )?@/g)?.length, 10);
});

test('replay: 100 goroutines in a stack op replay (the 60 limit is the Go runner\'s only)', () => {
  const r = runScenario({ name: 'g100', ops: [{ op: 'checkpoint', label: 'a' }, { op: 'stack', goroutines: 100, depth: 16384 }, { op: 'checkpoint', label: 'b' }, { op: 'stackRelease' }, { op: 'checkpoint', label: 'c' }] });
  assert.equal(r.deltas[0]!.fields.StackInuse, 100 * 16384);
  assert.equal(r.deltas[1]!.fields.StackInuse, -100 * 16384);
});

test('replay: every scenario error has a fix: line', async () => {
  const cp = { op: 'checkpoint', label: 'a' };
  const bad: unknown[] = [
    [], { ops: [] }, { name: 'x', description: 3, ops: [] }, { name: 'x' }, { name: 'x', extra: 1, ops: [] },
    { name: 'x', ops: [1] }, { name: 'x', ops: [{ op: 'nope' }] }, { name: 'x', ops: [{ ...cp, note: 1 }] },
    { name: 'x', ops: [cp, cp] }, { name: 'x', ops: [cp, { op: 'alloc', size: 0 }] }, { name: 'x', ops: [cp, { op: 'alloc', size: 8, keep: '' }] },
    { name: 'x', ops: [cp, { op: 'alloc', size: 8, pointers: 'yes' }] }, { name: 'x', ops: [cp, { op: 'alloc', size: 12, pointers: true }] },
    { name: 'x', ops: [cp, { op: 'free', set: 's' }] }, { name: 'x', ops: [cp, { op: 'stack', goroutines: 0, depth: 4096 }] },
    { name: 'x', ops: [cp, { op: 'stack', goroutines: 2, depth: 5000 }] }, { name: 'x', ops: [cp, { op: 'gc', x: 1 }] },
    { name: 'x', ops: [{ op: 'alloc', size: 8 }] }, { name: 'x', ops: [cp, { op: 'alloc', size: 1 << 30, count: 8 }] },
  ];
  const dir = mkdtempSync(join(tmpdir(), 'goheap-edges-'));
  try {
    // Not a scenario file at all: a directory, a missing file, not JSON.
    writeFileSync(join(dir, 'not.json'), '{"name": "x", ops: []}');
    for (const f of [dir, join(dir, 'missing.json'), join(dir, 'not.json')]) {
      const r = await goheap(['replay', f], noEnv);
      assert.equal(r.code, 1, f);
      assert.match(r.stderr, /^goheap replay: .+\n {2}fix: .+\n$/, r.stderr);
    }
    for (const [i, sc] of bad.entries()) {
      assert.throws(() => runScenario(sc, { reserve: 1 << 30 }), (e: unknown) => e instanceof ScenarioError && e.fix.length > 0, JSON.stringify(sc));
      const f = join(dir, `${i}.json`);
      writeFileSync(f, JSON.stringify(sc));
      const r = await goheap(['replay', f], noEnv);
      assert.equal(r.code, 1, JSON.stringify(sc));
      assert.match(r.stderr, /^goheap replay: .+\n {2}fix: .+\n$/, `${JSON.stringify(sc)}: ${r.stderr}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('replay --help and the README describe stack ops as working (no "not supported yet")', async () => {
  const h = await goheap(['replay', '--help'], noEnv);
  assert.doesNotMatch(h.stdout, /not supported/);
  assert.match(h.stdout, /stack +goroutines, depth/);
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  assert.doesNotMatch(readme, /not supported yet|stackAlloc does not exist/);
});
