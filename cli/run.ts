/**
 * run.ts — the engine of `goheap run`: drives a workload over a fresh heap, collects one
 * record per GC cycle (for gctrace lines) and samples of the heap over time (for the
 * plot), and returns the final MemStats. No printing here; the command (goheap.ts)
 * prints through the hooks.
 *
 * Two engines: {@link runWorkload} runs the workload on the calling thread (deterministic:
 * the same seed and --ops give the same numbers); {@link runWorkers} (--workers N) runs it
 * on N worker threads sharing one heap (run-worker.ts), while the calling thread only
 * watches: it prints the GC cycles the workers report, samples MemStats for the plot and
 * draws the progress bar.
 *
 * @module
 */
import type { Worker } from 'node:worker_threads';
import { Heap, InvalidArgumentError, GoHeapError, InvalidSizeError, InvalidPointerError, DoubleFreeError, OutOfMemoryError, IllegalTransitionError, HeapCorruptionError, type GCCycleInfo, type MemStats } from '../src/index.js';
import { spawnHeapWorker } from '../src/node.js';
import type { ScavTraceInfo } from '../src/mgcscavenge.js';
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
  /** The memory limit in bytes (--memlimit, GOMEMLIMIT); Infinity or undefined = none. */
  memlimit?: number;
  /**
   * Worker threads to run the workload on ({@link runWorkers}); undefined: the calling
   * thread runs it ({@link runWorkload}).
   */
  workers?: number;
}

/** One GC cycle as seen by the run: the heap's GCCycleInfo plus when it ended. */
export interface GCEvent extends GCCycleInfo {
  /** Seconds since the run started. */
  at: number;
  /** Operations done when the cycle ran (by all workers together, with --workers). */
  opsDone: number;
  /** With --workers: the worker whose allocation (or gc() call) ran the cycle. */
  worker?: number;
}

/** One sample of the heap, for the plot. */
export interface Sample {
  /** Seconds since the run started. */
  t: number;
  ops: number;
  HeapAlloc: number; HeapInuse: number; HeapIdle: number; HeapReleased: number; HeapSys: number;
  NumGC: number;
  /** The process's resident set size (process.memoryUsage.rss()): what the OS really holds. */
  RSS: number;
}

/** The plotted fields, in legend order. */
export const sampleFields = ['HeapSys', 'HeapInuse', 'HeapAlloc', 'HeapIdle', 'HeapReleased', 'RSS'] as const;

/** What {@link runWorkload} returns. */
export interface RunResult {
  workload: string;
  options: RunOptions;
  /** Operations done: options.ops exactly (a workload never exceeds its budget), unless interrupted or run by --duration. */
  opsDone: number;
  /** Wall time of the run in seconds (heap creation to the final readMemStats). */
  elapsed: number;
  /** True if the run was stopped early (Ctrl-C). */
  interrupted: boolean;
  gcs: GCEvent[];
  samples: Sample[];
  memstats: MemStats;
  /** The process's RSS at the end, and how the heap released memory (heap.releaseMode). */
  rss: number;
  releaseMode: string;
  /** With --workers: what each worker did, by worker id. */
  workers?: WorkerResult[];
}

/** What one worker of {@link runWorkers} did. */
export interface WorkerResult {
  id: number;
  /** Its seed: the run's seed + id. */
  seed: number;
  /** Its share of --ops (null with --duration). */
  ops: number | null;
  opsDone: number;
  /** Seconds from the start signal to its last operation. */
  elapsed: number;
  /** GC cycles it ran (automatic ones its allocations triggered, and its gc() calls). */
  gcCycles: number;
}

/** Callbacks for live output. */
export interface RunHooks {
  /** After each GC cycle (automatic or forced). */
  onGC?(ev: GCEvent, result: { elapsed: number; pauseTotalNs: number }): void;
  /** A scavtrace line (after each GC cycle, and for freeOSMemory); single-thread runs only. */
  onScavenge?(t: ScavTraceInfo): void;
  /** About every 100 ms while running. */
  onProgress?(p: { fraction: number; opsDone: number; elapsed: number; heapAlloc: number; numGC: number }): void;
  /** Polled between batches; return true to stop the run early. */
  shouldStop?(): boolean;
  /** Once the heap is created, before the run starts (awaited): `--serve` attaches the visualiser here. */
  onHeap?(heap: Heap): Promise<void>;
}

/** Most worker threads {@link runWorkers} runs. */
export const MAX_WORKERS = 16;

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
  const heap = Heap.create({ reserve: opts.reserve, gcPercent: opts.gogc, memoryLimit: opts.memlimit });
  await hooks.onHeap?.(heap);
  const gcs: GCEvent[] = [];
  const samples: Sample[] = [];
  let opsDone = 0, pauseTotalNs = 0, gcSince = false;
  if (hooks.onScavenge !== undefined) heap.onScavenge = hooks.onScavenge;

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
      HeapReleased: ms.HeapReleased, HeapSys: ms.HeapSys, NumGC: ms.NumGC, RSS: process.memoryUsage.rss(),
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
  return { workload: w.name, options: opts, opsDone, elapsed: end, interrupted, gcs, samples, memstats, rss: process.memoryUsage.rss(), releaseMode: heap.releaseMode };
}

// ----- --workers N ----------------------------------------------------------------------

/**
 * The control block shared by the main thread and the workers of {@link runWorkers} (a
 * SharedArrayBuffer of CTL_BYTES(n) bytes):
 *
 *   bytes     field
 *   0         go      i32: 0 until every worker is ready, then 1 (workers Atomics.wait on it)
 *   4         stop    i32: 1 = stop now (Ctrl-C, or another worker failed)
 *   8         start   f64: when the run started, performance.timeOrigin + performance.now() (ms)
 *   16 + 8i   ops     i64: operations done so far by worker i (Atomics, after each batch)
 */
export const CTL_GO = 0;
export const CTL_STOP = 1;
export const CTL_START_F64 = 1;
export const CTL_OPS_BYTE = 16;
export const ctlBytes = (n: number): number => CTL_OPS_BYTE + 8 * n;

/** workerData of a worker of {@link runWorkers} (run-worker.ts). */
export interface WorkerParams {
  /** For worker-bootstrap.mjs: the module to load (run-worker.ts through tsx). */
  entry?: string;
  id: number;
  nworkers: number;
  workload: string;
  seed: number;
  /** This worker's share of --ops (ignored with duration). */
  ops: number;
  duration: number | null;
  control: SharedArrayBuffer;
}

/** What a worker posts to the main thread. */
export type WorkerMessage =
  | { type: 'ready'; id: number }
  | { type: 'gc'; id: number; info: GCCycleInfo; at: number; opsDone: number }
  | { type: 'done'; id: number; opsDone: number; elapsed: number; gcCycles: number }
  | { type: 'error'; id: number; name: string; message: string; stack?: string };

/**
 * The worker's entry: from the TypeScript sources (this file is run.ts, through tsx) a
 * bootstrap that registers tsx in the worker first (Node 20 does not apply the main
 * thread's loader hooks to workers) and then loads run-worker.ts; from the compiled build
 * (dist/cli/run.js) run-worker.js itself.
 */
function workerEntry(): { file: URL; entry: string | undefined } {
  const self = import.meta.url;
  if (/\.[cm]?ts$/.test(new URL(self).pathname)) {
    return { file: new URL('./worker-bootstrap.mjs', self), entry: new URL('./run-worker.ts', self).href };
  }
  return { file: new URL('./run-worker.js', self), entry: undefined };
}

const errorClasses: Record<string, new (message: string) => Error> = {
  GoHeapError, InvalidSizeError, InvalidPointerError, DoubleFreeError, OutOfMemoryError,
  IllegalTransitionError, InvalidArgumentError, HeapCorruptionError,
};

/** An error a worker reported, as an instance of its goheap class when it had one. */
function workerError(m: { id: number; name: string; message: string; stack?: string }): Error {
  const C = errorClasses[m.name];
  const e = C !== undefined ? new C(m.message) : new Error(`worker ${m.id}: ${m.name}: ${m.message}`);
  if (m.stack !== undefined) e.stack = `${m.stack}\n    (in worker ${m.id})`;
  return e;
}

/** How often the main thread looks at the workers' progress while they run, in ms. */
const POLL_MS = 5;

/**
 * Run a built-in workload on `opts.workers` worker threads that share one new heap. Each
 * worker runs its own instance of the workload with seed `opts.seed + id`; with --ops the
 * operations are split between the workers (the first `ops % workers` do one more), with
 * --duration every worker runs for the whole duration. The main thread attaches as P 0
 * but allocates nothing: it reports the cycles the workers run (onGC, in order of arrival,
 * `worker` set), samples MemStats (every 1/400 of the run, after each GC cycle, and every
 * 25 ms), and returns after every worker has finished and exited (its P given back), with
 * the MemStats read then. `elapsed` is the time from the start signal (every worker
 * attached and ready) to the last worker's last operation. Not deterministic: how the
 * workers interleave differs from run to run.
 */
export async function runWorkers(opts: RunOptions, hooks: RunHooks = {}): Promise<RunResult> {
  const w = workloads.get(opts.workload);
  if (w === undefined) throw new Error(`unknown workload ${opts.workload}`);
  const n = opts.workers ?? 1;
  if (!Number.isInteger(n) || n < 1 || n > MAX_WORKERS) throw new InvalidArgumentError(`workers must be an integer in 1..${MAX_WORKERS}, got ${n}`);
  const heap = Heap.create({ reserve: opts.reserve, gcPercent: opts.gogc, memoryLimit: opts.memlimit });
  if (n >= heap.h.maxprocs) throw new InvalidArgumentError(`${n} workers need ${n + 1} Ps (the main thread holds one); the heap has maxProcs ${heap.h.maxprocs}`);
  await hooks.onHeap?.(heap);
  const control = new SharedArrayBuffer(ctlBytes(n));
  const ctl = new Int32Array(control, 0, 2);
  const start = new Float64Array(control, 0, 2);
  const counts = new BigInt64Array(control, CTL_OPS_BYTE, n);
  const byTime = opts.duration !== undefined;
  const { file, entry } = workerEntry();

  let t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const gcs: GCEvent[] = [];
  const samples: Sample[] = [];
  const results: (WorkerResult | undefined)[] = new Array(n).fill(undefined);
  let ready = 0, done = 0, exited = 0, pauseTotalNs = 0, gcSince = false;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  const poke = (): void => { const f = wake; wake = null; f?.(); };
  const fail = (e: Error): void => {
    failure ??= e;
    Atomics.store(ctl, CTL_STOP, 1);
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    poke();
  };
  const share = (id: number): number => Math.floor(opts.ops / n) + (id < opts.ops % n ? 1 : 0);

  const workers: Worker[] = [];
  for (let id = 0; id < n; id++) {
    const params: WorkerParams = {
      entry, id, nworkers: n, workload: w.name, seed: opts.seed + id, ops: share(id),
      duration: opts.duration ?? null, control,
    };
    const wk = spawnHeapWorker(heap, file, { workerData: params, execArgv: [] });
    workers.push(wk);
    wk.on('message', (m: WorkerMessage) => {
      switch (m.type) {
        case 'ready':
          ready++;
          poke();
          break;
        case 'gc': {
          pauseTotalNs += m.info.pauseNs;
          const ev: GCEvent = { ...m.info, at: m.at, opsDone: m.opsDone, worker: m.id };
          gcs.push(ev);
          gcSince = true;
          hooks.onGC?.(ev, { elapsed: ev.at, pauseTotalNs });
          break;
        }
        case 'done':
          results[m.id] = { id: m.id, seed: opts.seed + m.id, ops: byTime ? null : share(m.id), opsDone: m.opsDone, elapsed: m.elapsed, gcCycles: m.gcCycles };
          done++;
          poke();
          break;
        case 'error':
          fail(workerError(m));
          break;
      }
    });
    wk.on('error', (e) => fail(e instanceof Error ? e : new Error(String(e))));
    // spawnHeapWorker's own 'exit' listener (registered first) has reclaimed the P by now.
    wk.on('exit', (code) => {
      exited++;
      if (results[id] === undefined) fail(new Error(`worker ${id} exited (code ${code}) before it finished the workload`));
      poke();
    });
  }
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => {
    const timer = setTimeout(() => { wake = null; resolve(); }, ms);
    wake = () => { clearTimeout(timer); resolve(); };
  });

  try {
    // Every worker attached and ready (or one failed): start them all at once.
    while (ready < n && failure === null) await sleep(1000);
    t0 = performance.now();
    start[CTL_START_F64] = performance.timeOrigin + t0;
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);

    const totalOps = (): number => {
      let s = 0;
      for (let i = 0; i < n; i++) s += Number(Atomics.load(counts, i));
      return s;
    };
    const fraction = (ops: number): number => Math.min(1, byTime ? elapsed() / opts.duration! : ops / Math.max(1, opts.ops));
    let lastHeapAlloc = 0, lastSampleAt = performance.now(), nextSample = 0, nextProgress = 0;
    let interrupted = false, end = -1;
    const sample = (): MemStats => {
      const ops = totalOps();
      const ms = heap.readMemStats();
      samples.push({
        t: elapsed(), ops,
        HeapAlloc: ms.HeapAlloc, HeapInuse: ms.HeapInuse, HeapIdle: ms.HeapIdle,
        HeapReleased: ms.HeapReleased, HeapSys: ms.HeapSys, NumGC: ms.NumGC, RSS: process.memoryUsage.rss(),
      });
      return ms;
    };
    sample();
    while (exited < n) {
      await sleep(POLL_MS);
      if (done === n && end < 0) end = elapsed();
      if (!interrupted && failure === null && done < n && hooks.shouldStop?.()) {
        interrupted = true;
        Atomics.store(ctl, CTL_STOP, 1);
      }
      if (done === n || failure !== null) continue;
      const ops = totalOps(), f = fraction(ops), now = performance.now();
      if (f >= nextSample || gcSince || now - lastSampleAt >= SAMPLE_MS) {
        lastHeapAlloc = sample().HeapAlloc;
        lastSampleAt = performance.now();
        gcSince = false;
        while (nextSample <= f) nextSample += 1 / SAMPLES;
      }
      if (now >= nextProgress) {
        nextProgress = now + 100;
        hooks.onProgress?.({ fraction: f, opsDone: ops, elapsed: elapsed(), heapAlloc: lastHeapAlloc, numGC: gcs.length });
      }
    }
    if (failure !== null) throw failure;
    if (end < 0) end = elapsed();
    const opsDone = totalOps();
    hooks.onProgress?.({ fraction: interrupted ? fraction(opsDone) : 1, opsDone, elapsed: end, heapAlloc: lastHeapAlloc, numGC: gcs.length });
    const memstats = sample();
    heap.check();
    return { workload: w.name, options: opts, opsDone, elapsed: end, interrupted, gcs, samples, memstats, rss: process.memoryUsage.rss(), releaseMode: heap.releaseMode, workers: results as WorkerResult[] };
  } finally {
    // On a failure: stop the others and wait until they are gone (their Ps reclaimed).
    if (exited < n) {
      Atomics.store(ctl, CTL_STOP, 1);
      Atomics.store(ctl, CTL_GO, 1);
      Atomics.notify(ctl, CTL_GO);
      const deadline = performance.now() + 5000;
      while (exited < n && performance.now() < deadline) await sleep(100);
      if (exited < n) for (const wk of workers) void wk.terminate();
      while (exited < n) await sleep(100);
    }
  }
}
