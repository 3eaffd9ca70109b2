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

/**
 * Heap statistics block (f64 slots; index = slot number, byte offset = 8 * slot):
 *
 *   slot      field               meaning (Go name)
 *   --------  ------------------  ---------------------------------------------------
 *     0       largeAlloc          bytes of large objects allocated (heapStatsDelta.largeAlloc)
 *     1       largeAllocCount     number of large objects allocated
 *     2       largeFree           bytes of large objects freed (at sweep)
 *     3       largeFreeCount      number of large objects freed
 *     4       tinyAllocCount      tiny allocations combined into existing blocks
 *     5       heapLive            the pacer's live-heap estimate (gcController.heapLive)
 *     6       heapMarked          live bytes at the end of the last GC (gcController.heapMarked)
 *     7       freedUnswept        bytes freed by free() and not yet swept (goheap only)
 *     8       numGC               completed GC cycles
 *     9       numForcedGC         cycles forced by gc() / freeOSMemory()
 *    10       lastGC              end of the last GC, ns since the Unix epoch
 *    11       pauseTotalNs        total time spent in gc()
 *    12       gcPercent           GOGC (-1 = off)
 *    13       heapGoal            NextGC
 *    14       memoryLimit         soft memory limit (bytes; Infinity = none)
 *    15       pagesInUse          pages in mSpanInUse spans (mheap.pagesInUse)
 *    16..83   smallAllocCount[68] objects allocated per size class (settled at refill)
 *    84..151  smallFreeCount[68]  objects freed per size class (at sweep)
 *   152..407  pauseNs[256]        circular buffer of gc() durations
 *   408..663  pauseEnd[256]       circular buffer of gc() end times
 */
export const ST_LARGE_ALLOC = 0;
export const ST_LARGE_ALLOC_COUNT = 1;
export const ST_LARGE_FREE = 2;
export const ST_LARGE_FREE_COUNT = 3;
export const ST_TINY_ALLOC_COUNT = 4;
export const ST_HEAP_LIVE = 5;
export const ST_HEAP_MARKED = 6;
export const ST_FREED_UNSWEPT = 7;
export const ST_NUM_GC = 8;
export const ST_NUM_FORCED_GC = 9;
export const ST_LAST_GC = 10;
export const ST_PAUSE_TOTAL = 11;
export const ST_GC_PERCENT = 12;
export const ST_HEAP_GOAL = 13;
export const ST_MEMORY_LIMIT = 14;
export const ST_PAGES_IN_USE = 15;
export const ST_SMALL_ALLOC = 16;
export const ST_SMALL_FREE = 84;
export const ST_PAUSE_NS = 152;
export const ST_PAUSE_END = 408;
export const HEAP_STATS_SLOTS = 664;
/** Bytes of the statistics block. */
export const HEAP_STATS_SIZE = HEAP_STATS_SLOTS * 8;

import type { MHeap } from './mheap.js';
import {
  STAT_BUCKHASH_SYS, STAT_GC_MISC_SYS, STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED,
  STAT_IN_STACKS, STAT_MCACHE_SYS, STAT_MSPAN_SYS, STAT_OTHER_SYS, STAT_STACKS_SYS,
} from './mem.js';
import { NUM_SIZE_CLASSES, class_to_size } from './sizeclasses.js';

/** Bytes allocated in total (Go: totalAlloc = largeAlloc + sum of smallAllocCount * size). */
export function totalAllocBytes(h: MHeap): number {
  const f64 = h.views.f64, st = h.stats;
  let n = f64[st + ST_LARGE_ALLOC];
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) n += f64[st + ST_SMALL_ALLOC + c] * class_to_size[c];
  return n;
}

/** Bytes freed in total (Go: totalFree = largeFree + sum of smallFreeCount * size). */
export function totalFreeBytes(h: MHeap): number {
  const f64 = h.views.f64, st = h.stats;
  let n = f64[st + ST_LARGE_FREE];
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) n += f64[st + ST_SMALL_FREE + c] * class_to_size[c];
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

/** Compute MemStats from the counters (Go: readmemstats_m). The caller flushed its mcache. */
export function computeMemStats(h: MHeap): MemStats {
  const f64 = h.views.f64, st = h.stats, mem = h.mem;
  const totalAlloc = totalAllocBytes(h), totalFree = totalFreeBytes(h);
  let nMalloc = f64[st + ST_LARGE_ALLOC_COUNT] + f64[st + ST_TINY_ALLOC_COUNT];
  let nFree = f64[st + ST_LARGE_FREE_COUNT] + f64[st + ST_TINY_ALLOC_COUNT];
  const BySize: MemStatsBySize[] = [];
  for (let c = 0; c < NUM_SIZE_CLASSES; c++) {
    const a = f64[st + ST_SMALL_ALLOC + c], fr = f64[st + ST_SMALL_FREE + c];
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
    '/gc/heap/allocs:objects': ms.Mallocs - h.views.f64[h.stats + ST_TINY_ALLOC_COUNT],
    '/gc/heap/frees:objects': ms.Frees - h.views.f64[h.stats + ST_TINY_ALLOC_COUNT],
    '/gc/heap/objects:objects': ms.HeapObjects,
    '/gc/heap/tiny/allocs:objects': h.views.f64[h.stats + ST_TINY_ALLOC_COUNT],
    '/gc/heap/goal:bytes': ms.NextGC,
    '/gc/cycles/total:gc-cycles': ms.NumGC,
    '/gc/cycles/forced:gc-cycles': ms.NumForcedGC,
  };
}
