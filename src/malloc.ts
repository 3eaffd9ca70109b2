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
import { DoubleFreeError, InvalidPointerError, InvalidSizeError, OutOfMemoryError } from './errors.js';
import { gcTriggerTest, gcStart, type GCCycleInfo } from './mgc.js';
import { centralOf, fullSwept, setPush } from './mcentral.js';
import { nextFree } from './mcache.js';
import { lock, unlock } from './lock_futex.js';
import type { MHeap } from './mheap.js';
import { pageSize } from './mem.js';
import { mSpanInUse, nextFreeFast } from './mspan.js';
import { _MaxSmallSize, _TinySize, objIndex, size_to_class128, size_to_class8, tinySpanClass } from './sizeclasses.js';
import {
  C_LOCK, MC_ALLOC, MC_TINY, MC_TINYALLOCS, MC_TINYMASK, MC_TINYOFFSET, ST_FREED_UNSWEPT,
  ST_HEAP_LIVE, ST_LARGE_ALLOC, ST_LARGE_ALLOC_COUNT, S_ALLOCBITS, S_ALLOCCOUNT, S_DIVMUL,
  S_ELEMSIZE, S_FREEDBITS, S_FREEINDEX, S_LIMIT, S_NEEDZERO, S_NPAGES, S_SPANCLASS, S_START,
  S_STATE, S_SWEEPGEN, S_TINYMASKS,
} from './layout.js';

/** What the allocation paths need from the calling P: its heap handle and mcache. */
export interface MallocContext {
  /** The heap. */
  readonly h: MHeap;
  /** Address of this P's mcache. */
  readonly mcache: number;
  /** Address of the heap's emptymspan. */
  readonly emptymspan: number;
  /** Called after every GC cycle this context runs (gctrace), or null. */
  onGC: ((info: GCCycleInfo) => void) | null;
}

/**
 * Allocate size bytes (Go: mallocgc). noscan is 1 for objects without pointers, 0 for
 * scan objects (a different span class, as in Go). needzero: the memory must be zeroed
 * (calloc); plain malloc memory may hold old data, like C's.
 */
export function mallocgc(ctx: MallocContext, size: number, noscan: number, needzero: boolean): number {
  if ((size >>> 0) !== size || size > _MaxSmallSize) return mallocLarge(ctx, size, noscan, needzero);
  if (size === 0) return ctx.h.zerobase;
  const h = ctx.h, c = ctx.mcache, u32 = h.views.u32;
  if (noscan !== 0 && size < _TinySize) return mallocTiny(ctx, size);
  const sizeclass = size <= 1016 ? size_to_class8[(size + 7) >>> 3] : size_to_class128[(size - 1024 + 127) >>> 7];
  const spc = (sizeclass << 1) | noscan;
  const s = u32[(c + MC_ALLOC + 4 * spc) >>> 2];
  let v = nextFreeFast(u32, s);
  if (v === 0) return mallocSlow(ctx, spc, needzero);
  if (spc === tinySpanClass) startTinyBlock(u32, h.views.u16, s, v);
  if (needzero && u32[(s + S_NEEDZERO) >>> 2] !== 0) h.views.u8.fill(0, v, v + u32[(s + S_ELEMSIZE) >>> 2]);
  return v;
}

/** Small allocation when the cached span's allocCache is exhausted. */
function mallocSlow(ctx: MallocContext, spc: number, needzero: boolean): number {
  const h = ctx.h, c = ctx.mcache;
  const v = nextFree(h, c, spc, ctx.emptymspan);
  const u32 = h.views.u32;
  const s = u32[(c + MC_ALLOC + 4 * spc) >>> 2];
  if (spc === tinySpanClass) startTinyBlock(u32, h.views.u16, s, v);
  if (needzero && u32[(s + S_NEEDZERO) >>> 2] !== 0) h.views.u8.fill(0, v, v + u32[(s + S_ELEMSIZE) >>> 2]);
  if (gcTriggerTest(h)) gcStart(ctx, false);
  return v;
}

/** A fresh 16-byte block of the tiny span class holds one object, at offset 0. */
function startTinyBlock(u32: Uint32Array, u16: Uint16Array, s: number, v: number): void {
  u16[(u32[(s + S_TINYMASKS) >>> 2] >>> 1) + ((v - u32[(s + S_START) >>> 2]) >>> 4)] = 1;
}

/** The tiny allocator (Go: the tiny path of mallocgc). */
function mallocTiny(ctx: MallocContext, size: number): number {
  const h = ctx.h, c = ctx.mcache, views = h.views, u32 = views.u32;
  let off = u32[(c + MC_TINYOFFSET) >>> 2];
  if ((size & 7) === 0) off = (off + 7) & ~7;
  else if ((size & 3) === 0) off = (off + 3) & ~3;
  else if ((size & 1) === 0) off = (off + 1) & ~1;
  const tiny = u32[(c + MC_TINY) >>> 2];
  const mask = u32[(c + MC_TINYMASK) >>> 2] >>> 1;
  if (off + size <= _TinySize && tiny !== 0) {
    // A block whose objects were all freed is dead (mask 0): never add to it. Another
    // worker may free an object of this block at the same moment, so the mask is updated
    // with a compare-and-swap: the one atomic of the allocation paths (JS difference: Go
    // never frees a tiny object explicitly).
    const u16 = views.u16;
    let m = u16[mask];
    while (m !== 0) {
      const prev = Atomics.compareExchange(u16, mask, m, m | (1 << off));
      if (prev === m) {
        u32[(c + MC_TINYOFFSET) >>> 2] = off + size;
        u32[(c + MC_TINYALLOCS) >>> 2]++;
        return tiny + off;
      }
      m = prev;
    }
  }
  // A new block from the tiny span class.
  const s0 = u32[(c + MC_ALLOC + 4 * tinySpanClass) >>> 2];
  let v = nextFreeFast(u32, s0);
  let refilled = false;
  if (v === 0) {
    v = nextFree(h, c, tinySpanClass, ctx.emptymspan);
    refilled = true;
  }
  const u32n = views.u32; // nextFree may have grown the buffer
  const s = u32n[(c + MC_ALLOC + 4 * tinySpanClass) >>> 2];
  u32n[v >>> 2] = 0; u32n[(v >>> 2) + 1] = 0; u32n[(v >>> 2) + 2] = 0; u32n[(v >>> 2) + 3] = 0;
  startTinyBlock(u32n, views.u16, s, v);
  // Keep whichever block has more room left.
  if (size < u32n[(c + MC_TINYOFFSET) >>> 2] || u32n[(c + MC_TINY) >>> 2] === 0 || views.u16[mask] === 0) {
    u32n[(c + MC_TINY) >>> 2] = v;
    u32n[(c + MC_TINYOFFSET) >>> 2] = size;
    u32n[(c + MC_TINYMASK) >>> 2] = u32n[(s + S_TINYMASKS) >>> 2] + 2 * ((v - u32n[(s + S_START) >>> 2]) >>> 4);
  }
  if (refilled && gcTriggerTest(h)) gcStart(ctx, false);
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
  const s = h.alloc(npages, spc);
  if (s === 0) {
    throw new OutOfMemoryError(`out of memory: a ${size}-byte object needs ${npages} contiguous pages and the reservation (${h.mem.reserve} bytes) has no room for them`);
  }
  const u32 = views.u32, f64 = views.f64;
  const base = u32[(s + S_START) >>> 2];
  u32[(s + S_FREEINDEX) >>> 2] = 1;
  u32[(s + S_ALLOCCOUNT) >>> 2] = 1;
  u32[(s + S_LIMIT) >>> 2] = base + size;
  const nbytes = npages * pageSize;
  f64[h.pstats + ST_LARGE_ALLOC] += nbytes;
  f64[h.pstats + ST_LARGE_ALLOC_COUNT] += 1;
  f64[h.pstats + ST_HEAP_LIVE] += nbytes;
  // On the swept full list, where sweeping will find it (Go does the same). Under the
  // mcentral lock sweepgen cannot advance, so the span's sweepgen and its set agree.
  const c = centralOf(h.central, spc);
  lock(views.i32, c + C_LOCK, h.lockToken);
  views.sync();
  const sg = h.sweepgen;
  views.u32[(s + S_SWEEPGEN) >>> 2] = sg;
  setPush(views.u32, c, spc, fullSwept(sg), s);
  views.u32[h.inHandWord()] = 0;
  unlock(views.i32, c + C_LOCK);
  if (needzero && u32[(s + S_NEEDZERO) >>> 2] !== 0) views.u8.fill(0, base, base + nbytes);
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
export function findObject(h: MHeap, p: number, op: string): number {
  if ((p >>> 0) !== p) throw new InvalidPointerError(`${op}: ${String(p)} is not a pointer (a non-negative integer below 2^32)`);
  const s = p < h.mem.reserve ? h.spanOf(p) : 0;
  const views = h.views, u32 = views.u32;
  if (s === 0 || u32[(s + S_STATE) >>> 2] !== mSpanInUse) {
    throw new InvalidPointerError(`${op}: ${p} does not point into an allocated span of this heap`);
  }
  const start = u32[(s + S_START) >>> 2];
  if (p < start || p >= start + u32[(s + S_NPAGES) >>> 2] * pageSize) {
    throw new InvalidPointerError(`${op}: ${p} does not point into an allocated span of this heap`);
  }
  const off = p - start;
  const spc = u32[(s + S_SPANCLASS) >>> 2];
  const elemsize = u32[(s + S_ELEMSIZE) >>> 2];
  const slotOff = spc === tinySpanClass ? off & ~15 : off;
  const idx = objIndex(slotOff, u32[(s + S_DIVMUL) >>> 2]);
  if (idx * elemsize !== slotOff || (spc > 1 && slotOff >= u32[(s + S_LIMIT) >>> 2] - start)) {
    throw new InvalidPointerError(`${op}: ${p} points inside an object (the object of ${elemsize} bytes starts at ${start + idx * elemsize}), not at its base`);
  }
  const aw = (u32[(s + S_ALLOCBITS) >>> 2] >>> 2) + (idx >>> 5), bit = 1 << (idx & 31);
  // freeindex is loaded atomically: a sweep in another worker rewrites allocBits and then
  // stores freeindex = 0, so seeing the new freeindex implies seeing the new bits.
  if (idx >= Atomics.load(views.i32, (s + S_FREEINDEX) >>> 2) && (u32[aw] & bit) === 0) {
    throw new InvalidPointerError(`${op}: ${p} is not an allocated object (its slot is free)`);
  }
  const fw = (u32[(s + S_FREEDBITS) >>> 2] >>> 2) + (idx >>> 5);
  if ((u32[fw] & bit) !== 0) throw new DoubleFreeError(`${op}: ${p} was already freed`);
  if (spc === tinySpanClass) {
    const m = views.u16[(u32[(s + S_TINYMASKS) >>> 2] >>> 1) + idx];
    if ((m & (1 << (off & 15))) === 0) {
      throw new InvalidPointerError(`${op}: ${p} is not a live tiny object (already freed, or not where an object starts)`);
    }
  }
  return s;
}

/**
 * Free the object at p. free(0) and free(zerobase) do nothing. The common case (a live
 * small or large object) is checked and freed in one pass; anything unusual (tiny
 * objects, bad pointers) goes through findObject, which throws the precise error.
 */
export function freeObject(ctx: MallocContext, p: number): void {
  const h = ctx.h;
  if (p === 0 || p === h.zerobase) return;
  const views = h.views, u32 = views.u32;
  if ((p >>> 0) === p && p < h.reserve) {
    const a = u32[(h.arenas + 4 * (p >>> 26)) >>> 2];
    const s = a === 0 ? 0 : u32[(a + 4 * ((p >>> 13) & 8191)) >>> 2];
    if (s !== 0 && u32[(s + S_STATE) >>> 2] === mSpanInUse && u32[(s + S_SPANCLASS) >>> 2] !== tinySpanClass) {
      const start = u32[(s + S_START) >>> 2];
      const off = p - start;
      const elemsize = u32[(s + S_ELEMSIZE) >>> 2];
      const idx = objIndex(off, u32[(s + S_DIVMUL) >>> 2]);
      if (off >= 0 && idx * elemsize === off && p < u32[(s + S_LIMIT) >>> 2]) {
        const w = idx >>> 5, bit = 1 << (idx & 31);
        // Allocated: its alloc bit is set, or it lies below freeindex. A sweep in another
        // worker rewrites allocBits and then stores freeindex = 0; a plain read that says
        // "not allocated" is confirmed with an atomic load, which sees the bits that go
        // with the freeindex it returns.
        const aw = (u32[(s + S_ALLOCBITS) >>> 2] >>> 2) + w;
        if ((u32[aw] & bit) !== 0 || idx < u32[(s + S_FREEINDEX) >>> 2] ||
            idx < Atomics.load(views.i32, (s + S_FREEINDEX) >>> 2) || (u32[aw] & bit) !== 0) {
          // Any worker may free any object: the freed bit is set atomically, and its old
          // value settles a race between two frees of the same object.
          const old = Atomics.or(views.i32, (u32[(s + S_FREEDBITS) >>> 2] >>> 2) + w, bit);
          if ((old & bit) !== 0) throw new DoubleFreeError(`free: ${p} was already freed`);
          views.f64[h.pstats + ST_FREED_UNSWEPT] += elemsize;
          return;
        }
      }
    }
  }
  freeSlow(h, p);
}

/** free for tiny objects, and the precise error for a bad pointer. */
function freeSlow(h: MHeap, p: number): void {
  const s = findObject(h, p, 'free');
  const views = h.views, u32 = views.u32;
  const start = u32[(s + S_START) >>> 2];
  if (u32[(s + S_SPANCLASS) >>> 2] !== tinySpanClass) throw new InvalidPointerError(`free: ${p} changed while being freed`);
  const idx = (p - start) >>> 4;
  const mi = (u32[(s + S_TINYMASKS) >>> 2] >>> 1) + idx;
  const bit = 1 << ((p - start) & 15);
  const old = Atomics.and(views.u16, mi, ~bit);
  if ((old & bit) === 0) throw new DoubleFreeError(`free: tiny object ${p} was already freed`);
  if ((old & ~bit) !== 0) return; // other tiny objects still live in the block
  // The block's last object: the block itself is freed.
  const b = 1 << (idx & 31);
  const oldw = Atomics.or(views.i32, (u32[(s + S_FREEDBITS) >>> 2] >>> 2) + (idx >>> 5), b);
  if ((oldw & b) !== 0) throw new DoubleFreeError(`free: tiny block of ${p} was already freed`);
  views.f64[h.pstats + ST_FREED_UNSWEPT] += 16;
}

/**
 * Bytes usable at p: the object's slot size (class size, or whole pages for a large
 * object). A tiny object may only use the bytes up to the next object start in its block,
 * or the block's free offset if it is the caller's current tiny block.
 */
export function usableSize(ctx: MallocContext, p: number): number {
  const h = ctx.h;
  if (p === h.zerobase) return 0;
  const s = findObject(h, p, 'usableSize');
  const u32 = h.views.u32;
  if (u32[(s + S_SPANCLASS) >>> 2] !== tinySpanClass) return u32[(s + S_ELEMSIZE) >>> 2];
  const start = u32[(s + S_START) >>> 2];
  const inOff = (p - start) & 15, block = p - inOff;
  const m = h.views.u16[(u32[(s + S_TINYMASKS) >>> 2] >>> 1) + ((p - start) >>> 4)];
  for (let o = inOff + 1; o < 16; o++) if ((m & (1 << o)) !== 0) return o - inOff;
  const c = ctx.mcache;
  if (u32[(c + MC_TINY) >>> 2] === block) return u32[(c + MC_TINYOFFSET) >>> 2] - inOff;
  return 16 - inOff;
}
