/**
 * mgcscavenge.ts — the scavenger: releasing free pages to the OS (Go: src/runtime/
 * mgcscavenge.go).
 *
 * scavenge(pa, n) walks the page allocator's scavenge index (mpagealloc.ts: one bit per
 * chunk that may hold free, unreleased pages, searched from the highest address down, as
 * Go's scavengeIndex), and in each such chunk finds the highest run of free, unscavenged
 * pages (findScavengeCandidate, at least MIN_SCAV_PAGES, aligned to them: fillAligned),
 * takes it so nobody allocates it meanwhile, releases it (sysUnused: Ready -> Prepared)
 * and frees it back as scavenged. goheap runs it only on demand (freeOSMemory), as Go's
 * debug.FreeOSMemory does; differences from Go: no background scavenger goroutine and no
 * pacing (a JS heap has no RSS goal to pace against).
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import {
  ALL_ONES, LOG_WORD_BITS, PALLOC_CHUNK_PAGES, PD_SCAV_W, WORD_BITS, goWordFirst, pageBitsSetRange,
} from './mpallocbits.js';
import { MIN_SCAV_PAGES, SUMMARY_LEVELS, chunkBase, type PageAlloc } from './mpagealloc.js';
import { pageSize } from './sizeclasses.js';

/**
 * Release up to nbytes (Infinity = everything) of free, unscavenged memory to the OS,
 * highest addresses first, through os.sysUnused (Go: pageAlloc.scavenge). Returns the
 * bytes released (whole pages; may exceed nbytes by less than a page). Heap lock held.
 */
export function scavenge(pa: PageAlloc, nbytes: number): number {
  let released = 0;
  while (released < nbytes) {
    const ci = pa.scavIndexFind();
    if (ci < 0) break;
    released += scavengeOne(pa, ci, nbytes - released);
  }
  return released;
}

/**
 * Scavenge at most maxBytes (rounded up to pages) from chunk ci; returns bytes released
 * (Go: pageAlloc.scavengeOne). A chunk with nothing left to release leaves the index.
 */
function scavengeOne(pa: PageAlloc, ci: number, maxBytes: number): number {
  let u32 = pa.views.u32;
  const maxPages = Math.ceil(maxBytes / pageSize);
  if (pa.readSummary(SUMMARY_LEVELS - 1, ci)[1] >= MIN_SCAV_PAGES) {
    const cw = pa.chunkWord(ci);
    const n = pallocDataFindScavengeCandidate(u32, cw, PALLOC_CHUNK_PAGES - 1, MIN_SCAV_PAGES, maxPages);
    if (n !== 0) {
      const start = candOut[CAND_START];
      const addr = chunkBase(ci) + start * pageSize;
      // Take the pages so nobody allocates them while they are released.
      if (pa.allocRange(u32, addr, n) !== 0) {
        throw new HeapCorruptionError(`page allocator: double scavenge of [${addr}, ${addr + n * pageSize})`);
      }
      pa.os.sysUnused(addr, n * pageSize);
      u32 = pa.views.u32; // the OS layer may have replaced the buffer
      pa.freeRange(u32, addr, n, true);
      pageBitsSetRange(u32, pa.chunkWord(ci) + PD_SCAV_W, start, n);
      return n * pageSize;
    }
  }
  pa.scavIndexClear(ci);
  return 0;
}

/**
 * Go's `fillAligned` on one 32-bit half, m ∈ {1, 2, 4, 8, 16, 32}: every m-aligned group of
 * m bits becomes all ones if any of its bits is set, else all zeros. (m = 64 spans both
 * halves; see {@link fillAligned64}.) The lowest bit of each group first collects the OR of
 * its group (shifting down by 1, 2, 4, … covers exactly m−1 bits above it), the other bits
 * are dropped, then that bit is copied up over its group.
 */
export function fillAligned32(x: number, m: number): number {
  if (m === 1) return x >>> 0;
  let y = x | 0;
  for (let s = 1; s < m; s <<= 1) y |= y >>> s;
  y &= groupLowBits(m);
  for (let s = 1; s < m; s <<= 1) y |= y << s;
  return y >>> 0;
}

/** A u32 with the lowest bit of every m-bit group set. */
function groupLowBits(m: number): number {
  switch (m) {
    case 2:
      return 0x55555555;
    case 4:
      return 0x11111111;
    case 8:
      return 0x01010101;
    case 16:
      return 0x00010001;
    case 32:
      return 0x00000001;
    default:
      throw new HeapCorruptionError(`fillAligned: bad m value ${m}`);
  }
}

/** Module scratch for 64-bit results as (lo, hi). */
export const u64Out = new Uint32Array(2);

/** {@link fillAligned32} for a 64-bit (lo, hi) value and m ∈ {1, 2, …, 64}; result in {@link u64Out}. */
export function fillAligned64(lo: number, hi: number, m: number): void {
  if (m === 64) {
    const v = (lo | hi) !== 0 ? ALL_ONES : 0;
    u64Out[0] = v;
    u64Out[1] = v;
    return;
  }
  u64Out[0] = fillAligned32(lo, m);
  u64Out[1] = fillAligned32(hi, m);
}

/** Word k of fillAligned(scavenged | alloc, m) of the pallocData at w: 0 bits = free and not scavenged. */
function scavFilledWord(u32: Uint32Array, w: number, k: number, m: number): number {
  if (m === 64) {
    const k0 = k & ~1;
    const v = u32[w + k0] | u32[w + k0 + 1] | u32[w + PD_SCAV_W + k0] | u32[w + PD_SCAV_W + k0 + 1];
    return v !== 0 ? ALL_ONES : 0;
  }
  return fillAligned32(u32[w + k] | u32[w + PD_SCAV_W + k], m);
}

/** Largest scavenge unit in pages: 512 KiB max physical page / 8 KiB. */
export const MAX_PAGES_PER_PHYS_PAGE = 64;

/** Module scratch for {@link pallocDataFindScavengeCandidate}: (start, size). */
export const candOut = new Int32Array(2);
/** Index of the candidate's first page in {@link candOut}. */
export const CAND_START = 0;
/** Index of the candidate's size in pages in {@link candOut}. */
export const CAND_SIZE = 1;

/**
 * Go's `pallocData.findScavengeCandidate`: the highest run of free, unscavenged pages at or
 * below (the 64-bit word of) `searchIdx`, looked at in `min`-aligned groups of `min` pages,
 * cut to at most `max` pages (0 → min; otherwise rounded up to a multiple of min) taken from
 * the top of the run. Result (start, size) in {@link candOut}; size 0 means none. Returns
 * the size.
 *
 * No huge-page preservation: pages in a JS buffer are never backed by transparent huge
 * pages, so Go's physHugePageSize is taken as 0 and that extension never applies.
 */
export function pallocDataFindScavengeCandidate(
  u32: Uint32Array,
  w: number,
  searchIdx: number,
  min: number,
  max: number,
): number {
  if (min <= 0 || (min & (min - 1)) !== 0) {
    throw new HeapCorruptionError(`findScavengeCandidate: min = ${min} must be a non-zero power of 2`);
  }
  if (min > MAX_PAGES_PER_PHYS_PAGE) {
    throw new HeapCorruptionError(`findScavengeCandidate: min = ${min} too large`);
  }
  if (max === 0) max = min;
  else {
    if (!(max <= PALLOC_CHUNK_PAGES)) max = PALLOC_CHUNK_PAGES; // also Infinity; 512 is aligned
    max = Math.ceil(max / min) * min;
  }
  // Highest word (downwards from the top of searchIdx's 64-bit word) with a free,
  // unscavenged group.
  let k = goWordFirst(searchIdx) + 1;
  let x = 0;
  for (; k >= 0; k--) {
    x = scavFilledWord(u32, w, k, min);
    if (x !== ALL_ONES) break;
  }
  if (k < 0) {
    candOut[CAND_START] = 0;
    candOut[CAND_SIZE] = 0;
    return 0;
  }
  const z1 = Math.clz32(~x); // used/scavenged bits at the top of word k
  const end = (k << LOG_WORD_BITS) + WORD_BITS - z1;
  let run: number;
  const below = x << z1;
  if (below !== 0) {
    run = Math.clz32(below);
  } else {
    run = WORD_BITS - z1;
    for (let j = k - 1; j >= 0; j--) {
      const y = scavFilledWord(u32, w, j, min);
      run += Math.clz32(y);
      if (y !== 0) break;
    }
  }
  const size = run < max ? run : max;
  candOut[CAND_START] = end - size;
  candOut[CAND_SIZE] = size;
  return size;
}
