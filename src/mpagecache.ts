/**
 * Per-P page cache (Go 1.19 `mpagecache.go`, re-implemented).
 *
 * A P keeps a 64-page aligned block of pages that the page allocator handed it in one go
 * ({@link PageAlloc.allocToCache}); small page allocations are then served from the block
 * without the heap lock. The struct lives in the shared buffer (inside the P's own struct,
 * wherever its owner puts it); this module only reads and writes it.
 *
 * Refilling the cache and giving it back ({@link PageAlloc.allocToCache},
 * {@link PageAlloc.flushCache}) touch the page allocator and run under the heap lock; they
 * are methods of `PageAlloc` in mpagealloc.ts. {@link pageCacheAlloc} touches only the
 * cache (its owner is the only thread using it), so it needs no lock.
 *
 * @module
 */

import { findBitRange64, popcnt32, ctz32 } from './mpallocbits.js';

/** Runtime page size in bytes. */
const PAGE_SIZE = 8192;

/** Pages covered by one page cache: the bits of a 64-bit mask. */
export const PAGE_CACHE_PAGES = 64;

// ---------------------------------------------------------------------------------------
// pageCache layout (24 bytes; the owner should place it 8-byte aligned)
//
//   byte  0 ┌─────────────────────────┐
//           │ base   u32              │  PC_BASE      address of the block (64-page aligned)
//   byte  4 ├─────────────────────────┤
//           │ (padding) u32           │  PC_PAD       keeps the masks 8-byte aligned
//   byte  8 ├─────────────────────────┤
//           │ cache  u64: lo u32      │  PC_CACHE_LO  bit i = page i of the block is free
//   byte 12 │         hi u32          │  PC_CACHE_HI  (in the cache, not yet handed out)
//   byte 16 ├─────────────────────────┤
//           │ scav   u64: lo u32      │  PC_SCAV_LO   bit i = page i is scavenged
//   byte 20 │         hi u32          │  PC_SCAV_HI
//   byte 24 └─────────────────────────┘  PAGE_CACHE_SIZE
//
// The cache is empty when both cache halves are 0 (base is then meaningless).
// ---------------------------------------------------------------------------------------

/** Byte offset of the block base address. */
export const PC_BASE = 0;
/** Byte offset of the padding word. */
export const PC_PAD = 4;
/** Byte offset of the low half of the free mask. */
export const PC_CACHE_LO = 8;
/** Byte offset of the high half of the free mask. */
export const PC_CACHE_HI = 12;
/** Byte offset of the low half of the scavenged mask. */
export const PC_SCAV_LO = 16;
/** Byte offset of the high half of the scavenged mask. */
export const PC_SCAV_HI = 20;
/** Bytes of one page cache struct. */
export const PAGE_CACHE_SIZE = 24;

/** Anything with a `u32` view over the (current) buffer. */
export interface U32Views {
  u32: Uint32Array;
}

/** Receives the second result (scavenged bytes) of {@link pageCacheAlloc}. */
export interface ScavOut {
  scav: number;
}

/**
 * Default receiver of {@link pageCacheAlloc}'s second result when the caller passes none:
 * `pageCacheOut.scav` holds the scavenged bytes of the last call.
 */
export const pageCacheOut: ScavOut = { scav: 0 };

/** Whether the page cache at byte offset `pc` has no free page left. */
export function pageCacheEmpty(views: U32Views, pc: number): boolean {
  const u32 = views.u32;
  const w = pc >>> 2;
  return (u32[w + (PC_CACHE_LO >>> 2)] | u32[w + (PC_CACHE_HI >>> 2)]) === 0;
}

/**
 * Take `npages` (1..64) contiguous pages from the page cache at byte offset `pc`.
 * Returns their address, or 0 if the cache cannot satisfy the request. The number of
 * *scavenged* bytes among the pages taken (which the caller must make ready again) is
 * stored in `out.scav` (default {@link pageCacheOut}; a {@link PageAlloc} handle works too,
 * as its `scav` field); 0 on failure.
 */
export function pageCacheAlloc(views: U32Views, pc: number, npages: number, out: ScavOut = pageCacheOut): number {
  const u32 = views.u32;
  const w = pc >>> 2;
  const cLoW = w + (PC_CACHE_LO >>> 2);
  const cHiW = w + (PC_CACHE_HI >>> 2);
  const sLoW = w + (PC_SCAV_LO >>> 2);
  const sHiW = w + (PC_SCAV_HI >>> 2);
  const cLo = u32[cLoW];
  const cHi = u32[cHiW];
  if ((cLo | cHi) === 0 || npages > PAGE_CACHE_PAGES) {
    out.scav = 0;
    return 0;
  }
  const base = u32[w + (PC_BASE >>> 2)];
  if (npages === 1) {
    // Lowest free page.
    let i: number;
    let scav: number;
    if (cLo !== 0) {
      i = ctz32(cLo);
      const bit = 1 << i;
      scav = u32[sLoW] & bit;
      u32[cLoW] = cLo & ~bit;
      u32[sLoW] = u32[sLoW] & ~bit;
    } else {
      const j = ctz32(cHi);
      i = 32 + j;
      const bit = 1 << j;
      scav = u32[sHiW] & bit;
      u32[cHiW] = cHi & ~bit;
      u32[sHiW] = u32[sHiW] & ~bit;
    }
    out.scav = scav !== 0 ? PAGE_SIZE : 0;
    return base + i * PAGE_SIZE;
  }
  const i = findBitRange64(cLo, cHi, npages);
  if (i >= PAGE_CACHE_PAGES) {
    out.scav = 0;
    return 0;
  }
  // Mask of bits [i, i+npages) split over the two halves.
  const last = i + npages - 1;
  let mLo = 0;
  let mHi = 0;
  if (i < 32) mLo = (0xffffffff >>> (31 - (last < 32 ? last : 31) + i)) << i;
  if (last >= 32) {
    const lo = i < 32 ? 0 : i - 32;
    mHi = (0xffffffff >>> (31 - (last - 32) + lo)) << lo;
  }
  out.scav = (popcnt32(u32[sLoW] & mLo) + popcnt32(u32[sHiW] & mHi)) * PAGE_SIZE;
  u32[cLoW] = cLo & ~mLo;
  u32[cHiW] = cHi & ~mHi;
  u32[sLoW] = u32[sLoW] & ~mLo;
  u32[sHiW] = u32[sHiW] & ~mHi;
  return base + i * PAGE_SIZE;
}

/**
 * Set the page cache at byte offset `pc` (Go's test helper `NewPageCache`, also usable to
 * clear one: all zeros). Masks are given as 64-bit (lo, hi) halves.
 */
export function pageCacheSet(
  views: U32Views,
  pc: number,
  base: number,
  cacheLo: number,
  cacheHi: number,
  scavLo: number,
  scavHi: number,
): void {
  const u32 = views.u32;
  const w = pc >>> 2;
  u32[w + (PC_BASE >>> 2)] = base;
  u32[w + (PC_PAD >>> 2)] = 0;
  u32[w + (PC_CACHE_LO >>> 2)] = cacheLo;
  u32[w + (PC_CACHE_HI >>> 2)] = cacheHi;
  u32[w + (PC_SCAV_LO >>> 2)] = scavLo;
  u32[w + (PC_SCAV_HI >>> 2)] = scavHi;
}
