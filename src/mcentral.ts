/**
 * mcentral.ts — the central free lists, one per span class (Go: src/runtime/mcentral.go).
 *
 * An mcentral holds the spans of its class that no mcache holds, in four sets:
 *
 *   partial[2]  spans with at least one free slot
 *   full[2]     spans with no free slot
 *
 * Each pair is indexed by the heap's sweepgen: with sg = mheap.sweepgen,
 * partial[(sg/2) % 2] holds the swept spans and partial[1 - (sg/2) % 2] the unswept ones
 * (the same for full). A GC bumps sweepgen by 2, which swaps the roles: every swept span
 * becomes unswept at once, with no list walking.
 *
 * The sets are span lists (mspanset.ts: Go's spanSet as a doubly linked list through the
 * spans, differences from Go there). Each mcentral has a lock word (C_LOCK, lock_futex.ts)
 * held only around a set's push or pop. cacheSpan sweeps the unswept spans it pops
 * (mgcsweep.ts), and grow runs the page reclaimer before asking the heap for pages, as
 * Go's mheap.alloc does.
 *
 * @module
 */
import * as lock_futex from './lock_futex.js';
import type { MHeap } from './mheap.js';
import { sweepBegin, sweepBeginWait, sweepEnd, sweepSpan, acquireSweep, reclaim } from './mgcsweep.js';
import * as mspan from './mspan.js';
import * as sizeclasses from './sizeclasses.js';
import * as mspanset from './mspanset.js';
import * as layout from './layout.js';
import type { SpanPtr } from './layout.js';

// Module-local copies of imported values: V8 folds a local const into optimized code,
// not an imported binding (docs/architecture.md, "Fast paths").
const { lock, unlock } = lock_futex;
const { positionAllocCache } = mspan;
const { class_to_allocnpages, spanClassSizeclass } = sizeclasses;
const {
  centralOf, partialUnswept, fullUnswept, setPush, fullSwept, setPop, partialSwept,
} = mspanset;
const { C_LOCK, SW_ALLOCCOUNT, SW_NELEMS, SW_SPANCLASS, SW_SWEEPGEN } = layout;

// The mcentral struct: C_* offsets in layout.ts (generated); its span sets: mspanset.ts.

// ---------------------------------------------------------------------------------------
// cacheSpan / uncacheSpan / grow (Go: mcentral.cacheSpan, uncacheSpan, grow)
// ---------------------------------------------------------------------------------------

/** How many unswept spans cacheSpan looks at before growing the heap (Go: spanBudget). */
const spanBudget = 100;

/**
 * Find a span with a free slot for an mcache (Go: mcentral.cacheSpan): a swept partial
 * span; else sweep unswept partial spans, then unswept full spans (keeping the first that
 * has room even if the sweep emptied it); else a new span from the heap. Returns 0 when
 * the reservation is exhausted. The caller holds no lock.
 *
 * `old` (from refill): the span the mcache gives back, already settled and in hand, or 0.
 * It is pushed to its swept set in the same lock hold that pops the swept partial span
 * (Go's uncacheSpan and cacheSpan: one lock round trip instead of two); a stale one is
 * swept first (uncacheSpan).
 *
 * The span leaves with sweepgen = sg+3 ("swept, cached"), stored while sg cannot change:
 * under the mcentral lock, or inside a registered sweep. (Go's mcache.refill stores it
 * afterwards, safe because a GC cannot start while a P is in refill; goheap's GC does not
 * stop other workers, and a span marked for a cycle that has already ended would never
 * be swept again.)
 */
export function cacheSpan(h: MHeap, spc: number, old: SpanPtr | 0 = 0): SpanPtr | 0 {
  const views = h.views, c = centralOf(h.central, spc);
  const first = popSweptLocked(h, c, spc, old);
  let s: SpanPtr | 0;
  if (first === -1) {
    uncacheSpan(h, old as SpanPtr);
    s = popSweptLocked(h, c, spc, 0) as SpanPtr | 0;
  } else s = first;
  // Sweep unswept spans of this class, partial ones first, then full ones. A registered
  // sweeper keeps sweepgen from advancing; the mcentral lock is held only to pop and push,
  // never while sweeping (Go's span sets need no lock at all), so other Ps' refills of
  // this class do not wait for a sweep.
  if (s === 0 && !h.sweepDone && sweepBegin(h)) {
    try {
      const sg = h.sweepgen;
      for (let budget = spanBudget; budget > 0; budget--) {
        const f = popUnsweptLocked(h, c, sg);
        if (f === 0) break;
        acquireSweep(views.u32, f, sg);
        sweepSpan(h, f, true);
        const u32 = views.u32;
        // Room left after the sweep? (Go asks nextFreeIndex, which moves freeindex and
        // allocCache; the count changes nothing, so a context stopped here leaves a span
        // in hand that is consistent as it is. freeindex stays 0: nextFreeFast skips the
        // taken slots.)
        if (u32[(f >>> 2) + SW_ALLOCCOUNT] < u32[(f >>> 2) + SW_NELEMS]) {
          u32[(f >>> 2) + SW_SWEEPGEN] = (sg + 3) >>> 0;
          s = f;
          break;
        }
        lock(views.i32, c + C_LOCK, h.lockToken);
        views.sync();
        setPush(views.u32, c, spc, fullSwept(sg), f);
        views.u32[h.inHandWord()] = 0;
        unlock(views.i32, c + C_LOCK);
      }
    } finally {
      sweepEnd(h);
    }
  }
  if (s === 0) {
    s = mcentralGrow(h, spc);
    if (s === 0) return 0;
    // A new span has nothing to sweep. If a GC advances sweepgen before this store, the
    // span merely looks stale and uncacheSpan sweeps it: harmless.
    views.u32[(s >>> 2) + SW_SWEEPGEN] = (h.sweepgen + 3) >>> 0;
  }
  positionAllocCache(views.u32, s); // Go: refillAllocCache + shift
  return s;
}

/**
 * Pop the head of the unswept partial set, else of the unswept full set, of the mcentral
 * at c, under its lock (the caller is a registered sweeper, so sg is current).
 */
function popUnsweptLocked(h: MHeap, c: number, sg: number): SpanPtr | 0 {
  const views = h.views, w = h.inHandWord();
  lock(views.i32, c + C_LOCK, h.lockToken);
  views.sync();
  let s = setPop(views.u32, c, partialUnswept(sg), w);
  if (s === 0) s = setPop(views.u32, c, fullUnswept(sg), w);
  unlock(views.i32, c + C_LOCK);
  return s;
}

/**
 * Under the mcentral lock: push `old` (unless 0) to its swept set, then pop a swept
 * partial span for an mcache and mark it swept-and-cached (sg+3), both under the lock: a
 * GC advances sweepgen only while holding every mcentral lock. Returns the span, 0 if
 * there is none, or -1 (nothing done) when `old` is stale and must be swept first.
 */
function popSweptLocked(h: MHeap, c: number, spc: number, old: SpanPtr | 0): SpanPtr | 0 | -1 {
  const views = h.views, w = h.inHandWord();
  lock(views.i32, c + C_LOCK, h.lockToken);
  views.sync();
  const u32 = views.u32, sg = h.sweepgen;
  if (old !== 0) {
    if (u32[(old >>> 2) + SW_SWEEPGEN] !== ((sg + 3) >>> 0)) {
      unlock(views.i32, c + C_LOCK);
      return -1;
    }
    pushUncached(u32, c, spc, sg, old);
  }
  const s = setPop(u32, c, partialSwept(sg), w);
  if (s !== 0) u32[(s >>> 2) + SW_SWEEPGEN] = (sg + 3) >>> 0;
  else u32[w] = 0; // old (if any) is in its set
  unlock(views.i32, c + C_LOCK);
  return s;
}

/** Push a span cached in this cycle (sg+3) to its swept set (mcentral lock held). */
function pushUncached(u32: Uint32Array, c: number, spc: number, sg: number, s: SpanPtr): void {
  const sw = s >>> 2;
  u32[sw + SW_SWEEPGEN] = sg;
  setPush(u32, c, spc, u32[sw + SW_ALLOCCOUNT] < u32[sw + SW_NELEMS] ? partialSwept(sg) : fullSwept(sg), s);
}

/**
 * Give a span back from an mcache (Go: mcentral.uncacheSpan). A span cached in this
 * cycle goes to the swept partial or full set, under the mcentral lock alone: sweepgen
 * cannot advance while it is held, so no sweep registration is needed. A span cached
 * before the current cycle began is stale and is swept now. (Go flushes every mcache at
 * each GC, so a span is at most one cycle stale; goheap cannot stop an idle worker, so a
 * span may be several cycles stale.)
 */
export function uncacheSpan(h: MHeap, s: SpanPtr, wait = true): boolean {
  const sw = s >>> 2;
  const views = h.views;
  const spc = views.u32[sw + SW_SPANCLASS];
  const c = centralOf(h.central, spc);
  lock(views.i32, c + C_LOCK, h.lockToken);
  views.sync();
  const u32 = views.u32, sg = h.sweepgen;
  const fresh = u32[sw + SW_SWEEPGEN] === ((sg + 3) >>> 0);
  if (fresh) {
    pushUncached(u32, c, spc, sg, s);
    u32[h.inHandWord()] = 0;
  }
  unlock(views.i32, c + C_LOCK);
  if (fresh) return true;
  // Cached since before this cycle (sg+1), or since before an earlier one while other Ps
  // ran two cycles: stale either way. Only sg+3 is "swept, cached". Without `wait`, a GC
  // holding sweeps off leaves the span in the caller's hand (false).
  if (wait) sweepBeginWait(h); // sweepgen cannot advance until sweepEnd
  else if (!sweepBegin(h)) return false;
  try {
    views.u32[sw + SW_SWEEPGEN] = (h.sweepgen - 1) >>> 0;
    sweepSpan(h, s, false);
    views.u32[h.inHandWord()] = 0;
  } finally {
    sweepEnd(h);
  }
  return true;
}

/** A fresh span for span class spc from the heap (Go: mcentral.grow); 0 if out of memory. */
export function mcentralGrow(h: MHeap, spc: number): SpanPtr | 0 {
  const npages = class_to_allocnpages[spanClassSizeclass(spc)];
  if (!h.sweepDone) reclaim(h, npages); // Go: in mheap.alloc, before allocSpan
  return h.alloc(npages, spc);
}
