/**
 * common.ts — what every part of the benchmark harness shares: the allocator interface,
 * the seeded PRNG, the shape of one run's result, small helpers.
 *
 * @module
 */
import { readFileSync } from 'node:fs';

/**
 * The one interface every allocator is driven through. `malloc` returns a handle (a byte
 * offset for the real allocators, a table index for plain Uint8Array); `free` gives it back.
 * `stats` is called only outside the timed loops.
 */
export interface Allocator {
  readonly name: string;
  malloc(size: number): number;
  free(p: number): void;
  stats(): AllocatorStats;
}

/** Memory an allocator holds, in bytes (see BENCHMARKS.md for each allocator's definition). */
export interface AllocatorStats {
  /** Backing store obtained (buffer length, wasm memory size, ...). */
  reserved: number;
  /** Part of it the allocator has put to use (mapped / touched / high-water mark). */
  committed: number;
}

/** goheap's own statistics at the end of a run (Go's runtime.MemStats fields). */
export interface GoHeapEndStats {
  HeapInuse: number;
  HeapAlloc: number;
  HeapSys: number;
  HeapIdle: number;
  HeapReleased: number;
  Sys: number;
  NumGC: number;
  Mallocs: number;
  Frees: number;
  /** HeapAlloc and HeapInuse after heap.gc() (every freed object swept). */
  HeapAllocAfterGC: number;
  HeapInuseAfterGC: number;
}

/** What one child process reports for one (allocator x workload) run. */
export interface RunResult {
  allocator: string;
  workload: string;
  run: number;
  ok: boolean;
  error?: string;
  /** Operations (malloc+free pairs) timed, in how many batches, in how many ns. */
  ops: number;
  batches: number;
  ns: number;
  nsPerOp: number;
  /** Fastest batch, ns per pair. */
  bestBatchNsPerOp: number;
  /** Ops run in the warm-up (at least the workload's warmupOps, and at least warmupMs long). */
  warmupOps: number;
  /**
   * Mean ns per op over the first warmupOps ops of the warm-up: the allocator before (and
   * while) the JIT optimises it. The measured phase comes after the whole warm-up.
   */
  coldNsPerOp?: number;
  /** True when the time cap, not the op count, ended the measured phase. */
  capped: boolean;
  /** Setup: prefilling the live window, in ms. */
  fillMs: number;
  /** Peak bytes of live objects as requested (sum of the sizes passed to malloc). */
  peakLive: number;
  /** Live bytes (requested) after the last op: what goheap's end-of-run statistics hold. */
  endLive: number;
  peakReserved: number;
  peakCommitted: number;
  /** Peak resident set size of the process above the baseline taken before the allocator was created. */
  peakRssDelta: number;
  goheap?: GoHeapEndStats;
  wallMs: number;
  /** (e) multi-worker workloads: worker threads, and each worker's own ns per op (its measured phase). */
  workers?: number;
  perWorkerNsPerOp?: number[];
  /** Hash of src/ when the run started (set by run.ts). */
  srcHash?: string;
}

/** mulberry32, the seeded PRNG the CLI's workloads use too. */
export { mulberry32 } from '../cli/workloads.js';

/** Resident set size now and its high-water mark, from /proc/self/status (bytes; 0 if unavailable). */
export function readRss(): { rss: number; hwm: number } {
  try {
    const s = readFileSync('/proc/self/status', 'utf8');
    const rss = /VmRSS:\s+(\d+) kB/.exec(s);
    const hwm = /VmHWM:\s+(\d+) kB/.exec(s);
    return { rss: rss ? Number(rss[1]) * 1024 : 0, hwm: hwm ? Number(hwm[1]) * 1024 : 0 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Human-readable bytes (KiB / MiB / GiB, binary). */
export function fmtBytes(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const a = Math.abs(n);
  if (a >= 1 << 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (a >= 1 << 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (a >= 1 << 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${Math.round(n)} B`;
}
