/**
 * run.ts — the engine of `goheap run`: drives a workload over a fresh heap, collects one
 * record per GC cycle (for gctrace lines) and samples of the heap over time (for the
 * plot), and returns the final MemStats. No printing here; the command (goheap.ts)
 * prints through the hooks.
 *
 * @module
 */
import { Heap, type GCCycleInfo, type MemStats } from '../src/index.js';
import { mulberry32, workloads } from './workloads.js';

/** Options of {@link runWorkload}. */
export interface RunOptions {
  workload: string;
  /** Operations (malloc and free calls) to run; ignored when `duration` is set. */
  ops: number;
  /** Seconds to run for, instead of a number of operations. */
  duration?: number;
  seed: number;
  /** Bytes of address space to reserve. */
  reserve: number;
  /** GOGC (-1 = off). */
  gogc: number;
}

/** One GC cycle as seen by the run: the heap's GCCycleInfo plus when it ended. */
export interface GCEvent extends GCCycleInfo {
  /** Seconds since the run started. */
  at: number;
  /** Operations done when the cycle ran. */
  opsDone: number;
}

/** One sample of the heap, for the plot. */
export interface Sample {
  /** Seconds since the run started. */
  t: number;
  ops: number;
  HeapAlloc: number; HeapInuse: number; HeapIdle: number; HeapReleased: number; HeapSys: number;
  NumGC: number;
}

/** The plotted fields, in legend order. */
export const sampleFields = ['HeapSys', 'HeapInuse', 'HeapAlloc', 'HeapIdle', 'HeapReleased'] as const;

/** What {@link runWorkload} returns. */
export interface RunResult {
  workload: string;
  options: RunOptions;
  /** Operations done (can exceed options.ops by the last batch's tail, never by more than a few). */
  opsDone: number;
  /** Wall time of the run in seconds (heap creation to the final readMemStats). */
  elapsed: number;
  /** True if the run was stopped early (Ctrl-C). */
  interrupted: boolean;
  gcs: GCEvent[];
  samples: Sample[];
  memstats: MemStats;
}

/** Callbacks for live output. */
export interface RunHooks {
  /** After each GC cycle (automatic or forced). */
  onGC?(ev: GCEvent, result: { elapsed: number; pauseTotalNs: number }): void;
  /** About every 100 ms while running. */
  onProgress?(p: { fraction: number; opsDone: number; elapsed: number; heapAlloc: number; numGC: number }): void;
  /** Polled between batches; return true to stop the run early. */
  shouldStop?(): boolean;
}

/**
 * Samples taken over a run: SAMPLES evenly spaced by progress, plus one after each GC
 * cycle, plus (with --duration) one whenever SAMPLE_MS have passed without one.
 */
const SAMPLES = 400;
const SAMPLE_MS = 25;
/** Most operations per batch. */
const MAX_BATCH = 4096;
/** How often the run yields to the event loop (so Ctrl-C is seen), in ms. */
const YIELD_MS = 50;

/**
 * Run a built-in workload on a new heap. Throws GoHeapError subclasses from the heap
 * (e.g. OutOfMemoryError when the reservation is too small).
 */
export async function runWorkload(opts: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const w = workloads.get(opts.workload);
  if (w === undefined) throw new Error(`unknown workload ${opts.workload}`);
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const heap = Heap.create({ reserve: opts.reserve, gcPercent: opts.gogc });
  const gcs: GCEvent[] = [];
  const samples: Sample[] = [];
  let opsDone = 0, pauseTotalNs = 0, gcSince = false;

  heap.onGC = (info) => {
    pauseTotalNs += info.pauseNs;
    const ev: GCEvent = { ...info, at: elapsed(), opsDone };
    gcs.push(ev);
    gcSince = true;
    hooks.onGC?.(ev, { elapsed: ev.at, pauseTotalNs });
  };
  const sample = (): MemStats => {
    const ms = heap.readMemStats();
    samples.push({
      t: elapsed(), ops: opsDone,
      HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, HeapIdle: ms.HeapIdle,
      HeapReleased: ms.HeapReleased, HeapSys: ms.HeapSys, NumGC: ms.NumGC,
    });
    return ms;
  };

  const run = w.start(heap, mulberry32(opts.seed));
  const byTime = opts.duration !== undefined;
  const total = byTime ? opts.duration! : opts.ops;
  const fraction = (): number => Math.min(1, byTime ? elapsed() / total : opsDone / total);
  let nextSample = 0, nextProgress = 0, nextYield = performance.now() + YIELD_MS;
  let interrupted = false, lastHeapAlloc = 0, lastSampleAt = performance.now();
  // Batches. With --ops, a fixed size (a 2*SAMPLES-th of the run, at most MAX_BATCH) and
  // samples only at fixed points and after GC cycles: nothing depends on the clock, so
  // the same seed and --ops give the same run, number for number (readMemStats flushes
  // the mcache, so when samples are taken matters). With --duration, batches adapt to
  // take about 1–4 ms, and a sample is also taken whenever SAMPLE_MS pass without one.
  const maxBatch = byTime ? MAX_BATCH : Math.max(1, Math.min(MAX_BATCH, Math.floor(opts.ops / (2 * SAMPLES))));
  let batch = byTime ? 64 : maxBatch;
  sample();
  for (;;) {
    const f = fraction();
    if (f >= 1) break;
    const budget = byTime ? batch : Math.min(batch, opts.ops - opsDone);
    const tb = performance.now();
    opsDone += run.step(f, budget);
    const now = performance.now();
    if (byTime) {
      if (now - tb < 1 && batch < maxBatch) batch = Math.min(maxBatch, batch * 2);
      else if (now - tb > 4 && batch > 1) batch = Math.max(1, batch >> 1);
    }
    const f2 = fraction();
    if (f2 >= nextSample || gcSince || (byTime && now - lastSampleAt >= SAMPLE_MS)) {
      lastHeapAlloc = sample().HeapAlloc;
      lastSampleAt = performance.now();
      gcSince = false;
      while (nextSample <= f2) nextSample += 1 / SAMPLES;
    }
    if (now >= nextProgress) {
      nextProgress = now + 100;
      hooks.onProgress?.({ fraction: f2, opsDone, elapsed: elapsed(), heapAlloc: lastHeapAlloc, numGC: gcs.length });
    }
    if (now >= nextYield) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      nextYield = performance.now() + YIELD_MS;
      if (hooks.shouldStop?.()) { interrupted = true; break; }
    }
  }
  hooks.onProgress?.({ fraction: interrupted ? fraction() : 1, opsDone, elapsed: elapsed(), heapAlloc: lastHeapAlloc, numGC: gcs.length });
  const memstats = sample();
  const end = elapsed();
  heap.check();
  return { workload: w.name, options: opts, opsDone, elapsed: end, interrupted, gcs, samples, memstats };
}
