/**
 * mgc.ts — GC cycles and pacing (Go: src/runtime/mgc.go, mgcpacer.go), for a heap whose
 * objects die by explicit free.
 *
 * Go's collector finds dead objects by marking; goheap's objects are dead as soon as they
 * are freed. What remains of a cycle is everything else Go does: at the end of a cycle
 * the sweep generation advances (every span must be swept again, and the sweep reclaims
 * the freed slots), the mcaches are flushed, and the pacer sets the next heap goal:
 *
 *   heapMarked = bytes of live objects (allocated and not freed)
 *   goal       = heapMarked * (1 + GOGC/100), at least heapMinimum
 *   heapMinimum = 4 MiB * GOGC/100 (Go: defaultHeapMinimum is heapMinimum at GOGC=100)
 *
 * A cycle starts by itself when heapLive (Go's estimate, raised when an mcache takes a
 * span or a large object is allocated) reaches the goal — checked, as in Go, only on the
 * allocation slow paths — or when gc() is called. GOGC = -1 (setGCPercent(-1)) turns the
 * automatic cycles off, as GOGC=off does. Go triggers somewhat before the goal, so that
 * concurrent marking ends near it; goheap has no concurrent mark and triggers at the goal.
 *
 * @module
 */
import { finishSweep, startSweepCycle, startSweepers, stopSweepers } from './mgcsweep.js';
import { releaseAll } from './mcache.js';
import type { MHeap } from './mheap.js';
import type { GCCycleInfo, MallocContext } from './runtime2.js';
import { freedUnsweptBytes, heapAllocBytes, sumP } from './mstats.js';
import { lock, lockWithin, tryLock, unlock } from './lock_futex.js';
import { STAT_HEAP_INUSE } from './mem.js';
import { epochMs, heapGoal, limiterAccumulate, now, limiterAllowsCycle, memoryLimitHeapGoal } from './mgcpacer.js';
import { gcPaceScavenger, takeScavTrace } from './mgcscavenge.js';
import { numSpanClasses } from './sizeclasses.js';
import { centralOf } from './mspanset.js';
import {
  C_LOCK, ST_GC_PERCENT, ST_HEAP_GOAL, ST_HEAP_LIVE, ST_HEAP_MARKED,
  ST_LAST_GC, ST_LAST_HEAP_GOAL, ST_LAST_HEAP_INUSE, ST_LIVE_BASIS, ST_MEMORY_LIMIT,
  ST_NUM_FORCED_GC, ST_NUM_GC, ST_PAUSE_END, ST_PAUSE_NS, ST_PAUSE_TOTAL,
  ST_SCAV_GCPERCENT_GOAL, ST_SCAV_MEMLIMIT_GOAL,
} from './layout.js';

/** Go: defaultHeapMinimum. */
export const defaultHeapMinimum = 4 << 20;

/** Initialise the pacer's fields of a new heap. */
export function gcinit(h: MHeap): void {
  const f64 = h.views.f64, st = h.stats;
  f64[st + ST_GC_PERCENT] = 100;
  f64[st + ST_HEAP_GOAL] = defaultHeapMinimum;
  f64[st + ST_HEAP_MARKED] = 0;
  f64[st + ST_MEMORY_LIMIT] = Infinity;
  f64[st + ST_SCAV_GCPERCENT_GOAL] = Infinity;
  f64[st + ST_SCAV_MEMLIMIT_GOAL] = Infinity;
}

/**
 * gcController.heapLive: the live heap at the last cycle plus what every P has added
 * since (each P keeps its own running sum; liveBasis is their total at the last cycle).
 */
export function heapLive(h: MHeap): number {
  const f64 = h.views.f64, st = h.stats;
  return f64[st + ST_HEAP_MARKED] + sumP(h, ST_HEAP_LIVE) - f64[st + ST_LIVE_BASIS];
}

/**
 * Whether the pacer wants a cycle now (Go: gcTrigger{kind: gcTriggerHeap}.test): heapLive
 * has reached the GOGC goal, or the memory-limit goal (mgcpacer.ts) unless the GC CPU
 * limiter is on. The GOGC goal is Infinity when GOGC is off.
 */
export function gcTriggerTest(h: MHeap): boolean {
  const f64 = h.views.f64, st = h.stats;
  const live = heapLive(h);
  if (live >= f64[st + ST_HEAP_GOAL]) return true;
  return f64[st + ST_MEMORY_LIMIT] !== Infinity && live >= memoryLimitHeapGoal(h) && limiterAllowsCycle(h);
}

/**
 * How far heapLive may pass the goal while another P runs a cycle before an allocating P
 * waits for it (Go: the hard goal of gcControllerState.revise, past which assists hold
 * allocation back): the goal × (1 + GOGC/100), and at least Go's maxOvershoot of 1.1 ×
 * the goal (GOGC off with a memory limit, or a small GOGC).
 */
export function hardGoal(h: MHeap): number {
  const gcPercent = h.views.f64[h.stats + ST_GC_PERCENT];
  return heapGoal(h) * Math.max(1 + gcPercent / 100, 1.1);
}

/** The longest an allocating P waits for another P's cycle past the hard goal, ms. */
export const gcWaitMs = 100;

/** Heap goal for a marked heap of `marked` bytes at GOGC = gcPercent. */
export function heapGoalFor(marked: number, gcPercent: number): number {
  if (gcPercent < 0) return Infinity;
  return Math.max(Math.floor(marked * (1 + gcPercent / 100)), Math.floor(defaultHeapMinimum * gcPercent / 100));
}

/**
 * Run a GC cycle (Go: gcStart ... gcMarkTermination ... gcSweep). The previous cycle's
 * sweep is finished first; then sweepgen advances and the calling P's mcache is flushed.
 * A forced cycle (gc()) sweeps everything before returning; an automatic one leaves the
 * sweeping to the allocation paths, as Go's background/proportional sweep does, unless
 * `sweepAll` (the cycles goheap runs before an OutOfMemoryError and when idle).
 */
export function gcStart(ctx: MallocContext, forced: boolean, sweepAll = forced): GCCycleInfo | null {
  const h = ctx.h, views = h.views;
  if (forced || sweepAll) {
    lock(views.i32, h.gcLockOff, h.lockToken);
  } else if (!tryLock(views.i32, h.gcLockOff, h.lockToken)) {
    // Another P is running a cycle. Go's goroutine would wait for it (work.startSema), and
    // the world would stop for it anyway; goheap stops no one, so this P keeps allocating
    // and the cycle in progress serves its trigger too — up to Go's hard goal, past which
    // Go's assists would hold the goroutine back: then it waits for the cycle (at most
    // gcWaitMs: its runner may be a worker that died). Without that bound, Ps allocating
    // large objects while one P swept grew a 1 GiB heap to its end with 7 MiB live.
    if (heapLive(h) < hardGoal(h) || !lockWithin(views.i32, h.gcLockOff, h.lockToken, gcWaitMs)) return null;
  }
  h.views.sync();
  const t0 = now();
  try {
    // Another P may have run the cycle just before we took the lock (Go re-tests the
    // trigger after taking work.startSema for the same reason).
    if (!forced && !sweepAll && !gcTriggerTest(h)) return null;
    // Go flushes every mcache at mark termination (prepareForSweep); goheap flushes the
    // calling P's, first, so that its allocations and its local frees are settled in the
    // counts below.
    releaseAll(h, ctx.mcache, ctx.emptymspan);
    // Go stops the world here. goheap holds off every other sweeper, finishes the old
    // cycle's sweep, and advances the sweep generation while holding every mcentral lock,
    // so no span is being swept or moved between sets meanwhile. Spans cached by other Ps
    // become stale and are swept when those Ps give them back.
    let marked = 0, heapBefore = 0;
    stopSweepers(h);
    try {
      // Go: memstats.lastHeapInUse, HeapInuse at mark termination, when the spans of the
      // objects that died since the last cycle are still in use. goheap's objects die
      // by free(); their spans may be swept in the finishSweep just below, so take it here.
      views.f64[h.stats + ST_LAST_HEAP_INUSE] = h.mem.stat(STAT_HEAP_INUSE);
      finishSweep(h, true);
      heapBefore = heapAllocBytes(h); // Go: work.heap0, after finishsweep_m
      for (let spc = 0; spc < numSpanClasses; spc++) lock(views.i32, centralOf(h.central, spc) + C_LOCK, h.lockToken);
      startSweepCycle(h);
      for (let spc = 0; spc < numSpanClasses; spc++) unlock(views.i32, centralOf(h.central, spc) + C_LOCK);
      // Go: heapMarked, taken at mark termination with the world stopped. A sweep moves
      // bytes out of both heapAlloc and the freed bits, so the two are read while no sweep
      // can run: read after sweeps resumed, the bytes other Ps swept in between counted as
      // live, which raised the goal, left more garbage for the next cycle, and so on (two
      // workers doing large allocations grew a 1 GiB heap to its end with 7 MiB live).
      // Other Ps' allocations and frees meanwhile are missed or seen, both of which only
      // lower the estimate; their unsettled allocations and local frees are left out of
      // both (see freedUnsweptBytes).
      marked = heapAllocBytes(h) - freedUnsweptBytes(h);
    } finally {
      startSweepers(h);
    }
    if (sweepAll) finishSweep(h);
    return endCycle(ctx, forced, heapBefore, marked, t0);
  } finally {
    unlock(views.i32, h.gcLockOff);
  }
}

function endCycle(ctx: MallocContext, forced: boolean, heapBefore: number, marked: number, t0: number): GCCycleInfo {
  const h = ctx.h, f64 = h.views.f64, st = h.stats;
  f64[st + ST_HEAP_MARKED] = marked;
  f64[st + ST_LIVE_BASIS] = sumP(h, ST_HEAP_LIVE);
  f64[st + ST_LAST_HEAP_GOAL] = heapGoal(h); // Go: gcControllerState.endCycle
  f64[st + ST_HEAP_GOAL] = heapGoalFor(marked, f64[st + ST_GC_PERCENT]);
  const goal = heapGoal(h);
  const pauseNs = Math.max(1, Math.round((now() - t0) * 1e6));
  const n = f64[st + ST_NUM_GC];
  f64[st + ST_PAUSE_NS + (n % 256)] = pauseNs;
  const end = Date.now() * 1e6;
  f64[st + ST_PAUSE_END + (n % 256)] = end;
  f64[st + ST_LAST_GC] = end;
  f64[st + ST_PAUSE_TOTAL] += pauseNs;
  f64[st + ST_NUM_GC] = n + 1;
  if (forced) f64[st + ST_NUM_FORCED_GC] += 1;
  limiterAccumulate(h, epochMs()); // after the pause ring has this cycle
  gcPaceScavenger(h);
  const info: GCCycleInfo = { cycle: n + 1, forced, heapBefore, heapMarked: marked, heapAfter: heapAllocBytes(h), goal, pauseNs };
  if (ctx.onGC !== null) ctx.onGC(info);
  if (ctx.onScavenge !== null) ctx.onScavenge(takeScavTrace(h));
  if (ctx.scavenger !== null) ctx.scavenger.wake();
  return info;
}

/**
 * Before an OutOfMemoryError (goheap; Go's mheap.alloc reclaims before it grows, and a Go
 * program whose objects are garbage gets them back from the collector): if objects were
 * freed and not yet swept, or the last cycle's sweep is unfinished, run a GC cycle that
 * sweeps everything, so their pages are free for the retry. Returns whether it ran one.
 */
export function gcBeforeOOM(ctx: MallocContext): boolean {
  const h = ctx.h;
  if (h.sweepDone && freedUnsweptBytes(h) === 0) return false;
  gcStart(ctx, false, true);
  return true;
}
