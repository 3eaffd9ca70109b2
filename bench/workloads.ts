/**
 * workloads.ts — the benchmark workloads: their specs, their pre-generated inputs, and the
 * timed loops (shared by every JS-driven allocator; bench/peers/as/tlsf.ts mirrors them
 * inside wasm for the "loop inside wasm" peer).
 *
 * Every workload is a stream of malloc+free pairs (one "op" = one malloc and one free):
 *
 *   pairs          p = malloc(size); free(p)                 (nothing stays live)
 *   window-fifo    W objects live; each op frees the oldest and allocates a new one
 *   window-random  W objects live; each op frees a randomly chosen one (pre-drawn victim
 *                  index) and allocates a new one in its slot
 *
 * Sizes (and victims) are drawn with a seeded PRNG into typed arrays before anything is
 * timed, so the PRNG is not measured and every allocator sees the identical sequence.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { mulberry32, type Allocator } from './common.js';

/** Entries in each pre-generated array (a power of two; indices are masked). */
export const INPUT_LEN = 1 << 20;
export const INPUT_MASK = INPUT_LEN - 1;

export type WorkloadKind = 'pairs' | 'window-fifo' | 'window-random' | 'mw-churn' | 'mw-prodcons';
export type SizeDist = 'uniform16-128' | 'go-mix' | 'large64k-4m';

export interface WorkloadSpec {
  /** Id used on the command line and in results.json. */
  id: string;
  /** Section of BENCHMARKS.md: a, b, c, d, e (multi-worker). */
  group: 'a' | 'b' | 'c' | 'd' | 'e';
  title: string;
  kind: WorkloadKind;
  sizes: SizeDist;
  /** Live objects (windows); 0 for pairs. */
  window: number;
  /** Ops (malloc+free pairs) to warm up with and to time, full suite. */
  warmupOps: number;
  measureOps: number;
  /** Buffer size for the fixed-capacity peers (@thi.ng/malloc MemPool, bump ring). */
  capacity: number;
  /** Multiplies the warm-up time cap (large objects: goheap's heap takes a few thousand ops to reach its size). */
  warmupCapScale?: number;
  /** (e) only: worker threads taking part. */
  workers?: number;
  /** (e) only: the allocators this workload runs with (goheap and its baseline); default all. */
  allocators?: string[];
}

const MiB = 1 << 20;

function win(w: number, order: 'fifo' | 'random', label: string): WorkloadSpec {
  return {
    id: `window-${label}-${order}`,
    group: 'b',
    title: `sliding window of ${label} live objects (16–128 B), freed ${order === 'fifo' ? 'oldest first' : 'in random order'}`,
    kind: order === 'fifo' ? 'window-fifo' : 'window-random',
    sizes: 'uniform16-128',
    window: w,
    warmupOps: 1 << 19,
    measureOps: 1 << 21,
    // 136 B per object covers the largest size plus MemPool's 8-byte header; x2 for fragmentation.
    capacity: Math.max(64 * MiB, 2 ** Math.ceil(Math.log2(w * 136 * 2))),
  };
}

/** The suite, in the order it is run and reported. */
export const workloads: WorkloadSpec[] = [
  {
    id: 'pairs', group: 'a', title: 'malloc+free pairs, random sizes 16–128 B',
    kind: 'pairs', sizes: 'uniform16-128', window: 0,
    warmupOps: 1 << 19, measureOps: 1 << 21, capacity: 64 * MiB,
  },
  win(1_000, 'fifo', '1k'), win(1_000, 'random', '1k'),
  win(100_000, 'fifo', '100k'), win(100_000, 'random', '100k'),
  win(1_000_000, 'fifo', '1M'), win(1_000_000, 'random', '1M'),
  {
    id: 'go-mix', group: 'c', title: 'size mix of a real Go program (go/types), 10k live objects, random order',
    kind: 'window-random', sizes: 'go-mix', window: 10_000,
    warmupOps: 1 << 19, measureOps: 1 << 21, capacity: 256 * MiB,
  },
  {
    id: 'large', group: 'd', title: 'large objects 64 KiB – 4 MiB (log-uniform), 32 live, random order',
    kind: 'window-random', sizes: 'large64k-4m', window: 32,
    warmupOps: 1 << 13, measureOps: 1 << 16, capacity: 512 * MiB, warmupCapScale: 5,
  },
];

// ---------------------------------------------------------------------------------------
// (e) MULTI-WORKER WORKLOADS (goheap only: no peer is multi-threaded). Run by bench/mw.ts
// (child side) and bench/mw-worker.ts (in each worker_thread):
//   e-churn-1w   per-worker churn, 1 worker: the 1k-window FIFO of (b) (16–128 B) for a
//                fixed op count per worker; aggregate ops / wall time from a shared start
//                barrier (Atomics on a SharedArrayBuffer) to the last worker's finish
//   e-churn-2w   the same with 2 workers at once, on one shared heap (scaling = 2w ÷ 1w)
//                baseline "bump": each worker its own bump allocator over its own array
//                (the machine's own scaling, nothing shared)
//   e-prodcons   worker A mallocs (16–128 B), writes 4 bytes into the object, pushes the
//                pointer into an SPSC ring in a SharedArrayBuffer; worker B pops, reads the
//                4 bytes, frees (every free is a remote, cross-P free)
//                baseline "copy": A writes the 4 bytes into the ring itself, no allocator
// ---------------------------------------------------------------------------------------
function churn(workers: number): WorkloadSpec {
  return {
    id: `e-churn-${workers}w`, group: 'e',
    title: `per-worker churn, ${workers} worker${workers > 1 ? 's' : ''}: each runs the 1k-window FIFO (16–128 B) on the shared heap`,
    kind: 'mw-churn', sizes: 'uniform16-128', window: 1_000,
    // Each worker JIT-compiles goheap on its own (and the compiler threads share the 2
    // cores): 4 M ops of warm-up, where one thread alone needs 1-2 M (see run.ts WARMUP_MS).
    warmupOps: 1 << 22, measureOps: 1 << 22, capacity: 16 * MiB, workers, allocators: ['goheap', 'goheap-private', 'goheap-proc', 'bump'],
  };
}
export const multiWorkerWorkloads: WorkloadSpec[] = [
  churn(1), churn(2),
  {
    id: 'e-prodcons', group: 'e',
    title: 'producer / consumer: worker A mallocs (16–128 B), writes 4 bytes, passes the pointer through an SPSC ring; worker B reads and frees',
    kind: 'mw-prodcons', sizes: 'uniform16-128', window: 0,
    warmupOps: 1 << 20, measureOps: 1 << 20, capacity: 0, workers: 2, allocators: ['goheap', 'copy'],
  },
];

/** Every workload run.ts knows, (a)–(d) then (e). */
export const allWorkloads: WorkloadSpec[] = [...workloads, ...multiWorkerWorkloads];

/** The Go size census (bench/data/go-sizes.json, made by bench/sizemix/main.go). */
export interface GoSizeCensus {
  source: string;
  goVersion: string;
  packages: string[];
  objects: number;
  bytes: number;
  sizes: { size: number; objects: number }[];
  memStatsBySize: { size: number; objects: number }[];
  /** Mallocs - sum(BySize.Mallocs): tiny allocations combined into a 16-byte block (plus large objects). */
  memStatsTinyAndLarge: number;
}

export function loadGoCensus(): GoSizeCensus {
  const path = fileURLToPath(new URL('./data/go-sizes.json', import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as GoSizeCensus;
}

/**
 * Draw n sizes from the Go census. Each profiled size is a size-class size (or a
 * page-rounded large size); a draw picks an entry with probability proportional to its
 * object count and then a size uniformly in (previous class size, class size], since the
 * program asked for some size in that range. Tiny allocations that Go combined into an
 * existing 16-byte block never reach the profile; MemStats counts them, and they are
 * drawn uniformly in 1..15 B.
 */
function goMixSizes(n: number, rnd: () => number): Uint32Array {
  const census = loadGoCensus();
  const classes = census.memStatsBySize.map((c) => c.size);
  const large = census.sizes.filter((s) => s.size > 32768).reduce((a, s) => a + s.objects, 0);
  const tiny = Math.max(0, census.memStatsTinyAndLarge - large);
  const lo: number[] = [], hi: number[] = [], w: number[] = [];
  if (tiny > 0) { lo.push(1); hi.push(15); w.push(tiny); }
  for (const s of census.sizes) {
    const ci = classes.indexOf(s.size);
    if (ci >= 0) { lo.push(ci === 0 ? 1 : classes[ci - 1] + 1); hi.push(s.size); }
    else { lo.push(s.size); hi.push(s.size); }
    w.push(s.objects);
  }
  const total = w.reduce((a, b) => a + b, 0);
  const cum = new Float64Array(w.length);
  let acc = 0;
  for (let i = 0; i < w.length; i++) { acc += w[i] / total; cum[i] = acc; }
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const r = rnd();
    let a = 0, b = cum.length - 1;
    while (a < b) { const m = (a + b) >> 1; if (cum[m] < r) a = m + 1; else b = m; }
    out[i] = lo[a] + Math.floor(rnd() * (hi[a] - lo[a] + 1));
  }
  return out;
}

/** The pre-generated inputs of a workload: sizes, and victim slot indices for random windows. */
export interface WorkloadInputs {
  sizes: Uint32Array;
  victims: Uint32Array;
}

export function makeInputs(spec: WorkloadSpec): WorkloadInputs {
  const seed = [...spec.id].reduce((h, c) => Math.imul(h ^ c.charCodeAt(0), 16777619), 2166136261);
  const rnd = mulberry32(seed);
  let sizes: Uint32Array;
  switch (spec.sizes) {
    case 'uniform16-128':
      sizes = new Uint32Array(INPUT_LEN);
      for (let i = 0; i < INPUT_LEN; i++) sizes[i] = 16 + Math.floor(rnd() * 113);
      break;
    case 'large64k-4m':
      sizes = new Uint32Array(INPUT_LEN);
      for (let i = 0; i < INPUT_LEN; i++) sizes[i] = Math.floor(65536 * 2 ** (rnd() * 6));
      break;
    case 'go-mix':
      sizes = goMixSizes(INPUT_LEN, rnd);
      break;
  }
  const victims = new Uint32Array(spec.kind === 'window-random' ? INPUT_LEN : 1);
  if (spec.kind === 'window-random') {
    for (let i = 0; i < INPUT_LEN; i++) victims[i] = Math.floor(rnd() * spec.window);
  }
  return { sizes, victims };
}

/**
 * Live bytes (sum of requested sizes) over the first `ops` ops after the prefill, by
 * replaying the workload without any allocator: the peak, and the value after the last op.
 */
export function liveBytes(spec: WorkloadSpec, inp: WorkloadInputs, ops: number): { peak: number; end: number } {
  const { sizes, victims } = inp;
  if (spec.kind === 'pairs') {
    let m = 0;
    for (let i = 0; i < Math.min(ops, INPUT_LEN); i++) if (sizes[i] > m) m = sizes[i];
    return { peak: m, end: 0 };
  }
  const w = spec.window;
  const held = new Uint32Array(w);
  let live = 0;
  for (let k = 0; k < w; k++) { held[k] = sizes[k & INPUT_MASK]; live += held[k]; }
  let peak = live, j = 0;
  for (let i = 0; i < ops; i++) {
    const idx = (w + i) & INPUT_MASK;
    const slot = spec.kind === 'window-fifo' ? j : victims[idx];
    live += sizes[idx] - held[slot];
    held[slot] = sizes[idx];
    if (live > peak) peak = live;
    if (++j === w) j = 0;
  }
  return { peak, end: live };
}

// ---------------------------------------------------------------------------------------
// The timed loops. Each child process drives exactly one allocator class, so the a.malloc /
// a.free call sites stay monomorphic; the loops allocate nothing on the JS heap themselves.
// ---------------------------------------------------------------------------------------

/** n malloc+free pairs starting at input index start. Returns a checksum (keeps results observable). */
export function runPairs(a: Allocator, sizes: Uint32Array, start: number, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const p = a.malloc(sizes[(start + i) & INPUT_MASK]);
    a.free(p);
    acc ^= p;
  }
  return acc;
}

/** Allocate the w objects of a window into slots. */
export function fillWindow(a: Allocator, slots: Uint32Array, w: number, sizes: Uint32Array): void {
  for (let k = 0; k < w; k++) slots[k] = a.malloc(sizes[k & INPUT_MASK]);
}

/** Oldest first: free slots[pos], allocate into it, advance pos. Returns the new pos. */
export function runWindowFifo(a: Allocator, slots: Uint32Array, w: number, sizes: Uint32Array, start: number, n: number, pos: number): number {
  let j = pos;
  for (let i = 0; i < n; i++) {
    a.free(slots[j]);
    slots[j] = a.malloc(sizes[(start + i) & INPUT_MASK]);
    if (++j === w) j = 0;
  }
  return j;
}

/** Random order: free the pre-drawn victim slot, allocate into it. */
export function runWindowRandom(a: Allocator, slots: Uint32Array, sizes: Uint32Array, victims: Uint32Array, start: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = (start + i) & INPUT_MASK;
    const j = victims[k];
    a.free(slots[j]);
    slots[j] = a.malloc(sizes[k]);
  }
}
