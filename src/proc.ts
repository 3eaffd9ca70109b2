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
 * termination only there). markDead(pid) records that a context ended without detaching;
 * reclaimDead / reclaimP take its P back, finishing or undoing what it left half done,
 * without ever waiting on another dead P or on a GC (reclaimDeadP: the dead P's own locks
 * first, then every heap and mcentral lock tried without sleeping, the repair inside them).
 * The windows a worker can die in, and what repairs each (in this order):
 *
 *   1. holding an mcentral lock: the lock is released (forceUnlockHeldBy). A span set is
 *      changed only by mspanset.ts's list operations, which make no call between their
 *      stores, so a set is never left half linked while its lock is held.
 *   2. holding the heap lock (a span allocation or free, heap growth): the lock is taken
 *      over and repairPagesLocked rebuilds the page-level metadata from the page -> span
 *      table, the span structs and the live Ps' page caches (see its doc; finishGrowLocked
 *      completes a grow cut short). The dead P's page cache is emptied first, so the pages
 *      it held, or was taking, are among those the repair frees (mpagecache.ts).
 *   3. holding the GC lock (in a GC cycle): taken over inside the locks and released last;
 *      sweeps are let start again (startSweepers) and the sweep cursor restarts.
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
 *      back, its slots' and its retained list's (the settle step, the refill tail and each
 *      list move are straight runs: counted once or not at all; a span in hand that is
 *      still on the retained list is left there for releaseAll). A tiny block taken but
 *      not yet marked gets a mask (repairTinyMasks).
 *   7. its page cache and its mspan cache are returned (MHeap.flushPageCache,
 *      flushMSpanCache) and the P becomes idle.
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
import { P_DEAD, P_IDLE, P_RECLAIMING, P_RESERVED, P_RUNNING } from './runtime2.js';
import { lock, unlock, forceUnlockHeldBy, setWorldHeld, takeOverLockHeldBy, tryLockSpin } from './lock_futex.js';
import {
  STAT_OTHER_SYS, MEM_PREPARED, MEM_READY, STAT_HEAP_INUSE, STAT_IN_STACKS, STAT_HEAP_RELEASED, STAT_HEAP_FREE, MEM_RESERVED,
} from './mem.js';
import { initMCache, releaseAll } from './mcache.js';
import { InvalidArgumentError as ArgError, NoFreePError } from './errors.js';
import { numSpanClasses, spanClassSizeclass, pageSize, tinySpanClass } from './sizeclasses.js';
import { centralOf, LIST_MCACHE, LIST_RETAINED } from './mspanset.js';
import {
  startSweepers, sweepBeginWait, SWEEP_COMMITTED, sweepSpanCommitted, sweepSpan, sweepEnd, wakeStopSweepers,
} from './mgcsweep.js';
import { gcBitsWord, mSpanInUse, positionAllocCache, mSpanDead, mSpanManual } from './mspan.js';
import { uncacheSpan } from './mcentral.js';
import { PALLOC_CHUNK_BYTES } from './mpagealloc.js';
import { repairStackpoolLocked } from './stack.js';
import { emptyPageCache } from './mpagecache.js';
import { scavLockOff } from './mgcscavenge.js';
import {
  C_LOCK, H_GCLOCK, H_LOCK, type MCachePtr, type PPtr, PW_EPOCH, PW_STATUS, PW_SWEEPING,
  PW_SWEEPSPAN, P_INHAND, P_SIZE, type SpanPtr, mcacheAlloc, pMcache, pSpanInHand, pSweepPhase,
  setPMcache, setPSweepPhase, setSpanAllocCount, setSpanList, setSpanState, setSpanSweepgen,
  GW_ALLOC, GW_FREED, GW_LOCALFREED, spanAllocCount, spanFreeIndex, spanGcBits, spanTinyMasks, spanList, spanNelems, spanNpages,
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
  h.flushPageCache(pid);
  h.flushMSpanCache(pid);
  releaseP(h, pid);
}

/**
 * Mark P pid, whose context is gone, dead (Heap.markDead): status P_RUNNING or P_RESERVED
 * -> P_DEAD, if its lease is `epoch` when given. True if the P is dead now.
 */
export function markDead(h: MHeap, pid: number, epoch: number | undefined): boolean {
  const p = h.pOf(pid);
  if (p === 0) return false;
  const i32 = h.views.i32, st = (p >>> 2) + PW_STATUS;
  if (epoch !== undefined && Atomics.load(i32, (p >>> 2) + PW_EPOCH) !== epoch) return false;
  for (;;) {
    const status = Atomics.load(i32, st);
    if (status === P_DEAD || status === P_RECLAIMING) return true;
    if (status !== P_RUNNING && status !== P_RESERVED) return false;
    if (Atomics.compareExchange(i32, st, status, P_DEAD) === status) return true;
  }
}

/**
 * Reclaim every dead P that can be reclaimed without waiting (Heap.reclaimDead), again
 * and again while that makes progress (one P's repair may have needed a lock another dead
 * P held). Returns how many dead Ps are left: a lock their repair needs is held by a live
 * context, or by one not yet marked dead.
 */
export function reclaimDead(h: MHeap, emptymspan: SpanPtr): number {
  const i32 = h.views.i32;
  for (;;) {
    let left = 0, progress = false;
    for (let pid = 0; pid < h.nprocs; pid++) {
      const p = h.pOf(pid);
      if (p === 0 || pid === h.pid || Atomics.load(i32, (p >>> 2) + PW_STATUS) !== P_DEAD) continue;
      if (reclaimDeadP(h, pid, emptymspan)) progress = true; else left++;
    }
    if (!progress || left === 0) return left;
  }
}

/**
 * Take back the P of a context that ended without detaching (Heap.reclaimP): mark it dead,
 * then reclaim dead Ps until it is reclaimed, sleeping a millisecond whenever a live
 * context holds a lock the repair needs. False if the P is not leased, or its lease is not
 * `epoch`.
 */
export function reclaimP(h: MHeap, pid: number, epoch: number | undefined, emptymspan: SpanPtr): boolean {
  if (!markDead(h, pid, epoch)) return false;
  const i32 = h.views.i32, st = (h.pOf(pid) >>> 2) + PW_STATUS;
  for (;;) {
    reclaimDead(h, emptymspan);
    const status = Atomics.load(i32, st);
    if (status !== P_DEAD && status !== P_RECLAIMING) return true;
    pause(1);
  }
}

/**
 * Reclaim dead P pid if no live context holds a lock the repair needs; false (the P stays
 * dead, nothing half done) if one does. Never waits on another P, so neither a dead P nor
 * a GC waiting for the dead P's sweep can block it.
 *
 * 1. The locks the dead context held: an mcentral lock is released (its span sets are
 *    whole: see mspanset.ts); the heap lock is taken over, repairPagesLocked runs, and it
 *    is released. Nobody who waits for them waits on the rest of the repair.
 * 2. Every heap and mcentral lock, tried without sleeping (tryLockSpin); if one is held by
 *    another context, all are let go and false is returned. Holding them all, this context
 *    runs the ordinary paths (lock() of a lock it holds returns at once: setWorldHeld, and
 *    sweeps need no registration), and sweepgen cannot advance (a GC advances it holding
 *    every mcentral lock): the dead context's sweep is finished in the cycle it began in
 *    (reclaimSweeps), its span in hand and its mcache are given back, its mspan cache is
 *    returned. Clearing its sweep count lets a GC that waits for it go on.
 * 3. The GC lock, if the dead context held it, is taken over inside 2 and released last:
 *    the cycle it was in ends there (sweeps start again; the sweep cursor restarts, in case
 *    it died before resetting it in startSweepCycle).
 */
function reclaimDeadP(h: MHeap, pid: number, emptymspan: SpanPtr): boolean {
  const views = h.views, i32 = views.i32, p = h.pOf(pid), st = (p >>> 2) + PW_STATUS;
  if (Atomics.compareExchange(i32, st, P_DEAD, P_RECLAIMING) !== P_DEAD) return true; // another thread has it
  const token = pid + 1, me = h.lockToken;
  for (let spc = 0; spc < numSpanClasses; spc++) forceUnlockHeldBy(i32, centralOf(h.central, spc) + C_LOCK, token);
  forceUnlockHeldBy(i32, scavLockOff(h), token); // in a background scavenger round: nothing half done under it
  if (takeOverLockHeldBy(i32, h.base + H_LOCK, token, me)) {
    try {
      // As after any lock(): the dead worker may have grown the buffer. Through stale
      // (shorter) views the repair saw no span on the new pages and freed live spans' pages.
      views.sync();
      // Its page cache may be mid-refill or mid-take: emptied here, its pages are among
      // those no span or cache holds, which the repair frees (mpagecache.ts).
      emptyPageCache(views.u32, p);
      repairPagesLocked(h);
    } finally {
      unlock(i32, h.base + H_LOCK);
    }
  }
  const held: number[] = [];
  for (let k = -1; k < numSpanClasses; k++) {
    const off = k < 0 ? h.base + H_LOCK : centralOf(h.central, k) + C_LOCK;
    if (tryLockSpin(i32, off, me, WORLD_SPINS) !== 0) {
      for (const o of held) unlock(i32, o);
      Atomics.store(i32, st, P_DEAD);
      return false;
    }
    held.push(off);
  }
  const gcHeld = takeOverLockHeldBy(i32, h.base + H_GCLOCK, token, me);
  setWorldHeld(me);
  try {
    views.sync();
    reclaimSweeps(h, pid);
    if (gcHeld) {
      h.sweepCursor = 0;
      h.sweepDone = false;
      startSweepers(h);
    }
    recoverSpanInHand(h, pid);
    const c = pMcache(views.u32, p);
    repairCachedSpans(h, c, emptymspan);
    releaseAll(h, c, emptymspan);
    h.flushPageCache(pid);
    h.flushMSpanCache(pid);
  } finally {
    setWorldHeld(0);
    if (gcHeld) unlock(i32, h.base + H_GCLOCK);
    for (const o of held) unlock(i32, o);
  }
  releaseP(h, pid);
  return true;
}

/** Spins per lock before a reclaim gives up on it for now (a live holder lets go in microseconds). */
const WORLD_SPINS = 20_000;

/** Sleep about ms milliseconds where this thread may block; on a browser's main thread, return at once. */
function pause(ms: number): void {
  try {
    Atomics.wait(pauseWord, 0, 0, ms);
  } catch {
    /* cannot block here: the caller spins */
  }
}
const pauseWord = new Int32Array(new SharedArrayBuffer(4));

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
 * simply free again: nobody else has its address. Tiny span class: see repairTinyMasks.
 */
export function repairCachedSpans(h: MHeap, c: MCachePtr, emptymspan: number): void {
  const u32 = h.views.u32;
  for (let spc = 0; spc < numSpanClasses; spc++) {
    const s = mcacheAlloc(u32, c, spc);
    if (s === emptymspan) continue;
    const nelems = spanNelems(u32, s), fi = spanFreeIndex(u32, s);
    const bits = spanGcBits(u32, s);
    let n = fi;
    for (let i = fi; i < nelems; i++) if ((u32[gcBitsWord(bits, i >>> 5) + GW_ALLOC] & (1 << (i & 31))) !== 0) n++;
    setSpanAllocCount(u32, s, n);
    if (fi < nelems) positionAllocCache(u32, s);
    if (spc === tinySpanClass) repairTinyMasks(h, s);
  }
}

/**
 * A tiny block the dead context took (its slot is allocated) but died before marking
 * (mallocTiny writes the block's mask right after nextFree/nextFreeFast return, and a
 * terminated worker can stop at that return) has mask 0 while it is live: it gets a mask
 * of 1, as if one object at offset 0 lived there. Nobody has its address: it is leaked
 * like any object taken and not recorded, and HeapAlloc counts it.
 */
function repairTinyMasks(h: MHeap, s: SpanPtr): void {
  const u32 = h.views.u32, u16 = h.views.u16;
  const fi = spanFreeIndex(u32, s), nelems = spanNelems(u32, s);
  const bits = spanGcBits(u32, s), masks = spanTinyMasks(u32, s) >>> 1;
  for (let i = 0; i < nelems; i++) {
    const g = gcBitsWord(bits, i >>> 5), bit = 1 << (i & 31);
    // freed: by any P, or by the P that holds (or last held) the span (localFreed)
    const live = (i < fi || (u32[g + GW_ALLOC] & bit) !== 0) && ((u32[g + GW_FREED] | u32[g + GW_LOCALFREED]) & bit) === 0;
    if (live && u16[masks + i] === 0) u16[masks + i] = 1;
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
  if ((list & LIST_RETAINED) !== 0) return; // on its mcache's retained list: releaseAll gives it back
  const spc = spanSpanclass(u32, s);
  for (let pid = 0; pid < h.nprocs; pid++) {
    const p = h.pOf(pid);
    if (p === 0) continue;
    if (mcacheAlloc(u32, pMcache(u32, p), spc) === s) return; // in an mcache
    if (pid !== deadPid && ((Atomics.load(h.views.i32, (p >>> 2) + PW_SWEEPSPAN) as SpanPtr) === s || pSpanInHand(u32, p) === s)) return;
  }
  setSpanList(u32, s, 0);
  // Stopped inside positionAllocCache or nextFreeIndex, allocCache may not match freeindex:
  // reload it (a function of allocBits and freeindex, so always right for a span no P
  // allocates from).
  if (spanClassSizeclass(spc) !== 0 && spanFreeIndex(u32, s) < spanNelems(u32, s)) positionAllocCache(u32, s);
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
 * were still released). freeSpanLocked marks a span dead before its pages and entries go,
 * so a free cut short never leaves an in-use span that no entry names (the repair could
 * not see it, and recoverSpanInHand would free it twice). Then pages allocated in the page allocator that no whole span
 * and no live P's page cache holds are freed, every summary is recomputed from the bitmaps, the pageInUse bits are
 * rewritten, and HeapInuse / StackInuse / HeapReleased / HeapFree, the OS layer's
 * counters and the count of mspan structs in use are recounted. What the dead context had
 * taken and not yet recorded (an mspan struct, a bitmap block) is leaked, not reused.
 */
export function repairPagesLocked(h: MHeap): void {
  const views = h.views, mem = h.mem, pages = h.pages;
  const whole = new Set<SpanPtr>(), torn = new Set<SpanPtr>();
  finishGrowLocked(h);
  const cached = h.cachedPages(); // pages the live Ps' page caches hold
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
      if (pages.pageAllocated(p) && !cached.has(p)) {
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
      if (s !== 0) continue;
      // A free page: its OS state follows its scavenged bit (a scavenge cut short between
      // taking the pages, sysUnused and setting the bits); a cached page's, its cache's.
      const c = cached.get(p);
      const scav = c === undefined ? pages.pageScavenged(p) : c === 2, state = mem.stateOf(p);
      if (scav && state === MEM_READY) mem.sysUnused(p, pageSize);
      else if (!scav && state === MEM_PREPARED) mem.sysUsed(p, pageSize);
      if (scav) released += pageSize;
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
  repairStackpoolLocked(h);
}

/**
 * A grow cut short after the OS layer mapped (part of) a chunk and before the page
 * allocator took it: map the rest of the chunk and give it to the page allocator, as the
 * grow would have (the heap's arena cursor had already moved past it). Only a grow maps
 * pages Prepared outside the page allocator's ranges.
 */
function finishGrowLocked(h: MHeap): void {
  const mem = h.mem, ranges = h.pages.inUseRanges(), chunk = PALLOC_CHUNK_BYTES;
  // The page allocator grows by whole chunks, so a chunk is in its ranges or not at all.
  const grown = (c: number): boolean => ranges.some(([b, l]) => c >= b && c < l);
  for (let c = 0; c < mem.reserve; c += chunk) {
    if (grown(c)) continue;
    let cut = false;
    for (let p = c; p < c + chunk && !cut; p += pageSize) cut = mem.stateOf(p) === MEM_PREPARED;
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
