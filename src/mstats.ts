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
  STAT_BUCKHASH_SYS, STAT_GC_MISC_SYS, STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED,
  STAT_IN_STACKS, STAT_MCACHE_SYS, STAT_MSPAN_SYS, STAT_OTHER_SYS, STAT_STACKS_SYS,
} from './mem.js';
import { NUM_SIZE_CLASSES, class_to_size } from './sizeclasses.js';


/**
 * Per-P statistics block (f64 slots, inside each P struct). Only the P's own context
 * writes it, so no update needs an atomic (Go's consistentHeapStats keeps per-P deltas
 * for the same reason); readers sum the blocks of every P.
 *
 *   slot      field               meaning (Go name)
 *   --------  ------------------  ---------------------------------------------------
 *     0       largeAlloc          bytes of large objects allocated (heapStatsDelta.largeAlloc)
 *     1       largeAllocCount     number of large objects allocated
 *     2       largeFree           bytes of large objects freed (at sweep)
 *     3       largeFreeCount      number of large objects freed
 *     4       tinyAllocCount      tiny allocations combined into existing blocks
 *     5       heapLive            this P's contribution to gcController.heapLive
 *     6       freedUnswept        bytes this P freed with free(), minus bytes it swept (goheap only)
 *     7       (pad)
 *     8..75   smallAllocCount[68] objects allocated per size class (settled at refill)
 *    76..143  smallFreeCount[68]  objects freed per size class (at sweep)
 */
export const ST_LARGE_ALLOC = 0;
export const ST_LARGE_ALLOC_COUNT = 1;
export const ST_LARGE_FREE = 2;
export const ST_LARGE_FREE_COUNT = 3;
export const ST_TINY_ALLOC_COUNT = 4;
export const ST_HEAP_LIVE = 5;
export const ST_FREED_UNSWEPT = 6;
export const ST_SMALL_ALLOC = 8;
export const ST_SMALL_FREE = 76;
export const P_STATS_SLOTS = 144;
/** Bytes of a per-P statistics block. */
export const P_STATS_SIZE = P_STATS_SLOTS * 8;

/**
 * Global statistics block (f64 slots, in the heap header; written under the GC lock):
 *
 *   slot      field               meaning (Go name)
 *     0       heapMarked          live bytes at the end of the last GC (gcController.heapMarked)
 *     1       liveBasis           sum of the P heapLive slots at the last GC
 *     2       numGC               completed GC cycles
 *     3       numForcedGC         cycles forced by gc() / freeOSMemory()
 *     4       lastGC              end of the last GC, ns since the Unix epoch
 *     5       pauseTotalNs        total time spent in GC cycles
 *     6       gcPercent           GOGC (-1 = off)
 *     7       heapGoal            NextGC
 *     8..15   (pad)              (Go's mheap.pagesInUse is HeapInuse / 8192 here)
 *    16..271  pauseNs[256]        circular buffer of cycle durations
 *   272..527  pauseEnd[256]       circular buffer of cycle end times
 */
export const ST_HEAP_MARKED = 0;
export const ST_LIVE_BASIS = 1;
export const ST_NUM_GC = 2;
export const ST_NUM_FORCED_GC = 3;
export const ST_LAST_GC = 4;
export const ST_PAUSE_TOTAL = 5;
export const ST_GC_PERCENT = 6;
export const ST_HEAP_GOAL = 7;
export const ST_PAUSE_NS = 16;
export const ST_PAUSE_END = 272;
export const HEAP_STATS_SLOTS = 528;
/** Bytes of the global statistics block. */
export const HEAP_STATS_SIZE = HEAP_STATS_SLOTS * 8;

/**
 * Sum of one per-P statistics slot over every P. Each P writes only its own block, so
 * reading while other workers run gives, per slot, a value each P had at some moment
 * during the read (a count may be missing the allocations in progress); it is not a
 * snapshot taken at one instant across slots or Ps.
 */
export function sumP(h: MHeap, slot: number): number {
  const f64 = h.views.f64;
  let n = 0;
  for (let pid = 0; pid < h.nprocs; pid++) {
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

/** HeapAlloc from the counters as they stand (mcaches not flushed). */
export function heapAllocBytes(h: MHeap): number {
  return totalAllocBytes(h) - totalFreeBytes(h);
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
  Alloc: number; TotalAlloc: number; Sys: number; Lookups: number; Mallocs: number; Frees: number;
  HeapAlloc: number; HeapSys: number; HeapIdle: number; HeapInuse: number; HeapReleased: number; HeapObjects: number;
  StackInuse: number; StackSys: number;
  MSpanInuse: number; MSpanSys: number; MCacheInuse: number; MCacheSys: number;
  BuckHashSys: number; GCSys: number; OtherSys: number;
  NextGC: number; LastGC: number; PauseTotalNs: number; PauseNs: number[]; PauseEnd: number[];
  NumGC: number; NumForcedGC: number; GCCPUFraction: number; EnableGC: boolean; DebugGC: boolean;
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
 * mcache; `flight` holds the other Ps' unsettled allocations (mcache.inFlightAllocs).
 */
export function computeMemStats(h: MHeap, flight: Float64Array): MemStats {
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
  const goal = f64[st + ST_HEAP_GOAL];
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
 * /memory/classes/total:bytes exactly.
 */
export function computeMetrics(h: MHeap, ms: MemStats): Record<string, number> {
  const mem = h.mem;
  const objects = ms.HeapAlloc;
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
    '/gc/heap/allocs:objects': ms.Mallocs - sumP(h, ST_TINY_ALLOC_COUNT),
    '/gc/heap/frees:objects': ms.Frees - sumP(h, ST_TINY_ALLOC_COUNT),
    '/gc/heap/objects:objects': ms.HeapObjects,
    '/gc/heap/tiny/allocs:objects': sumP(h, ST_TINY_ALLOC_COUNT),
    '/gc/heap/goal:bytes': ms.NextGC,
    '/gc/cycles/total:gc-cycles': ms.NumGC,
    '/gc/cycles/forced:gc-cycles': ms.NumForcedGC,
  };
}
