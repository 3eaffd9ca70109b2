/**
 * The page allocator (Go 1.19 `mpagealloc.go`, `mpagealloc_32bit.go`, `mranges.go`, and
 * the scavenging half of `mgcscavenge.go`), re-implemented over a shared buffer.
 *
 * It tracks, for every 8 KiB page of the address space, whether the page is in use
 * (allocation bitmap) and whether it has been released to the OS (scavenged bitmap), in
 * 4 MiB chunks of 512 pages. Above the chunks sits a radix tree of *summaries* — for each
 * aligned block of address space, the free pages at its start, at its end, and its longest
 * free run — so a first-fit search for n contiguous pages walks down the tree instead of
 * scanning bitmaps.
 *
 * ## Geometry: Go's 32-bit page allocator
 *
 * Our address space is one buffer of at most 4 GiB and pointers are byte offsets (numbers
 * below 2^32), so we use exactly the geometry Go uses on wasm and 386: heapAddrBits = 32,
 * arenaBaseOffset = 0. Page 8 KiB, chunk 512 pages = 4 MiB, 4 summary levels with fan-out 8
 * under a root of summaryL0Bits = 32 − 22 − 3·3 = 1 bit:
 *
 * | level | entries | levelBits | levelShift | bytes per entry | levelLogPages |
 * |-------|---------|-----------|------------|-----------------|---------------|
 * | 0     | 2       | 1         | 31         | 2 GiB           | 18            |
 * | 1     | 16      | 3         | 28         | 256 MiB         | 15            |
 * | 2     | 128     | 3         | 25         | 32 MiB          | 12            |
 * | 3 leaf| 1024    | 3         | 22         | 4 MiB (a chunk) | 9             |
 *
 * Summary fields are 18 bits (logMaxPackedValue = 9 + 3·3), maxPackedValue = 2^18. As on
 * Go's 32-bit platforms, the whole summary tree (9 KiB) and the scavenge index (1 bit per
 * chunk, 128 B) are laid out for the full 4 GiB up front; chunk bitmaps (128 B per chunk)
 * are laid out for chunks 0 .. maxChunks−1.
 *
 * ## Concurrency
 *
 * Every method assumes the caller holds the heap lock (as every `pageAlloc` method in Go
 * does), except the read-only helpers used while the world is quiet (check).
 * The views holder is read at the start of each public operation, never cached, because
 * the buffer may be replaced when it grows.
 *
 * ## Deviations from Go, all invisible to the algorithms
 *
 * - Chunk 0 is a real chunk here (Go never puts heap at address 0), so "nothing found" of
 *   the scavenge index is −1 rather than chunk 0, and "first growth" is told by end == 0
 *   rather than start == 0. Address 0 still means "failed" for alloc: the caller must
 *   never let page 0 be a free page.
 * - `findMappedAddr` always uses the inUse ranges (Go's test mode); Go's production mode
 *   consults the arena map, which can only keep a candidate inside a mapped arena that is
 *   not (yet) in use — never an address that matters.
 * - No huge pages (see mpallocbits.ts); physPageSize is 4 KiB, so a scavenge unit is one
 *   runtime page (minPages = 1), as on linux/amd64.
 * - `scavenge` runs entirely under the caller's heap lock (Go drops the lock around
 *   sysUnused) and does not touch statistics: it returns the bytes released and the caller
 *   accounts them (heapReleased += , heapFree −=).
 * - `grow` refuses (HeapCorruptionError) ranges outside [0, maxChunks) or overlapping memory
 *   already grown, before changing anything; Go trusts its caller.
 *
 * Second results (Go's multiple return values) go to fields of the handle (`scav`,
 * `scavIndexFindPage`) or to module-level scratch arrays of mpallocbits.ts; the hot paths
 * (alloc, free, find, update) allocate nothing and use no closures.
 *
 * @module
 */

import { HeapCorruptionError } from './errors.js';
import {
  PALLOC_CHUNK_PAGES, LOG_PALLOC_CHUNK_PAGES, LOG_MAX_PACKED_VALUE, MAX_PACKED_VALUE, PALLOC_SUM_BYTES, PALLOC_DATA_SIZE, PALLOC_DATA_WORDS, PAGE_BITS_WORDS, PD_SCAV_W, NOT_FOUND, sumOut, SUM_START, SUM_MAX, SUM_END, sumStart, sumMax, sumEnd, storeSum, mergeSummaries, pallocBitsSummarize, pallocBitsFind, findOut, FIND_SEARCH_IDX, pageBitsGet, pageBitsSetRange, pageBitsClearRange, pageBitsClear, pageBitsSetAll, pageBitsClearAll, pageBitsPopcntRange, pallocDataAllocRange, pallocDataAllocAll,
} from './mpallocbits.js';
import { pageShift, pageSize } from './sizeclasses.js';
import {
  PAW_END, PAW_IN_USE_LEN, PAW_MAGIC, PAW_MAX_CHUNKS, PAW_SEARCH_ADDR, PAW_SI_SEARCH_ADDR,
  PAW_SI_STATE, PAW_START, PA_HEADER_SIZE,
} from './layout.js';

/** Anything with a `u32` view over the (current) buffer. */
export interface U32Views {
  u32: Uint32Array;
}

export { PALLOC_CHUNK_PAGES, LOG_PALLOC_CHUNK_PAGES, LOG_MAX_PACKED_VALUE, MAX_PACKED_VALUE };

/** The OS layer as the page allocator needs it. */
export interface PageAllocOS {
  /** Release [v, v+n) to the OS (Ready → Prepared). */
  sysUnused(v: number, n: number): void;
}

// ---------------------------------------------------------------------------------------
// Geometry constants (32-bit page allocator; see the table in the module comment)
// ---------------------------------------------------------------------------------------

/** Address bits of the heap: the buffer is at most 4 GiB. */
export const HEAP_ADDR_BITS = 32;
/** log2 of the chunk size in bytes. */
export const LOG_PALLOC_CHUNK_BYTES = LOG_PALLOC_CHUNK_PAGES + pageShift;
/** Chunk size in bytes (4 MiB). */
export const PALLOC_CHUNK_BYTES = PALLOC_CHUNK_PAGES * pageSize;
/** Depth of the summary radix tree. */
export const SUMMARY_LEVELS = 4;
/** Bits of address consumed by each non-root level (fan-out 8). */
export const SUMMARY_LEVEL_BITS = 3;
/** Bits of address consumed by the root level: 32 − 22 − 3·3. */
export const SUMMARY_L0_BITS = HEAP_ADDR_BITS - LOG_PALLOC_CHUNK_BYTES - (SUMMARY_LEVELS - 1) * SUMMARY_LEVEL_BITS;
/** Bits consumed by each level. */
export const LEVEL_BITS: readonly number[] = [SUMMARY_L0_BITS, SUMMARY_LEVEL_BITS, SUMMARY_LEVEL_BITS, SUMMARY_LEVEL_BITS];
/** Address shift giving the entry index at each level. */
export const LEVEL_SHIFT: readonly number[] = [
  HEAP_ADDR_BITS - SUMMARY_L0_BITS,
  HEAP_ADDR_BITS - SUMMARY_L0_BITS - SUMMARY_LEVEL_BITS,
  HEAP_ADDR_BITS - SUMMARY_L0_BITS - 2 * SUMMARY_LEVEL_BITS,
  HEAP_ADDR_BITS - SUMMARY_L0_BITS - 3 * SUMMARY_LEVEL_BITS,
];
/** log2 of the pages covered by one entry at each level. */
export const LEVEL_LOG_PAGES: readonly number[] = [
  LOG_PALLOC_CHUNK_PAGES + 3 * SUMMARY_LEVEL_BITS,
  LOG_PALLOC_CHUNK_PAGES + 2 * SUMMARY_LEVEL_BITS,
  LOG_PALLOC_CHUNK_PAGES + SUMMARY_LEVEL_BITS,
  LOG_PALLOC_CHUNK_PAGES,
];
/** Entries at each level. */
export const LEVEL_ENTRIES: readonly number[] = LEVEL_SHIFT.map((s) => 2 ** (HEAP_ADDR_BITS - s));
/** Bytes of address space covered by one entry at each level. */
const LEVEL_BYTES: readonly number[] = LEVEL_SHIFT.map((s) => 2 ** s);
/** Shift from a chunk index to the entry index at each level. */
const LEVEL_CHUNK_SHIFT: readonly number[] = LEVEL_SHIFT.map((s) => s - LOG_PALLOC_CHUNK_BYTES);
/** Most chunks a 32-bit address space holds. */
export const MAX_CHUNKS = 2 ** (HEAP_ADDR_BITS - LOG_PALLOC_CHUNK_BYTES);
/** Largest offAddr: "no free memory" value of searchAddr (Go's maxOffAddr). */
export const MAX_SEARCH_ADDR = 2 ** HEAP_ADDR_BITS - 1;
/** OS page size assumed for scavenging. */
export const PHYS_PAGE_SIZE = 4096;
/** Smallest scavenge unit in runtime pages: max(1, physPageSize / pageSize). */
export const MIN_SCAV_PAGES = Math.max(1, PHYS_PAGE_SIZE / pageSize);

// ---------------------------------------------------------------------------------------
// PageAlloc layout (byte offsets from `base`, which is 8-aligned)
//
//   off    0 ┌──────────────────────────────────────────────┐
//            │ PA_MAGIC          u32  'PgAl' tag             │
//          4 │ PA_MAX_CHUNKS     u32  chunks laid out below  │
//          8 │ PA_SEARCH_ADDR    u32  offAddr; MAX = none    │
//         12 │ PA_START          u32  first chunk known      │
//         16 │ PA_END            u32  one past last chunk    │
//         20 │ PA_IN_USE_LEN     u32  ranges in PA_IN_USE    │
//         24 │ PA_SI_SEARCH_ADDR u32  scavenge index search  │
//         28 │ PA_SI_STATE       u32  0 clear/1 set/2 marked │
//         32 ├──────────────────────────────────────────────┤ PA_SUM_L0
//            │ level 0 summaries:    2 × 8 B                 │
//         48 ├──────────────────────────────────────────────┤ PA_SUM_L1
//            │ level 1 summaries:   16 × 8 B                 │
//        176 ├──────────────────────────────────────────────┤ PA_SUM_L2
//            │ level 2 summaries:  128 × 8 B                 │
//       1200 ├──────────────────────────────────────────────┤ PA_SUM_L3
//            │ level 3 (leaf):    1024 × 8 B, one per chunk  │
//       9392 ├──────────────────────────────────────────────┤ PA_SCAV_INDEX
//            │ scavenge index: 1024 bits (32 × u32),         │
//            │ bit ci = chunk ci may have scavengable pages  │
//       9520 ├──────────────────────────────────────────────┤ PA_IN_USE
//            │ inUse: maxChunks × {baseChunk u32,            │
//            │        limitChunk u32}, sorted, coalesced     │
//  9520+8·mc ├──────────────────────────────────────────────┤ chunks
//            │ pallocData × maxChunks (128 B each, see       │
//            │ mpallocbits.ts): chunk ci at chunks + 128·ci  │
//            └──────────────────────────────────────────────┘ layoutSize(mc)
//
// Each summary is Go's 64-bit pallocSum as two u32, low half first (mpallocbits.ts).
// inUse ranges are kept in chunk units: grow is chunk-aligned, and a limit of 4 GiB
// would not fit in a u32 as an address.
// ---------------------------------------------------------------------------------------

/** Tag at PA_MAGIC ('PgAl'). */
export const PA_MAGIC_VALUE = 0x6c416750;
export const PA_SUM_L0 = PA_HEADER_SIZE;
export const PA_SUM_L1 = PA_SUM_L0 + LEVEL_ENTRIES[0] * PALLOC_SUM_BYTES;
export const PA_SUM_L2 = PA_SUM_L1 + LEVEL_ENTRIES[1] * PALLOC_SUM_BYTES;
export const PA_SUM_L3 = PA_SUM_L2 + LEVEL_ENTRIES[2] * PALLOC_SUM_BYTES;
export const PA_SCAV_INDEX = PA_SUM_L3 + LEVEL_ENTRIES[3] * PALLOC_SUM_BYTES;
/** Bytes of the scavenge index bitmap: one bit per chunk of the 4 GiB space. */
export const SCAV_INDEX_BYTES = MAX_CHUNKS / 8;
export const PA_IN_USE = PA_SCAV_INDEX + SCAV_INDEX_BYTES;
/** Bytes per inUse range: {baseChunk u32, limitChunk u32}. */
export const IN_USE_RANGE_SIZE = 8;
const IR_BASE = 0;
const IR_LIMIT = 4;
const IRW_BASE = IR_BASE >>> 2;
const IRW_LIMIT = IR_LIMIT >>> 2;

/** Scavenge index searchAddr states (Go's atomicOffAddr: cleared / plain / marked). */
const SI_CLEARED = 0;
const SI_SET = 1;
const SI_MARKED = 2;

/** Word offsets of the above, relative to base >>> 2. */
const W_SUM: readonly number[] = [PA_SUM_L0 >>> 2, PA_SUM_L1 >>> 2, PA_SUM_L2 >>> 2, PA_SUM_L3 >>> 2];
const W_SUM_LEAF = PA_SUM_L3 >>> 2;
const W_SCAV_INDEX = PA_SCAV_INDEX >>> 2;
const W_IN_USE = PA_IN_USE >>> 2;
const LEAF = SUMMARY_LEVELS - 1;
/** u32 words per summary. */
const SUM_WORDS = PALLOC_SUM_BYTES >>> 2;
/** u32 words per inUse range. */
const IR_WORDS = IN_USE_RANGE_SIZE >>> 2;

/** Bitmaps are arrays of u32 words: bit i is bit (i & WORD_BIT_MASK) of word i >>> LOG_WORD_BITS. */
const LOG_WORD_BITS = 5;
const WORD_BIT_MASK = (1 << LOG_WORD_BITS) - 1;
const ALL_ONES = 0xffffffff;
/** Go's scavenge index is scanned a byte (8 chunks) at a time; mask of a chunk within its byte. */
const SI_GROUP_MASK = 7;
/** Pages of a P's page cache (Go: pageCachePages, 8 × the bytes of its uint64 bitmap). */
export const PAGE_CACHE_PAGES = 64;
/** Second results of allocToCache: free bits lo, hi, scavenged bits lo, hi of the block. */
export const cacheOut = new Uint32Array(4);

/** Chunk index of an address. */
export function chunkIndex(p: number): number {
  return p >>> LOG_PALLOC_CHUNK_BYTES;
}

/** Base address of a chunk. */
export function chunkBase(ci: number): number {
  return ci * PALLOC_CHUNK_BYTES;
}

/** Page index of an address within its chunk. */
export function chunkPageIndex(p: number): number {
  return (p >>> pageShift) & (PALLOC_CHUNK_PAGES - 1);
}

/** Go's page allocator over a shared buffer; this object is only a handle. */
export class PageAlloc {
  /** Holder of the current view over the buffer. */
  readonly views: U32Views;
  /** Byte offset of the PageAlloc in the buffer. */
  readonly base: number;
  /** Chunks with bitmaps laid out: addresses [0, maxChunks·4 MiB). */
  readonly maxChunks: number;
  /** OS layer (sysUnused for the scavenger). */
  readonly os: PageAllocOS;
  /**
   * Second result of {@link alloc}:
   * scavenged bytes in the run just allocated.
   */
  scav = 0;
  /** Second result of {@link scavIndexFind}: the page offset within the chunk. */
  scavIndexFindPage = 0;

  /** base >>> 2. */
  readonly w: number;
  /** Word index of chunk 0's pallocData. */
  private readonly chunksW: number;
  /** Second result of the tree search: the new searchAddr candidate. */
  private findSearchAddr = 0;

  private constructor(views: U32Views, base: number, maxChunks: number, os: PageAllocOS) {
    this.views = views;
    this.base = base;
    this.maxChunks = maxChunks;
    this.os = os;
    this.w = base >>> 2;
    this.chunksW = this.w + ((PA_IN_USE + maxChunks * IN_USE_RANGE_SIZE) >>> 2);
  }

  /** Bytes of buffer needed for a PageAlloc covering chunks 0 .. maxChunks−1. */
  static layoutSize(maxChunks: number): number {
    checkMaxChunks(maxChunks);
    return PA_IN_USE + maxChunks * IN_USE_RANGE_SIZE + maxChunks * PALLOC_DATA_SIZE;
  }

  /** Initialise a fresh PageAlloc at byte offset `base` (8-aligned) and return a handle. */
  static init(views: U32Views, base: number, maxChunks: number, os: PageAllocOS): PageAlloc {
    const size = PageAlloc.layoutSize(maxChunks);
    if (!Number.isInteger(base) || base < 0 || base % 8 !== 0) {
      throw new HeapCorruptionError(`PageAlloc.init: base ${base} is not 8-aligned`);
    }
    const u32 = views.u32;
    if (base + size > u32.length * 4) {
      throw new HeapCorruptionError(`PageAlloc.init: [${base}, ${base + size}) exceeds the buffer (${u32.length * 4} bytes)`);
    }
    const w = base >>> 2;
    u32.fill(0, w, w + size / 4);
    u32[w + PAW_MAGIC] = PA_MAGIC_VALUE;
    u32[w + PAW_MAX_CHUNKS] = maxChunks;
    u32[w + PAW_SEARCH_ADDR] = MAX_SEARCH_ADDR; // no free memory yet
    u32[w + PAW_SI_STATE] = SI_CLEARED;
    return new PageAlloc(views, base, maxChunks, os);
  }

  /** A handle onto an already initialised PageAlloc (e.g. from another worker). */
  static attach(views: U32Views, base: number, os: PageAllocOS): PageAlloc {
    const u32 = views.u32;
    const w = base >>> 2;
    if (u32[w + PAW_MAGIC] !== PA_MAGIC_VALUE) {
      throw new HeapCorruptionError(`PageAlloc.attach: no PageAlloc at offset ${base}`);
    }
    return new PageAlloc(views, base, u32[w + PAW_MAX_CHUNKS], os);
  }

  // -------------------------------------------------------------------------------------
  // Small accessors
  // -------------------------------------------------------------------------------------

  /** First chunk index known (valid once something was grown). */
  get start(): number {
    return this.views.u32[this.w + PAW_START];
  }

  /** One past the last chunk index known; 0 before the first grow. */
  get end(): number {
    return this.views.u32[this.w + PAW_END];
  }

  /** Address where allocation searches start; MAX_SEARCH_ADDR when the heap is full. */
  get searchAddr(): number {
    return this.views.u32[this.w + PAW_SEARCH_ADDR];
  }

  /** u32 word index of chunk ci's pallocData (alloc bits, then scavenged bits). */
  chunkWord(ci: number): number {
    return this.chunksW + ci * PALLOC_DATA_WORDS;
  }

  /** u32 word index of the summary for entry `idx` of `level`. */
  summaryWord(level: number, idx: number): number {
    return this.w + W_SUM[level] + idx * SUM_WORDS;
  }

  /** Summary (start, max, end) of entry `idx` at `level` (allocates; not a hot path). */
  readSummary(level: number, idx: number): [number, number, number] {
    const u32 = this.views.u32;
    const s = this.summaryWord(level, idx);
    return [sumStart(u32, s), sumMax(u32, s), sumEnd(u32, s)];
  }

  /** Whether page i of chunk ci is allocated. */
  chunkAllocBit(ci: number, i: number): boolean {
    return pageBitsGet(this.views.u32, this.chunkWord(ci), i) !== 0;
  }

  /** Whether page i of chunk ci is scavenged. */
  chunkScavBit(ci: number, i: number): boolean {
    return pageBitsGet(this.views.u32, this.chunkWord(ci) + PD_SCAV_W, i) !== 0;
  }

  /** Whether the page at address p is allocated (p in a grown chunk). */
  pageAllocated(p: number): boolean {
    return this.chunkAllocBit(chunkIndex(p), chunkPageIndex(p));
  }

  /** Whether the page at address p is scavenged (p in a grown chunk). */
  pageScavenged(p: number): boolean {
    return this.chunkScavBit(chunkIndex(p), chunkPageIndex(p));
  }

  /** Sorted, coalesced [base, limit) address ranges passed to grow. */
  inUseRanges(): Array<[number, number]> {
    const u32 = this.views.u32;
    const n = u32[this.w + PAW_IN_USE_LEN];
    const out: Array<[number, number]> = [];
    for (let i = 0; i < n; i++) {
      const r = this.w + W_IN_USE + i * IR_WORDS;
      out.push([chunkBase(u32[r + IRW_BASE]), chunkBase(u32[r + IRW_LIMIT])]);
    }
    return out;
  }

  // -------------------------------------------------------------------------------------
  // grow
  // -------------------------------------------------------------------------------------

  /**
   * Add [base, base+size) (rounded out to chunks) to the heap. The new pages are free and
   * scavenged: fresh address space has never been backed by memory.
   */
  grow(base: number, size: number): void {
    const u32 = this.views.u32;
    const w = this.w;
    const limit = Math.ceil((base + size) / PALLOC_CHUNK_BYTES) * PALLOC_CHUNK_BYTES;
    base = Math.floor(base / PALLOC_CHUNK_BYTES) * PALLOC_CHUNK_BYTES;
    const start = base / PALLOC_CHUNK_BYTES;
    const end = limit / PALLOC_CHUNK_BYTES;
    if (!(size > 0) || start < 0 || end > this.maxChunks) {
      throw new HeapCorruptionError(
        `PageAlloc.grow: chunks [${start}, ${end}) outside [0, ${this.maxChunks}) or empty`,
      );
    }
    this.inUseAdd(u32, start, end);
    if (u32[w + PAW_END] === 0 || start < u32[w + PAW_START]) u32[w + PAW_START] = start;
    if (end > u32[w + PAW_END]) u32[w + PAW_END] = end;
    if (base < u32[w + PAW_SEARCH_ADDR]) u32[w + PAW_SEARCH_ADDR] = base;
    for (let c = start; c < end; c++) {
      pageBitsSetAll(u32, this.chunkWord(c) + PD_SCAV_W);
    }
    this.updateSums(u32, base, (limit - base) / pageSize, true, false);
  }

  /** Insert chunk range [start, end) into the sorted inUse list, coalescing neighbours. */
  private inUseAdd(u32: Uint32Array, start: number, end: number): void {
    const lenW = this.w + PAW_IN_USE_LEN;
    const n = u32[lenW];
    const rw = this.w + W_IN_USE;
    // i = first range whose base is above start.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u32[rw + mid * IR_WORDS + IRW_BASE] <= start) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    const prevLimit = i > 0 ? u32[rw + (i - 1) * IR_WORDS + IRW_LIMIT] : -1;
    const nextBase = i < n ? u32[rw + i * IR_WORDS + IRW_BASE] : Infinity;
    if (prevLimit > start || nextBase < end) {
      throw new HeapCorruptionError(`PageAlloc.grow: chunks [${start}, ${end}) overlap memory already in use`);
    }
    const down = prevLimit === start;
    const up = nextBase === end;
    if (down && up) {
      u32[rw + (i - 1) * IR_WORDS + IRW_LIMIT] = u32[rw + i * IR_WORDS + IRW_LIMIT];
      u32.copyWithin(rw + i * IR_WORDS, rw + (i + 1) * IR_WORDS, rw + n * IR_WORDS); // drop range i
      u32[lenW] = n - 1;
    } else if (down) {
      u32[rw + (i - 1) * IR_WORDS + IRW_LIMIT] = end;
    } else if (up) {
      u32[rw + i * IR_WORDS + IRW_BASE] = start;
    } else {
      if (n >= this.maxChunks) throw new HeapCorruptionError('PageAlloc.grow: inUse ranges full');
      u32.copyWithin(rw + (i + 1) * IR_WORDS, rw + i * IR_WORDS, rw + n * IR_WORDS);
      u32[rw + i * IR_WORDS + IRW_BASE] = start;
      u32[rw + i * IR_WORDS + IRW_LIMIT] = end;
      u32[lenW] = n + 1;
    }
  }

  /**
   * Go's findMappedAddr via inUse.findAddrGreaterEqual: `addr` if it lies in a range in use,
   * else the base of the next range above it, else MAX_SEARCH_ADDR.
   */
  private findMappedAddr(u32: Uint32Array, addr: number): number {
    const n = u32[this.w + PAW_IN_USE_LEN];
    const rw = this.w + W_IN_USE;
    const ci = chunkIndex(addr);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (u32[rw + mid * IR_WORDS + IRW_BASE] <= ci) lo = mid + 1;
      else hi = mid;
    }
    if (lo > 0 && ci < u32[rw + (lo - 1) * IR_WORDS + IRW_LIMIT]) return addr;
    if (lo < n) return chunkBase(u32[rw + lo * IR_WORDS + IRW_BASE]);
    return MAX_SEARCH_ADDR;
  }

  // -------------------------------------------------------------------------------------
  // update — recompute summaries after a change of pages [base, base + npages·8K)
  // -------------------------------------------------------------------------------------

  /**
   * Recompute the summaries over [base, base+npages pages). `contig`: the change was one
   * contiguous alloc (`alloc` true) or free, so whole middle chunks are known to be all
   * used or all free. Public for tests and test helpers.
   */
  update(base: number, npages: number, contig: boolean, alloc: boolean): void {
    this.updateSums(this.views.u32, base, npages, contig, alloc);
  }

  /**
   * Recompute every summary over [base, base + npages pages) from the bitmaps, at every
   * level, even where a level looks unchanged (update stops climbing there): for a radix
   * tree that a terminated worker left half updated.
   */
  rebuildSums(base: number, npages: number): void {
    this.updateSums(this.views.u32, base, npages, false, false, true);
  }

  private updateSums(u32: Uint32Array, base: number, npages: number, contig: boolean, alloc: boolean, all = false): void {
    const sc = chunkIndex(base);
    const ec = chunkIndex(base + npages * pageSize - 1);
    const leafW = this.w + W_SUM_LEAF;
    if (sc === ec) {
      pallocBitsSummarize(u32, this.chunkWord(sc));
      if (!storeSum(u32, leafW + sc * SUM_WORDS) && !all) return;
    } else if (contig) {
      pallocBitsSummarize(u32, this.chunkWord(sc));
      storeSum(u32, leafW + sc * SUM_WORDS);
      if (alloc) {
        u32.fill(0, leafW + (sc + 1) * SUM_WORDS, leafW + ec * SUM_WORDS);
      } else {
        sumOut[SUM_START] = PALLOC_CHUNK_PAGES;
        sumOut[SUM_MAX] = PALLOC_CHUNK_PAGES;
        sumOut[SUM_END] = PALLOC_CHUNK_PAGES;
        for (let c = sc + 1; c < ec; c++) storeSum(u32, leafW + c * SUM_WORDS);
      }
      pallocBitsSummarize(u32, this.chunkWord(ec));
      storeSum(u32, leafW + ec * SUM_WORDS);
    } else {
      for (let c = sc; c <= ec; c++) {
        pallocBitsSummarize(u32, this.chunkWord(c));
        storeSum(u32, leafW + c * SUM_WORDS);
      }
    }
    // Walk up the tree, merging the 8 children of every entry that covers the range.
    let changed = true;
    for (let l = LEAF - 1; l >= 0 && (changed || all); l--) {
      changed = false;
      const childBits = LEVEL_BITS[l + 1];
      const childLogPages = LEVEL_LOG_PAGES[l + 1];
      const childW = this.w + W_SUM[l + 1];
      const lw = this.w + W_SUM[l];
      const shift = LEVEL_CHUNK_SHIFT[l];
      const lo = sc >>> shift;
      const hi = (ec >>> shift) + 1;
      for (let i = lo; i < hi; i++) {
        mergeSummaries(u32, childW + (i << childBits) * SUM_WORDS, 1 << childBits, childLogPages);
        if (storeSum(u32, lw + i * SUM_WORDS)) changed = true;
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // allocRange / find / alloc / free
  // -------------------------------------------------------------------------------------

  /**
   * Mark [base, base+npages) in use, clear their scavenged bits, update summaries. Returns
   * the bytes among them that were scavenged.
   */
  allocRange(u32: Uint32Array, base: number, npages: number): number {
    const limit = base + npages * pageSize - 1;
    const sc = chunkIndex(base);
    const ec = chunkIndex(limit);
    const si = chunkPageIndex(base);
    const ei = chunkPageIndex(limit);
    let scav = 0;
    if (sc === ec) {
      const cw = this.chunkWord(sc);
      scav += pageBitsPopcntRange(u32, cw + PD_SCAV_W, si, ei + 1 - si);
      pallocDataAllocRange(u32, cw, si, ei + 1 - si);
    } else {
      let cw = this.chunkWord(sc);
      scav += pageBitsPopcntRange(u32, cw + PD_SCAV_W, si, PALLOC_CHUNK_PAGES - si);
      pallocDataAllocRange(u32, cw, si, PALLOC_CHUNK_PAGES - si);
      for (let c = sc + 1; c < ec; c++) {
        cw = this.chunkWord(c);
        scav += pageBitsPopcntRange(u32, cw + PD_SCAV_W, 0, PALLOC_CHUNK_PAGES);
        pallocDataAllocAll(u32, cw);
      }
      cw = this.chunkWord(ec);
      scav += pageBitsPopcntRange(u32, cw + PD_SCAV_W, 0, ei + 1);
      pallocDataAllocRange(u32, cw, 0, ei + 1);
    }
    this.updateSums(u32, base, npages, true, true);
    return scav * pageSize;
  }

  /**
   * First-fit search of the whole tree for npages: the address of the lowest free run, or
   * 0. Also computes a new searchAddr candidate (into findSearchAddr): the start of the
   * smallest tree entry, found on the way down, that holds the first free page at or after
   * searchAddr.
   */
  private find(u32: Uint32Array, npages: number): number {
    const searchAddr = u32[this.w + PAW_SEARCH_ADDR];
    let i = 0; // index of the first entry of the block being searched, at level l
    // "First free" window [ffBase, ffBound]: narrowed to the first entry with free pages.
    let ffBase = 0;
    let ffBound = MAX_SEARCH_ADDR;
    for (let l = 0; l < SUMMARY_LEVELS; l++) {
      const bits = LEVEL_BITS[l];
      const logMaxPages = LEVEL_LOG_PAGES[l];
      const entryPages = 1 << logMaxPages;
      const entryBytes = LEVEL_BYTES[l];
      const entries = 1 << bits;
      i <<= bits;
      let j0 = 0;
      const searchIdx = searchAddr >>> LEVEL_SHIFT[l];
      if ((searchIdx & ~(entries - 1)) === i) j0 = searchIdx & (entries - 1);
      const sw = this.w + W_SUM[l] + i * SUM_WORDS;
      let runBase = 0; // in pages from the block's start
      let size = 0;
      let descend = false;
      for (let j = j0; j < entries; j++) {
        const s = sw + j * SUM_WORDS;
        if (u32[s] === 0 && u32[s + 1] === 0) {
          size = 0;
          continue;
        }
        // foundFree(entry address, entry size)
        const addr = (i + j) * entryBytes;
        const last = addr + entryBytes - 1;
        if (ffBase <= addr && last <= ffBound) {
          ffBase = addr;
          ffBound = last;
        } else if (!(last < ffBase || ffBound < addr)) {
          throw new HeapCorruptionError(
            `page allocator: range [${addr}, ${last}] partially overlaps first-free window [${ffBase}, ${ffBound}]`,
          );
        }
        const st = sumStart(u32, s);
        if (size + st >= npages) {
          // The run that began in earlier entries (or this one) completes here.
          if (size === 0) runBase = j * entryPages;
          size += st;
          break;
        }
        if (sumMax(u32, s) >= npages) {
          // It fits inside this entry: go down into it.
          i += j;
          descend = true;
          break;
        }
        if (size === 0 || st < entryPages) {
          // Not entirely free: a new run can only start from its end.
          size = sumEnd(u32, s);
          runBase = (j + 1) * entryPages - size;
          continue;
        }
        size += entryPages; // entirely free: the run continues through it
      }
      if (descend) continue;
      if (size >= npages) {
        this.findSearchAddr = this.findMappedAddr(u32, ffBase);
        return i * entryBytes + runBase * pageSize;
      }
      if (l === 0) {
        this.findSearchAddr = MAX_SEARCH_ADDR;
        return 0;
      }
      throw new HeapCorruptionError(
        `page allocator: bad summary data: level ${l}, block ${i}, npages ${npages}, searchAddr ${searchAddr}: ` +
          `parent summary promised a fit that its children do not have`,
      );
    }
    // Descended through every level: the run is inside chunk i.
    const ci = i;
    const j = pallocBitsFind(u32, this.chunkWord(ci), npages, 0);
    if (j === NOT_FOUND) {
      throw new HeapCorruptionError(
        `page allocator: bad summary data: leaf summary of chunk ${ci} has max ${sumMax(u32, this.summaryWord(LEAF, ci))} ` +
          `but its bitmap has no run of ${npages} pages`,
      );
    }
    const cb = chunkBase(ci);
    const sa = cb + findOut[FIND_SEARCH_IDX] * pageSize;
    const last = cb + PALLOC_CHUNK_BYTES - 1;
    if (ffBase <= sa && last <= ffBound) {
      ffBase = sa;
      ffBound = last;
    } else if (!(last < ffBase || ffBound < sa)) {
      throw new HeapCorruptionError(
        `page allocator: range [${sa}, ${last}] partially overlaps first-free window [${ffBase}, ${ffBound}]`,
      );
    }
    this.findSearchAddr = this.findMappedAddr(u32, ffBase);
    return cb + j * pageSize;
  }

  /**
   * Allocate npages (≥ 1) contiguous pages: returns the base address, or 0 if no run is
   * free. The scavenged bytes in the run are left in {@link scav}; the caller must make
   * them ready again.
   */
  alloc(npages: number): number {
    if (!(npages >= 1)) throw new HeapCorruptionError(`page allocator: alloc of ${npages} pages`);
    const u32 = this.views.u32;
    const w = this.w;
    const searchAddr = u32[w + PAW_SEARCH_ADDR];
    if (chunkIndex(searchAddr) >= u32[w + PAW_END]) {
      this.scav = 0;
      return 0;
    }
    let addr = 0;
    let newSearchAddr = 0;
    let found = false;
    // Fast path: the run may lie in searchAddr's chunk at or after searchAddr.
    const pi = chunkPageIndex(searchAddr);
    if (PALLOC_CHUNK_PAGES - pi >= npages) {
      const ci = chunkIndex(searchAddr);
      if (sumMax(u32, w + W_SUM_LEAF + ci * SUM_WORDS) >= npages) {
        const j = pallocBitsFind(u32, this.chunkWord(ci), npages, pi);
        if (j === NOT_FOUND) {
          throw new HeapCorruptionError(
            `page allocator: bad summary data: leaf summary of chunk ${ci} promises ${npages} pages from page ${pi}, bitmap has none`,
          );
        }
        addr = chunkBase(ci) + j * pageSize;
        newSearchAddr = chunkBase(ci) + findOut[FIND_SEARCH_IDX] * pageSize;
        found = true;
      }
    }
    if (!found) {
      addr = this.find(u32, npages);
      if (addr === 0) {
        if (npages === 1) u32[w + PAW_SEARCH_ADDR] = MAX_SEARCH_ADDR; // no free page at all
        this.scav = 0;
        return 0;
      }
      newSearchAddr = this.findSearchAddr;
    }
    this.scav = this.allocRange(u32, addr, npages);
    if (u32[w + PAW_SEARCH_ADDR] < newSearchAddr) u32[w + PAW_SEARCH_ADDR] = newSearchAddr;
    return addr;
  }

  /**
   * Take a 64-page aligned block for a P's page cache (Go: pageAlloc.allocToCache, in
   * mpagecache.go): the block holding the first free page at or after searchAddr. Its free
   * pages are marked in use and their scavenged bits cleared (the cache remembers them), as
   * one non-contiguous allocation. Returns the block's base, or 0 if no page is free; the
   * free and scavenged bits of the block go to {@link cacheOut} (lo, hi, scavLo, scavHi).
   */
  allocToCache(): number {
    const u32 = this.views.u32, w = this.w;
    const searchAddr = u32[w + PAW_SEARCH_ADDR];
    if (chunkIndex(searchAddr) >= u32[w + PAW_END]) return 0;
    let addr: number;
    const sci = chunkIndex(searchAddr);
    if (sumMax(u32, w + W_SUM_LEAF + sci * SUM_WORDS) !== 0) {
      // Fast path: a free page in searchAddr's chunk, at or after it.
      const j = pallocBitsFind(u32, this.chunkWord(sci), 1, chunkPageIndex(searchAddr));
      if (j === NOT_FOUND) throw new HeapCorruptionError(`page allocator: bad summary data: chunk ${sci} has no free page from ${chunkPageIndex(searchAddr)}`);
      addr = chunkBase(sci) + j * pageSize;
    } else {
      addr = this.find(u32, 1);
      if (addr === 0) {
        u32[w + PAW_SEARCH_ADDR] = MAX_SEARCH_ADDR;
        return 0;
      }
    }
    const ci = chunkIndex(addr), cw = this.chunkWord(ci);
    const wi = (chunkPageIndex(addr) >>> 5) & ~1; // the block's first bitmap word
    const base = chunkBase(ci) + (wi << 5) * pageSize;
    const lo = ~u32[cw + wi] >>> 0, hi = ~u32[cw + wi + 1] >>> 0;
    cacheOut[0] = lo;
    cacheOut[1] = hi;
    cacheOut[2] = u32[cw + PD_SCAV_W + wi] & lo; // only free pages are ever scavenged
    cacheOut[3] = u32[cw + PD_SCAV_W + wi + 1] & hi;
    u32[cw + wi] = ALL_ONES;
    u32[cw + wi + 1] = ALL_ONES;
    u32[cw + PD_SCAV_W + wi] = 0;
    u32[cw + PD_SCAV_W + wi + 1] = 0;
    this.updateSums(u32, base, PAGE_CACHE_PAGES, false, true);
    // Go: the block's last page (searchAddr may not point past mapped memory).
    u32[w + PAW_SEARCH_ADDR] = base + (PAGE_CACHE_PAGES - 1) * pageSize;
    return base;
  }

  /**
   * Give back the pages of a P's page cache (Go: pageCache.flush): the free pages in
   * lo/hi are freed, those in scavLo/scavHi marked scavenged again.
   */
  freeCache(base: number, lo: number, hi: number, scavLo: number, scavHi: number): void {
    const u32 = this.views.u32, w = this.w;
    const cw = this.chunkWord(chunkIndex(base)), wi = chunkPageIndex(base) >>> 5;
    u32[cw + wi] &= ~lo;
    u32[cw + wi + 1] &= ~hi;
    u32[cw + PD_SCAV_W + wi] |= scavLo;
    u32[cw + PD_SCAV_W + wi + 1] |= scavHi;
    if ((((lo & ~scavLo) | (hi & ~scavHi)) >>> 0) !== 0) this.siMark(u32, base, base + PAGE_CACHE_PAGES * pageSize);
    if (base < u32[w + PAW_SEARCH_ADDR]) u32[w + PAW_SEARCH_ADDR] = base;
    this.updateSums(u32, base, PAGE_CACHE_PAGES, false, false);
  }

  /**
   * Free npages pages at base. `scavenged`: the pages were released to the OS (only the
   * scavenger says so; it sets the scavenged bits itself). Otherwise the range is marked in
   * the scavenge index as holding scavengable pages. Scavenged bits are not changed here.
   */
  free(base: number, npages: number, scavenged: boolean): void {
    this.freeRange(this.views.u32, base, npages, scavenged);
  }

  freeRange(u32: Uint32Array, base: number, npages: number, scavenged: boolean): void {
    const w = this.w;
    if (base < u32[w + PAW_SEARCH_ADDR]) u32[w + PAW_SEARCH_ADDR] = base;
    const limit = base + npages * pageSize - 1;
    if (!scavenged) this.siMark(u32, base, limit + 1);
    if (npages === 1) {
      pageBitsClear(u32, this.chunkWord(chunkIndex(base)), chunkPageIndex(base));
    } else {
      const sc = chunkIndex(base);
      const ec = chunkIndex(limit);
      const si = chunkPageIndex(base);
      const ei = chunkPageIndex(limit);
      if (sc === ec) {
        pageBitsClearRange(u32, this.chunkWord(sc), si, ei + 1 - si);
      } else {
        pageBitsClearRange(u32, this.chunkWord(sc), si, PALLOC_CHUNK_PAGES - si);
        for (let c = sc + 1; c < ec; c++) pageBitsClearAll(u32, this.chunkWord(c));
        pageBitsClearRange(u32, this.chunkWord(ec), 0, ei + 1);
      }
    }
    this.updateSums(u32, base, npages, true, false);
  }

  // -------------------------------------------------------------------------------------
  // Scavenge index (Go 1.19 scavengeIndex): 1 bit per chunk + a search address
  // -------------------------------------------------------------------------------------

  /** Mark every chunk overlapping [base, limit) as possibly holding scavengable pages. */
  scavIndexMark(base: number, limit: number): void {
    this.siMark(this.views.u32, base, limit);
  }

  private siMark(u32: Uint32Array, base: number, limit: number): void {
    const w = this.w;
    const start = chunkIndex(base);
    const end = chunkIndex(limit - pageSize);
    pageBitsSetRange(u32, w + W_SCAV_INDEX, start, end - start + 1);
    const newSearchAddr = limit - pageSize;
    if (u32[w + PAW_SI_STATE] === SI_CLEARED || u32[w + PAW_SI_SEARCH_ADDR] < newSearchAddr) {
      u32[w + PAW_SI_SEARCH_ADDR] = newSearchAddr;
      u32[w + PAW_SI_STATE] = SI_MARKED;
    }
  }

  /**
   * The highest marked chunk at or below the index's search address (looking, as Go does,
   * at whole groups of 8 chunks): returns its index, or −1 if none, and leaves the page
   * offset to start from in {@link scavIndexFindPage}.
   */
  scavIndexFind(): number {
    return this.siFind(this.views.u32);
  }

  private siFind(u32: Uint32Array): number {
    const w = this.w;
    const state = u32[w + PAW_SI_STATE];
    if (state === SI_CLEARED) {
      this.scavIndexFindPage = 0;
      return -1;
    }
    const searchAddr = u32[w + PAW_SI_SEARCH_ADDR];
    const searchChunk = chunkIndex(searchAddr);
    const bw = w + W_SCAV_INDEX;
    const minWord = u32[w + PAW_START] >>> LOG_WORD_BITS;
    // Go scans bytes (8 chunks) from searchChunk's byte down; in the first u32 word keep
    // the bits up to the top of that byte.
    let k = searchChunk >>> LOG_WORD_BITS;
    const top = (searchChunk & WORD_BIT_MASK) | SI_GROUP_MASK; // top chunk of searchChunk's byte
    let x = u32[bw + k] & (ALL_ONES >>> (WORD_BIT_MASK - top));
    for (;;) {
      if (x !== 0) {
        const ci = (k << LOG_WORD_BITS) + WORD_BIT_MASK - Math.clz32(x);
        if (ci === searchChunk) {
          this.scavIndexFindPage = chunkPageIndex(searchAddr);
          return ci;
        }
        const newSearchAddr = chunkBase(ci) + PALLOC_CHUNK_BYTES - pageSize;
        if (state === SI_MARKED) {
          u32[w + PAW_SI_SEARCH_ADDR] = newSearchAddr;
          u32[w + PAW_SI_STATE] = SI_SET;
        } else if (newSearchAddr < searchAddr) {
          u32[w + PAW_SI_SEARCH_ADDR] = newSearchAddr;
        }
        this.scavIndexFindPage = PALLOC_CHUNK_PAGES - 1;
        return ci;
      }
      if (--k < minWord) break;
      x = u32[bw + k];
    }
    u32[w + PAW_SI_STATE] = SI_CLEARED;
    u32[w + PAW_SI_SEARCH_ADDR] = 0;
    this.scavIndexFindPage = 0;
    return -1;
  }

  /** Clear chunk ci's bit in the scavenge index. */
  scavIndexClear(ci: number): void {
    pageBitsClear(this.views.u32, this.w + W_SCAV_INDEX, ci);
  }

  // -------------------------------------------------------------------------------------
  // check
  // -------------------------------------------------------------------------------------

  /**
   * Verify the metadata against itself; throws HeapCorruptionError at the first problem:
   * every leaf summary equals the summary of its chunk's bitmap (0 for chunks not in use),
   * every inner summary equals the merge of its children, no page is both allocated and
   * scavenged, chunks not in use have empty bitmaps, inUse is sorted and coalesced and
   * agrees with start/end, and searchAddr is in use (or MAX) with every page below it
   * allocated.
   */
  check(): void {
    const u32 = this.views.u32;
    const w = this.w;
    const nRanges = u32[w + PAW_IN_USE_LEN];
    const rw = w + W_IN_USE;
    // inUse ranges.
    let prevLimit = -1;
    for (let r = 0; r < nRanges; r++) {
      const b = u32[rw + r * IR_WORDS + IRW_BASE];
      const l = u32[rw + r * IR_WORDS + IRW_LIMIT];
      if (!(b < l) || l > this.maxChunks || b <= prevLimit) {
        throw new HeapCorruptionError(
          `page allocator: inUse range ${r} = chunks [${b}, ${l}) is empty, out of bounds, overlapping or not coalesced (previous limit ${prevLimit})`,
        );
      }
      prevLimit = l;
    }
    const start = u32[w + PAW_START];
    const end = u32[w + PAW_END];
    if (nRanges === 0 ? end !== 0 : start !== u32[rw + IRW_BASE] || end !== u32[rw + (nRanges - 1) * IR_WORDS + IRW_LIMIT]) {
      throw new HeapCorruptionError(`page allocator: start/end [${start}, ${end}) disagree with inUse ranges`);
    }
    // Leaves and bitmaps.
    const inUse = new Uint8Array(this.maxChunks);
    for (let r = 0; r < nRanges; r++) {
      inUse.fill(1, u32[rw + r * IR_WORDS + IRW_BASE], u32[rw + r * IR_WORDS + IRW_LIMIT]);
    }
    const leafW = w + W_SUM_LEAF;
    for (let ci = 0; ci < LEVEL_ENTRIES[LEAF]; ci++) {
      let es = 0;
      let em = 0;
      let ee = 0;
      if (ci < this.maxChunks) {
        const cw = this.chunkWord(ci);
        for (let k = 0; k < PAGE_BITS_WORDS; k++) {
          const both = u32[cw + k] & u32[cw + PD_SCAV_W + k];
          if (both !== 0) {
            const page = (k << LOG_WORD_BITS) + WORD_BIT_MASK - Math.clz32(both & -both);
            throw new HeapCorruptionError(`page allocator: chunk ${ci} page ${page} is both allocated and scavenged`);
          }
          if (inUse[ci] === 0 && (u32[cw + k] !== 0 || u32[cw + PD_SCAV_W + k] !== 0)) {
            throw new HeapCorruptionError(`page allocator: chunk ${ci} is not in use but its bitmaps are not empty`);
          }
        }
        if (inUse[ci] !== 0) {
          pallocBitsSummarize(u32, cw);
          es = sumOut[SUM_START];
          em = sumOut[SUM_MAX];
          ee = sumOut[SUM_END];
        }
      }
      checkSum(u32, leafW + ci * SUM_WORDS, LEAF, ci, es, em, ee);
    }
    // Inner levels.
    for (let l = LEAF - 1; l >= 0; l--) {
      const childBits = LEVEL_BITS[l + 1];
      const childW = w + W_SUM[l + 1];
      for (let i = 0; i < LEVEL_ENTRIES[l]; i++) {
        mergeSummaries(u32, childW + (i << childBits) * SUM_WORDS, 1 << childBits, LEVEL_LOG_PAGES[l + 1]);
        checkSum(u32, w + W_SUM[l] + i * SUM_WORDS, l, i, sumOut[SUM_START], sumOut[SUM_MAX], sumOut[SUM_END]);
      }
    }
    // searchAddr: in use (or MAX), and every in-use page below it allocated.
    const sa = u32[w + PAW_SEARCH_ADDR];
    if (sa !== MAX_SEARCH_ADDR && inUse[chunkIndex(sa)] !== 1) {
      throw new HeapCorruptionError(`page allocator: searchAddr ${sa} is not in use`);
    }
    const saChunk = sa === MAX_SEARCH_ADDR ? this.maxChunks : chunkIndex(sa);
    for (let ci = 0; ci < this.maxChunks && ci <= saChunk; ci++) {
      if (inUse[ci] === 0) continue;
      const n = ci < saChunk ? PALLOC_CHUNK_PAGES : chunkPageIndex(sa);
      if (n > 0 && pageBitsPopcntRange(u32, this.chunkWord(ci), 0, n) !== n) {
        throw new HeapCorruptionError(`page allocator: chunk ${ci} has a free page below searchAddr ${sa}`);
      }
    }
  }
}

function checkSum(u32: Uint32Array, s: number, level: number, idx: number, es: number, em: number, ee: number): void {
  const fs = sumStart(u32, s);
  const fm = sumMax(u32, s);
  const fe = sumEnd(u32, s);
  if (fs !== es || fm !== em || fe !== ee) {
    throw new HeapCorruptionError(
      `page allocator: summary mismatch at level ${level} index ${idx}: expected (start ${es}, max ${em}, end ${ee}), ` +
        `found (start ${fs}, max ${fm}, end ${fe})`,
    );
  }
}

function checkMaxChunks(maxChunks: number): void {
  if (!Number.isInteger(maxChunks) || maxChunks < 1 || maxChunks > MAX_CHUNKS) {
    throw new HeapCorruptionError(`PageAlloc: maxChunks ${maxChunks} not in [1, ${MAX_CHUNKS}]`);
  }
}
