/**
 * mspan.ts — the span: a run of pages holding objects of one size class (Go: the mspan
 * struct in src/runtime/mheap.go, bitmap helpers in mbitmap.go, nextFreeFast in malloc.go).
 *
 * A span is `npages` contiguous 8 KiB pages starting at `startAddr`. A small-object span
 * is cut into `nelems` slots of `elemsize` bytes; a large-object span has one slot. Which
 * slots are taken is recorded in `allocBits` (1 = allocated), valid for slots at or above
 * `freeindex`: every slot below `freeindex` is allocated. To find free slots quickly the
 * span caches 64 inverted alloc bits in `allocCache` (1 = free), shifted so that bit 0 is
 * slot `freeindex`; the fast path is a count-trailing-zeros on it.
 *
 * Go learns which objects died by marking the live ones (gcmarkBits) and, at sweep, making
 * the mark bits the new alloc bits. goheap has explicit frees instead: free(p) sets the
 * object's freed bit at once (so a second free is detected), and sweeping computes Go's
 * mark bits as "allocated and not freed", which become the new allocBits. Freed slots are
 * therefore reused only after their span is swept, exactly as in Go.
 *
 * There are two freed bitmaps (JS difference, see malloc.ts freeObject): `localFreedBits`
 * takes the frees of the P whose mcache holds the span, with plain stores, and
 * `freedBits` those of every other P, with an atomic OR (a shared heap's mcache also
 * keeps its full spans, on its retained list, taking their owner's frees the same way).
 * When the span leaves the mcache its local bits stay where they are: nobody writes them
 * until the span is swept (a sweep takes the frees of both bitmaps) or cached again, when
 * they are the new holder's.
 *
 * The three bitmaps are one block (`gcBits`), interleaved by 32-slot word (G_* in
 * layout.ts), so that a free reads and writes a single cache line of them:
 *
 *   gcBits ──► ┌──────────┬──────────┬──────────────┬─────┐
 *   group 0    │ alloc    │ freed    │ localFreed   │ pad │  slots 0..31 (bit i & 31)
 *              ├──────────┼──────────┼──────────────┼─────┤
 *   group 1    │ alloc    │ freed    │ localFreed   │ pad │  slots 32..63
 *              ├──────────┴──────────┴──────────────┴─────┤
 *              │ ... one group per 32 slots, in pairs      │  (whole 64-slot units, as Go's
 *              └───────────────────────────────────────────┘   64-bit allocCache reads them)
 *
 * Word w of a bitmap is word GW_<bitmap> of group w: gcBitsWord(base, w) below. (Go keeps
 * allocBits and gcmarkBits as two bitmaps; goheap's frees need three, read together.)
 *
 * Span structs come from the heap's span fixalloc (counted in MSpanInuse / MSpanSys) and
 * live in the buffer; a JS number (the struct's address) is the span "pointer".
 *
 * @module
 */

import * as layout from './layout.js';
import type { SpanPtr } from './layout.js';

// The mspan struct: S_* offsets and span*/setSpan* accessors in layout.ts (generated).
// Module-local copies of the word offsets (see malloc.ts: V8 folds a local const, not an import).
const {
  GCBITS_GROUP_SIZE, GW_ALLOC, GW_FREED, GW_LOCALFREED, SW_ALLOCCOUNT, SW_CACHE_HI, SW_CACHE_LO,
  SW_ELEMSIZE, SW_FREEINDEX, SW_GCBITS, SW_NELEMS, SW_START,
} = layout;
const { clz32 } = Math; // a module-local const: fewer bytecodes than Math.clz32 (see nextFreeFast)
/** Words per gcBits group. */
const GROUP_WORDS = GCBITS_GROUP_SIZE >>> 2;

/** Span states (Go: mSpanState). */
export const mSpanDead = 0;
export const mSpanInUse = 1;
export const mSpanManual = 2;
export const spanStateNames = ['mSpanDead', 'mSpanInUse', 'mSpanManual'] as const;

/** Bytes of a span's gcBits block for n slots: groups for whole 64-slot units. */
export function gcBitsBytes(nelems: number): number {
  return ((nelems + 63) >>> 6) * 2 * GCBITS_GROUP_SIZE;
}

/**
 * Word index of the group holding word w (slots 32w..32w+31) of the bitmaps of the gcBits
 * block at byte address base; add GW_ALLOC, GW_FREED or GW_LOCALFREED.
 */
export function gcBitsWord(base: number, w: number): number {
  return (base >>> 2) + w * GROUP_WORDS;
}

/**
 * Load allocCache from allocBits for the 64-slot group starting at slot `whichSlot`
 * (a multiple of 64): the complement of those 64 alloc bits (Go: refillAllocCache).
 */
export function refillAllocCache(u32: Uint32Array, s: SpanPtr, whichSlot: number): void {
  const sw = s >>> 2;
  const g = gcBitsWord(u32[sw + SW_GCBITS], whichSlot >>> 5) + GW_ALLOC;
  u32[sw + SW_CACHE_LO] = ~u32[g];
  u32[sw + SW_CACHE_HI] = ~u32[g + GROUP_WORDS];
}

/**
 * Load allocCache for the 64-slot group of freeindex and shift it so that bit 0 is slot
 * freeindex (what Go's cacheSpan does after picking a span).
 */
export function positionAllocCache(u32: Uint32Array, s: SpanPtr): void {
  const sw = s >>> 2;
  const fi = u32[sw + SW_FREEINDEX];
  refillAllocCache(u32, s, fi & ~63);
  if ((fi & 63) !== 0) shiftCache(u32, s, u32[sw + SW_CACHE_LO], u32[sw + SW_CACHE_HI], fi & 63);
}

/** Count trailing zeros of the 64-bit value (hi:lo); 64 if zero. */
function ctz64(lo: number, hi: number): number {
  if (lo !== 0) return 31 - clz32(lo & -lo);
  if (hi !== 0) return 63 - clz32(hi & -hi);
  return 64;
}

/** Shift allocCache right by n (1 <= n <= 64). */
function shiftCache(u32: Uint32Array, s: SpanPtr, lo: number, hi: number, n: number): void {
  const sw = s >>> 2;
  if (n >= 64) { lo = 0; hi = 0; }
  else if (n >= 32) { lo = hi >>> (n - 32); hi = 0; }
  else { lo = (lo >>> n) | (n === 0 ? 0 : hi << (32 - n)); hi = hi >>> n; }
  u32[sw + SW_CACHE_LO] = lo;
  u32[sw + SW_CACHE_HI] = hi;
}

/**
 * The allocation fast path on a span (Go: nextFreeFast): take the next free slot from
 * allocCache if one is there and the cache does not need a refill. Returns the object's
 * address, or 0 when the slow path (nextFreeIndex) must run. No allocation, no atomics.
 */
export function nextFreeFast(u32: Uint32Array, s: SpanPtr): number {
  const sw = s >>> 2;
  // theBit = ctz64(allocCache), taken from the low half only: when its 32 slots are all
  // taken (lo = 0, b = -1) the slow path (nextFreeIndex) looks at the high half. So does
  // the last slot of a 64-slot group (Go: freeidx % 64 == 0 and freeidx != nelems; at
  // nelems too here), whose successor needs a refill of allocCache. allocCache >> (theBit
  // + 1) in two 32-bit halves: JS shifts count mod 32, so a shift by theBit + 1 is
  // written as >>> b >>> 1. Fewer bytecodes than the full 64-bit case, so that V8 inlines
  // it into the caller's loop with free's fast path (docs/architecture.md, "Fast paths").
  const ci = sw + SW_CACHE_LO, fi = sw + SW_FREEINDEX;
  const lo = u32[ci];
  const b = 31 - clz32(lo & -lo);
  const result = u32[fi] + b;
  if (!lo || result >= u32[sw + SW_NELEMS] || !((result + 1) & 63)) return 0;
  const hi = u32[ci + 1]; // SW_CACHE_HI: allocCache is one 64-bit field, lo then hi
  u32[ci] = (lo >>> b >>> 1) | (hi << (31 - b));
  u32[ci + 1] = hi >>> b >>> 1;
  u32[fi] = result + 1;
  u32[sw + SW_ALLOCCOUNT]++;
  return u32[sw + SW_START] + result * u32[sw + SW_ELEMSIZE];
}

/**
 * Index of the next free slot at or after freeindex, advancing freeindex and allocCache
 * past it; nelems if the span is full (Go: mspan.nextFreeIndex). The caller bumps
 * allocCount.
 */
export function nextFreeIndex(u32: Uint32Array, s: SpanPtr): number {
  const sw = s >>> 2;
  const nelems = u32[sw + SW_NELEMS];
  let fi = u32[sw + SW_FREEINDEX];
  if (fi === nelems) return nelems;
  let lo = u32[sw + SW_CACHE_LO], hi = u32[sw + SW_CACHE_HI];
  let b = ctz64(lo, hi);
  while (b === 64) {
    fi = (fi + 64) & ~63;
    if (fi >= nelems) {
      u32[sw + SW_FREEINDEX] = nelems;
      return nelems;
    }
    refillAllocCache(u32, s, fi);
    lo = u32[sw + SW_CACHE_LO];
    hi = u32[sw + SW_CACHE_HI];
    b = ctz64(lo, hi);
  }
  const result = fi + b;
  if (result >= nelems) {
    u32[sw + SW_FREEINDEX] = nelems;
    return nelems;
  }
  shiftCache(u32, s, lo, hi, b + 1);
  fi = result + 1;
  if ((fi & 63) === 0 && fi !== nelems) refillAllocCache(u32, s, fi);
  u32[sw + SW_FREEINDEX] = fi;
  return result;
}

/** Whether slot i of span s is allocated (below freeindex, or its alloc bit is set). */
export function isAllocated(u32: Uint32Array, s: SpanPtr, i: number): boolean {
  const sw = s >>> 2;
  if (i < u32[sw + SW_FREEINDEX]) return true;
  return (u32[gcBitsWord(u32[sw + SW_GCBITS], i >>> 5) + GW_ALLOC] & (1 << (i & 31))) !== 0;
}

/**
 * Whether slot i of span s has been freed since the span was last swept (its bit is set
 * in freedBits or in localFreedBits).
 */
export function isFreed(u32: Uint32Array, s: SpanPtr, i: number): boolean {
  const g = gcBitsWord(u32[(s >>> 2) + SW_GCBITS], i >>> 5);
  return ((u32[g + GW_FREED] | u32[g + GW_LOCALFREED]) & (1 << (i & 31))) !== 0;
}

/**
 * Set bits of one of span s's bitmaps (which: GW_ALLOC, GW_FREED or GW_LOCALFREED) among
 * its nelems slots (bits past nelems are 0).
 */
export function bitmapCount(u32: Uint32Array, s: SpanPtr, which: number): number {
  const sw = s >>> 2;
  let n = 0;
  for (let g = gcBitsWord(u32[sw + SW_GCBITS], 0) + which, end = g + ((u32[sw + SW_NELEMS] + 31) >>> 5) * GROUP_WORDS; g < end; g += GROUP_WORDS) n += popcount32(u32[g]);
  return n;
}

/** Popcount of a u32. */
export function popcount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
