/**
 * workloads.ts — the built-in workloads of `goheap run`.
 *
 * A workload is a program that mallocs and frees. It is driven in small batches by the
 * runner (run.ts), which tells it how far the run has got (`progress`, 0 → 1: by
 * operations with --ops, by time with --duration); a workload changes phase at fixed
 * points of progress, so the same story plays out at any length. One *operation* is one
 * malloc or one free call; gc() and freeOSMemory() calls made by a workload are events,
 * not operations (they show up as "(forced)" gctrace lines).
 *
 * Live sets are bounded by bytes or objects (never by the operation count), so a long
 * run keeps a steady heap instead of running out of reservation.
 *
 * @module
 */
import type { Heap } from '../src/index.js';

/** A running instance of a workload. */
export interface WorkloadRun {
  /**
   * Do at most `budget` operations (at least 1) at overall progress `progress` in [0, 1);
   * return how many were done. Never more than `budget`: a free-and-replace pair cut by
   * the end of the budget does its second half at the start of the next step, so a run
   * of --ops N does exactly N operations.
   */
  step(progress: number, budget: number): number;
}

/** A built-in workload. */
export interface Workload {
  name: string;
  /** One line, for `goheap run --help`. */
  summary: string;
  /** Operations when neither --ops nor --duration is given (a run of a few seconds). */
  defaultOps: number;
  start(heap: Heap, rand: () => number): WorkloadRun;
}

/** mulberry32: a small, fast, seedable 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer log-uniformly distributed in [lo, hi]. */
function logUniform(rand: () => number, lo: number, hi: number): number {
  return Math.floor(lo * Math.pow((hi + 1) / lo, rand()));
}

const KiB = 1024, MiB = 1 << 20;

/**
 * churn — small-object churn: a window of 65,536 live objects of 16–512 bytes
 * (log-uniform, a fifth of them with pointers); every step frees a randomly chosen one
 * and allocates a new one in its place. The live heap stays near 9 MiB while the
 * allocation volume grows without bound: a textbook GC sawtooth.
 */
/**
 * A window of W live objects: fill it, then each step frees a random one and allocates a
 * replacement made by `alloc` (the shape of both churn and large).
 */
function windowChurn(heap: Heap, rand: () => number, W: number, alloc: (heap: Heap, rand: () => number) => number): WorkloadRun {
  const live = new Array<number>(W).fill(0);
  let filled = 0;
  let refill = -1; // a slot freed at the end of the last step's budget
  return {
    step(_progress, budget) {
      let ops = 0;
      if (refill >= 0) { live[refill] = alloc(heap, rand); refill = -1; ops++; }
      while (ops < budget) {
        let k: number;
        if (filled < W) k = filled++;
        else {
          k = Math.floor(rand() * W);
          heap.free(live[k]!);
          if (++ops === budget) { refill = k; break; }
        }
        live[k] = alloc(heap, rand);
        ops++;
      }
      return ops;
    },
  };
}

const churn: Workload = {
  name: 'churn',
  summary: 'small-object churn: 65,536 live objects of 16–512 B; each step frees a random one and allocates another',
  defaultOps: 3_000_000,
  start(heap, rand) {
    return windowChurn(heap, rand, 65_536, (h, r) => h.malloc(logUniform(r, 16, 512), { noscan: r() >= 0.2 }));
  },
};

/** A size drawn from a mix shaped like real Go programs (many tiny and small, few large). */
function mixSize(rand: () => number): { size: number; noscan: boolean } {
  const r = rand();
  if (r < 0.30) return { size: 1 + Math.floor(rand() * 15), noscan: true };         // tiny: strings, small scalars
  if (r < 0.62) return { size: 16 + Math.floor(rand() * 49), noscan: rand() < 0.5 }; // 16–64 B structs
  if (r < 0.85) return { size: logUniform(rand, 65, 512), noscan: rand() < 0.5 };
  if (r < 0.96) return { size: logUniform(rand, 513, 4 * KiB), noscan: rand() < 0.7 };  // slices, buffers
  if (r < 0.998) return { size: logUniform(rand, 4 * KiB + 1, 32 * KiB), noscan: true };
  return { size: logUniform(rand, 32 * KiB + 1, 512 * KiB), noscan: true };            // large objects
}

/**
 * mix — a realistic program: sizes from tiny to 512 KiB (mostly small), most objects die
 * young (a ring of 4,096 recent objects), some live long (a set that grows to ~48 MiB
 * over the first 35% of the run, holds until 65%, then shrinks to a sixth by 80%). At
 * 82% the program calls gc() and freeOSMemory() (like debug.FreeOSMemory) and then
 * keeps running on the small heap, reusing the released pages. The default demo.
 */
const mix: Workload = {
  name: 'mix',
  summary: 'a realistic mix: tiny to 512 KiB objects, most die young; the live heap grows, holds, shrinks, then gc() and freeOSMemory()',
  defaultOps: 1_600_000,
  start(heap, rand) {
    const YOUNG = 4096;
    const young = new Array<number>(YOUNG).fill(0);
    let youngPos = 0;
    const old: number[] = [], oldSize: number[] = [];
    let oldBytes = 0;
    let released = false;
    let pendingFree = 0; // a young object whose free did not fit in the last step's budget
    const PEAK = 48 * MiB;
    const target = (p: number): number => {
      if (p < 0.35) return PEAK * (p / 0.35);
      if (p < 0.65) return PEAK;
      if (p < 0.80) return PEAK * (1 - (5 / 6) * ((p - 0.65) / 0.15));
      return PEAK / 6;
    };
    const dropOld = (): void => {
      const k = Math.floor(rand() * old.length);
      heap.free(old[k]!);
      oldBytes -= oldSize[k]!;
      old[k] = old[old.length - 1]!; old.pop();
      oldSize[k] = oldSize[oldSize.length - 1]!; oldSize.pop();
    };
    return {
      step(progress, budget) {
        if (!released && progress >= 0.82) {
          released = true;
          heap.gc();
          heap.freeOSMemory();
        }
        const want = target(progress);
        let ops = 0;
        if (pendingFree !== 0) { heap.free(pendingFree); pendingFree = 0; ops++; }
        while (ops < budget) {
          if (oldBytes > want && old.length > 0) { dropOld(); ops++; continue; }
          const { size, noscan } = mixSize(rand);
          const p = heap.malloc(size, { noscan });
          ops++;
          if (oldBytes < want && rand() < 0.25) {
            old.push(p); oldSize.push(size); oldBytes += size;
          } else {
            const q = young[youngPos]!;
            if (q !== 0) {
              if (ops < budget) { heap.free(q); ops++; } else pendingFree = q;
            }
            young[youngPos] = p;
            youngPos = (youngPos + 1) % YOUNG;
          }
        }
        return ops;
      },
    };
  },
};

/**
 * large — large objects (> 32 KiB, their own spans straight from the page heap): a window
 * of 128 live objects of 32 KiB–4 MiB (log-uniform, ~110 MiB live), each step frees a
 * random one and allocates another. Shows page-heap reuse and HeapIdle between GCs.
 */
const large: Workload = {
  name: 'large',
  summary: 'large objects: 128 live objects of 32 KiB–4 MiB (log-uniform); each step frees a random one and allocates another',
  defaultOps: 12_000,
  start(heap, rand) {
    return windowChurn(heap, rand, 128, (h, r) => h.malloc(logUniform(r, 32 * KiB + 1, 4 * MiB)));
  },
};

/**
 * fragment — fragmentation, in four acts:
 *   0–30%    allocate 64-byte objects (up to 1M of them, 64 MiB);
 *   30%      free 7 of every 8 and gc(): HeapAlloc falls, HeapInuse does not — every span
 *            still holds live objects (HeapInuse − HeapAlloc is the fragmentation);
 *   30–80%   churn 256-byte objects (another size class: it cannot use the holes, so
 *            HeapSys grows);
 *   80%      free the remaining 64-byte objects, gc() — their spans go back to the page
 *            heap (HeapIdle) — and freeOSMemory() (HeapReleased);
 *   80–100%  keep churning 256-byte objects, which reuse the released pages.
 */
const fragment: Workload = {
  name: 'fragment',
  summary: 'fragmentation: fill with 64 B objects, free 7 of 8 (gc), churn 256 B objects, then free the rest, gc() and freeOSMemory()',
  defaultOps: 2_400_000,
  start(heap, rand) {
    const CAP_A = 1 << 20, W = 100_000;
    const a: number[] = [];
    let stage = 0; // 0 fill A, 1 punching holes, 2 churn C, 3 freeing A, 4 churn C after release
    let cursor = 0;
    const c = new Array<number>(W).fill(0);
    let cFilled = 0;
    // A replacement cut by the end of a step's budget: its malloc is the next step's first op.
    let refillA = -1, refillC = -1;
    /** Free a random C object and allocate its replacement (or, with one op left, just free). */
    const churnC = (left: number): number => {
      let k: number, ops = 0;
      if (cFilled < W) k = cFilled++;
      else {
        k = Math.floor(rand() * W);
        heap.free(c[k]!);
        if (left === 1) { refillC = k; return 1; }
        ops++;
      }
      c[k] = heap.malloc(256);
      return ops + 1;
    };
    return {
      step(progress, budget) {
        let ops = 0;
        if (refillA >= 0) { a[refillA] = heap.malloc(64); refillA = -1; ops++; }
        if (refillC >= 0) { c[refillC] = heap.malloc(256); refillC = -1; ops++; }
        while (ops < budget) {
          switch (stage) {
            case 0:
              if (progress >= 0.3) { stage = 1; cursor = 0; continue; }
              if (a.length < CAP_A) { a.push(heap.malloc(64)); ops++; }
              else { // full: replace a random one
                const k = Math.floor(rand() * a.length);
                heap.free(a[k]!);
                if (++ops === budget) refillA = k;
                else { a[k] = heap.malloc(64); ops++; }
              }
              break;
            case 1:
              if (cursor >= a.length) {
                if (ops > 0) return ops; // gc at the start of a step: the runner samples just before
                heap.gc();
                // Keep the survivors (every 8th) only.
                const kept: number[] = [];
                for (let i = 0; i < a.length; i += 8) kept.push(a[i]!);
                a.length = 0; a.push(...kept);
                stage = 2;
                continue;
              }
              if (cursor % 8 !== 0) { heap.free(a[cursor]!); ops++; }
              cursor++;
              break;
            case 2:
              if (progress >= 0.8) { stage = 3; cursor = 0; continue; }
              ops += churnC(budget - ops);
              break;
            case 3:
              if (cursor >= a.length) {
                if (ops > 0) return ops;
                a.length = 0;
                heap.gc();
                heap.freeOSMemory();
                stage = 4;
                continue;
              }
              heap.free(a[cursor++]!); ops++;
              break;
            default:
              ops += churnC(budget - ops);
          }
        }
        return ops;
      },
    };
  },
};

/** The built-in workloads, by name; `mix` is the default. */
export const workloads: ReadonlyMap<string, Workload> = new Map([churn, mix, large, fragment].map((w) => [w.name, w]));

/** The workload `goheap run` runs without an argument. */
export const defaultWorkload = 'mix';
