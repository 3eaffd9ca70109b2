/**
 * proc.ts — Ps: acquiring and releasing them, and taking back the P of a context that died
 * (Go: src/runtime/proc.go: acquirep, releasep, pidleget, pidleput; the rest has no Go
 * equivalent).
 *
 * A P (runtime2.ts, struct in layout.ts) is what an allocating context owns: an mcache, a
 * statistics block, an mspan cache, a sweep journal and a span-in-hand word. The creating
 * thread takes P 0 (Heap.create); a worker takes a P set aside for it (reserveP, status
 * P_RESERVED) or the first idle one (attach). Each hand-over of a P to a new context bumps
 * its epoch (its lease number), so that reclaiming a lease that has ended never touches
 * the next context's. detach() gives the P back in an orderly way (releaseAll, the mspan
 * cache, status P_IDLE).
 *
 * Dead workers. A Go thread is never killed half-way through the runtime; a worker is:
 * worker.terminate() stops it at its next call or loop back-edge (V8 checks for
 * termination only there). reclaimP(pid) takes back the P of a context that ended without
 * detaching, finishing or undoing what it left half done. The windows a worker can die
 * in, and what repairs each (in this order):
 *
 *   1. holding an mcentral lock: the lock is released (forceUnlockHeldBy). A span set is
 *      changed only by mspanset.ts's list operations, which make no call between their
 *      stores, so a set is never left half linked while its lock is held.
 *   2. holding the heap lock (a span allocation or free, heap growth): the lock is taken
 *      over and repairPagesLocked rebuilds the page-level metadata from the page -> span
 *      table and the span structs (see its doc; finishGrowLocked completes a grow cut short).
 *   3. holding the GC lock (in a GC cycle): sweeps are let start again (startSweepers).
 *   4. in a sweep (mgcsweep.ts: read, commit, apply): reclaimSweeps runs a sweep cut short
 *      before its commit again, and finishes one cut short after it from the dead P's sweep
 *      journal. The commit is one straight run of stores with no call.
 *   5. with a span in hand (taken out of its mcache, an mcentral set or the page heap and
 *      not yet placed; MHeap.inHandWord): recoverSpanInHand puts it back. Every take is
 *      followed by the in-hand store with no call between; a large span's allocCount and
 *      statistics are one straight run (malloc.ts allocLarge), so allocCount 0 means the
 *      object was never handed out.
 *   6. in an allocation from its mcache (nextFreeFast / nextFree may have advanced
 *      allocCount without freeindex or the reverse): repairCachedSpans recounts allocCount
 *      from freeindex and allocBits and reloads allocCache; then releaseAll gives every span
 *      back (its settle step and the refill tail are straight runs: counted once or not at
 *      all).
 *   7. its mspan cache is returned (MHeap.flushMSpanCache) and the P becomes idle.
 *
 * A straight run means no call: those stores use word indices (SW_* in layout.ts), not
 * the accessor functions, because an accessor call is a point where a terminated worker
 * can stop when V8 has not inlined it. What the dead worker had taken and not yet recorded
 * (an mspan struct, a bitmap block) is leaked, not reused. Known limits (docs/go-mapping.md,
 * "Dead workers"): a fixalloc push or pop, or the OS layer's per-page state loop, cut
 * short leaves that structure torn; check() reports it.
 *
 * @module
 */
import { MHeap } from './mheap.js';
import { P_RESERVED, P_IDLE } from './runtime2.js';
import { lock, unlock, forceUnlockHeldBy, takeOverLockHeldBy } from './lock_futex.js';
import {
  STAT_OTHER_SYS, MEM_PREPARED, STAT_HEAP_INUSE, STAT_IN_STACKS, STAT_HEAP_RELEASED, STAT_HEAP_FREE, MEM_RESERVED,
} from './mem.js';
import { initMCache, releaseAll } from './mcache.js';
import { InvalidArgumentError as ArgError, NoFreePError } from './errors.js';
import { numSpanClasses, spanClassSizeclass, pageSize } from './sizeclasses.js';
import { centralOf, LIST_MCACHE } from './mspanset.js';
import {
  startSweepers, sweepBeginWait, SWEEP_COMMITTED, sweepSpanCommitted, sweepSpan, sweepEnd, wakeStopSweepers,
} from './mgcsweep.js';
import { mSpanInUse, positionAllocCache, mSpanDead, mSpanManual } from './mspan.js';
import { uncacheSpan } from './mcentral.js';
import { PALLOC_CHUNK_BYTES } from './mpagealloc.js';
import {
  C_LOCK, H_GCLOCK, H_LOCK, type MCachePtr, type PPtr, PW_EPOCH, PW_STATUS, PW_SWEEPING,
  PW_SWEEPSPAN, P_INHAND, P_SIZE, type SpanPtr, mcacheAlloc, pMcache, pSpanInHand, pSweepPhase,
  setPMcache, setPSweepPhase, setSpanAllocCount, setSpanList, setSpanState, setSpanSweepgen,
  spanAllocBits, spanAllocCount, spanFreeIndex, spanList, spanNelems, spanNpages,
  spanSpanclass, spanStartAddr, spanState, spanSweepgen,
} from './layout.js';

/**
 * Take a P (Go: pidleget + acquirep): the reserved P `want`, or else the first idle P, or
 * else a new one with a fresh mcache. Its status becomes `status`.
 */
export function acquireP(h: MHeap, want: number, status: number): number {
  const i32 = h.views.i32;
  if (want >= 0) {
    const p = h.pOf(want);
    if (p === 0 || Atomics.compareExchange(i32, (p >>> 2) + PW_STATUS, P_RESERVED, status) !== P_RESERVED) {
      throw new ArgError(`Heap.attach: P ${want} was not reserved for this worker (already attached, or reclaimed)`);
    }
    return want;
  }
  lock(i32, h.base + H_LOCK, h.lockToken);
  h.views.sync();
  try {
    const max = h.maxprocs;
    for (let pid = 0; pid < max; pid++) {
      const p = h.pOf(pid);
      if (p === 0) {
        const np = h.persistent.alloc(P_SIZE, 64, STAT_OTHER_SYS) as PPtr;
        const c = h.cachealloc.alloc() as MCachePtr;
        initMCache(h, c, pid, h.emptymspan);
        setPMcache(h.views.u32, np, c);
        Atomics.store(i32, (np >>> 2) + PW_STATUS, status);
        h.setP(pid, np);
        return pid;
      }
      if (Atomics.compareExchange(i32, (p >>> 2) + PW_STATUS, P_IDLE, status) === P_IDLE) {
        Atomics.add(i32, (p >>> 2) + PW_EPOCH, 1);
        initMCache(h, pMcache(h.views.u32, p), pid, h.emptymspan);
        return pid;
      }
    }
  } finally {
    unlock(i32, h.base + H_LOCK);
  }
  throw new NoFreePError(`all ${h.maxprocs} Ps are in use: detach a context first, or create the heap with a larger maxProcs`);
}

/** Mark P pid idle (its mcache was flushed) (Go: releasep + pidleput). */
export function releaseP(h: MHeap, pid: number): void {
  Atomics.store(h.views.i32, (h.pOf(pid) >>> 2) + PW_STATUS, P_IDLE);
}

/**
 * Give back the P of the calling context (Go: releasep + procresize's mcache flush): its
 * cached spans, its mspan cache, then the P itself.
 */
export function detachP(h: MHeap, pid: number, c: MCachePtr, emptymspan: SpanPtr): void {
  releaseAll(h, c, emptymspan);
  h.flushMSpanCache(pid);
  releaseP(h, pid);
}

/**
 * Take back P pid from a context that ended without detaching (see the file's doc; the
 * public entry is Heap.reclaimP). Returns false if the P is idle, or its lease is not
 * `epoch`. The caller is another, live, context.
 */
export function reclaimP(h: MHeap, pid: number, epoch: number | undefined, emptymspan: SpanPtr): boolean {
  const p = h.pOf(pid);
  if (p === 0) return false;
  const i32 = h.views.i32;
  const status = Atomics.load(i32, (p >>> 2) + PW_STATUS);
  if (status === P_IDLE) return false;
  if (epoch !== undefined && Atomics.load(i32, (p >>> 2) + PW_EPOCH) !== epoch) return false;
  // A dead context may have died holding a lock, half-way through what it protects.
  const token = pid + 1, views = h.views;
  for (let spc = 0; spc < numSpanClasses; spc++) forceUnlockHeldBy(views.i32, centralOf(h.central, spc) + C_LOCK, token);
  if (takeOverLockHeldBy(views.i32, h.base + H_LOCK, token, h.lockToken)) {
    // In a span allocation or free, or growing the heap: make the pages consistent.
    try {
      repairPagesLocked(h);
    } finally {
      unlock(views.i32, h.base + H_LOCK);
    }
  }
  if (takeOverLockHeldBy(views.i32, h.base + H_GCLOCK, token, h.lockToken)) {
    // In a GC cycle: sweeps may still be held off.
    startSweepers(h);
    unlock(views.i32, h.base + H_GCLOCK);
  }
  reclaimSweeps(h, pid);
  recoverSpanInHand(h, pid);
  const c = pMcache(views.u32, p);
  repairCachedSpans(h, c, emptymspan);
  releaseAll(h, c, emptymspan);
  h.flushMSpanCache(pid);
  releaseP(h, pid);
  return true;
}

/**
 * Take back the sweep of P pid, whose context died: finish sweeping the span it was in
 * the middle of (sweeping is idempotent until its last steps), then clear its count.
 * Window 4 of the file's doc; no Go equivalent.
 */
export function reclaimSweeps(h: MHeap, pid: number): void {
  const p = h.pOf(pid), i32 = h.views.i32;
  const s = Atomics.load(i32, (p >>> 2) + PW_SWEEPSPAN) as SpanPtr;
  const u32 = h.views.u32;
  if (s !== 0 && spanState(u32, s) === mSpanInUse && spanSweepgen(u32, s) === ((h.sweepgen - 1) >>> 0) && spanList(u32, s) === 0) {
    sweepBeginWait(h);
    try {
      // Committed: finish it from the dead P's journal; else nothing shared changed yet.
      if (pSweepPhase(u32, p) === SWEEP_COMMITTED) sweepSpanCommitted(h, s, false, p);
      else sweepSpan(h, s, false);
    } finally {
      sweepEnd(h);
    }
  }
  setPSweepPhase(u32, p, 0);
  Atomics.store(i32, (p >>> 2) + PW_SWEEPSPAN, 0);
  Atomics.store(i32, (p >>> 2) + PW_SWEEPING, 0);
  wakeStopSweepers(i32, h.sweepersWord);
}

/**
 * Make the spans of a dead context's mcache consistent before they are given back: a
 * worker terminated in the middle of an allocation may have advanced allocCount without
 * freeindex (or the reverse). allocCount is recounted from freeindex and allocBits, and
 * allocCache reloaded at freeindex. A slot the dead worker had taken but not recorded is
 * simply free again: nobody else has its address.
 */
export function repairCachedSpans(h: MHeap, c: MCachePtr, emptymspan: number): void {
  const u32 = h.views.u32;
  for (let spc = 0; spc < numSpanClasses; spc++) {
    const s = mcacheAlloc(u32, c, spc);
    if (s === emptymspan) continue;
    const nelems = spanNelems(u32, s), fi = spanFreeIndex(u32, s);
    const ab = spanAllocBits(u32, s) >>> 2;
    let n = fi;
    for (let i = fi; i < nelems; i++) if ((u32[ab + (i >>> 5)] & (1 << (i & 31))) !== 0) n++;
    setSpanAllocCount(u32, s, n);
    if (fi < nelems) positionAllocCache(u32, s);
  }
}

/**
 * Put back the span a dead context had in hand (MHeap.inHandWord): taken out of its
 * mcache, an mcentral set or the page heap, and not yet put anywhere else when the context
 * was terminated. A span that is in a set or in some mcache after all, or that a live P
 * is sweeping, is left alone. A large object that was never handed out (allocCount 0: its
 * statistics are written in the same straight run as allocCount) goes back to the heap;
 * any other span goes back to its mcentral as uncacheSpan does (swept first if stale).
 * Called by reclaimP after the dead context's sweep was taken back.
 */
export function recoverSpanInHand(h: MHeap, deadPid: number): void {
  const u32 = h.views.u32, w = (h.pOf(deadPid) + P_INHAND) >>> 2;
  const s = u32[w] as SpanPtr;
  u32[w] = 0;
  if (s === 0 || spanState(u32, s) !== mSpanInUse) return;
  const list = spanList(u32, s);
  if (list !== 0 && list < LIST_MCACHE) return; // in an mcentral set
  const spc = spanSpanclass(u32, s);
  for (let pid = 0; pid < h.nprocs; pid++) {
    const p = h.pOf(pid);
    if (p === 0) continue;
    if (mcacheAlloc(u32, pMcache(u32, p), spc) === s) return; // in an mcache
    if (pid !== deadPid && ((Atomics.load(h.views.i32, (p >>> 2) + PW_SWEEPSPAN) as SpanPtr) === s || pSpanInHand(u32, p) === s)) return;
  }
  setSpanList(u32, s, 0);
  const sg = h.sweepgen;
  if (spanClassSizeclass(spc) === 0 && spanAllocCount(u32, s) === 0) {
    setSpanSweepgen(u32, s, sg);
    h.freeSpan(s);
    return;
  }
  if (spanSweepgen(u32, s) === sg) setSpanSweepgen(u32, s, (sg + 3) >>> 0);
  uncacheSpan(h, s);
}

/**
 * Make the heap's page-level metadata consistent again after a context died while it held
 * the heap lock, i.e. in the middle of a span allocation or a span free (reclaimP calls
 * this, holding the lock the dead context held). No Go equivalent: a Go thread is never
 * killed half-way through mheap.allocSpan.
 *
 * The page -> span table and the span structs are the ground truth. A span is whole when
 * every one of its pages maps to it and is allocated in the page allocator, and it is an
 * in-use span whose pageInUse bit is set (allocSpan sets that bit last; freeSpan clears it
 * first) or a manual (stack) span. Anything else the table names is a span that was being
 * made or unmade: its entries are cleared and its pages freed (made Ready first if they
 * were still released). Then pages allocated in the page allocator that no whole span
 * holds are freed, every summary is recomputed from the bitmaps, the pageInUse bits are
 * rewritten, and HeapInuse / StackInuse / HeapReleased / HeapFree, the OS layer's
 * counters and the count of mspan structs in use are recounted. What the dead context had
 * taken and not yet recorded (an mspan struct, a bitmap block) is leaked, not reused.
 */
export function repairPagesLocked(h: MHeap): void {
  const views = h.views, mem = h.mem, pages = h.pages;
  const whole = new Set<SpanPtr>(), torn = new Set<SpanPtr>();
  finishGrowLocked(h);
  const ranges = pages.inUseRanges();
  for (const [base, limit] of ranges) {
    for (let p = base; p < limit; p += pageSize) {
      const s = h.spanOf(p);
      if (s === 0 || whole.has(s) || torn.has(s)) continue;
      (isWholeSpan(h, s) ? whole : torn).add(s);
    }
  }
  let inUse = 0, stacks = 0, released = 0, grown = 0;
  for (const [base, limit] of ranges) {
    grown += limit - base;
    for (let p = base; p < limit; p += pageSize) {
      const s = h.spanOf(p);
      if (s !== 0 && torn.has(s)) h.setSpans(p, 1, 0);
      if (s !== 0 && whole.has(s)) continue;
      if (pages.pageAllocated(p)) {
        if (mem.stateOf(p) === MEM_PREPARED) mem.sysUsed(p, pageSize);
        pages.free(p, 1, false);
      }
    }
    pages.rebuildSums(base, (limit - base) / pageSize);
  }
  const u32 = views.u32;
  for (const s of torn) setSpanState(u32, s, mSpanDead);
  for (const [base, limit] of ranges) {
    for (let p = base; p < limit; p += pageSize) {
      const s = h.spanOf(p);
      const startsInUse = s !== 0 && spanStartAddr(u32, s) === p && spanState(u32, s) === mSpanInUse;
      if (startsInUse !== h.pageInUse(p)) h.setPageInUse(p, startsInUse);
      if (s === 0 && pages.pageScavenged(p)) released += pageSize;
    }
  }
  for (const s of whole) {
    const bytes = spanNpages(u32, s) * pageSize;
    if (spanState(u32, s) === mSpanInUse) inUse += bytes; else stacks += bytes;
  }
  const set = (id: number, v: number) => mem.statAdd(id, v - mem.stat(id));
  set(STAT_HEAP_INUSE, inUse);
  set(STAT_IN_STACKS, stacks);
  set(STAT_HEAP_RELEASED, released);
  set(STAT_HEAP_FREE, grown - inUse - stacks - released);
  mem.recountStates();
  h.spanalloc.recountInuse(whole.size + h.cachedMSpans());
}

/**
 * A grow cut short after the OS layer mapped (part of) a chunk and before the page
 * allocator took it: map the rest of the chunk and give it to the page allocator, as the
 * grow would have (the heap's arena cursor had already moved past it). Only a grow maps
 * pages Prepared outside the page allocator's ranges.
 */
function finishGrowLocked(h: MHeap): void {
  const mem = h.mem, ranges = h.pages.inUseRanges(), chunk = PALLOC_CHUNK_BYTES;
  const grown = (p: number): boolean => ranges.some(([b, l]) => p >= b && p < l);
  for (let c = 0; c < mem.reserve; c += chunk) {
    let cut = false;
    for (let p = c; p < c + chunk && !cut; p += pageSize) cut = mem.stateOf(p) === MEM_PREPARED && !grown(p);
    if (!cut) continue;
    for (let p = c; p < c + chunk; p += pageSize) if (mem.stateOf(p) === MEM_RESERVED) mem.sysMap(p, pageSize, STAT_HEAP_RELEASED);
    h.pages.grow(c, chunk);
  }
}

/** Whether span s is whole (see repairPagesLocked). */
function isWholeSpan(h: MHeap, s: SpanPtr): boolean {
  const u32 = h.views.u32;
  const state = spanState(u32, s);
  const start = spanStartAddr(u32, s), npages = spanNpages(u32, s);
  if (state !== mSpanInUse && state !== mSpanManual) return false;
  if (npages === 0 || start % pageSize !== 0 || start + npages * pageSize > h.mem.reserve) return false;
  if (state === mSpanInUse && !h.pageInUse(start)) return false;
  for (let i = 0; i < npages; i++) {
    const p = start + i * pageSize;
    if (h.spanOf(p) !== s || !h.pages.pageAllocated(p)) return false;
  }
  return true;
}
