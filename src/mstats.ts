/**
 * mstats.ts — allocation statistics (Go: src/runtime/mstats.go, metrics.go, the
 * consistent heap stats and gcController counters of mgcpacer.go).
 *
 * The counters live in the buffer (an f64 array in the heap header) so every worker sees
 * the same numbers. They are the *sources* Go keeps; `readMemStats()` derives Go's public
 * runtime.MemStats from them with Go's definitions, and `readMetrics()` derives the
 * `/memory/classes/...` metrics. The sysMemStat counters (HeapSys parts and the *Sys
 * fields) are kept by the OS layer (mem.ts).
 *
 * Like Go, allocation counts are settled lazily: an mcache counts the slots it handed
 * out only when it gives a span back (refill / releaseAll), and frees are counted when a
 * span is swept. readMemStats() flushes the calling P's mcache first, as Go's
 * ReadMemStats flushes every mcache.
 *
 * @module
 */
import type { MHeap } from './mheap.js';
import {
  STAT_BUCKHASH_SYS, STAT_GC_MISC_SYS, STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED, STAT_IN_STACKS, STAT_MCACHE_SYS, STAT_MSPAN_SYS, STAT_OTHER_SYS, STAT_STACKS_SYS,
} from './mem.js';
import { NUM_SIZE_CLASSES, class_to_size } from './sizeclasses.js';
import { bitmapCount, mSpanInUse } from './mspan.js';
import { LIST_MCACHE, LIST_RETAINED } from './mspanset.js';
import {
  ST_GC_PERCENT, ST_HEAP_ALLOC, ST_LARGE_ALLOC, ST_LARGE_ALLOC_COUNT, ST_LARGE_FREE,
  ST_LARGE_FREE_COUNT, ST_LAST_GC, ST_NUM_FORCED_GC, ST_NUM_GC, ST_PAUSE_END, ST_PAUSE_NS,
  ST_PAUSE_TOTAL, ST_SMALL_ALLOC, ST_SMALL_FREE, ST_TINY_ALLOC_COUNT, ST_MEMORY_LIMIT,
  ST_SCAV_RELEASED_BG, ST_SCAV_RELEASED_ASSIST,
  GW_FREED, GW_LOCALFREED, SW_ELEMSIZE, SW_LIST, SW_STATE,
} from './layout.js';


// The per-P and global statistics blocks: ST_* slots in layout.ts (generated).

/**
 * Sum of one per-P statistics slot over every P. Each P writes only its own block, so
 * reading while other workers run gives, per slot, a value each P had at some moment
 * during the read (a count may be missing the allocations in progress); it is not a
 * snapshot taken at one instant across slots or Ps.
 */
export function sumP(h: MHeap, slot: number): number {
  const f64 = h.views.f64;
  let n = 0;
  for (let pid = 0, np = h.nprocs; pid < np; pid++) { // nprocs is an atomic load: once
    const ps = h.pStatsOf(pid);
    if (ps !== 0) n += f64[ps + slot];
  }
  return n;
}

/** Bytes allocated in total (Go: totalAlloc = largeAlloc + sum of smallAllocCount * size). */
export function totalAllocBytes(h: MHeap): number {
  let n = sumP(h, ST_LARGE_ALLOC);
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) n += sumP(h, ST_SMALL_ALLOC + c) * class_to_size[c];
  return n;
}

/** Bytes freed in total (Go: totalFree = largeFree + sum of smallFreeCount * size). */
export function totalFreeBytes(h: MHeap): number {
  let n = sumP(h, ST_LARGE_FREE);
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) n += sumP(h, ST_SMALL_FREE + c) * class_to_size[c];
  return n;
}

/**
 * HeapAlloc from the counters as they stand (mcaches not flushed): the per-P heapAlloc
 * counters, which the allocation and sweep paths keep equal to totalAlloc − totalFree
 * (check() verifies it), summed once instead of every size class's counters.
 */
export function heapAllocBytes(h: MHeap): number {
  return sumP(h, ST_HEAP_ALLOC);
}

/**
 * Bytes of the objects freed and not yet swept, recounted from the spans' freedBits
 * (goheap only: Go's mark finds the live heap, and goheap's frees are its opposite; no
 * counter is kept per free). The frees another P made into a span it still caches (its
 * localFreedBits) are left out, as that P's allocations from the span are not counted yet
 * either (they are settled when the span leaves its mcache): the live heap
 * (heapAllocBytes minus this) is overestimated by them, never under. A walk over the
 * in-use spans: the GC runs it once per cycle, as Go's mark work is per cycle.
 */
export function freedUnsweptBytes(h: MHeap): number {
  const u32 = h.views.u32;
  let n = 0;
  h.forEachInUseSpan((s) => {
    const sw = s >>> 2;
    if (u32[sw + SW_STATE] !== mSpanInUse) return;
    let freed = bitmapCount(u32, s, GW_FREED);
    // Local frees count where their allocations are settled: a span in no mcache slot (in
    // an mcentral set, or on an mcache's retained list), not one a P allocates from now.
    const list = u32[sw + SW_LIST];
    if (list < LIST_MCACHE || (list & LIST_RETAINED) !== 0) freed += bitmapCount(u32, s, GW_LOCALFREED);
    n += freed * u32[sw + SW_ELEMSIZE];
  });
  return n;
}

/** One entry of MemStats.BySize. */
export interface MemStatsBySize {
  /** Largest object size of the class. */
  Size: number;
  /** Objects of the class allocated. */
  Mallocs: number;
  /** Objects of the class freed. */
  Frees: number;
}

/**
 * Go 1.19's runtime.MemStats, field for field, with Go's definitions (see the reference
 * §13.2). goheap-specific facts: BuckHashSys is 0 (no profiler); Lookups is 0;
 * EnableGC is true unless GOGC is off; DebugGC is false; GCCPUFraction is 0 (no
 * concurrent collector).
 */
export interface MemStats {
  /** Bytes of allocated heap objects (= HeapAlloc). */
  Alloc: number;
  /** Cumulative bytes allocated for heap objects (never decreases). */
  TotalAlloc: number;
  /** Total bytes of memory obtained from the OS: the sum of the *Sys fields. */
  Sys: number;
  /** Pointer lookups by the runtime: always 0 in goheap. */
  Lookups: number;
  /** Cumulative count of heap objects allocated (tiny objects included). */
  Mallocs: number;
  /** Cumulative count of heap objects freed, counted when their span is swept. */
  Frees: number;
  /** Bytes of allocated heap objects, including freed ones not yet swept. */
  HeapAlloc: number;
  /** Bytes of heap memory obtained from the OS (HeapInuse + HeapIdle). */
  HeapSys: number;
  /** Bytes in idle (unused) spans, released or not. */
  HeapIdle: number;
  /** Bytes in in-use spans; HeapInuse − HeapAlloc is free slots inside them. */
  HeapInuse: number;
  /** Bytes of idle spans returned to the OS (HeapIdle − HeapReleased could still be). */
  HeapReleased: number;
  /** Number of allocated heap objects (not yet swept frees included). */
  HeapObjects: number;
  /** Bytes in stack spans (stackAlloc). */
  StackInuse: number;
  /** Stack memory obtained from the OS. */
  StackSys: number;
  /** Bytes of allocated mspan structures. */
  MSpanInuse: number;
  /** Memory obtained from the OS for mspan structures. */
  MSpanSys: number;
  /** Bytes of allocated mcache structures. */
  MCacheInuse: number;
  /** Memory obtained from the OS for mcache structures. */
  MCacheSys: number;
  /** Profiling bucket hash tables: always 0 (no profiler). */
  BuckHashSys: number;
  /** Garbage collection metadata (heap bitmaps, page summaries). */
  GCSys: number;
  /** Miscellaneous off-heap runtime allocations. */
  OtherSys: number;
  /** Heap goal of the next GC cycle: a cycle starts when HeapAlloc reaches it (0 with GOGC off). */
  NextGC: number;
  /** When the last GC cycle finished, in nanoseconds since the Unix epoch (0: never). */
  LastGC: number;
  /** Cumulative nanoseconds spent in GC cycles. */
  PauseTotalNs: number;
  /** Durations of recent GC cycles in ns: a ring of 256, the latest at (NumGC + 255) % 256. */
  PauseNs: number[];
  /** End times of recent GC cycles (ns since the epoch), a ring of 256 like PauseNs. */
  PauseEnd: number[];
  /** Completed GC cycles. */
  NumGC: number;
  /** GC cycles forced by gc() or freeOSMemory(). */
  NumForcedGC: number;
  /** Share of CPU time used by the GC: always 0 (no concurrent collector). */
  GCCPUFraction: number;
  /** True unless GOGC is off. */
  EnableGC: boolean;
  /** Unused: always false. */
  DebugGC: boolean;
  /** Per size class allocation counts, classes 0..60 as in Go (61 entries). */
  BySize: MemStatsBySize[];
}

/** Names of the MemStats fields in Go's order. */
export const memStatsFields = [
  'Alloc', 'TotalAlloc', 'Sys', 'Lookups', 'Mallocs', 'Frees',
  'HeapAlloc', 'HeapSys', 'HeapIdle', 'HeapInuse', 'HeapReleased', 'HeapObjects',
  'StackInuse', 'StackSys', 'MSpanInuse', 'MSpanSys', 'MCacheInuse', 'MCacheSys',
  'BuckHashSys', 'GCSys', 'OtherSys', 'NextGC', 'LastGC', 'PauseTotalNs', 'PauseNs', 'PauseEnd',
  'NumGC', 'NumForcedGC', 'GCCPUFraction', 'EnableGC', 'DebugGC', 'BySize',
] as const;

/**
 * Compute MemStats from the counters (Go: readmemstats_m). The caller has flushed its own
 * mcache; `flight` holds the other Ps' unsettled allocations (mcache.inFlightAllocs);
 * `goal` is the heap goal (mgcpacer.heapGoal), NextGC.
 */
export function computeMemStats(h: MHeap, flight: Float64Array, goal: number): MemStats {
  const f64 = h.views.f64, st = h.stats, mem = h.mem;
  let totalAlloc = totalAllocBytes(h);
  const totalFree = totalFreeBytes(h);
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) totalAlloc += flight[c] * class_to_size[c];
  const tiny = sumP(h, ST_TINY_ALLOC_COUNT) + flight[0];
  let nMalloc = sumP(h, ST_LARGE_ALLOC_COUNT) + tiny;
  let nFree = sumP(h, ST_LARGE_FREE_COUNT) + tiny;
  const BySize: MemStatsBySize[] = [];
  for (let c = 0; c < NUM_SIZE_CLASSES; c++) {
    const a = sumP(h, ST_SMALL_ALLOC + c) + (c > 0 ? flight[c] : 0), fr = sumP(h, ST_SMALL_FREE + c);
    nMalloc += a;
    nFree += fr;
    if (c < 61) BySize.push({ Size: class_to_size[c], Mallocs: a, Frees: fr });
  }
  const heapInUse = mem.stat(STAT_HEAP_INUSE), heapFree = mem.stat(STAT_HEAP_FREE);
  const heapReleased = mem.stat(STAT_HEAP_RELEASED), inStacks = mem.stat(STAT_IN_STACKS);
  const stacksSys = mem.stat(STAT_STACKS_SYS);
  const HeapSys = heapInUse + heapFree + heapReleased;
  const StackSys = inStacks + stacksSys;
  const MSpanSys = mem.stat(STAT_MSPAN_SYS), MCacheSys = mem.stat(STAT_MCACHE_SYS);
  const BuckHashSys = mem.stat(STAT_BUCKHASH_SYS), GCSys = mem.stat(STAT_GC_MISC_SYS), OtherSys = mem.stat(STAT_OTHER_SYS);
  const numGC = f64[st + ST_NUM_GC];
  const PauseNs: number[] = [], PauseEnd: number[] = [];
  for (let i = 0; i < 256; i++) {
    PauseNs.push(f64[st + ST_PAUSE_NS + i]);
    PauseEnd.push(f64[st + ST_PAUSE_END + i]);
  }
  return {
    Alloc: totalAlloc - totalFree,
    TotalAlloc: totalAlloc,
    Sys: HeapSys + StackSys + MSpanSys + MCacheSys + BuckHashSys + GCSys + OtherSys,
    Lookups: 0,
    Mallocs: nMalloc,
    Frees: nFree,
    HeapAlloc: totalAlloc - totalFree,
    HeapSys,
    HeapIdle: heapFree + heapReleased,
    HeapInuse: heapInUse,
    HeapReleased: heapReleased,
    HeapObjects: nMalloc - nFree,
    StackInuse: inStacks,
    StackSys,
    MSpanInuse: h.spanalloc.inuse,
    MSpanSys,
    MCacheInuse: h.cachealloc.inuse,
    MCacheSys,
    BuckHashSys,
    GCSys,
    OtherSys,
    NextGC: Number.isFinite(goal) ? goal : 0,
    LastGC: f64[st + ST_LAST_GC],
    PauseTotalNs: f64[st + ST_PAUSE_TOTAL],
    PauseNs,
    PauseEnd,
    NumGC: numGC,
    NumForcedGC: f64[st + ST_NUM_FORCED_GC],
    GCCPUFraction: 0,
    EnableGC: f64[st + ST_GC_PERCENT] >= 0,
    DebugGC: false,
    BySize,
  };
}

/**
 * Go 1.19's /memory/classes metrics (reference §13.3). The 13 leaf classes add up to
 * /memory/classes/total:bytes exactly. `flight` is the one computeMemStats was given.
 */
export function computeMetrics(h: MHeap, ms: MemStats, flight: Float64Array): Record<string, number> {
  const mem = h.mem, f64 = h.views.f64, st = h.stats;
  const objects = ms.HeapAlloc;
  const tiny = sumP(h, ST_TINY_ALLOC_COUNT) + flight[0]; // as counted in ms.Mallocs
  return {
    '/memory/classes/heap/objects:bytes': objects,
    '/memory/classes/heap/unused:bytes': ms.HeapInuse - objects,
    '/memory/classes/heap/free:bytes': ms.HeapIdle - ms.HeapReleased,
    '/memory/classes/heap/released:bytes': ms.HeapReleased,
    '/memory/classes/heap/stacks:bytes': ms.StackInuse,
    '/memory/classes/os-stacks:bytes': mem.stat(STAT_STACKS_SYS),
    '/memory/classes/metadata/mcache/inuse:bytes': ms.MCacheInuse,
    '/memory/classes/metadata/mcache/free:bytes': ms.MCacheSys - ms.MCacheInuse,
    '/memory/classes/metadata/mspan/inuse:bytes': ms.MSpanInuse,
    '/memory/classes/metadata/mspan/free:bytes': ms.MSpanSys - ms.MSpanInuse,
    '/memory/classes/metadata/other:bytes': ms.GCSys,
    '/memory/classes/profiling/buckets:bytes': ms.BuckHashSys,
    '/memory/classes/other:bytes': ms.OtherSys,
    '/memory/classes/total:bytes': ms.Sys,
    '/gc/heap/allocs:bytes': ms.TotalAlloc,
    '/gc/heap/frees:bytes': ms.TotalAlloc - ms.HeapAlloc,
    '/gc/heap/allocs:objects': ms.Mallocs - tiny,
    '/gc/heap/frees:objects': ms.Frees - tiny,
    '/gc/heap/objects:objects': ms.HeapObjects,
    '/gc/heap/tiny/allocs:objects': tiny,
    '/gc/heap/goal:bytes': ms.NextGC,
    '/gc/cycles/total:gc-cycles': ms.NumGC,
    '/gc/cycles/forced:gc-cycles': ms.NumForcedGC,
    // Go 1.21's name; no limit reads as math.MaxInt64, as in Go (the nearest double, 2^63).
    '/gc/gomemlimit:bytes': f64[st + ST_MEMORY_LIMIT] === Infinity ? 2 ** 63 : f64[st + ST_MEMORY_LIMIT],
    // goheap's own (Go 1.19 has no scavenger metric): bytes released by the background
    // scavenger and on the allocation path, and how release works (0 none, 1 shrink, 2 madvise).
    '/goheap/scavenge/background:bytes': f64[st + ST_SCAV_RELEASED_BG],
    '/goheap/scavenge/assist:bytes': f64[st + ST_SCAV_RELEASED_ASSIST],
    '/goheap/release/mode:enum': ['none', 'shrink', 'madvise'].indexOf(mem.releaseMode),
  };
}
