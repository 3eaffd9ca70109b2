/**
 * report.ts — BENCHMARKS.md from bench/results.json.
 *
 * Called by run.ts at the end of a suite; also standalone: `npx tsx bench/report.ts
 * [results.json]` re-renders the report without re-running anything.
 *
 * @module
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { allocatorInfo, allocatorNames, type AllocatorName } from './allocators.js';
import { fmtBytes, median, type RunResult } from './common.js';
import { benchDir } from './peers/as-build.js';
import { loadGoCensus, multiWorkerWorkloads, workloads, type WorkloadSpec } from './workloads.js';
import { viewVariants, type ViewVariant } from './views.js';
import { why } from './why.js';
import { whereParts, type WhereShares } from './where.js';
import type { CaseSummary, ResultsFile, WasmResults } from './results.js';
import { BUMP_OPS_FACTOR as BUMP_FACTOR } from './mw.js';
import { RING_CAP as RING_ENTRIES } from './mw-protocol.js';

export function summarize(file: ResultsFile): Map<string, CaseSummary> {
  const m = new Map<string, CaseSummary>();
  for (const r of file.results) {
    const key = `${r.workload}|${r.allocator}`;
    let c = m.get(key);
    if (c === undefined) {
      c = {
        allocator: r.allocator as AllocatorName, workload: r.workload, runs: [], ok: [], failed: [],
        med: NaN, min: NaN, max: NaN, capped: false, opsMed: 0, peakLive: NaN, peakReserved: NaN,
        peakCommitted: NaN, peakRssDelta: NaN, fillMs: NaN,
      };
      m.set(key, c);
    }
    c.runs.push(r);
    (r.ok ? c.ok : c.failed).push(r);
  }
  for (const c of m.values()) {
    if (c.ok.length === 0) continue;
    const v = c.ok.map((r) => r.nsPerOp);
    c.med = median(v);
    c.min = Math.min(...v);
    c.max = Math.max(...v);
    c.capped = c.ok.some((r) => r.capped);
    c.opsMed = median(c.ok.map((r) => r.ops));
    c.peakLive = median(c.ok.map((r) => r.peakLive));
    c.peakReserved = median(c.ok.map((r) => r.peakReserved));
    c.peakCommitted = median(c.ok.map((r) => r.peakCommitted));
    c.peakRssDelta = median(c.ok.map((r) => r.peakRssDelta));
    c.fillMs = median(c.ok.map((r) => r.fillMs));
  }
  return m;
}

export function get(s: Map<string, CaseSummary>, w: string, a: AllocatorName): CaseSummary | undefined {
  return s.get(`${w}|${a}`);
}

/** goheap median / peer median (> 1: goheap slower); NaN when either is missing. */
export function ratio(s: Map<string, CaseSummary>, w: string, peer: AllocatorName): number {
  const g = get(s, w, 'goheap'), p = get(s, w, peer);
  if (g === undefined || p === undefined) return NaN;
  return g.med / p.med;
}

export function fmtNs(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} ms`;
  if (x >= 1e4) return `${(x / 1e3).toFixed(1)} µs`;
  if (x >= 100) return x.toFixed(0);
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

export function fmtRatio(x: number): string {
  if (!Number.isFinite(x)) return '—';
  if (x >= 100) return `${x.toFixed(0)}×`;
  if (x >= 10) return `${x.toFixed(1)}×`;
  if (x >= 0.1) return `${x.toFixed(2)}×`;
  return `1/${(1 / x).toFixed(0)}`;
}

function fmtInt(n: number): string {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** Allocators present in the results being rendered (set by renderReport), and the peers among them. */
let present: AllocatorName[] = [...allocatorNames];
let peers: AllocatorName[] = present.filter((a) => a !== 'goheap');

function timeTable(s: Map<string, CaseSummary>, w: WorkloadSpec): string {
  const rows = [`| allocator | ns per malloc+free (median) | min – max | goheap ÷ this | ops timed per run | cold: first ${fmtInt(w.warmupOps)} ops |`, '|---|--:|--:|--:|--:|--:|'];
  const g = get(s, w.id, 'goheap');
  for (const a of present) {
    const c = get(s, w.id, a);
    if (c === undefined) continue;
    if (c.ok.length === 0) {
      rows.push(`| ${a} | failed | | | | |`);
      continue;
    }
    const r = a === 'goheap' ? '1' : g !== undefined && g.ok.length > 0 ? fmtRatio(g.med / c.med) : '—';
    const ncap = c.ok.filter((x) => x.capped).length;
    const capped = ncap === 0 ? '' : ncap === c.ok.length ? ' †' : ` (${ncap} of ${c.ok.length} runs †)`;
    const failed = c.failed.length > 0 ? ` (${c.failed.length} of ${c.runs.length} runs failed)` : '';
    const cold = median(c.ok.map((x) => x.coldNsPerOp ?? NaN));
    rows.push(`| ${a === 'goheap' ? '**goheap**' : a} | ${fmtNs(c.med)} | ${fmtNs(c.min)} – ${fmtNs(c.max)} | ${r} | ${fmtInt(c.opsMed)}${capped}${failed} | ${fmtNs(cold)} |`);
  }
  return rows.join('\n');
}

function memTable(s: Map<string, CaseSummary>, w: WorkloadSpec): string {
  const rows = [
    '| allocator | peak live (requested) | peak reserved | peak committed | committed ÷ live | peak RSS Δ |',
    '|---|--:|--:|--:|--:|--:|',
  ];
  for (const a of present) {
    const c = get(s, w.id, a);
    if (c === undefined || c.ok.length === 0) continue;
    const ratioOk = w.kind !== 'pairs' && c.peakLive > 0;
    rows.push(`| ${a} | ${w.kind === 'pairs' ? 'one object' : fmtBytes(c.peakLive)} | ${fmtBytes(c.peakReserved)} | ${fmtBytes(c.peakCommitted)} | ${ratioOk ? (c.peakCommitted / c.peakLive).toFixed(2) : '—'} | ${fmtBytes(c.peakRssDelta)} |`);
  }
  const g = get(s, w.id, 'goheap');
  if (g !== undefined && g.ok.length > 0 && g.ok[0].goheap !== undefined) {
    const gs = (k: keyof NonNullable<RunResult['goheap']>) => median(g.ok.map((r) => r.goheap![k]));
    rows.push('');
    rows.push('goheap\'s own statistics at the end of the run (medians; "before gc" is the state the last batch left, "after gc" follows `heap.gc()`, which sweeps every freed object):');
    rows.push('');
    const endLive = median(g.ok.map((r) => r.endLive ?? NaN));
    const per = (x: number) => (w.kind !== 'pairs' && endLive > 0 ? (x / endLive).toFixed(2) : '—');
    rows.push('| live at end (requested) | HeapAlloc before gc | HeapInuse before gc | HeapAlloc after gc | HeapInuse after gc | HeapAlloc ÷ live (after gc) | HeapInuse ÷ live (after gc) | HeapSys | Sys | HeapReleased | GC cycles |');
    rows.push('|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
    rows.push(`| ${fmtBytes(endLive)} | ${fmtBytes(gs('HeapAlloc'))} | ${fmtBytes(gs('HeapInuse'))} | ${fmtBytes(gs('HeapAllocAfterGC'))} | ${fmtBytes(gs('HeapInuseAfterGC'))} | ${per(gs('HeapAllocAfterGC'))} | ${per(gs('HeapInuseAfterGC'))} | ${fmtBytes(gs('HeapSys'))} | ${fmtBytes(gs('Sys'))} | ${fmtBytes(gs('HeapReleased'))} | ${fmtInt(gs('NumGC'))} |`);
  }
  return rows.join('\n');
}

function summaryTable(s: Map<string, CaseSummary>): string {
  const rows = [
    `| workload | goheap ns/op | ${peers.map((p) => `÷ ${p}`).join(' | ')} |`,
    `|---|--:|${peers.map(() => '--:').join('|')}|`,
  ];
  for (const w of workloads) {
    const g = get(s, w.id, 'goheap');
    if (g === undefined) continue;
    rows.push(`| [${w.id}](#${anchor(w)}) | ${g.ok.length > 0 ? fmtNs(g.med) : 'failed'} | ${peers.map((p) => fmtRatio(ratio(s, w.id, p))).join(' | ')} |`);
  }
  return rows.join('\n');
}

function anchor(w: WorkloadSpec): string {
  return `${w.group}-${w.id}`.toLowerCase().replace(/[^a-z0-9-]/g, '');
}

function flatnessTable(s: Map<string, CaseSummary>): string {
  const rows = [
    '| live objects | order | goheap ns/pair | bump ns/pair | goheap ÷ bump | goheap vs 1k | as-tlsf ns/pair | thing-mempool ns/pair | uint8array ns/pair |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const order of ['fifo', 'random'] as const) {
    const ws = workloads.filter((w) => w.group === 'b' && w.id.endsWith(order));
    const base = get(s, ws[0]?.id ?? '', 'goheap');
    for (const w of ws) {
      const g = get(s, w.id, 'goheap'), b = get(s, w.id, 'bump');
      const t = get(s, w.id, 'as-tlsf'), th = get(s, w.id, 'thing-mempool'), u = get(s, w.id, 'uint8array');
      if (g === undefined) continue;
      rows.push(`| ${fmtInt(w.window)} | ${order === 'fifo' ? 'oldest first' : 'random'} | ${fmtNs(g.med)} | ${fmtNs(b?.med ?? NaN)} | ${fmtRatio(g.med / (b?.med ?? NaN))} | ${base ? fmtRatio(g.med / base.med) : '—'} | ${fmtNs(t?.med ?? NaN)} | ${fmtNs(th?.med ?? NaN)}${th?.capped ? ' †' : ''} | ${fmtNs(u?.med ?? NaN)} |`);
    }
  }
  return rows.join('\n');
}

function viewsTable(views: NonNullable<ResultsFile['views']>): string {
  const base = views.find((v) => v.variant === 'ArrayBuffer');
  const b = base && base.nsPerAccess.length > 0 ? median(base.nsPerAccess) : NaN;
  const rows = ['| view | ns per access | ÷ plain ArrayBuffer |', '|---|--:|--:|'];
  for (const v of views) {
    const x = v.nsPerAccess.length > 0 ? median(v.nsPerAccess) : NaN;
    rows.push(`| ${v.variant}: ${viewVariants[v.variant as ViewVariant] ?? ''} | ${Number.isFinite(x) ? x.toFixed(2) : 'failed'} | ${fmtRatio(x / b)} |`);
  }
  return rows.join('\n');
}

function censusNote(): string {
  try {
    const c = loadGoCensus();
    const large = c.sizes.filter((x) => x.size > 32768).reduce((a, x) => a + x.objects, 0);
    const tiny = c.memStatsTinyAndLarge - large;
    const all = c.objects + tiny;
    const upTo = (n: number) => c.sizes.filter((x) => x.size <= n).reduce((a, x) => a + x.objects, 0);
    return `Source: **measured**, not synthetic — ${c.source} (packages ${c.packages.map((p) => '`' + p + '`').join(', ')} and everything they import), by \`bench/sizemix/main.go\`; data in \`bench/data/go-sizes.json\`. ` +
      `${fmtInt(all)} allocations: ${(100 * tiny / all).toFixed(1)} % tiny (< 16 B, pointer-free, combined into 16-byte blocks by Go; sizes drawn uniformly in 1–15 B because Go does not record them), ` +
      `${(100 * (upTo(16) + tiny) / all).toFixed(1)} % ≤ 16 B, ${(100 * (upTo(64) + tiny) / all).toFixed(1)} % ≤ 64 B, ${(100 * (upTo(256) + tiny) / all).toFixed(1)} % ≤ 256 B, ${(100 * (upTo(32768) + tiny) / all).toFixed(3)} % ≤ 32 KiB, ${fmtInt(large)} large objects. ` +
      'Each profiled size is a Go size class; a draw takes a size uniformly inside the class\'s range (previous class size, class size]. Lifetimes are **synthetic**: a window of 10,000 live objects freed in random order.';
  } catch {
    return 'Source: bench/data/go-sizes.json (missing).';
  }
}

export function renderReport(file: ResultsFile): string {
  present = allocatorNames.filter((a) => file.results.some((r) => r.allocator === a));
  peers = present.filter((a) => a !== 'goheap');
  const s = summarize(file);
  const m = file.meta;
  const out: string[] = [];
  out.push('# goheap benchmarks');
  out.push('');
  out.push(`> Generated by \`bench/run.ts\` — do not edit by hand; re-run \`npm run bench\` (or re-render with \`npx tsx bench/report.ts\`).${m.quick ? '\n>\n> **This is a `--quick` smoke run (1 run, 1/16 of the ops): the numbers are not meant to be quoted.**' : ''}`);
  out.push('');
  out.push('| | |');
  out.push('|---|---|');
  out.push(`| machine | ${m.cpu}, ${m.cores} cores, ${m.platform} |`);
  out.push(`| runtime | Node ${m.node} (V8 ${m.v8}), TypeScript through tsx ${m.versions.tsx} |`);
  out.push(`| date | ${m.date} |`);
  out.push(`| command | \`${m.command}\` |`);
  out.push(`| runs | ${m.runs} per case, each in its own process; suite took ${(m.durationS / 60).toFixed(1)} min |`);
  if (m.git !== undefined) {
    const hashes = [...new Set(file.results.filter((r) => r.allocator === 'goheap' && r.srcHash !== undefined).map((r) => r.srcHash))];
    out.push(`| goheap source | commit ${m.git}${hashes.length > 1 ? ` — **src/ changed ${hashes.length - 1} time(s) while the suite ran (it was being edited); goheap's runs mix ${hashes.length} versions of the code, which widens its min – max**` : ''} |`);
  }
  if (m.loadAvgBefore !== undefined) out.push(`| load average (1/5/15 min) | ${m.loadAvgBefore} before, ${m.loadAvgAfter ?? 'n/a'} after — anything above ~1 means other processes shared the 2 cores and the numbers are noisier |`);
  for (const mg of m.merged ?? []) {
    const ws = [...new Set(mg.cases.map((c) => c.split('|')[0]))];
    out.push(`| merged in | ${ws.map((w) => '`' + w + '`').join(', ')} from a later partial run: \`${mg.command}\` on ${mg.date}, ${mg.runs} run(s) per case, ${(mg.durationS / 60).toFixed(1)} min, commit ${mg.git ?? '?'}, load average ${mg.loadAvgBefore ?? 'n/a'} before, ${mg.loadAvgAfter ?? 'n/a'} after${mg.quick ? ' — **a `--quick` run: those numbers are not meant to be quoted**' : ''} |`);
  }
  out.push(`| peers | @thi.ng/malloc ${m.versions['@thi.ng/malloc']}, assemblyscript ${m.versions.assemblyscript} (\`asc ${m.ascFlags}\`) |`);
  out.push('');
  out.push('## Summary');
  out.push('');
  out.push('Median ns per malloc+free pair for goheap, and goheap\'s median divided by each peer\'s (**> 1: goheap is slower; < 1 or 1/N: goheap is faster**, N× faster for 1/N).');
  out.push('');
  out.push(summaryTable(s));
  out.push('');
  out.push(why.summary(s, file));
  out.push('');
  out.push('## Issue #3: malloc+free as the live set grows');
  out.push('');
  out.push('Workload (b): one op frees one object of a window of live objects and allocates a new one (16–128 B). ns per malloc+free pair (medians); "goheap vs 1k" is goheap\'s time relative to its own 1k-live time (flat = 1×).');
  out.push('');
  out.push(flatnessTable(s));
  out.push('');
  out.push(why.flatness(s));
  out.push('');
  out.push('## How it is measured');
  out.push('');
  out.push(methodology(file));
  out.push('');
  let group = '';
  const titles: Record<string, string> = {
    a: '(a) malloc+free pairs', b: '(b) sliding window of live objects', c: '(c) realistic size mix', d: '(d) large objects',
  };
  for (const w of workloads) {
    if (!s.has(`${w.id}|goheap`) && !allocatorNames.some((a) => s.has(`${w.id}|${a}`))) continue;
    if (w.group !== group) {
      group = w.group;
      out.push(`## ${titles[group]}`);
      out.push('');
      if (group === 'c') { out.push(censusNote()); out.push(''); }
    }
    out.push(`### ${w.group}: ${w.id}`);
    out.push('');
    out.push(`${w.title}. ${w.window > 0 ? `${fmtInt(w.window)} objects are allocated first (not timed), then each op frees one and allocates one.` : 'Each op allocates an object and frees it at once.'}`);
    out.push('');
    out.push(timeTable(s, w));
    out.push('');
    out.push(memTable(s, w));
    out.push('');
    out.push(`**Why.** ${why.workload(s, w)}`);
    out.push('');
  }
  if (file.where !== undefined) out.push(whereSection(file.where));
  if (multiWorkerWorkloads.some((w) => [...s.keys()].some((k) => k.startsWith(`${w.id}|`)))) out.push(mwSection(s));
  else {
    out.push('## (e) multi-worker workloads');
    out.push('');
    out.push('Not in these results: run `npm run bench -- --workload e-churn-1w,e-churn-2w,e-prodcons` (it merges into bench/results.json).');
    out.push('');
  }
  if (file.views !== undefined && file.views.length > 0) {
    out.push('## Appendix: what one typed-array access costs');
    out.push('');
    out.push('`bench/views.ts`: two loads and a store of a `Uint32Array` at scattered indices, through each kind of view goheap could read its buffer with (each variant in its own process; best of 5 rounds of 5M iterations; median over runs). goheap\'s malloc and free are a few dozen such accesses to span structs, bitmaps, the mcache and statistics in the buffer, so this cost is the floor under every goheap number above.');
    out.push('');
    out.push(viewsTable(file.views));
    out.push('');
    out.push(why.views(file.views));
    out.push('');
  }
  out.push(wasmSection(file.wasm));
  const failed = file.results.filter((r) => !r.ok);
  if (failed.length > 0) {
    out.push('## Failed runs');
    out.push('');
    out.push('A failed run is left out of the tables above (the table says "failed" when every run of a case failed).');
    out.push('');
    for (const r of failed) {
      out.push(`- ${r.allocator} / ${r.workload} / run ${r.run}:`);
      out.push('');
      out.push('  ```');
      for (const l of (r.error ?? '').split('\n')) out.push(`  ${l}`);
      out.push('  ```');
    }
    out.push('');
  }
  return out.join('\n');
}

/**
 * The peer of a goheap case of bench/wasm.ts: the same module (AS or C) with its own
 * allocator, with as many threads. Case names are wasm.ts's.
 */
function wasmPeer(w: WasmResults, name: string): string | undefined {
  const own = name.startsWith('AS ') ? 'AS + TLSF' : 'C + dlmalloc';
  const one = name.endsWith(', 1 thread');
  return Object.keys(w.binaryTrees).find((k) => k.startsWith(own) && (one ? k.endsWith(', 1 thread') : k.startsWith(`${own}, ${w.threads} threads`)));
}

/** Section: goheap as the malloc of a wasm module (issue #15), from bench/wasm.ts. */
function wasmSection(w: WasmResults | undefined): string {
  const out: string[] = ['## goheap as the malloc of a WebAssembly module (issue #15)', ''];
  if (w === undefined) {
    out.push('Not in these results: run `npm run bench -- --workload wasm` (it merges into bench/results.json).', '');
    return out.join('\n');
  }
  if (w.error !== undefined) {
    out.push('`bench/wasm.ts` failed in this run:', '', '```', ...w.error.split('\n'), '```', '');
    return out.join('\n');
  }
  const m = w.meta;
  out.push(`\`bench/wasm.ts\` (examples/wasm): binary-trees at depth ${w.depth} — ${fmtInt(w.nodesPerRun)} nodes per run, each a malloc'd 8-byte object, every tree walked, checked and freed node by node — in the same module built twice: with goheap as its malloc (imported from JS, over the heap's shared \`WebAssembly.Memory\`) and with the module's own allocator (AssemblyScript's TLSF for the AssemblyScript module "AS", wasi-libc's dlmalloc for the C one built with clang). With ${w.threads} threads, goheap's build runs in ${w.threads} Node workers over one heap, each with its own P (trees freed by the next thread, or each by its own), while TLSF and dlmalloc, which are not thread-safe, get a module and memory per worker. Median of ${w.runs} interleaved runs, in one process${m !== undefined ? ` (${m.date}, ${m.durationS.toFixed(0)} s, commit ${m.git}, load average ${m.loadAvgBefore} before, ${m.loadAvgAfter} after — above ~1 other processes shared the 2 cores: compare the cases of this table with each other, as ratios, not with absolute numbers from another run)` : ''}. "goheap ÷ own" is goheap's time divided by the same module's own allocator (AS: TLSF, C: dlmalloc) with as many threads (**> 1: goheap slower**).`);
  out.push('');
  out.push('| case | ms (median) | min – max | ns per node | goheap ÷ own |');
  out.push('|---|---:|---:|---:|---:|');
  for (const [k, v] of Object.entries(w.binaryTrees)) {
    const peer = k.includes('goheap') ? wasmPeer(w, k) : undefined;
    const r = peer !== undefined ? v.medianMs / w.binaryTrees[peer].medianMs : NaN;
    out.push(`| ${k} | ${v.medianMs.toFixed(0)} | ${Math.min(...v.ms).toFixed(0)} – ${Math.max(...v.ms).toFixed(0)} | ${v.nsPerNode.toFixed(1)} | ${k.includes('goheap') ? fmtRatio(r) : ''} |`);
  }
  out.push('');
  const b = w.boundaryNs;
  out.push('The JS ↔ wasm boundary (ns per call; a loop of 5M calls, median of 5 rounds, minus the same loop without the call):');
  out.push('');
  out.push('| | ns per call |');
  out.push('|---|---:|');
  out.push(`| wasm calls an imported JS function | ${fmtNs(b.wasmToJsCall)} |`);
  out.push(`| JS calls a wasm export | ${fmtNs(b.jsToWasmCall)} |`);
  out.push(`| goheap malloc(16) + free, called from wasm | ${fmtNs(b.goheapPairFromWasm)} |`);
  out.push(`| goheap malloc(16) + free, called from JS | ${fmtNs(b.goheapPairFromJs)} |`);
  out.push(`| AssemblyScript TLSF malloc(16) + free, inside wasm | ${fmtNs(b.tlsfPairInWasm)} |`);
  out.push(`| dlmalloc (wasi-libc) malloc(16) + free, inside wasm | ${fmtNs(b.dlmallocPairInWasm)} |`);
  out.push('');
  out.push(`**Why.** ${why.wasm(w)}`);
  out.push('');
  return out.join('\n');
}

/** Aggregate ops per second, human-readable. */
function fmtRate(nsPerOp: number): string {
  if (!Number.isFinite(nsPerOp) || nsPerOp <= 0) return '—';
  const r = 1e9 / nsPerOp;
  return r >= 1e9 ? `${(r / 1e9).toFixed(2)} G/s` : r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : `${(r / 1e3).toFixed(1)} k/s`;
}

/** "(k of n runs failed)" when some failed. */
function failNote(c: CaseSummary | undefined): string {
  return c !== undefined && c.failed.length > 0 ? ` (${c.failed.length} of ${c.runs.length} runs failed)` : '';
}

/** goheap's HeapAlloc after gc() and GC cycles at the end of an (e) run (every object was freed, so HeapAlloc must be 0). */
function mwEndStats(c: CaseSummary | undefined): string {
  if (c === undefined || c.ok.length === 0 || c.ok[0].goheap === undefined) return '—';
  const gs = (k: keyof NonNullable<RunResult['goheap']>) => median(c.ok.map((r) => r.goheap![k]));
  return `${fmtBytes(gs('HeapAllocAfterGC'))} / ${fmtBytes(gs('HeapInuse'))} / ${fmtInt(gs('NumGC'))}`;
}

/** The saved profiles of earlier commits to compare with (bench/data/where-pairs-*.json). */
function savedWhere(): WhereShares[] {
  const dir = join(benchDir, 'data');
  return readdirSync(dir).filter((f) => /^where-pairs-.*\.json$/.test(f)).map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as WhereShares);
}

function whereSection(now: WhereShares): string {
  const before = savedWhere().filter((w) => w.commit !== now.commit);
  const cols = [...before, now];
  const out: string[] = [];
  out.push('## Where the time goes: pairs');
  out.push('');
  out.push(`Share of the CPU-profile samples inside the pairs loop (goheap, \`node --cpu-prof\`, ${cols.length > 1 ? 'a saved profile of an earlier commit next to this run\'s' : 'this run\'s'}; \`bench/where.ts\` puts each sample in the first part of this list that a function on its stack belongs to). GC cycles: \`gcStart\` (finishing the last cycle's sweep, flushing, pacing); sweeping: sweeps outside a cycle (\`cacheSpan\`, the page reclaimer); page heap: span allocation and free, the page allocator, the OS layer; refill: the rest of the small-object slow path (mcache refill, mcentral); then the malloc and free fast paths, and the benchmark loop itself. V8's profiler counts a function inlined into its caller as the caller: where V8 inlines the fast paths into the loop (since commit 281ea1d \`Heap.malloc\` → \`mallocgc\` → \`sizeToClass\` → \`nextFreeFast\`, and since commit 2129af0 \`Heap.free\` → \`freeFast\` too: docs/architecture.md, "Fast paths"), their samples are in "the loop", so compare the slow-path rows, and the loop and fast-path rows together.`);
  out.push('');
  out.push(`| part | ${cols.map((w) => `commit ${w.commit}${w === now ? ' (this run)' : ''}`).join(' | ')} |`);
  out.push(`|---|${cols.map(() => '--:').join('|')}|`);
  for (const part of whereParts) {
    if (cols.every((w) => w.shares[part] === undefined)) continue;
    out.push(`| ${part} | ${cols.map((w) => w.shares[part] === undefined ? '—' : `${(100 * w.shares[part]!).toFixed(1)} %`).join(' | ')} |`);
  }
  out.push('');
  return out.join('\n');
}

function mwSection(s: Map<string, CaseSummary>): string {
  const out: string[] = [];
  out.push('## (e) multi-worker workloads (issue #4)');
  out.push('');
  out.push('goheap only: none of the peers can be shared between threads, so each multi-worker case is compared with a baseline that uses no shared allocator (see below). Workers are `worker_threads` in one child process per run (`bench/mw.ts`, `bench/mw-worker.ts`); goheap\'s workers are started with `spawnHeapWorker` and attach to one heap created in the child\'s main thread, each with its own P and mcache. Every worker first warms up (same loop, not timed) and then waits on a start barrier (`Atomics.wait` on a SharedArrayBuffer); the main thread records t0 and releases them all with one `Atomics.notify`, then sleeps in its event loop. The time of a run is wall time from t0 to the last worker\'s finish (`process.hrtime.bigint()`, one monotonic clock for all threads), so it includes the barrier\'s wake-up latency (tens of µs) and any imbalance between the workers.');
  out.push('');
  const c1 = multiWorkerWorkloads.find((w) => w.kind === 'mw-churn' && w.workers === 1);
  const c2 = multiWorkerWorkloads.find((w) => w.kind === 'mw-churn' && w.workers === 2);
  if (c1 !== undefined && c2 !== undefined) {
    out.push('### e: per-worker churn, 1 vs 2 workers');
    out.push('');
    out.push(`Each worker runs the 1k-window FIFO of (b) — ${fmtInt(c1.window)} live objects of 16–128 B, each op frees the oldest and allocates one — on its own slots for a fixed number of ops (goheap: ${fmtInt(c1.measureOps)} per worker after ${fmtInt(c1.warmupOps)} of warm-up; bump: ${BUMP_FACTOR}× as many, since it is 20–50× faster and a run must last long enough for the barrier\'s latency not to count). **ops/s = total ops of all workers ÷ wall time** (one op = one free + one malloc). goheap: all workers share one heap. goheap, a private heap per worker: the same code with nothing shared (each worker attached to a heap of its own) — what this machine gives two threads of one process that run goheap's code, i.e. the ceiling for the shared heap. goheap, separate processes: the same churn on a heap of its own in each of 2 processes (\`bench/mw-proc.ts\`, started together by one IPC message each, timed on CLOCK_MONOTONIC) — not even a V8 process is shared: the machine's own ceiling for this code. bump: each worker has its own bump allocator over its own typed array — nothing is shared and almost no memory is touched, so its scaling is what the machine gives two purely CPU-bound threads.`);
    out.push('');
    out.push('| allocator | 1 worker: ops/s (median) | min – max | 2 workers: ops/s (median) | min – max | **scaling** 2 ÷ 1 worker | 2 workers: each worker\'s own ns/op (medians) | goheap end: HeapAlloc after gc / HeapInuse / GC cycles (2 workers) |');
    out.push('|---|--:|--:|--:|--:|--:|--:|--:|');
    for (const a of ['goheap', 'goheap-private', 'goheap-proc', 'bump']) {
      const x1 = s.get(`${c1.id}|${a}`), x2 = s.get(`${c2.id}|${a}`);
      if (x1 === undefined && x2 === undefined) continue;
      const ok1 = x1 !== undefined && x1.ok.length > 0, ok2 = x2 !== undefined && x2.ok.length > 0;
      const per = ok2 ? [0, 1].map((i) => fmtNs(median(x2!.ok.map((r) => r.perWorkerNsPerOp?.[i] ?? NaN)))).join(' / ') : '—';
      const sc = ok1 && ok2 ? `${(x1!.med / x2!.med).toFixed(2)}×` : '—';
      out.push(`| ${a === 'goheap' ? '**goheap** (one shared heap)' : a === 'goheap-private' ? 'goheap, a private heap per worker' : a === 'goheap-proc' ? 'goheap, separate processes (a heap each)' : a} | ${ok1 ? fmtRate(x1!.med) : 'failed'}${failNote(x1)} | ${ok1 ? `${fmtRate(x1!.max)} – ${fmtRate(x1!.min)}` : ''} | ${ok2 ? fmtRate(x2!.med) : 'failed'}${failNote(x2)} | ${ok2 ? `${fmtRate(x2!.max)} – ${fmtRate(x2!.min)}` : ''} | ${sc} | ${per} | ${a === 'goheap' ? mwEndStats(x2) : ''} |`);
    }
    out.push('');
    out.push(`Scaling is the ratio of the medians; the goal of issue #4 is ≥ 1.8× on this 2-core machine. In ns per op (aggregate wall ÷ total ops): goheap ${fmtNs(s.get(`${c1.id}|goheap`)?.med ?? NaN)} with 1 worker, ${fmtNs(s.get(`${c2.id}|goheap`)?.med ?? NaN)} with 2.`);
    out.push('');
    out.push(`**Why.** ${why.mwChurn(s, c1.id, c2.id)}`);
    out.push('');
  }
  const pc = multiWorkerWorkloads.find((w) => w.kind === 'mw-prodcons');
  if (pc !== undefined && [...s.keys()].some((k) => k.startsWith(`${pc.id}|`))) {
    out.push('### e: producer / consumer across two workers');
    out.push('');
    out.push(`Worker A mallocs an object (16–128 B, uniform), writes 4 bytes into it (a sequence number) and pushes the pointer into a single-producer single-consumer ring of ${RING_ENTRIES} u32 entries in a SharedArrayBuffer (head and tail on separate cache lines, published with \`Atomics.store\`, a full/empty ring is waited for by spinning on \`Atomics.load\`); worker B pops the pointer, reads and checks the 4 bytes, and frees the object — every free is a remote free of an object another P allocated. ${fmtInt(pc.measureOps)} objects per run after ${fmtInt(pc.warmupOps)} of warm-up. Baseline "copy": A writes the 4 bytes into the ring itself and B reads them from there — the same ring traffic without an allocator, so the difference is the allocator's share (malloc in A, free in B, and the object's cache line moving from A's core to B's).`);
    out.push('');
    out.push('| variant | ns per object moved (median) | min – max | objects per run | goheap end: HeapAlloc after gc / HeapInuse / GC cycles |');
    out.push('|---|--:|--:|--:|--:|');
    const g = s.get(`${pc.id}|goheap`), cp = s.get(`${pc.id}|copy`);
    for (const [label, c] of [['**goheap** (malloc → ring → free)', g], ['copy (bytes in the ring, no allocator)', cp]] as const) {
      if (c === undefined) continue;
      const ok = c.ok.length > 0;
      out.push(`| ${label} | ${ok ? fmtNs(c.med) : 'failed'}${failNote(c)} | ${ok ? `${fmtNs(c.min)} – ${fmtNs(c.max)}` : ''} | ${fmtInt(c.opsMed)} | ${c === g ? mwEndStats(c) : ''} |`);
    }
    if (g !== undefined && cp !== undefined && g.ok.length > 0 && cp.ok.length > 0) out.push(`| allocator's share (goheap − copy) | ${fmtNs(g.med - cp.med)} | | | |`);
    out.push('');
    out.push(`**Why.** ${why.mwProdCons(s, pc.id)}`);
    out.push('');
  }
  return out.join('\n');
}

function methodology(file: ResultsFile): string {
  const q = file.meta.quick;
  const wm = file.meta.warmupMs, wc = file.meta.warmupCapMs ?? (q ? 150 : 300), mc = file.meta.measureCapMs ?? (q ? 400 : 1000);
  return [
    '- **One process per run.** `bench/run.ts` starts `node --expose-gc --import tsx bench/child.ts <case>` for every (allocator × workload × run), one after another (never two at once on this 2-core machine), interleaving the runs (run 1 of every case, then run 2, ...). A process loads one allocator class only, so the timed loops\' `a.malloc` / `a.free` call sites stay monomorphic, and no run inherits another\'s JIT state or garbage.',
    '- **Same workload code for everyone.** The loops in `bench/workloads.ts` drive every allocator through the interface `{ name, malloc(size): number, free(p): void, stats(): { reserved, committed } }`. Sizes (and, for random order, the victim slots) are drawn with a seeded PRNG (mulberry32) into `Uint32Array`s of 2^20 entries before anything is timed; every allocator sees the identical sequence. The timed loops allocate nothing on the JS heap (only `uint8array` does, by design). The one exception is `as-tlsf-wasm`, which runs the same algorithms written in AssemblyScript (`bench/peers/as/tlsf.ts`) over copies of the same arrays in wasm memory.',
    '- **Op** = one `malloc` + one `free`; every number is **ns per op** (per malloc+free pair).',
    `- **Warm-up, then batches.** Each process first prefills the live window (timed separately, not in the tables), then warms up with the same loop ${wm === undefined ? `(${q ? '1/16 of ' : ''}2^19 ops, at most ${wc / 1000} s; large objects: 2^13 ops, at most ${5 * wc / 1000} s)` : `for at least ${wm / 1000} s and at least ${q ? '1/16 of ' : ''}2^19 ops (large objects: 2^13 ops and ${5 * wm / 1000} s; at most ${wc / 1000} s, large objects ${5 * wc / 1000} s)`} so TurboFan has optimised it${wm === undefined ? '' : ' — goheap\'s slow paths too (refill, sweep, GC cycle: they run once per span or per cycle, and are optimised only after 1–2 M ops). The "cold" column is each run\'s mean over its first 2^19 ops (2^13 for large objects) of the warm-up, JIT tier-up included: what a short-lived program sees'}, then times ${q ? '1/16 of ' : ''}2^21 ops (large objects: 2^16) in batches of growing size (at least 16 batches), each timed as a whole with \`process.hrtime.bigint()\`; memory statistics are read between batches only — between warm-up batches too, so that the timed phase runs no code the warm-up has not (goheap's \`readMemStats\` flushes its mcache). A run's number is total time ÷ ops; the tables give the **median over runs** and the **min – max** of the runs. A hand-rolled loop timing whole batches is used rather than mitata/tinybench: per-call timing cannot resolve operations of a few ns, and an allocator's cost is only meaningful amortised over its refills, sweeps and GC cycles, which a batch of thousands of ops includes.`,
    `- **Time cap.** The measured phase stops after ${mc / 1000} s even if fewer ops were timed; such cases are marked **†** (this only happens to allocators that are orders of magnitude slower, e.g. @thi.ng/malloc with large live sets, whose free walks a list). Their numbers are then averages over fewer, but still ≥ 16, batches.`,
    '- **Memory.** "peak live" is the largest sum of requested sizes of the live objects (replayed without an allocator). "reserved" / "committed" are sampled between batches, peaks reported:',
    '  - goheap: reserved = the growable SharedArrayBuffer\'s byteLength (address space made accessible; it includes a 64 MiB gap below the first arena, which goheap places at reserve/16 like Go\'s arena hints — never touched, so never resident); committed = `Sys − HeapReleased` from `readMemStats()` (what goheap has mapped Ready).',
    '  - thing-mempool: reserved = its ArrayBuffer (fixed size chosen per workload); committed = its `top` (high-water mark of the bump region under its free list).',
    '  - as-tlsf / as-tlsf-wasm: reserved = committed = wasm linear memory size (it only grows), minus the harness\'s own arrays in it.',
    '  - bump: its ring buffer (it never reuses memory and wraps around): not a real footprint.',
    '  - uint8array: growth of V8\'s `heapUsed + arrayBuffers` since the allocator was created (garbage not yet collected included).',
    '  - "peak RSS Δ" is the process\'s peak resident set size (from `/proc/self/status`) above its value just before the allocator was created: the one measure that treats everybody alike, but it also contains JIT code and other noise of a few MiB.',
    '- **Allocators.** ' + (['goheap' as AllocatorName].concat(peers)).map((p) => `\`${p}\`: ${allocatorInfo[p]}`).join('; ') + '.',
  ].join('\n');
}

export function writeReport(file: ResultsFile): string {
  const path = join(benchDir, '..', 'BENCHMARKS.md');
  writeFileSync(path, renderReport(file) + '\n');
  return path;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const f = process.argv[2] ?? join(benchDir, 'results.json');
  console.log(writeReport(JSON.parse(readFileSync(f, 'utf8')) as ResultsFile));
}
