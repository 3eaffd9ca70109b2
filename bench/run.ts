/**
 * run.ts — the benchmark suite: `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Every (allocator x workload) run is a fresh child process (bench/child.ts under tsx), so
 * no run inherits another's JIT feedback, heap or garbage, and each process's call sites
 * see one allocator class. Runs are interleaved (run 1 of everything, then run 2, ...) so
 * slow drifts of the machine spread over all cases. Raw results go to bench/results.json,
 * and BENCHMARKS.md is regenerated from them (bench/report.ts).
 *
 * Options:
 *   --quick              1 run, 1/16 of the ops, short time caps (a smoke test)
 *   --runs N             runs per case (default 5)
 *   --alloc a,b          only these allocators (default: all)
 *   --workload x,y       only these workload ids (default: all; the (e) multi-worker ones are
 *                        e-churn-1w, e-churn-2w, e-prodcons — goheap + its baseline only;
 *                        `wasm` is bench/wasm.ts: binary-trees in wasm, goheap vs TLSF/dlmalloc)
 *   --profile            run the children with --cpu-prof (profiles in bench/.build/profiles;
 *                        summarise one with `npx tsx bench/profile.ts FILE`)
 *   --no-report          do not rewrite BENCHMARKS.md
 *   --out FILE           results file (default bench/results.json)
 *
 * A run limited by --workload or --alloc MERGES into an existing results file: its cases
 * replace the same (workload, allocator) cases there, everything else is kept, and the
 * partial run is recorded in meta.merged (the report names it). A full run replaces the file.
 *
 * @module
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpus } from 'node:os';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { allocatorNames, type AllocatorName } from './allocators.js';
import type { RunResult } from './common.js';
import type { ChildArgs } from './child.js';
import { benchDir, buildDir, buildTlsf, packageVersion, ascFlags } from './peers/as-build.js';
import { writeReport } from './report.js';
import type { ResultsFile, WasmResults } from './results.js';
import { viewVariants, type ViewVariant } from './views.js';
import { allWorkloads as workloads } from './workloads.js';
import { averageWhere, whereTimeGoes, type WhereShares } from './where.js';

/** The --workload id of bench/wasm.ts's section (not a workload of child.ts). */
const WASM = 'wasm';

/**
 * Every run warms up for at least this long (and at least its workload's warmupOps) before
 * it is timed: goheap's slow paths (refill, sweep, GC cycle) run once per span or per
 * cycle, and TurboFan optimises them only after ~1-2 M ops; a shorter warm-up times them
 * half-interpreted. The first warmupOps are kept as each run's "cold" figure.
 */
const WARMUP_MS = 400;
/** A warm-up never takes longer than this (a slow allocator with a large window). */
const WARMUP_CAP_MS = 1000;

/**
 * bench/wasm.ts at a size that keeps it to about a minute of the suite on a quiet machine:
 * depth 14 (3.1M nodes per run), 3 runs of its 9 cases, then the boundary loops. (One run
 * at depth 14 took 50 s wall with the 2 cores at load average 9, 18 s of it on the CPU.)
 */
const wasmArgs = (quick: boolean): string[] => ['--depth', quick ? '12' : '14', '--runs', quick ? '1' : '3', '--threads', '2'];

/** bench/wasm.ts --json in its own process, with the conditions it ran in. */
function runWasm(quick: boolean, git: string): WasmResults {
  const t0 = Date.now(), date = new Date().toISOString(), loadAvgBefore = loadAvg();
  const p = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, 'wasm.ts'), '--json', ...wasmArgs(quick)], {
    encoding: 'utf8', timeout: 600_000, maxBuffer: 16 << 20,
  });
  const meta = { date, durationS: (Date.now() - t0) / 1000, loadAvgBefore, loadAvgAfter: loadAvg(), git };
  try {
    if (p.status !== 0) throw new Error(p.error ? String(p.error) : `exit ${p.status ?? p.signal}: ${(p.stderr ?? '').trim().split('\n').slice(-8).join('\n')}`);
    const r = JSON.parse(p.stdout) as WasmResults;
    process.stderr.write(`[wasm] depth ${r.depth}, ${r.runs} run(s), ${meta.durationS.toFixed(1)} s\n`);
    return { ...r, meta };
  } catch (e) {
    process.stderr.write(`[wasm] FAILED ${String(e).split('\n')[0]}\n`);
    const b = NaN;
    return { depth: 0, threads: 0, runs: 0, nodesPerRun: 0, binaryTrees: {}, boundaryNs: { wasmToJsCall: b, jsToWasmCall: b, goheapPairFromWasm: b, goheapPairFromJs: b, tlsfPairInWasm: b, dlmallocPairInWasm: b }, meta, error: String(e) };
  }
}

function parseArgs(argv: string[]) {
  const o = { quick: false, runs: 0, allocs: [...allocatorNames] as AllocatorName[], workloads: [...workloads.map((w) => w.id), WASM], profile: false, report: true, out: join(benchDir, 'results.json'), partial: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--runs') o.runs = Number(val());
    else if (a === '--alloc') { o.allocs = val().split(',') as AllocatorName[]; o.partial = true; }
    else if (a === '--workload') { o.workloads = val().split(','); o.partial = true; }
    else if (a === '--profile') o.profile = true;
    else if (a === '--no-report') o.report = false;
    else if (a === '--out') o.out = val();
    else if (a === '--help' || a === '-h') {
      console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\n').slice(1, 24).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (try --help)`);
  }
  for (const a of o.allocs) if (!(allocatorNames as readonly string[]).includes(a)) throw new Error(`unknown allocator ${a}; known: ${allocatorNames.join(', ')}`);
  for (const w of o.workloads) if (w !== WASM && !workloads.some((x) => x.id === w)) throw new Error(`unknown workload ${w}; known: ${workloads.map((x) => x.id).join(', ')}, ${WASM}`);
  if (o.runs === 0) o.runs = o.quick ? 1 : 5;
  return o;
}

function cpuModel(): string {
  try {
    const m = /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1].trim();
  } catch { /* not Linux */ }
  return cpus()[0]?.model ?? 'unknown';
}

/** Short hash of goheap's sources (src/**), so a suite that ran while src/ was being edited says so. */
function srcHash(): string {
  const root = join(benchDir, '..', 'src');
  const h = createHash('sha1');
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) h.update(e.name).update(readFileSync(p));
    }
  };
  try { walk(root); } catch { return 'unknown'; }
  return h.digest('hex').slice(0, 10);
}

function gitHead(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: benchDir, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: benchDir, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} + uncommitted changes in src/` : head;
  } catch {
    return 'unknown';
  }
}

function loadAvg(): string {
  try { return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { return 'n/a'; }
}

/** The typed-array view micro-benchmark (bench/views.ts), each variant in its own process. */
function runViews(runs: number): { variant: ViewVariant; nsPerAccess: number[] }[] {
  const out: { variant: ViewVariant; nsPerAccess: number[] }[] = [];
  for (const v of Object.keys(viewVariants) as ViewVariant[]) {
    const ns: number[] = [];
    for (let r = 0; r < runs; r++) {
      const p = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, 'views.ts'), v], { encoding: 'utf8', timeout: 60_000 });
      const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('VIEWS '));
      if (line !== undefined) ns.push((JSON.parse(line.slice(6)) as { nsPerAccess: number }).nsPerAccess);
    }
    out.push({ variant: v, nsPerAccess: ns });
    process.stderr.write(`[views] ${v.padEnd(32)} ${ns.map((x) => x.toFixed(2)).join(' ')} ns/access\n`);
  }
  return out;
}

/**
 * A partial run (--workload / --alloc) into an existing results file: the new runs replace
 * the old runs of the same cases, the rest stays; the old meta stays (it describes the
 * suite most results come from) and the partial run is appended to meta.merged.
 */
function merge(old: ResultsFile, fresh: ResultsFile, cases: string[]): ResultsFile {
  const replaced = new Set(cases);
  const { meta } = fresh;
  const prior = (old.meta.merged ?? []).filter((m) => !m.cases.every((c) => replaced.has(c)));
  return {
    meta: {
      ...old.meta,
      merged: [...prior, {
        date: meta.date, command: meta.command, quick: meta.quick, runs: meta.runs, durationS: meta.durationS,
        git: meta.git, loadAvgBefore: meta.loadAvgBefore, loadAvgAfter: meta.loadAvgAfter, cases,
      }],
    },
    results: [...old.results.filter((r) => !replaced.has(`${r.workload}|${r.allocator}`)), ...fresh.results],
    views: old.views,
    wasm: fresh.wasm ?? old.wasm,
    where: fresh.where ?? old.where,
  };
}

/**
 * "Where the time goes": goheap on pairs, `runs` more times under --cpu-prof (not timed;
 * the profiler slows the loop), each sample put in one part of the allocator
 * (bench/where.ts); the shares averaged over the runs.
 */
function runWhere(runs: number, wasmPath: string, git: string): WhereShares {
  const dir = join(buildDir, 'where');
  mkdirSync(dir, { recursive: true });
  const all: WhereShares[] = [];
  for (let run = 1; run <= runs; run++) {
    const name = `pairs-${run}.cpuprofile`;
    const args: ChildArgs = { allocator: 'goheap', workload: 'pairs', run, scale: 1, warmupMs: WARMUP_MS, warmupCapMs: WARMUP_CAP_MS, measureCapMs: 700, wasmPath };
    spawnSync(process.execPath, ['--expose-gc', '--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}`, '--import', 'tsx', join(benchDir, 'child.ts'), JSON.stringify(args)], { encoding: 'utf8', timeout: 180_000 });
    all.push(whereTimeGoes(join(dir, name), git, 'pairs'));
    process.stderr.write(`[where] run ${run}: goheap pairs profiled\n`);
  }
  return averageWhere(all);
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const t0 = Date.now();
  const loadBefore = loadAvg();
  const git = gitHead();
  const wasm = buildTlsf();
  const profDir = join(buildDir, 'profiles');
  if (opts.profile) mkdirSync(profDir, { recursive: true });
  const cases: { w: string; a: AllocatorName | 'copy' | 'goheap-private' | 'goheap-proc' }[] = [];
  for (const w of opts.workloads) {
    if (w === WASM) continue;
    const spec = workloads.find((x) => x.id === w)!;
    // (e): goheap and its own baseline only; --alloc bump also selects the 'copy' baseline.
    const own = (spec.allocators ?? [...allocatorNames]) as (AllocatorName | 'copy' | 'goheap-private' | 'goheap-proc')[];
    for (const a of own) if ((opts.allocs as string[]).includes(a === 'copy' ? 'bump' : a === 'goheap-private' || a === 'goheap-proc' ? 'goheap' : a)) cases.push({ w, a });
  }
  const total = cases.length * opts.runs;
  const warmupMs = opts.quick ? 100 : WARMUP_MS, warmupCapMs = opts.quick ? 300 : WARMUP_CAP_MS, measureCapMs = opts.quick ? 400 : 700;
  const results: RunResult[] = [];
  let k = 0;
  for (let run = 1; run <= opts.runs; run++) {
    for (const c of cases) {
      k++;
      const args: ChildArgs = {
        allocator: c.a, workload: c.w, run, scale: opts.quick ? 16 : 1,
        warmupMs, warmupCapMs, measureCapMs, wasmPath: wasm,
      };
      const nodeArgs = ['--expose-gc', '--max-old-space-size=4096'];
      if (opts.profile) nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${profDir}`, `--cpu-prof-name=${c.a}--${c.w}--${run}.cpuprofile`);
      const s0 = Date.now();
      const hash = srcHash();
      const p = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', join(benchDir, 'child.ts'), JSON.stringify(args)], {
        encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20,
      });
      const line = (p.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
      let r: RunResult;
      if (line !== undefined) r = JSON.parse(line.slice(7)) as RunResult;
      else {
        const why = p.error ? String(p.error) : `exit ${p.status ?? p.signal}: ${(p.stderr ?? '').trim().split('\n').slice(-8).join('\n')}`;
        r = {
          allocator: c.a, workload: c.w, run, ok: false, error: `child failed: ${why}`, ops: 0, batches: 0, ns: 0,
          nsPerOp: NaN, bestBatchNsPerOp: NaN, warmupOps: 0, capped: false, fillMs: 0, peakLive: 0, endLive: 0,
          peakReserved: 0, peakCommitted: 0, peakRssDelta: 0, wallMs: Date.now() - s0,
        };
      }
      r.srcHash = hash;
      results.push(r);
      const what = r.ok ? `${r.nsPerOp.toFixed(1)} ns/op${r.capped ? ` (time-capped, ${r.ops} ops)` : ''}` : `FAILED ${r.error?.split('\n')[0]}`;
      process.stderr.write(`[${k}/${total}] run ${run} ${c.w.padEnd(20)} ${c.a.padEnd(14)} ${what}  ${((Date.now() - s0) / 1000).toFixed(1)} s\n`);
    }
  }
  const views = !opts.partial ? runViews(opts.quick ? 1 : 3) : [];
  const where = !opts.partial ? runWhere(opts.quick ? 1 : 3, wasm, git) : undefined;
  const wasmResults = opts.workloads.includes(WASM) ? runWasm(opts.quick, git) : undefined;
  const cmd = `npm run bench${process.argv.length > 2 ? ' -- ' + process.argv.slice(2).join(' ') : ''}`;
  let file: ResultsFile = {
    meta: {
      date: new Date().toISOString(),
      command: cmd,
      cpu: cpuModel(),
      cores: cpus().length,
      node: process.version,
      v8: process.versions.v8,
      platform: `${process.platform} ${process.arch}`,
      quick: opts.quick,
      runs: opts.runs,
      durationS: (Date.now() - t0) / 1000,
      versions: {
        '@thi.ng/malloc': packageVersion('@thi.ng/malloc'),
        assemblyscript: packageVersion('assemblyscript'),
        tsx: packageVersion('tsx'),
      },
      ascFlags: ascFlags.join(' '),
      warmupMs,
      warmupCapMs,
      measureCapMs,
      git,
      loadAvgBefore: loadBefore,
      loadAvgAfter: loadAvg(),
    },
    results,
    views,
    where,
    wasm: wasmResults,
  };
  const ran = `${results.length} runs, ${file.meta.durationS.toFixed(0)} s`;
  if (opts.partial && existsSync(opts.out)) file = merge(JSON.parse(readFileSync(opts.out, 'utf8')) as ResultsFile, file, [...cases.map((c) => `${c.w}|${c.a}`), ...(wasmResults !== undefined ? [`${WASM}|goheap`] : [])]);
  writeFileSync(opts.out, JSON.stringify(file, null, 1) + '\n');
  process.stderr.write(`wrote ${opts.out} (${ran}${file.meta.merged !== undefined && opts.partial ? ', merged into the existing results' : ''})\n`);
  if (opts.report) {
    const md = writeReport(file);
    process.stderr.write(`wrote ${md}\n`);
  }
  if (results.some((r) => !r.ok)) process.stderr.write(`${results.filter((r) => !r.ok).length} run(s) failed: see results.json and BENCHMARKS.md\n`);
}

main();
