/**
 * mgcsweep.ts — sweeping (Go: src/runtime/mgcsweep.go and the sweep parts of mcentral.go,
 * mheap.go).
 *
 * Sweeping turns dead objects back into free slots. In Go, marking finds the live
 * objects and sweeping makes the mark bits the new alloc bits; in goheap, free(p) records
 * the dead object in the span's freedBits and sweeping makes "allocated and not freed" the
 * new alloc bits. Everything else is Go's design:
 *
 *   - Each GC cycle bumps mheap.sweepgen by 2 (gcSweep). Relative to it a span is
 *       sg-2  unswept          sg-1  being swept (owned by whoever CASed it from sg-2)
 *       sg    swept            sg+1  cached in an mcache since before this cycle (stale)
 *       sg+3  swept, then cached in an mcache
 *   - Spans are swept lazily: by mcentral.cacheSpan when it needs a span of its class, by
 *     the page reclaimer before the heap takes new pages, when an mcache gives back a
 *     stale span, and completely by gc() and at the start of the next cycle.
 *   - Frees are counted when a span is swept (Frees, smallFreeCount, largeFree), so
 *     HeapAlloc and HeapObjects include freed-but-unswept objects, as Go's include
 *     unreachable-but-unswept ones.
 *   - A swept span with no object left returns its pages to the heap (HeapInuse ->
 *     HeapIdle); one with some goes back to its mcentral's swept partial or full set.
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import * as lock_futex from './lock_futex.js';
import type { MHeap } from './mheap.js';
import * as mspan from './mspan.js';
import * as sizeclasses from './sizeclasses.js';
import * as mspanset from './mspanset.js';
import * as layout from './layout.js';
import type { PPtr, SpanPtr } from './layout.js';

// Module-local copies of imported values: V8 folds a local const into optimized code,
// not an imported binding (docs/architecture.md, "Fast paths").
const { lock, unlock, worldHeld } = lock_futex;
const { gcBitsWord, mSpanInUse, popcount32, refillAllocCache } = mspan;
const { numSpanClasses, spanClassSizeclass, tinySpanClass } = sizeclasses;
const {
  centralOf, setPush, fullSwept, partialSwept, setHead, fullUnswept, partialUnswept, setPop,
} = mspanset;
const {
  C_LOCK, GW_ALLOC, GW_FREED, GW_LOCALFREED, PW_SWEEPING, PW_SWEEPSPAN, PW_SWEEP_FREEINDEX,
  PW_SWEEP_PHASE, P_SWEEPING, P_SWEEP_TAKEN, ST_HEAP_ALLOC, ST_LARGE_FREE, ST_LARGE_FREE_COUNT,
  ST_SMALL_FREE, SW_ALLOCCOUNT, SW_ELEMSIZE, SW_FREEINDEX, SW_GCBITS, SW_LIMIT, SW_NEEDZERO, SW_NELEMS,
  SW_SPANCLASS, SW_START, SW_STATE, SW_SWEEPGEN, mcacheTiny, pMcache, spanNpages,
} = layout;

/** sweep.phase of a P's sweep journal once the sweep's counts are committed. */
export const SWEEP_COMMITTED = 2;

/**
 * Sweep span s, which the caller owns (sweepgen == sg-1) and which is on no list
 * (Go: mspan.sweep). With preserve (from cacheSpan) the span is kept by the caller even
 * if it became empty. Returns true if the span was freed to the heap.
 *
 * Go's mark bits = allocated &^ freed become the new alloc bits; the freed bits taken are
 * cleared for the next cycle. A sweep can be cut short at any call or loop (a terminated
 * worker), so it runs in three steps that reclaimP can finish (reclaimSweeps):
 *
 *   1. read: take a snapshot of every freed-bit word into the P's sweep journal, count;
 *      nothing shared changes, so a sweep cut short here is simply run again;
 *   2. commit: allocCount and the statistics, in one straight run of stores with no call
 *      or loop between them (V8 stops a terminated worker only at those), then
 *      phase = SWEEP_COMMITTED;
 *   3. apply (sweepSpanCommitted): rewrite the alloc bits, clear the freed bits taken, reset
 *      freeindex and allocCache, sweepgen, and put the span back. Every store of this step
 *      can be done twice.
 *
 * Frees from other workers may arrive meanwhile: a freed bit the snapshot did not see
 * stays set for the next sweep (the clear removes only the bits taken).
 *
 * SWEEP_PLAIN — which words of a sweep are atomic. Only two: the clear of the taken freed
 * bits (Atomics.and: another P's free may OR into the same word at any moment) and
 * freeindex = 0 after the new alloc bits (a remote free confirms "not allocated" with an
 * atomic load of freeindex, see freeFast). Everything else is plain: the snapshot of a
 * freed word is a plain read (aligned u32 reads do not tear; a bit it misses is one a
 * concurrent free set, left for the next sweep as above); the span's sweepgen is read
 * only by whoever owns the span next, which gets it through a lock (its mcentral set,
 * the heap) or is this P (cacheSpan's preserve); the P's sweepSpan word is read only by
 * reclaimP, after the P's context is gone, or by a reclaim holding every lock, which
 * also finds the span in the sweeping P's spanInHand. (Go's sweep uses no atomics on
 * the bitmaps at all: nothing writes the mark bits during a sweep.)
 */
export function sweepSpan(h: MHeap, s: SpanPtr, preserve: boolean): boolean {
  const sw = s >>> 2;
  const views = h.views, u32 = views.u32, f64 = views.f64;
  const sg = h.sweepgen;
  if (u32[sw + SW_STATE] !== mSpanInUse || u32[sw + SW_SWEEPGEN] !== ((sg - 1) >>> 0)) {
    throw new HeapCorruptionError(`sweep of span ${s} in state ${u32[sw + SW_STATE]} with sweepgen ${u32[sw + SW_SWEEPGEN]} (heap ${sg})`);
  }
  const pp = h.pp;
  const ppw = pp >>> 2;
  u32[ppw + PW_SWEEP_PHASE] = 0;
  u32[ppw + PW_SWEEPSPAN] = s; // plain: read by reclaimP (see SWEEP_PLAIN)
  const spc = u32[sw + SW_SPANCLASS];
  const sizeclass = spanClassSizeclass(spc);
  const nelems = u32[sw + SW_NELEMS];
  const elemsize = u32[sw + SW_ELEMSIZE];
  const allocCount = u32[sw + SW_ALLOCCOUNT];
  const fi = u32[sw + SW_FREEINDEX];
  const bits = u32[sw + SW_GCBITS];
  const nwords = ((nelems + 63) >>> 6) << 1;
  const jt = (pp + P_SWEEP_TAKEN) >>> 2;
  // 1. read
  let nalloc = 0, taken = 0;
  for (let w = 0; w < nwords; w++) {
    // Plain: a snapshot (see SWEEP_PLAIN). localFreedBits holds the frees of the P that
    // last cached the span; nobody writes it while the span is not cached.
    const g = gcBitsWord(bits, w);
    const freed = u32[g + GW_FREED] | u32[g + GW_LOCALFREED];
    const allocated = u32[g + GW_ALLOC] | belowMask(fi, w);
    if ((freed & ~allocated) !== 0) throw new HeapCorruptionError(`sweep of span ${s}: freed bits ${(freed >>> 0).toString(16)} outside the allocated slots of word ${w}`);
    u32[jt + w] = freed;
    nalloc += popcount32(allocated & ~freed);
    taken += popcount32(freed);
  }
  if (spc === tinySpanClass) {
    // A dead tiny block that is still some P's current tiny block is not taken yet (its
    // freed bit stays for a later sweep). That P may be between reading the block's mask
    // and its compare-and-swap in mallocTiny; if the block were swept and handed out again
    // as a new tiny block meanwhile (mask 1 again), that CAS would succeed and place an
    // object in another P's block. The P lets go of the block in mallocTiny or releaseAll.
    const start = u32[sw + SW_START], limit = u32[sw + SW_LIMIT];
    for (let pid = 0, np = h.nprocs; pid < np; pid++) {
      const p = h.pOf(pid);
      const t = p === 0 ? 0 : mcacheTiny(u32, pMcache(u32, p));
      if (t < start || t >= limit) continue;
      const idx = (t - start) >>> 4, bit = 1 << (idx & 31), w = jt + (idx >>> 5);
      if ((u32[w] & bit) === 0) continue;
      u32[w] &= ~bit;
      nalloc++;
      taken--;
    }
  }
  u32[ppw + PW_SWEEP_FREEINDEX] = fi;
  const nfreed = allocCount - nalloc;
  if (nfreed !== taken) {
    throw new HeapCorruptionError(`sweep of span ${s}: ${allocCount} allocated, ${nalloc} live after sweep, but ${taken} freed bits`);
  }
  // 2. commit: straight-line stores only (see above; word indices, not accessor calls)
  const st = h.pstats;
  const large = sizeclass === 0 && nfreed > 0 ? 1 : 0;
  u32[sw + SW_ALLOCCOUNT] = nalloc;
  u32[sw + SW_NEEDZERO] |= nfreed > 0 ? 1 : 0;
  f64[st + ST_HEAP_ALLOC] -= nfreed * elemsize;
  f64[st + ST_SMALL_FREE + sizeclass] += sizeclass !== 0 ? nfreed : 0;
  f64[st + ST_LARGE_FREE_COUNT] += large;
  f64[st + ST_LARGE_FREE] += large * elemsize;
  u32[ppw + PW_SWEEP_PHASE] = SWEEP_COMMITTED;
  // 3. apply
  return sweepSpanCommitted(h, s, preserve, pp);
}

/** Alloc bits implied by freeindex fi for bit word w: slots below fi are allocated. */
function belowMask(fi: number, w: number): number {
  const lo = w << 5;
  return fi >= lo + 32 ? 0xffffffff : fi <= lo ? 0 : ((1 << (fi - lo)) - 1);
}

/**
 * Step 3 of sweepSpan, from the sweep journal of P struct pj (the caller's, or the P of a
 * dead context whose sweep was committed): see sweepSpan.
 */
export function sweepSpanCommitted(h: MHeap, s: SpanPtr, preserve: boolean, pj: PPtr): boolean {
  const sw = s >>> 2;
  const pjw = pj >>> 2;
  const views = h.views, u32 = views.u32, i32 = views.i32;
  const sg = h.sweepgen;
  const spc = u32[sw + SW_SPANCLASS];
  const nelems = u32[sw + SW_NELEMS];
  const fi = u32[pjw + PW_SWEEP_FREEINDEX];
  const bits = u32[sw + SW_GCBITS];
  const nwords = ((nelems + 63) >>> 6) << 1;
  const jt = (pj + P_SWEEP_TAKEN) >>> 2;
  const own = pj === h.pp; // not finishing a dead P's sweep (reclaimSweeps)
  for (let w = 0; w < nwords; w++) {
    const took = u32[jt + w], below = belowMask(fi, w);
    if ((took | below) === 0) continue; // nothing changes in this word
    const g = gcBitsWord(bits, w), fw = g + GW_FREED;
    u32[g + GW_ALLOC] = (u32[g + GW_ALLOC] | below) & ~took;
    if (took === 0) continue;
    // The taken bits in freedBits are cleared with an atomic AND (another P may OR a
    // new free into the word meanwhile), only if the word has any: those this P read in
    // step 1 it reads again (a later read of the same word by the same thread never sees
    // an older value). A dead P's journal is applied with the AND always.
    if (h.solo) u32[fw] &= ~took; // no other thread (see MHeap.solo)
    else if (!own || (u32[fw] & took) !== 0) Atomics.and(i32, fw, ~took);
    u32[g + GW_LOCALFREED] &= ~took; // plain: nobody sets a local bit while the span is not cached
  }
  if (h.solo) u32[sw + SW_FREEINDEX] = 0;
  else Atomics.store(i32, (s >>> 2) + SW_FREEINDEX, 0); // after the new allocBits (see findObject)
  refillAllocCache(u32, s, 0);
  u32[sw + SW_SWEEPGEN] = sg; // plain: see SWEEP_PLAIN
  u32[pjw + PW_SWEEP_PHASE] = 0;
  const nalloc = u32[sw + SW_ALLOCCOUNT];
  const pp = h.pp;
  if (preserve) {
    u32[(pp >>> 2) + PW_SWEEPSPAN] = 0;
    return false;
  }
  if (nalloc === 0) {
    h.freeSpan(s);
  } else {
    const c = centralOf(h.central, spc);
    lock(i32, c + C_LOCK, h.lockToken);
    views.sync();
    setPush(views.u32, c, spc, nalloc === nelems ? fullSwept(sg) : partialSwept(sg), s);
    unlock(views.i32, c + C_LOCK);
  }
  h.views.u32[(pp >>> 2) + PW_SWEEPSPAN] = 0;
  return nalloc === 0;
}

// ---------------------------------------------------------------------------------------
// Sweepers and GC cycles (Go: sweepLocker / sweep.active). A GC may only advance sweepgen
// when no span is being swept, or a sweep that began in the old cycle would finish in the
// new one. Every sweep registers in its P's `sweeping` count first; a GC sets the pending
// bit of the heap's sweepers word, waits until no P is sweeping, sweeps what is left
// itself, advances sweepgen, and clears the bit. The counts are per P so that reclaimP can
// take back the share of a worker that died in the middle of a sweep.
//
// The sweepers word (mheap H_SWEEPERS):
//
//   bit 31      SWEEP_PENDING  a GC is waiting to advance sweepgen
//   bits 0..30  wake sequence  bumped when a P's count falls to 0 while a GC waits, so
//                              that the GC's Atomics.wait on this word cannot miss it
//
// A sweep that ends while no GC waits touches only its own P's count: no write to the
// shared word and no Atomics.notify (which takes a process-wide lock in V8).
// ---------------------------------------------------------------------------------------
const SWEEP_PENDING = 0x80000000 | 0;
const SWEEP_SEQ_MASK = 0x7fffffff;

/** Register a sweep; false (and nothing registered) while a GC is advancing sweepgen. */
export function sweepBegin(h: MHeap): boolean {
  // A reclaim holding every mcentral lock: sweepgen cannot advance, nothing to register.
  // A heap no other thread uses (MHeap.solo): no GC can run while this thread sweeps.
  if (worldHeld() || h.solo) return true;
  const i32 = h.views.i32, g = h.sweepersWord;
  if ((Atomics.load(i32, g) & SWEEP_PENDING) !== 0) return false;
  const mine = (h.pp + P_SWEEPING) >>> 2;
  Atomics.add(i32, mine, 1);
  // Seen together with the GC's store of the pending bit (both sequentially consistent):
  // either the GC sees our count, or we see its bit.
  if ((Atomics.load(i32, g) & SWEEP_PENDING) !== 0) {
    if (Atomics.sub(i32, mine, 1) === 1) wakeStopSweepers(i32, g);
    return false;
  }
  return true;
}

/** Register a sweep, waiting for a GC that is advancing sweepgen. Hold no lock when calling. */
export function sweepBeginWait(h: MHeap): void {
  if (worldHeld() || h.solo) return; // see sweepBegin
  const i32 = h.views.i32, g = h.sweepersWord;
  while (!sweepBegin(h)) {
    const v = Atomics.load(i32, g);
    if ((v & SWEEP_PENDING) !== 0 && i32.buffer instanceof SharedArrayBuffer) {
      try { Atomics.wait(i32, g, v, 1); } catch { /* cannot block here: spin */ }
    }
  }
}

/** End a sweep registered with sweepBegin. */
export function sweepEnd(h: MHeap): void {
  if (worldHeld() || h.solo) return; // see sweepBegin
  const i32 = h.views.i32;
  if (Atomics.sub(i32, (h.pp >>> 2) + PW_SWEEPING, 1) === 1) wakeStopSweepers(i32, h.sweepersWord);
}

/**
 * A P's sweep count fell to 0: if a GC waits in stopSweepers, bump the wake sequence (the
 * GC read the word before it looked at the counts, so its wait returns at once even if it
 * has not begun) and wake it.
 */
export function wakeStopSweepers(i32: Int32Array, g: number): void {
  let v = Atomics.load(i32, g);
  while ((v & SWEEP_PENDING) !== 0) {
    const prev = Atomics.compareExchange(i32, g, v, SWEEP_PENDING | ((v + 1) & SWEEP_SEQ_MASK));
    if (prev === v) {
      Atomics.notify(i32, g);
      return;
    }
    v = prev;
  }
}

/** Stop new sweeps and wait until no P is sweeping (GC lock held, no other lock). */
export function stopSweepers(h: MHeap): void {
  const i32 = h.views.i32, g = h.sweepersWord;
  Atomics.or(i32, g, SWEEP_PENDING);
  for (;;) {
    const seq = Atomics.load(i32, g); // before the counts: see wakeStopSweepers
    let busy = false;
    for (let pid = 0; pid < h.nprocs && !busy; pid++) {
      const p = h.pOf(pid);
      if (p !== 0 && Atomics.load(i32, (p >>> 2) + PW_SWEEPING) !== 0) busy = true;
    }
    if (!busy) return;
    if (i32.buffer instanceof SharedArrayBuffer) {
      try { Atomics.wait(i32, g, seq, 10); } catch { /* cannot block here: spin */ }
    }
  }
}

/** Let sweeps start again. */
export function startSweepers(h: MHeap): void {
  const i32 = h.views.i32, g = h.sweepersWord;
  Atomics.and(i32, g, ~SWEEP_PENDING);
  Atomics.notify(i32, g);
}

/**
 * Sweep one unswept span of any class (Go: sweepone). Returns the number of pages it
 * freed to the heap (0 if none), or -1 when nothing is left to sweep in this cycle (and
 * then marks the sweep done) or a GC is advancing sweepgen. `owner`: the caller is that
 * GC, which sweeps while other sweepers are held off.
 */
export function sweepone(h: MHeap, owner = false): number {
  if (!owner && !sweepBegin(h)) return -1;
  try {
    return sweeponeLocked(h);
  } finally {
    if (!owner) sweepEnd(h);
  }
}

function sweeponeLocked(h: MHeap): number {
  const views = h.views, u32 = views.u32;
  const sg = h.sweepgen;
  // Unswept sets only lose spans during a cycle, so an empty one can be skipped without
  // its lock, and the classes already found empty are not looked at again (Go 1.19:
  // sweep.centralIndex, a cursor over the mcentrals' unswept sets; one cursor per cycle).
  for (let spc = h.sweepCursor; spc < numSpanClasses; spc++) {
    const c = centralOf(h.central, spc);
    while (setHead(u32, c, fullUnswept(sg)) !== 0 || setHead(u32, c, partialUnswept(sg)) !== 0) {
      const w = h.inHandWord();
      lock(views.i32, c + C_LOCK, h.lockToken);
      views.sync();
      let s = setPop(views.u32, c, fullUnswept(sg), w);
      if (s === 0) s = setPop(views.u32, c, partialUnswept(sg), w);
      unlock(views.i32, c + C_LOCK);
      if (s === 0) break;
      acquireSweep(views.u32, s, sg);
      const npages = spanNpages(views.u32, s);
      const freed = sweepSpan(h, s, false);
      views.u32[w] = 0;
      return freed ? npages : 0;
    }
    h.sweepCursor = spc + 1;
  }
  h.sweepDone = true;
  return -1;
}

/**
 * The page reclaimer: before the heap takes new pages while a sweep is in progress, sweep
 * spans until npages pages have been freed or nothing is left, so that dead memory is
 * reused before the heap grows. Called by MHeap.alloc's callers (mcentral grow, large
 * allocation), where Go's mheap.alloc calls mheap.reclaim. Difference from Go: Go's
 * reclaimer scans the arenas' pageInUse and mark bitmaps for in-use spans with no marked
 * object (reclaimChunk) and sweeps those; goheap has no mark bits to scan, so it sweeps
 * spans from the unswept mcentral sets with sweepone, as Go's proportional sweep does.
 */
export function reclaim(h: MHeap, npages: number): void {
  let freed = 0;
  while (freed < npages) {
    const n = sweepone(h);
    if (n < 0) return;
    freed += n;
  }
}

/** Sweep everything left unswept in this cycle (Go: finishsweep_m). */
export function finishSweep(h: MHeap, owner = false): void {
  while (sweepone(h, owner) >= 0) { /* keep sweeping */ }
}

/**
 * Start a new sweep cycle (Go: gcSweep, at mark termination): every span becomes
 * unswept (sweepgen += 2; the mcentral sets swap roles). The caller has finished the
 * previous cycle's sweep first.
 */
export function startSweepCycle(h: MHeap): void {
  h.sweepgen = (h.sweepgen + 2) >>> 0;
  h.sweepCursor = 0;
  h.sweepDone = false;
}

/**
 * Take sweep ownership of s, just popped from an unswept set: sweepgen sg-2 -> sg-1 (Go:
 * sweepLocker.tryAcquire). In Go the CAS can lose to another sweeper; here a span in a set
 * belongs to whoever popped it, so a failure means the metadata is corrupt.
 */
export function acquireSweep(u32: Uint32Array, s: SpanPtr, sg: number): void {
  // A plain check and store, not Go's CAS: nobody else can hold the span (see above).
  const old = u32[(s >>> 2) + SW_SWEEPGEN];
  if (old !== ((sg - 2) >>> 0)) throw new HeapCorruptionError(`span ${s} in an unswept set has sweepgen ${old}, expected ${(sg - 2) >>> 0}`);
  u32[(s >>> 2) + SW_SWEEPGEN] = (sg - 1) >>> 0;
}
