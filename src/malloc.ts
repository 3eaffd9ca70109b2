/**
 * malloc.ts — allocation and free of objects (Go: mallocgc in src/runtime/malloc.go; the
 * free side replaces Go's garbage collector with explicit frees).
 *
 * An allocation of `size` bytes takes one of three paths, as in Go:
 *
 *   tiny   noscan and size < 16: several tiny objects share one 16-byte block of size
 *          class 2. The P's mcache keeps the current block and the offset of its first
 *          free byte; an object that fits (after aligning the offset to 8, 4 or 2 bytes
 *          by its size) is placed there with no other bookkeeping. Otherwise a new block
 *          is taken, and kept as the current block if it has more room left than the old.
 *          (A 16-byte noscan object is small in Go; here it takes this path's new-block
 *          step, which gives it the same slot of size class 2 and its block mask.)
 *   small  size <= 32 KiB: round up to the size class, take the next free slot of the
 *          mcache's span for (class, noscan) with nextFreeFast (a count-trailing-zeros on
 *          allocCache), else nextFree, which may refill the mcache from the mcentral.
 *   large  size > 32 KiB: a span of its own, ceil(size / 8 KiB) pages, straight from the
 *          heap (span class 0 or 1).
 *
 * free(p) finds p's span through the page -> span table and the object's index with one
 * multiply (divMul), checks that p is the base of an allocated object that is still
 * alive, and records it in the span's freedBits. The slot is reclaimed when the span is
 * swept (mgcsweep.ts). Tiny objects: the block's u16 mask has a bit per object start; the
 * block itself dies when its last object is freed.
 *
 * Sizes: 0 returns the heap's zerobase address, which free accepts and ignores (Go returns
 * &zerobase for every zero-size allocation). free(0) does nothing, like C's free(NULL).
 *
 * @module
 */
import { DoubleFreeError, InvalidPointerError, InvalidSizeError, OutOfMemoryError, describeValue } from './errors.js';
import type { MallocContext } from './runtime2.js';
import { gcBeforeOOM, gcTriggerTest, gcStart } from './mgc.js';
import { nextFree } from './mcache.js';
import { lock, unlock } from './lock_futex.js';
import type { MHeap } from './mheap.js';
import * as mspan from './mspan.js';
import * as sizeclasses from './sizeclasses.js';
import * as mspanset from './mspanset.js';
import { reclaim } from './mgcsweep.js';
import * as layout from './layout.js';
import {
  mcacheTiny, mcacheTinyOffset, spanElemsize, spanSpanclass, spanStartAddr, spanTinyMasks, type SpanPtr,
} from './layout.js';

// Module-local copies of the constants and functions the fast paths use (JS difference,
// for speed): V8 reads an imported binding through its module cell on every use (a load,
// a hole check and an untag, or an identity check for a function it inlines), while it
// folds a module-local const into the optimized code.
const {
  C_LOCK, GCBITS_GROUP_SIZE, GW_ALLOC, GW_FREED, GW_LOCALFREED, MCW_ALLOC, MCW_TINY, MCW_TINYALLOCS, MCW_TINYMASK,
  MCW_TINYOFFSET, ST_HEAP_ALLOC, ST_HEAP_LIVE, ST_LARGE_ALLOC, ST_LARGE_ALLOC_COUNT, SW_ALLOCCOUNT,
  SW_DIVMUL, SW_DIVMUL20, SW_ELEMSIZE, SW_FREEINDEX, SW_GCBITS, SW_LIMIT, SW_LIST, SW_NEEDZERO,
  SW_NPAGES, SW_SPANCLASS, SW_START, SW_STATE, SW_SWEEPGEN, SW_TINYMASKS,
} = layout;
const { gcBitsWord, isFreed, mSpanInUse, nextFreeFast } = mspan;
const { centralOf, setPush, fullSwept, LIST_RETAINED } = mspanset;
const { _MaxSmallSize, _TinySize, objIndex, objIndex20, tinySpanClass, pageSize, sizeToClass } = sizeclasses;
const { imul } = Math;

/**
 * Allocate size bytes (Go: mallocgc). noscan is 1 for objects without pointers, 0 for
 * scan objects (a different span class, as in Go). needzero: the memory must be zeroed
 * (calloc); plain malloc memory may hold old data, like C's.
 */
export function mallocgc(ctx: MallocContext, size: number, noscan: number, needzero: boolean): number {
  // Kept small (its rare cases are functions of their own) so that V8 inlines it, and
  // nextFreeFast in it, into the caller.
  if ((size >>> 0) !== size || size > _MaxSmallSize) return mallocLarge(ctx, size, noscan, needzero);
  if (size <= _TinySize && (noscan !== 0 || size === 0)) return mallocTiny(ctx, size);
  const u32 = ctx.views.u32;
  const spc = (sizeToClass(size) << 1) | noscan;
  const s = u32[ctx.allocWords + spc] as SpanPtr;
  const v = nextFreeFast(u32, s);
  if (!v) return mallocSlow(ctx, spc, needzero);
  if (needzero) zeroSlot(u32, s, v);
  return v;
}

/** Small allocation when the cached span's allocCache is exhausted. */
function mallocSlow(ctx: MallocContext, spc: number, needzero: boolean): number {
  const h = ctx.h, slot = (ctx.mcache >>> 2) + MCW_ALLOC + spc;
  const before = ctx.views.u32[slot];
  const v = nextFreeOrGC(ctx, spc);
  const s = ctx.views.u32[slot] as SpanPtr;
  if (needzero) zeroSlot(ctx.views.u32, s, v);
  // Go: shouldhelpgc — the trigger is tested only when the mcache took a new span (the
  // only time heapLive moves), not each time allocCache is reloaded from the same span.
  if (s !== before && gcTriggerTest(h)) gcStart(ctx, false);
  return v;
}

/** Zero the slot at v of span s (calloc), unless the span's memory is known to be zero. */
function zeroSlot(u32: Uint32Array, s: SpanPtr, v: number): void {
  // Slots start and end on 8-byte boundaries (every size class is a multiple of 8): a u32
  // fill, which on a SharedArrayBuffer costs a third of a byte fill.
  if (u32[(s >>> 2) + SW_NEEDZERO] !== 0) u32.fill(0, v >>> 2, (v + u32[(s >>> 2) + SW_ELEMSIZE]) >>> 2);
}

/**
 * nextFree, tried once more after gcBeforeOOM when it finds no memory: an
 * OutOfMemoryError only when the reservation is really full of live objects.
 */
function nextFreeOrGC(ctx: MallocContext, spc: number): number {
  try {
    return nextFree(ctx.h, ctx.mcache, spc, ctx.emptymspan);
  } catch (e) {
    if (!(e instanceof OutOfMemoryError) || !gcBeforeOOM(ctx)) throw e;
    return nextFree(ctx.h, ctx.mcache, spc, ctx.emptymspan);
  }
}

/** A fresh 16-byte block of the tiny span class holds one object, at offset 0. */
function startTinyBlock(u32: Uint32Array, u16: Uint16Array, s: SpanPtr, v: number): void {
  const sw = s >>> 2;
  u16[(u32[sw + SW_TINYMASKS] >>> 1) + ((v - u32[sw + SW_START]) >>> 4)] = 1;
}

/**
 * The tiny allocator (Go: the tiny path of mallocgc). Also size 0 (Go's &zerobase), and a
 * 16-byte noscan object, which never fits the current block and so takes a block of its
 * own: the slot Go's small path gives it (size class 2, the tiny span class), with the
 * block's mask that freeTiny needs; keeping this out of mallocgc keeps mallocgc small.
 */
function mallocTiny(ctx: MallocContext, size: number): number {
  const h = ctx.h, c = ctx.mcache, views = ctx.views, u32 = views.u32;
  if (size === 0) return h.zerobase;
  const cw = c >>> 2;
  // Go's alignment of the offset: 8 for a multiple of 8, else 4 for a multiple of 4, else
  // 2 for an even size, else 1 — for a size below 16, its lowest set bit. Without Go's
  // three branches, which random sizes mispredict.
  const align = size & -size;
  const off = (u32[cw + MCW_TINYOFFSET] + align - 1) & -align;
  const tiny = u32[cw + MCW_TINY];
  const mask = u32[cw + MCW_TINYMASK] >>> 1;
  if (off + size <= _TinySize && tiny !== 0) {
    // A block whose objects were all freed is dead (mask 0): never add to it. Another
    // worker may free an object of this block at the same moment, so the mask is updated
    // with a compare-and-swap: the one atomic of the allocation paths (JS difference: Go
    // never frees a tiny object explicitly). In a heap no other thread can use, a plain store.
    const u16 = views.u16;
    let m = u16[mask];
    if (m !== 0 && ctx.solo) {
      u16[mask] = m | (1 << off);
      u32[cw + MCW_TINYOFFSET] = off + size;
      u32[cw + MCW_TINYALLOCS]++;
      return tiny + off;
    }
    while (m !== 0) {
      const prev = Atomics.compareExchange(u16, mask, m, m | (1 << off));
      if (prev === m) {
        u32[cw + MCW_TINYOFFSET] = off + size;
        u32[cw + MCW_TINYALLOCS]++;
        return tiny + off;
      }
      m = prev;
    }
  }
  // A new block from the tiny span class.
  const s0 = u32[cw + MCW_ALLOC + tinySpanClass] as SpanPtr;
  let v = nextFreeFast(u32, s0);
  if (v === 0) v = nextFreeOrGC(ctx, tinySpanClass);
  const u32n = views.u32; // nextFree may have grown the buffer
  const s = u32n[cw + MCW_ALLOC + tinySpanClass] as SpanPtr;
  u32n[v >>> 2] = 0; u32n[(v >>> 2) + 1] = 0; u32n[(v >>> 2) + 2] = 0; u32n[(v >>> 2) + 3] = 0;
  startTinyBlock(u32n, views.u16, s, v);
  // Keep whichever block has more room left.
  if (size < u32n[cw + MCW_TINYOFFSET] || u32n[cw + MCW_TINY] === 0 || views.u16[mask] === 0) {
    u32n[cw + MCW_TINY] = v;
    u32n[cw + MCW_TINYOFFSET] = size;
    u32n[cw + MCW_TINYMASK] = u32n[(s >>> 2) + SW_TINYMASKS] + 2 * ((v - u32n[(s >>> 2) + SW_START]) >>> 4);
  }
  // Go: shouldhelpgc, as in mallocSlow: only when the mcache took a new span.
  if (s !== s0 && gcTriggerTest(h)) gcStart(ctx, false);
  return v;
}

/** Validate a size that is not a small non-negative integer, then allocate it as large. */
function mallocLarge(ctx: MallocContext, size: number, noscan: number, needzero: boolean): number {
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new InvalidSizeError(`malloc: size must be a non-negative integer number of bytes, got ${String(size)}`);
  }
  const h = ctx.h;
  if (size > h.mem.reserve) {
    throw new InvalidSizeError(`malloc: size ${size} is larger than the heap's whole reservation (${h.mem.reserve} bytes); create the heap with a larger reserve`);
  }
  return allocLarge(ctx, size, noscan, needzero);
}

/** Large-object allocation (Go: mcache.allocLarge + the large path of mallocgc). */
export function allocLarge(ctx: MallocContext, size: number, noscan: number, needzero: boolean): number {
  const h = ctx.h, views = h.views;
  const npages = Math.ceil(size / pageSize);
  const spc = noscan; // span class 0 (scan) or 1 (noscan)
  if (!h.sweepDone) reclaim(h, npages); // Go: in mheap.alloc, before allocSpan
  let s = h.alloc(npages, spc);
  if (s === 0 && gcBeforeOOM(ctx)) s = h.alloc(npages, spc);
  if (s === 0) {
    throw new OutOfMemoryError(`out of memory: a ${size}-byte object needs ${npages} contiguous pages and the reservation (${h.mem.reserve} bytes) has no room for them`);
  }
  const u32 = views.u32, f64 = views.f64, sw = s >>> 2, pstats = h.pstats;
  // allocCount and the statistics in one straight run with no call (word indices, not
  // accessors): reclaimP's recoverSpanInHand relies on it.
  const base = u32[sw + SW_START];
  u32[sw + SW_FREEINDEX] = 1;
  u32[sw + SW_ALLOCCOUNT] = 1;
  u32[sw + SW_LIMIT] = base + size;
  const nbytes = npages * pageSize;
  f64[pstats + ST_LARGE_ALLOC] += nbytes;
  f64[pstats + ST_HEAP_ALLOC] += nbytes;
  f64[pstats + ST_LARGE_ALLOC_COUNT] += 1;
  f64[pstats + ST_HEAP_LIVE] += nbytes;
  // On the swept full list, where sweeping will find it (Go does the same). Under the
  // mcentral lock sweepgen cannot advance, so the span's sweepgen and its set agree.
  const c = centralOf(h.central, spc);
  lock(views.i32, c + C_LOCK, h.lockToken);
  views.sync();
  const sg = h.sweepgen;
  views.u32[sw + SW_SWEEPGEN] = sg;
  setPush(views.u32, c, spc, fullSwept(sg), s);
  views.u32[h.inHandWord()] = 0;
  unlock(views.i32, c + C_LOCK);
  if (needzero && u32[sw + SW_NEEDZERO] !== 0) views.u32.fill(0, base >>> 2, (base + nbytes) >>> 2); // pages: see zeroSlot
  if (gcTriggerTest(h)) gcStart(ctx, false);
  return base;
}

// ---------------------------------------------------------------------------------------
// free
// ---------------------------------------------------------------------------------------

/**
 * Find the live object whose base is p and return its span; throws InvalidPointerError /
 * DoubleFreeError (changing nothing) when p is not the base of a live object. For tiny
 * objects, the in-block offset is checked against the block's mask.
 */
export function findObject(h: MHeap, p: number, op: string): SpanPtr {
  if (typeof p !== 'number' || (p >>> 0) !== p) throw new InvalidPointerError(`${op}: ${describeValue(p)} is not a pointer (a non-negative integer below 2^32)`);
  const s = p < h.mem.reserve ? h.spanOf(p) : 0;
  const sw = s >>> 2;
  const views = h.views, u32 = views.u32;
  if (s === 0 || u32[sw + SW_STATE] !== mSpanInUse) {
    throw new InvalidPointerError(`${op}: ${p} does not point into an allocated span of this heap`);
  }
  const start = u32[sw + SW_START];
  if (p < start || p >= start + u32[sw + SW_NPAGES] * pageSize) {
    throw new InvalidPointerError(`${op}: ${p} does not point into an allocated span of this heap`);
  }
  const off = p - start;
  const spc = u32[sw + SW_SPANCLASS];
  const elemsize = u32[sw + SW_ELEMSIZE];
  const slotOff = spc === tinySpanClass ? off & ~15 : off;
  const idx = objIndex(slotOff, u32[sw + SW_DIVMUL]);
  if (idx * elemsize !== slotOff || (spc > 1 && slotOff >= u32[sw + SW_LIMIT] - start)) {
    throw new InvalidPointerError(`${op}: ${p} points inside an object (the object of ${elemsize} bytes starts at ${start + idx * elemsize}), not at its base`);
  }
  const aw = gcBitsWord(u32[sw + SW_GCBITS], idx >>> 5) + GW_ALLOC, bit = 1 << (idx & 31);
  // freeindex is loaded atomically: a sweep in another worker rewrites allocBits and then
  // stores freeindex = 0, so seeing the new freeindex implies seeing the new bits.
  if (idx >= Atomics.load(views.i32, (s >>> 2) + SW_FREEINDEX) && (u32[aw] & bit) === 0) {
    throw new InvalidPointerError(`${op}: ${p} is not an allocated object (its slot is free)`);
  }
  if (isFreed(u32, s, idx)) throw new DoubleFreeError(`${op}: ${p} was already freed`);
  if (spc === tinySpanClass) {
    const m = views.u16[(u32[sw + SW_TINYMASKS] >>> 1) + idx];
    if ((m & (1 << (off & 15))) === 0) {
      throw new InvalidPointerError(`${op}: ${p} is not a live tiny object (already freed, or not where an object starts)`);
    }
  }
  return s;
}

/**
 * Free the object at p. free(0) and free(zerobase) do nothing. A live object is checked
 * and freed in one pass (freeFast, and freeShared or freeTiny from it); for anything else
 * findObject throws the precise error.
 *
 * Where the freed bit goes depends on who holds the span (JS difference; Go frees by
 * marking, and needs neither):
 *   - the span is cached in this P's mcache (its list field says so): only this P
 *     allocates from it, sweeps it or frees into localFreedBits while it is cached, so the
 *     free is a plain read-modify-write of that bitmap, with no atomic; when the span
 *     leaves the cache the bits stay there until the span is swept;
 *   - otherwise any worker may free into the span at the same moment: the bit is set in
 *     freedBits with an atomic OR, whose old value settles a race between two frees of the
 *     same object — or with a plain read and store while no other thread can run a P of
 *     this heap (ctx.solo: never shared; see MHeap.solo).
 * mimalloc splits its frees the same way (a page's local free list and its atomic
 * thread-free list). Nothing is counted here: sweeping counts the frees, and the GC
 * recounts the freed, unswept bytes from the bitmaps (mgc.ts freedUnsweptBytes), so no
 * statistic is written per free.
 */
export function freeObject(ctx: MallocContext, p: number): void {
  if (!freeFast(ctx, p)) freeSlow(ctx, p);
}

/** freeObject when freeFast did not free p: 0, zerobase, stale views, or an error. */
export function freeSlow(ctx: MallocContext, p: number): void {
  const h = ctx.h;
  if (p === 0 || p === h.zerobase) return;
  // Another worker may have grown the buffer since this P's views were made: a pointer
  // into the new part, or a span whose metadata is there, reads as not allocated in
  // freeFast. Look again with fresh views before calling it an error.
  h.views.sync();
  if (freeFast(ctx, p)) return;
  findObject(h, p, 'free'); // throws the precise error
  throw new InvalidPointerError(`free: ${p} changed while being freed`);
}

/**
 * The work of freeObject: true if p was a live object and is now freed; false for
 * anything else (nothing changed then).
 *
 * The common case first, with as few loads as it can: a small object of a span cached in
 * this P's mcache (its list field is this P's cacheTag), in a slot or on its retained list
 * (cacheTag + LIST_RETAINED, mcache.ts). Such a span is in use and small-object, and only
 * this P allocates from it, sweeps it or writes its localFreedBits while it is cached, so
 * no atomic is needed; a slot below freeindex is allocated (Go's
 * invariant), so the alloc bitmap and the span's limit are read only for a slot at or above
 * it. Every other case (another P's span, a span no mcache holds, a tiny block, anything
 * that is not the base of a live object) is freeShared's.
 *
 * Runs without views.sync(): a read past the end of stale views gives undefined, which
 * fails the checks (undefined is never the cacheTag); the one store that such a read could
 * send nowhere (the local freed bit) only happens in a span this P cached, whose metadata
 * it reached through these views.
 */
export function freeFast(ctx: MallocContext, p: number): boolean {
  // Word indices, not accessors (as in nextFreeFast): this runs on every free. Kept small
  // (in bytecode) so that V8 inlines it, with malloc's fast path, into the caller's loop
  // (docs/architecture.md, "Fast paths").
  const u32 = ctx.views.u32;
  if ((p >>> 0) !== p) return false;
  // The arena table covers every u32 (see MallocContext.arenaWords); an arena's first
  // field is its page -> span table (A_SPANS = 0).
  // (Tests written as truthiness where that is shorter in bytecode: !x for x === 0.)
  const a = u32[ctx.arenaWords + (p >>> 26)];
  const s = (a ? u32[(a >>> 2) + ((p >>> 13) & 8191)] : 0) as SpanPtr;
  if (!s) return false; // no arena or no span there; undefined: past the end of stale views
  const sw = s >>> 2;
  if ((u32[sw + SW_LIST] | LIST_RETAINED) !== ctx.heldTag || u32[sw + SW_SPANCLASS] === tinySpanClass) return freeShared(ctx, p, s);
  // p - start < 0 (a stale page -> span entry) fails the exactness test too: idx * elemsize >= 0.
  const off = p - u32[sw + SW_START];
  const idx = imul(off, u32[sw + SW_DIVMUL20]) >>> 20; // objIndex20, written out: fewer bytecodes
  if (idx * u32[sw + SW_ELEMSIZE] !== off) return false;
  // gcBitsWord, written out (fewer bytecodes): slot idx's group of the three bitmaps.
  const g = (u32[sw + SW_GCBITS] + (idx >>> 5) * GCBITS_GROUP_SIZE) >>> 2, bit = 1 << (idx & 31);
  // Allocated: below freeindex (hence below nelems), or inside the span with its alloc bit set.
  if (idx >= u32[sw + SW_FREEINDEX] && (p >= u32[sw + SW_LIMIT] || !(u32[g + GW_ALLOC] & bit))) return false;
  const lw = g + GW_LOCALFREED;
  const m = u32[lw];
  // Freed already by this P (localFreedBits) or by another one (freedBits).
  if ((m | u32[g + GW_FREED]) & bit) doubleFree(p);
  u32[lw] = m | bit;
  return true;
}

/** Throws the DoubleFreeError of free(p) (out of line: keeps freeFast small enough to inline). */
function doubleFree(p: number): never {
  throw new DoubleFreeError(`free: ${p} was already freed`);
}

/**
 * freeFast for every span that is not a small-object span cached in this P's mcache (see
 * freeFast): tiny blocks go to freeTiny; otherwise any worker may free into the span at
 * the same moment, so the bit is set in freedBits with an atomic OR, whose old value
 * settles a race between two frees of the same object. The atomic OR is done only inside
 * the views (an Atomics call out of range would throw), with the alloc bitmap before the
 * freed one.
 */
function freeShared(ctx: MallocContext, p: number, s: SpanPtr): boolean {
  const views = ctx.views, u32 = views.u32, sw = s >>> 2;
  if (u32[sw + SW_STATE] !== mSpanInUse) return false;
  if (u32[sw + SW_SPANCLASS] === tinySpanClass) return freeTiny(ctx, p, s);
  const off = p - u32[sw + SW_START];
  const idx = objIndex20(off, u32[sw + SW_DIVMUL20]);
  if (idx * u32[sw + SW_ELEMSIZE] !== off || p >= u32[sw + SW_LIMIT]) return false; // off < 0 fails too
  const g = gcBitsWord(u32[sw + SW_GCBITS], idx >>> 5), bit = 1 << (idx & 31);
  const aw = g + GW_ALLOC;
  // Not a span of this P's mcache (freeFast took those, and only this P caches a span
  // under its cacheTag), so this P's frees never go to localFreedBits here.
  const fw = g + GW_FREED;
  // Allocated: its alloc bit is set, or it lies below freeindex. A sweep in another worker
  // rewrites allocBits and then stores freeindex = 0; a plain read that says "not
  // allocated" is confirmed with an atomic load, which sees the bits that go with the
  // freeindex it returns.
  if (fw >= u32.length || ((u32[aw] & bit) === 0 && idx >= u32[sw + SW_FREEINDEX] &&
      idx >= Atomics.load(views.i32, sw + SW_FREEINDEX) && (u32[aw] & bit) === 0)) return false;
  // Freed already by the P that caches the span, or that last cached it (its local bits
  // stay until the span is swept).
  if ((u32[g + GW_LOCALFREED] & bit) !== 0) doubleFree(p);
  if ((fetchOr(ctx, fw, bit) & bit) !== 0) doubleFree(p);
  return true;
}

/**
 * Atomics.or on word i, whose old value it returns; a plain read and store while no other
 * thread runs a P of this heap (ctx.solo, see MHeap.solo). Setting a bit that was set
 * already changes nothing, so callers may throw after it.
 */
function fetchOr(ctx: MallocContext, i: number, bits: number): number {
  const views = ctx.views;
  if (!ctx.solo) return Atomics.or(views.i32, i, bits);
  const old = views.u32[i];
  views.u32[i] = old | bits;
  return old;
}

/**
 * freeFast for a tiny object (Go never frees one explicitly): clear its start bit in its
 * 16-byte block's mask, atomically (mallocTiny adds objects to the current block with a
 * compare-and-swap, and any P may free); the block's last object frees the block, into
 * localFreedBits or freedBits as freeFast does. False (nothing changed) for anything
 * unusual, which findObject then names.
 */
function freeTiny(ctx: MallocContext, p: number, s: SpanPtr): boolean {
  const views = ctx.views, u32 = views.u32, u16 = views.u16, sw = s >>> 2;
  const off = p - u32[sw + SW_START];
  if (off < 0 || p >= u32[sw + SW_LIMIT]) return false;
  const idx = off >>> 4, bit = 1 << (idx & 31), mbit = 1 << (off & 15);
  const g = gcBitsWord(u32[sw + SW_GCBITS], idx >>> 5);
  const aw = g + GW_ALLOC, fw = g + GW_FREED, lw = g + GW_LOCALFREED;
  const mi = (u32[sw + SW_TINYMASKS] >>> 1) + idx;
  if (lw >= u32.length || mi >= u16.length) return false;
  // The block is allocated (see freeFast) and not freed, and an object starts at p.
  if ((u32[aw] & bit) === 0 && idx >= u32[sw + SW_FREEINDEX] && idx >= Atomics.load(views.i32, sw + SW_FREEINDEX) && (u32[aw] & bit) === 0) return false;
  if (((u32[fw] | u32[lw]) & bit) !== 0 || (u16[mi] & mbit) === 0) return false;
  // From the mask's update to the block's freed bit, no call (not even fetchOr): a worker
  // terminated in between, at a call, left a live block with mask 0 in a span another P
  // may hold, which no repair can tell from a block being handed out (kill campaign,
  // 2026-11-30). Atomics calls are builtins, not stopping points; the plain branches are
  // for a heap no other thread uses, where no worker can be terminated.
  let old: number;
  if (ctx.solo) {
    old = u16[mi];
    u16[mi] = old & ~mbit;
  } else old = Atomics.and(u16, mi, ~mbit);
  if ((old & mbit) === 0) throw new DoubleFreeError(`free: tiny object ${p} was already freed`);
  if ((old & ~mbit) !== 0) return true; // other tiny objects still live in the block
  // The block's last object: the block itself is freed.
  if ((u32[sw + SW_LIST] | LIST_RETAINED) === ctx.heldTag) {
    u32[lw] |= bit;
    return true;
  }
  let prev: number;
  if (ctx.solo) {
    prev = u32[fw];
    u32[fw] = prev | bit;
  } else prev = Atomics.or(views.i32, fw, bit);
  if ((prev & bit) !== 0) throw new DoubleFreeError(`free: tiny block of ${p} was already freed`);
  return true;
}

/**
 * Bytes usable at p: the object's slot size (class size, or whole pages for a large
 * object). A tiny object may only use the bytes up to the next object start in its block,
 * or the block's free offset if it is the caller's current tiny block.
 */
export function usableSize(ctx: MallocContext, p: number, op = 'usableSize'): number {
  const h = ctx.h;
  if (p === h.zerobase) return 0;
  const s = findObject(h, p, op);
  const u32 = h.views.u32;
  if (spanSpanclass(u32, s) !== tinySpanClass) return spanElemsize(u32, s);
  const start = spanStartAddr(u32, s);
  const inOff = (p - start) & 15, block = p - inOff;
  const m = h.views.u16[(spanTinyMasks(u32, s) >>> 1) + ((p - start) >>> 4)];
  for (let o = inOff + 1; o < 16; o++) if ((m & (1 << o)) !== 0) return o - inOff;
  const c = ctx.mcache;
  if (mcacheTiny(u32, c) === block) return mcacheTinyOffset(u32, c) - inOff;
  return 16 - inOff;
}
