/**
 * Chunk bitmaps of the page allocator (Go 1.19 `mpallocbits.go`, re-implemented).
 *
 * A *chunk* is 512 runtime pages (4 MiB). Each chunk has a `pallocData`: a 512-bit
 * allocation bitmap (`pallocBits`, 1 = page in use) followed by a 512-bit scavenged bitmap
 * (`scavenged`, 1 = page released to the OS). Both live in the shared buffer; every function
 * here takes the `Uint32Array` view and the u32 *word index* of the bitmap (or pallocData)
 * it works on, so nothing here holds state except a few module-level scratch arrays used
 * for second return values (no allocation, no closures, no BigInt on any path but
 * {@link packSumBig}).
 *
 * Go keeps bitmaps as `[8]uint64`; we keep them as 16 little-endian u32 words: bit i of a
 * 512-bit bitmap is bit (i & 31) of word (i >>> 5). A Go 64-bit word k is the pair of u32
 * words (2k, 2k+1), low half first. Algorithms that Go defines in terms of 64-bit words
 * (where a search starts, findBitRange64) keep that 64-bit meaning.
 *
 * Also here: the packed summary `pallocSum` (start, max, end of free runs) of the radix
 * tree, and its merge; `findScavengeCandidate` / `fillAligned` of the scavenger.
 *
 * @module
 */


// ---------------------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------------------

/** log2 of the pages in one chunk. */
export const LOG_PALLOC_CHUNK_PAGES = 9;
/** Pages per chunk (bits per bitmap). */
export const PALLOC_CHUNK_PAGES = 1 << LOG_PALLOC_CHUNK_PAGES;
/** u32 words per 512-bit bitmap. */
export const PAGE_BITS_WORDS = PALLOC_CHUNK_PAGES / 32;
/** Bytes per 512-bit bitmap. */
export const PAGE_BITS_BYTES = PAGE_BITS_WORDS * 4;

/**
 * Radix-tree depth minus one, times bits per level, plus the chunk's 9: the number of bits
 * of each field of a packed summary. 32-bit geometry: 9 + 3·3 = 18 (see mpagealloc.ts).
 */
export const LOG_MAX_PACKED_VALUE = 18;
/** Largest value a summary field can hold (a whole root entry free). */
export const MAX_PACKED_VALUE = 1 << LOG_MAX_PACKED_VALUE;
/** Mask of one 18-bit summary field. */
const SUM_FIELD_MASK = MAX_PACKED_VALUE - 1;

/** Returned by the find functions when nothing fits (Go's `^uint(0)`). */
export const NOT_FOUND = -1;

export const ALL_ONES = 0xffffffff;
/** Bits per u32 word, its log2, and the mask of a bit index within a word. */
export const WORD_BITS = 32;
export const LOG_WORD_BITS = 5;
const WORD_MASK = WORD_BITS - 1;
/** log2 of the bits of one of Go's 64-bit bitmap words. */
const LOG_GO_WORD_BITS = 6;

/** The first u32 word of the Go 64-bit word that holds bit i (Go's searches start there). */
export function goWordFirst(i: number): number {
  return (i >>> LOG_GO_WORD_BITS) << 1;
}

// ---------------------------------------------------------------------------------------
// pallocData layout (128 bytes per chunk)
//
//   byte  0 ┌──────────────────────────────────────────┐
//           │ pallocBits: 16 × u32, bit i = page i used │  PD_ALLOC
//   byte 64 ├──────────────────────────────────────────┤
//           │ scavenged:  16 × u32, bit i = page i      │  PD_SCAV
//           │             released to the OS            │
//   byte 128└──────────────────────────────────────────┘  PALLOC_DATA_SIZE
// ---------------------------------------------------------------------------------------

/** Byte offset of the allocation bitmap inside a pallocData. */
export const PD_ALLOC = 0;
/** Byte offset of the scavenged bitmap inside a pallocData. */
export const PD_SCAV = PD_ALLOC + PAGE_BITS_BYTES;
/** Bytes per pallocData. */
export const PALLOC_DATA_SIZE = PD_SCAV + PAGE_BITS_BYTES;
/** Word offset of the scavenged bitmap inside a pallocData. */
export const PD_SCAV_W = PD_SCAV >>> 2;
/** Words per pallocData. */
export const PALLOC_DATA_WORDS = PALLOC_DATA_SIZE >>> 2;

// ---------------------------------------------------------------------------------------
// pallocSum packing — two u32 per summary, low half at the lower address:
//
//   bit 63 62 ........ 54 53 ...... 36 35 ....... 18 17 ...... 0
//       ┌──┬─────────────┬────────────┬─────────────┬───────────┐
//       │S │   unused    │    end     │     max     │   start   │
//       └──┴─────────────┴────────────┴─────────────┴───────────┘
//   u32 word 0 (lo) = bits 0..31:  start (0..17) | max bits 0..13 at 18..31
//   u32 word 1 (hi) = bits 32..63: max bits 14..17 at 0..3 | end at 4..21 | S at 31
//
// S set (and everything else 0) means start = max = end = MAX_PACKED_VALUE.
// The all-zero summary means "no free page".
// ---------------------------------------------------------------------------------------

/** Bytes per packed summary. */
export const PALLOC_SUM_BYTES = 8;
/** u32 words per packed summary. */
export const PALLOC_SUM_WORDS = PALLOC_SUM_BYTES / 4;
/** Bit of `max` that is the first one stored in the high word. */
const SUM_MAX_LO_BITS = 32 - LOG_MAX_PACKED_VALUE; // 14 bits of max live in the low word
/** Position of `end` inside the high word. */
const SUM_END_SHIFT_HI = 2 * LOG_MAX_PACKED_VALUE - 32; // 4
/** The special "everything free" flag in the high word (bit 63). */
const SUM_ALL_FREE_HI = 0x80000000;

/**
 * Module scratch for summaries: {@link pallocBitsSummarize} and {@link mergeSummaries}
 * write their result here; {@link storeSum} packs it into the buffer.
 */
export const sumOut = new Int32Array(3);
/** Index of `start` in {@link sumOut}. */
export const SUM_START = 0;
/** Index of `max` in {@link sumOut}. */
export const SUM_MAX = 1;
/** Index of `end` in {@link sumOut}. */
export const SUM_END = 2;

/** Write the packed summary (start, max, end) at word index `idx`. */
export function packSum(u32: Uint32Array, idx: number, start: number, max: number, end: number): void {
  if (max === MAX_PACKED_VALUE) {
    u32[idx] = 0;
    u32[idx + 1] = SUM_ALL_FREE_HI;
    return;
  }
  start &= SUM_FIELD_MASK;
  max &= SUM_FIELD_MASK;
  end &= SUM_FIELD_MASK;
  u32[idx] = start | (max << LOG_MAX_PACKED_VALUE);
  u32[idx + 1] = (max >>> SUM_MAX_LO_BITS) | (end << SUM_END_SHIFT_HI);
}

/** `start` of the packed summary at word index `idx`. */
export function sumStart(u32: Uint32Array, idx: number): number {
  if ((u32[idx + 1] & SUM_ALL_FREE_HI) !== 0) return MAX_PACKED_VALUE;
  return u32[idx] & SUM_FIELD_MASK;
}

/** `max` of the packed summary at word index `idx`. */
export function sumMax(u32: Uint32Array, idx: number): number {
  const hi = u32[idx + 1];
  if ((hi & SUM_ALL_FREE_HI) !== 0) return MAX_PACKED_VALUE;
  return (u32[idx] >>> LOG_MAX_PACKED_VALUE) | ((hi << SUM_MAX_LO_BITS) & SUM_FIELD_MASK);
}

/** `end` of the packed summary at word index `idx`. */
export function sumEnd(u32: Uint32Array, idx: number): number {
  const hi = u32[idx + 1];
  if ((hi & SUM_ALL_FREE_HI) !== 0) return MAX_PACKED_VALUE;
  return (hi >>> SUM_END_SHIFT_HI) & SUM_FIELD_MASK;
}

/** Unpack the summary at `idx` into {@link sumOut}. */
export function unpackSum(u32: Uint32Array, idx: number): void {
  sumOut[SUM_START] = sumStart(u32, idx);
  sumOut[SUM_MAX] = sumMax(u32, idx);
  sumOut[SUM_END] = sumEnd(u32, idx);
}

/**
 * Pack {@link sumOut} into the summary at `idx`; returns true if the stored value changed.
 */
export function storeSum(u32: Uint32Array, idx: number): boolean {
  const oldLo = u32[idx];
  const oldHi = u32[idx + 1];
  packSum(u32, idx, sumOut[SUM_START], sumOut[SUM_MAX], sumOut[SUM_END]);
  return u32[idx] !== oldLo || u32[idx + 1] !== oldHi;
}

/** The packed 64-bit value of (start, max, end), for tests and debugging only. */
export function packSumBig(start: number, max: number, end: number): bigint {
  if (max === MAX_PACKED_VALUE) return 1n << 63n;
  const m = BigInt(SUM_FIELD_MASK);
  return (
    (BigInt(start) & m) |
    ((BigInt(max) & m) << BigInt(LOG_MAX_PACKED_VALUE)) |
    ((BigInt(end) & m) << BigInt(2 * LOG_MAX_PACKED_VALUE))
  );
}

/**
 * Merge `count` consecutive child summaries (starting at word index `idx0`),
 * each covering 2^logMaxPagesPerSum pages, into one summary for their parent; result in
 * {@link sumOut}. A run may continue from one child into the next: the parent's start grows
 * while every child so far is entirely free, its end grows while children from the top
 * are entirely free, and max also considers end-of-previous + start-of-next.
 */
export function mergeSummaries(u32: Uint32Array, idx0: number, count: number, logMaxPagesPerSum: number): void {
  const full = 1 << logMaxPagesPerSum;
  let start = sumStart(u32, idx0);
  let max = sumMax(u32, idx0);
  let end = sumEnd(u32, idx0);
  for (let i = 1; i < count; i++) {
    // Unpack child i inline (this loop is the hottest part of every update).
    const lo = u32[idx0 + PALLOC_SUM_WORDS * i];
    const hi = u32[idx0 + PALLOC_SUM_WORDS * i + 1];
    let si: number;
    let mi: number;
    let ei: number;
    if ((hi & SUM_ALL_FREE_HI) !== 0) {
      si = mi = ei = MAX_PACKED_VALUE;
    } else {
      si = lo & SUM_FIELD_MASK;
      mi = (lo >>> LOG_MAX_PACKED_VALUE) | ((hi << SUM_MAX_LO_BITS) & SUM_FIELD_MASK);
      ei = (hi >>> SUM_END_SHIFT_HI) & SUM_FIELD_MASK;
    }
    if (start === i * full) start += si; // everything so far free: the run continues
    if (end + si > max) max = end + si;
    if (mi > max) max = mi;
    if (ei === full) end += full;
    else end = ei;
  }
  sumOut[SUM_START] = start;
  sumOut[SUM_MAX] = max;
  sumOut[SUM_END] = end;
}

// ---------------------------------------------------------------------------------------
// 32-bit bit tricks
// ---------------------------------------------------------------------------------------

/** Count of trailing zero bits of a 32-bit value (32 for 0). */
export function ctz32(x: number): number {
  x |= 0;
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

/** Number of set bits of a 32-bit value. */
export function popcnt32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Mask of the bits [lo, hi] of a u32 word (0 ≤ lo ≤ hi ≤ 31); may be negative as int32. */
export function wordMask(lo: number, hi: number): number {
  return (ALL_ONES >>> (31 - hi + lo)) << lo;
}

/**
 * Index of the lowest run of `n` (1..32) consecutive 1 bits of the 32-bit value `c`,
 * or 32 if there is none. Every run is shortened from its top by n−1 bits (AND with itself
 * shifted down by widths that double while they stay valid), so a bit survives only where
 * n ones start; the lowest survivor is the answer.
 */
export function findBitRange32(c: number, n: number): number {
  let p = n - 1; // bits still to erase from each run
  let k = 1; // runs of zeros in c are now at least this wide
  while (p > 0) {
    const s = p <= k ? p : k;
    c &= c >>> s;
    if (c === 0) return 32;
    p -= s;
    k <<= 1;
  }
  return ctz32(c);
}

/**
 * Go's `findBitRange64` over a 64-bit value given as (lo, hi) halves: index of the lowest
 * run of `n` (1..64) consecutive 1 bits, or 64 if none.
 */
export function findBitRange64(lo: number, hi: number, n: number): number {
  if (n <= 32) {
    const j = findBitRange32(lo, n);
    if (j < 32) return j;
  }
  // A run crossing bit 32: the leading ones of lo plus the trailing ones of hi.
  const topLo = Math.clz32(~lo);
  const botHi = ctz32(~hi);
  if (topLo + botHi >= n) return 32 - topLo;
  if (n <= 32) {
    const j = findBitRange32(hi, n);
    if (j < 32) return 32 + j;
  }
  return 64;
}

// ---------------------------------------------------------------------------------------
// pageBits — a 512-bit bitmap at u32 word index w
// ---------------------------------------------------------------------------------------

/** Bit i (0 or 1). */
export function pageBitsGet(u32: Uint32Array, w: number, i: number): number {
  return (u32[w + (i >>> LOG_WORD_BITS)] >>> (i & WORD_MASK)) & 1;
}

/** Set bit i. */
export function pageBitsSet(u32: Uint32Array, w: number, i: number): void {
  u32[w + (i >>> LOG_WORD_BITS)] |= 1 << (i & WORD_MASK);
}

/** Clear bit i. */
export function pageBitsClear(u32: Uint32Array, w: number, i: number): void {
  u32[w + (i >>> LOG_WORD_BITS)] &= ~(1 << (i & WORD_MASK));
}

/** Set bits [i, i+n), n ≥ 1. Also used on the scavenge index, a longer bitmap. */
export function pageBitsSetRange(u32: Uint32Array, w: number, i: number, n: number): void {
  const last = i + n - 1;
  let k = i >>> LOG_WORD_BITS;
  const kLast = last >>> LOG_WORD_BITS;
  if (k === kLast) {
    u32[w + k] |= wordMask(i & WORD_MASK, last & WORD_MASK);
    return;
  }
  u32[w + k] |= ALL_ONES << (i & WORD_MASK);
  for (k++; k < kLast; k++) u32[w + k] = ALL_ONES;
  u32[w + kLast] |= ALL_ONES >>> (WORD_MASK - (last & WORD_MASK));
}

/** Clear bits [i, i+n), n ≥ 1. */
export function pageBitsClearRange(u32: Uint32Array, w: number, i: number, n: number): void {
  const last = i + n - 1;
  let k = i >>> LOG_WORD_BITS;
  const kLast = last >>> LOG_WORD_BITS;
  if (k === kLast) {
    u32[w + k] &= ~wordMask(i & WORD_MASK, last & WORD_MASK);
    return;
  }
  u32[w + k] &= ~(ALL_ONES << (i & WORD_MASK));
  for (k++; k < kLast; k++) u32[w + k] = 0;
  u32[w + kLast] &= ~(ALL_ONES >>> (WORD_MASK - (last & WORD_MASK)));
}

/** Set all 512 bits. */
export function pageBitsSetAll(u32: Uint32Array, w: number): void {
  u32.fill(ALL_ONES, w, w + PAGE_BITS_WORDS);
}

/** Clear all 512 bits. */
export function pageBitsClearAll(u32: Uint32Array, w: number): void {
  u32.fill(0, w, w + PAGE_BITS_WORDS);
}

/** Number of set bits in [i, i+n), n ≥ 1. */
export function pageBitsPopcntRange(u32: Uint32Array, w: number, i: number, n: number): number {
  const last = i + n - 1;
  let k = i >>> LOG_WORD_BITS;
  const kLast = last >>> LOG_WORD_BITS;
  if (k === kLast) return popcnt32(u32[w + k] & wordMask(i & WORD_MASK, last & WORD_MASK));
  let s = popcnt32(u32[w + k] & (ALL_ONES << (i & WORD_MASK)));
  for (k++; k < kLast; k++) s += popcnt32(u32[w + k]);
  return s + popcnt32(u32[w + kLast] & (ALL_ONES >>> (WORD_MASK - (last & WORD_MASK))));
}

// ---------------------------------------------------------------------------------------
// pallocBits — summarize and find
// ---------------------------------------------------------------------------------------

/**
 * Longest run of 1 bits of the 32-bit value y, or `atLeast` if no run is longer.
 * Erases `atLeast` bits from the top of every run first (doubling shifts); whatever
 * survives is a longer run, and each further 1-bit erase that leaves a survivor adds one.
 */
function longestOnes32(y: number, atLeast: number): number {
  let p = atLeast;
  let k = 1;
  while (p > 0) {
    const s = p <= k ? p : k;
    y &= y >>> s;
    if (y === 0) return atLeast;
    p -= s;
    k <<= 1;
  }
  let len = atLeast;
  while (y !== 0) {
    len++;
    y &= y >>> 1;
  }
  return len;
}

/**
 * Summarize the 512-bit allocation bitmap at word index w into {@link sumOut}:
 * start = free pages at the bottom, end = free pages at the top, max = longest free run.
 */
export function pallocBitsSummarize(u32: Uint32Array, w: number): void {
  let start = -1;
  let max = 0;
  let cur = 0; // free run reaching the current word from below
  for (let k = 0; k < PAGE_BITS_WORDS; k++) {
    const x = u32[w + k];
    if (x === 0) {
      cur += WORD_BITS;
      continue;
    }
    cur += ctz32(x);
    if (start < 0) start = cur;
    if (cur > max) max = cur;
    cur = Math.clz32(x);
  }
  if (start < 0) {
    sumOut[SUM_START] = PALLOC_CHUNK_PAGES;
    sumOut[SUM_MAX] = PALLOC_CHUNK_PAGES;
    sumOut[SUM_END] = PALLOC_CHUNK_PAGES;
    return;
  }
  if (cur > max) max = cur;
  // Runs that touch a word boundary were all counted above. A run strictly inside one
  // word is at most 30 long, so only look inside words when max could still grow.
  if (max < 30) {
    for (let k = 0; k < PAGE_BITS_WORDS; k++) {
      max = longestOnes32(~u32[w + k], max);
    }
  }
  sumOut[SUM_START] = start;
  sumOut[SUM_MAX] = max;
  sumOut[SUM_END] = cur;
}

/**
 * Module scratch for the second result of {@link pallocBitsFind}: the index of the first
 * free page seen at or after the search start (NOT_FOUND if none), Go's new searchIdx.
 */
export const findOut = new Int32Array(1);
/** Index of the new search index in {@link findOut}. */
export const FIND_SEARCH_IDX = 0;

/**
 * Find the lowest run of `npages` free pages in the bitmap at word w, considering only
 * pages at or after the start of the 64-bit word that holds `searchIdx` (Go's semantics).
 * Returns the run's first page or NOT_FOUND; the first free page seen goes to
 * {@link findOut}.
 */
export function pallocBitsFind(u32: Uint32Array, w: number, npages: number, searchIdx: number): number {
  const k0 = goWordFirst(searchIdx);
  if (npages === 1) {
    for (let k = k0; k < PAGE_BITS_WORDS; k++) {
      const x = u32[w + k];
      if (x !== ALL_ONES) {
        const r = (k << LOG_WORD_BITS) + ctz32(~x);
        findOut[FIND_SEARCH_IDX] = r;
        return r;
      }
    }
    findOut[FIND_SEARCH_IDX] = NOT_FOUND;
    return NOT_FOUND;
  }
  let newSearchIdx = NOT_FOUND;
  let runStart = 0;
  let runLen = 0; // free pages at the top of the words seen so far
  for (let k = k0; k < PAGE_BITS_WORDS; k++) {
    const x = u32[w + k];
    if (x === ALL_ONES) {
      runLen = 0;
      continue;
    }
    if (newSearchIdx < 0) newSearchIdx = (k << LOG_WORD_BITS) + ctz32(~x);
    const t = ctz32(x); // free pages at the bottom of this word
    if (runLen + t >= npages) {
      findOut[FIND_SEARCH_IDX] = newSearchIdx;
      return runLen === 0 ? k << LOG_WORD_BITS : runStart;
    }
    if (x === 0) {
      if (runLen === 0) runStart = k << LOG_WORD_BITS;
      runLen += WORD_BITS;
      continue;
    }
    if (npages < WORD_BITS) {
      const j = findBitRange32(~x, npages);
      if (j < WORD_BITS) {
        findOut[FIND_SEARCH_IDX] = newSearchIdx;
        return (k << LOG_WORD_BITS) + j;
      }
    }
    runLen = Math.clz32(x);
    runStart = (k << LOG_WORD_BITS) + WORD_BITS - runLen;
  }
  findOut[FIND_SEARCH_IDX] = newSearchIdx;
  return NOT_FOUND;
}

// ---------------------------------------------------------------------------------------
// pallocData — alloc bits + scavenged bits at word index w (see layout above)
// ---------------------------------------------------------------------------------------

/** Mark pages [i, i+n) in use and not scavenged. */
export function pallocDataAllocRange(u32: Uint32Array, w: number, i: number, n: number): void {
  pageBitsSetRange(u32, w, i, n);
  pageBitsClearRange(u32, w + PD_SCAV_W, i, n);
}

/** Mark every page in use and not scavenged. */
export function pallocDataAllocAll(u32: Uint32Array, w: number): void {
  pageBitsSetAll(u32, w);
  pageBitsClearAll(u32, w + PD_SCAV_W);
}
