/**
 * mcache.ts — the per-P cache of spans (Go: src/runtime/mcache.go).
 *
 * A P ("processor", runtime2.ts and proc.ts) is a context that allocates: the thread that
 * created the heap, or a worker that attached to it. Each P owns one mcache (MC_* in
 * layout.ts): one span per span class from which it allocates without any lock or
 * atomic, plus the tiny allocator's current 16-byte block. When a span runs out of free
 * slots the mcache gives it back to its mcentral and takes another (refill); releaseAll
 * gives every span back (Go calls it flushing).
 *
 * In a heap other threads use, a span that leaves its slot full stays with the mcache, on
 * its retained list, until the next cycle (retainCap below): its owner's frees into it
 * stay plain stores.
 *
 * Statistics are settled here as in Go: the slots a span handed out while cached are
 * added to smallAllocCount when the span leaves the cache, and tiny allocations combined
 * into a block are added to tinyAllocCount then too. That is why readMemStats flushes the
 * caller's mcache first.
 *
 * @module
 */
import { OutOfMemoryError } from './errors.js';
import { cacheSpan, uncacheSpan } from './mcentral.js';
import type { MHeap } from './mheap.js';
import * as mspan from './mspan.js';
import { P_RUNNING } from './runtime2.js';
import * as sizeclasses from './sizeclasses.js';
import * as mspanset from './mspanset.js';
import * as layout from './layout.js';
import type { MCachePtr, SpanPtr } from './layout.js';

// Module-local copies of imported values: V8 folds a local const into optimized code,
// not an imported binding (docs/architecture.md, "Fast paths").
const { nextFreeIndex } = mspan;
const {
  NUM_SIZE_CLASSES, numSpanClasses, spanClassSizeclass, tinySpanClass, pageSize,
} = sizeclasses;
const { LIST_MCACHE, LIST_RETAINED, listInsertBack, listRemove } = mspanset;
const {
  MCW_ALLOC, MCW_FLUSHGEN, MCW_NRETAINED, MCW_PID, MC_RETAINED, SLW_FIRST, MCW_TINY, MCW_TINYALLOCS, MCW_TINYMASK, MCW_TINYOFFSET,
  MC_ALLOC, PW_STATUS, ST_HEAP_ALLOC, ST_HEAP_LIVE, ST_SMALL_ALLOC, ST_TINY_ALLOC_COUNT, SW_ACBC,
  SW_ALLOCCOUNT, SW_ELEMSIZE, SW_LIST, SW_NELEMS, SW_NPAGES, SW_START, SW_SWEEPGEN, mcacheAlloc,
  mcacheFlushGen, mcacheTinyAllocs, pMcache, setMcacheAlloc, setMcacheFlushGen, setMcachePid,
  spanAllocCount, spanAllocCountBeforeCache, spanNelems,
} = layout;

// The mcache struct: MC_* offsets and mcache* accessors in layout.ts (generated).

/**
 * Initialise a fresh mcache at address c for P pid (Go: allocmcache): every slot
 * holds emptymspan.
 */
export function initMCache(h: MHeap, c: MCachePtr, pid: number, emptymspan: SpanPtr): void {
  const u32 = h.views.u32;
  setMcachePid(u32, c, pid);
  setMcacheFlushGen(u32, c, h.sweepgen);
  for (let i = 0; i < numSpanClasses; i++) setMcacheAlloc(u32, c, i, emptymspan);
}

/**
 * Replace the full span of class spc with one that has a free slot (Go: mcache.refill).
 * Throws OutOfMemoryError when no span can be had; the cache is consistent then (the slot
 * holds emptymspan).
 */
export function refill(h: MHeap, c: MCachePtr, spc: number, emptymspan: SpanPtr): SpanPtr {
  const views = h.views;
  const keep = !h.solo;
  if (keep) trimRetained(h, c);
  const old = mcacheAlloc(views.u32, c, spc);
  let give: SpanPtr | 0 = 0;
  if (old !== emptymspan) {
    settleSpan(h, c, old, spc);
    const u32 = views.u32, w = h.inHandWord();
    u32[w] = old; // before it leaves the slot (see MHeap.inHandWord)
    u32[(c >>> 2) + MCW_ALLOC + spc] = emptymspan;
    if (keep) retain(u32, c, old, w);
    else give = old;
  }
  const s = cacheSpan(h, spc, give); // gives old back unless retained (Go: uncacheSpan)
  const u32 = views.u32, f64 = views.f64; // after cacheSpan, which may grow the buffer
  if (s === 0) throw new OutOfMemoryError(`out of memory: no span of class ${spanClassSizeclass(spc)} can be allocated within the reservation`);
  // From here to the slot store, one straight run with no call (word indices, not
  // accessors): a terminated worker stops either before it or after it.
  const sw = s >>> 2, w = h.inHandWord(), pstats = h.pstats;
  u32[sw + SW_ACBC] = u32[sw + SW_ALLOCCOUNT];
  u32[sw + SW_LIST] = LIST_MCACHE + u32[(c >>> 2) + MCW_PID];
  // Pacer: assume every free slot of the new span will be used (Go's deliberate overestimate).
  f64[pstats + ST_HEAP_LIVE] += u32[sw + SW_NPAGES] * pageSize - u32[sw + SW_ALLOCCOUNT] * u32[sw + SW_ELEMSIZE];
  u32[(c >>> 2) + MCW_ALLOC + spc] = s;
  u32[w] = 0;
  return s;
}

/**
 * Count the slots span s handed out while cached (smallAllocCount, tinyAllocCount) and
 * let go of it: once its list field changes, any P may free into it (freedBits) or sweep
 * it. The frees this P made while it held the span stay in localFreedBits, which nobody
 * writes any more until the span is swept (the sweep takes both bitmaps) or cached again
 * (by whichever P caches it next, as its own local bits). No atomic: moving the bits into
 * freedBits would cost one atomic OR per bitmap word, and the sweep one more to clear it.
 */
function settleSpan(h: MHeap, c: MCachePtr, s: SpanPtr, spc: number): void {
  const views = h.views, u32 = views.u32, f64 = views.f64, sw = s >>> 2, cw = c >>> 2;
  const slot = h.pstats + ST_SMALL_ALLOC + spanClassSizeclass(spc), pstats = h.pstats;
  // One straight run with no call (word indices, not accessors): counted once or not at
  // all; reclaimP settles a dead P's spans again, which counts nothing the second time.
  f64[slot] += u32[sw + SW_ALLOCCOUNT] - u32[sw + SW_ACBC];
  f64[pstats + ST_HEAP_ALLOC] += (u32[sw + SW_ALLOCCOUNT] - u32[sw + SW_ACBC]) * u32[sw + SW_ELEMSIZE];
  u32[sw + SW_ACBC] = u32[sw + SW_ALLOCCOUNT];
  if (spc === tinySpanClass) {
    f64[pstats + ST_TINY_ALLOC_COUNT] += u32[cw + MCW_TINYALLOCS];
    u32[cw + MCW_TINYALLOCS] = 0;
  }
  // After the counts (a GC that sees the span uncached counts its local frees as freed:
  // the allocations they undo must be counted by then; see mstats freedUnsweptBytes).
  u32[sw + SW_LIST] = 0;
}

/**
 * Give every cached span back to its mcentral and drop the tiny block (Go:
 * mcache.releaseAll). Used by readMemStats, gc() and detach. The retained spans go back
 * too, unless `keepRetained` (prepareForSweep: see there).
 */
export function releaseAll(h: MHeap, c: MCachePtr, emptymspan: number, keepRetained = false): void {
  const views = h.views;
  views.sync();
  const sg = h.sweepgen;
  for (let spc = 0; spc < numSpanClasses; spc++) {
    const u32 = views.u32, f64 = views.f64; // uncacheSpan below may sweep and free
    const slot = (c + MC_ALLOC + 4 * spc) >>> 2;
    const s = u32[slot] as SpanPtr;
    if (s === emptymspan) continue;
    const w = h.inHandWord(), pstats = h.pstats, sw = s >>> 2;
    settleSpan(h, c, s, spc);
    // No call from here to uncacheSpan (word indices, not accessors).
    // Take back the pacer's overestimate for the slots that were never used.
    if (u32[sw + SW_SWEEPGEN] === ((sg + 3) >>> 0)) {
      f64[pstats + ST_HEAP_LIVE] -= (u32[sw + SW_NELEMS] - u32[sw + SW_ALLOCCOUNT]) * u32[sw + SW_ELEMSIZE];
    }
    u32[w] = s; // before it leaves the slot (see MHeap.inHandWord)
    u32[slot] = emptymspan;
    // At a cycle's first refill (keepRetained), a stale span that a GC keeps from being
    // swept now is retained instead (only in a shared heap: alone, nothing holds sweeps off).
    if (!uncacheSpan(h, s, !keepRetained)) retain(h.views.u32, c, s, w);
  }
  if (!keepRetained) while (releaseRetained(h, c, true)) { /* every retained span */ }
  const u32 = views.u32, cw = c >>> 2, pstats = h.pstats;
  // One straight run with no call (word indices): the tiny count is settled once.
  u32[cw + MCW_TINY] = 0;
  u32[cw + MCW_TINYOFFSET] = 0;
  u32[cw + MCW_TINYMASK] = 0;
  views.f64[pstats + ST_TINY_ALLOC_COUNT] += u32[cw + MCW_TINYALLOCS];
  u32[cw + MCW_TINYALLOCS] = 0;
  u32[cw + MCW_FLUSHGEN] = sg;
}

/**
 * Most full spans an mcache keeps (see releaseRetained). When a span leaves its slot full,
 * most of its objects are still live, and in a shared heap every later free into a span
 * no mcache holds is an atomic OR (malloc.ts freeShared), 10-20 ns. Kept on the mcache's
 * retained list under its P's tag, it still takes its owner's frees as plain stores in
 * localFreedBits. It could not be swept before the next cycle anyway (a full swept span);
 * once that cycle has begun, its owner's refills give it back, stale, and sweep it
 * (trimRetained), as releaseAll does with all of them. Only in a heap other threads use
 * (not MHeap.solo): alone, frees into any span are plain stores already. goheap only: Go's
 * frees are its collector's.
 */
const retainCap = 64;

/**
 * At a refill: give back the oldest retained spans while they have turned stale (a GC
 * cycle began since they were retained) or the list is at retainCap, a few at a time and
 * never waiting for another P's GC (that P may be finishing its sweep; the span waits for
 * the next refill instead).
 */
function trimRetained(h: MHeap, c: MCachePtr): void {
  for (let k = 0; k < 4; k++) {
    const u32 = h.views.u32, s = u32[((c + MC_RETAINED) >>> 2) + SLW_FIRST] as SpanPtr;
    if (s === 0) return;
    const stale = u32[(s >>> 2) + SW_SWEEPGEN] !== ((h.sweepgen + 3) >>> 0);
    if (!stale && u32[(c >>> 2) + MCW_NRETAINED] < retainCap) return;
    if (!releaseRetained(h, c, false)) return;
  }
}

/**
 * Give back the oldest span of the mcache's retained list: to its mcentral's swept sets,
 * or swept first if it has turned stale (uncacheSpan). Without `wait`, a stale span that a
 * GC keeps from being swept now (it holds sweeps off until it has recounted the heap) goes
 * to the end of the list instead, for a later refill (false). Returns whether one went.
 */
function releaseRetained(h: MHeap, c: MCachePtr, wait: boolean): boolean {
  const l = c + MC_RETAINED, cw = c >>> 2, w = h.inHandWord();
  const u32 = h.views.u32;
  const s = u32[(l >>> 2) + SLW_FIRST] as SpanPtr;
  if (s === 0) return false;
  u32[w] = s; // in hand before it leaves the list, which clears its list field
  listRemove(u32, l, s, true);
  u32[cw + MCW_NRETAINED] = Math.max(0, u32[cw + MCW_NRETAINED] - 1);
  if (uncacheSpan(h, s, wait)) return true;
  retain(h.views.u32, c, s, w);
  return false;
}

/**
 * Put span s, settled and in hand (u32[w]), at the end of the mcache's retained list, then
 * out of hand: one straight run (a context stopped before the last store leaves it on the
 * list and in hand, which reclaimP reads as on the list).
 */
function retain(u32: Uint32Array, c: MCachePtr, s: SpanPtr, w: number): void {
  const cw = c >>> 2;
  listInsertBack(u32, c + MC_RETAINED, s, LIST_MCACHE + LIST_RETAINED + u32[cw + MCW_PID]);
  u32[cw + MCW_NRETAINED]++;
  u32[w] = 0;
}

/**
 * Flush the mcache if a GC cycle ran since it was last flushed (Go: prepareForSweep, which
 * Go runs on every P at the end of each GC; goheap runs it on the P's next slow path).
 */
export function prepareForSweep(h: MHeap, c: MCachePtr, emptymspan: number): void {
  // The retained spans, settled already, go back a few at a time at later refills
  // (trimRetained): all at once, each stale one would wait for any GC in progress.
  if (mcacheFlushGen(h.views.u32, c) !== h.sweepgen) releaseAll(h, c, emptymspan, true);
}

/**
 * The slow path of small allocation (Go: mcache.nextFree): the next free slot of the
 * cached span of class spc, refilling the cache when the span is full. Returns the
 * object's address; throws OutOfMemoryError.
 */
export function nextFree(h: MHeap, c: MCachePtr, spc: number, emptymspan: SpanPtr): number {
  let u32 = h.views.u32;
  let s = mcacheAlloc(u32, c, spc);
  let i = nextFreeIndex(u32, s);
  if (i === spanNelems(u32, s)) {
    prepareForSweep(h, c, emptymspan);
    s = refill(h, c, spc, emptymspan);
    u32 = h.views.u32;
    i = nextFreeIndex(u32, s);
  }
  const sw = s >>> 2;
  u32[sw + SW_ALLOCCOUNT]++;
  return u32[sw + SW_START] + i * u32[sw + SW_ELEMSIZE];
}

/** The span an mcache holds for class spc (emptymspan if none). */
export function cachedSpan(h: MHeap, c: MCachePtr, spc: number): SpanPtr {
  return mcacheAlloc(h.views.u32, c, spc);
}

/**
 * Allocations other Ps have made from their cached spans and not yet settled: per size
 * class, and tiny allocations at index 0. Go's ReadMemStats stops the world and flushes
 * every mcache; goheap cannot stop other workers, so it reads what their caches hold
 * instead (each number is one that P had at some moment during the read).
 */
export function inFlightAllocs(h: MHeap, selfPid: number): Float64Array {
  const u32 = h.views.u32, i32 = h.views.i32;
  const out = new Float64Array(NUM_SIZE_CLASSES);
  const empty = h.emptymspan;
  for (let pid = 0; pid < h.nprocs; pid++) {
    const p = h.pOf(pid);
    if (pid === selfPid || p === 0 || Atomics.load(i32, (p >>> 2) + PW_STATUS) !== P_RUNNING) continue;
    const c = pMcache(u32, p);
    for (let spc = 2; spc < numSpanClasses; spc++) {
      const s = mcacheAlloc(u32, c, spc);
      if (s === empty) continue;
      out[spc >>> 1] += spanAllocCount(u32, s) - spanAllocCountBeforeCache(u32, s);
    }
    out[0] += mcacheTinyAllocs(u32, c);
  }
  return out;
}
