/**
 * mheap.ts — the page heap (Go: src/runtime/mheap.go and the arena code of malloc.go).
 *
 * The heap hands out *spans*: runs of 8 KiB pages. It owns
 *
 *   - the address space of the heap: 64 MiB *arenas* reserved from the OS layer
 *     (sysReserve: None -> Reserved) and grown into in whole 4 MiB chunks (sysMap:
 *     Reserved -> Prepared). New heap memory is therefore counted as released
 *     (HeapReleased) until a span uses it (sysUsed: Prepared -> Ready);
 *   - the page allocator (mpagealloc.ts), which knows which pages are free and which free
 *     pages are released (scavenged);
 *   - per arena, a page -> span table, so any address can be mapped to its span in O(1)
 *     (this is how free(p) finds the object's span);
 *   - the mcentrals (one per span class) and the fixallocs for its own metadata;
 *   - the heap lock, which every operation here takes (the caller takes it).
 *
 * Address-space layout of a goheap buffer (pointers are byte offsets; 0 is nil):
 *
 *   0        OS-layer header + page state table           (mem.ts, other_sys)
 *            mheap header (this file's struct)              (other_sys)
 *            page-allocator metadata                        (gcMiscSys)
 *   ...      metadata the heap allocates later (persistentalloc chunks, arena tables)
 *            fill the lowest None pages first ...
 *   hint     ... while heap arenas are reserved from the first chunk-aligned address at
 *            or above `arenaHint` (initially reserve/16 above the boot region, so that the
 *            metadata of a full heap fits below the first arena).
 *
 * JS differences: a reservation smaller than 64 MiB, or the last piece of one, gives a
 * smaller arena (whole chunks); arenas need not start at a 64 MiB boundary, but the
 * page -> span tables are still indexed per 64 MiB (address >>> 26), as in Go.
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import * as lock_futex from './lock_futex.js';
import { FixAlloc, PersistentAlloc } from './mfixalloc.js';
import {
  OSMemory, HeapViews, STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED, STAT_GC_MISC_SYS, STAT_MSPAN_SYS, STAT_MCACHE_SYS, STAT_OTHER_SYS, STAT_IN_STACKS, align,
} from './mem.js';
import { PageAlloc, PALLOC_CHUNK_BYTES } from './mpagealloc.js';
import { addCachedPages, pageCacheAlloc, pageCacheFlush, pageCacheMaxPages, pageCacheScav } from './mpagecache.js';
import * as mspan from './mspan.js';
import * as sizeclasses from './sizeclasses.js';
import { PALLOC_CHUNK_PAGES } from './mpallocbits.js';
import * as layout from './layout.js';
import type { PPtr, SpanPtr } from './layout.js';

// Module-local copies of imported values: V8 folds a local const into optimized code,
// not an imported binding (docs/architecture.md, "Fast paths").
const { lock, unlock } = lock_futex;
const { gcBitsBytes, mSpanDead, mSpanInUse, mSpanManual } = mspan;
const {
  class_to_divmagic, class_to_size, spanClassSizeclass, tinySpanClass, pageSize, pageShift,
} = sizeclasses;
const {
  AW_ZEROED_BASE, A_PAGE_IN_USE, FIXALLOC_SIZE, HEAP_ARENA_SIZE, HW_ALLP, HW_ARENA_HINT,
  HW_CUR_BASE, HW_CUR_END, HW_NPROCS, HW_SWEEPGEN, HW_SWEEP_CURSOR, H_ARENAS, H_CACHEALLOC,
  H_CENTRAL, H_GCBITSALLOC, H_GCLOCK, H_LOCK, H_PERSISTENT, H_SHARED, H_SPANALLOC, H_STACKPOOL, H_STATS,
  H_SWEEPERS, H_TINYMASKALLOC, H_ZEROBASE, MHEAP_HEADER_SIZE, MSPAN_SIZE, PW_MSPANCACHE_BUF,
  PW_MSPANCACHE_LEN, P_INHAND, P_STATS, SW_GCBITS, SW_ALLOCCOUNT, SW_CACHE_HI, SW_CACHE_LO,
  SW_DIVMUL, SW_DIVMUL20, SW_ELEMSIZE, SW_LIMIT, SW_NEEDZERO,
  SW_NELEMS, SW_NPAGES, SW_SPANCLASS, SW_START, SW_STATE, SW_SWEEPGEN, SW_TINYMASKS, arenaSpans,
  arenaZeroedBase, mheapAllp, mheapArenaHint, mheapArenas, mheapCurArenaBase, mheapCurArenaEnd,
  mheapEmptymspan, mheapMaxprocs, mheapShared, mheapPageAlloc, mheapSweepDone, mheapSweepgen, pMspancacheLen,
  setArenaSpans, setMheapArenaHint, setMheapEmptymspan, setMheapMaxChunks, setMheapMaxprocs,
  setMheapPageAlloc, setMheapSweepDone, spanStartAddr,
} = layout;

/** Go: logHeapArenaBytes / heapArenaBytes. */
export const logHeapArenaBytes = 26;
export const heapArenaBytes = 1 << logHeapArenaBytes;
/** Go: pagesPerArena. */
export const pagesPerArena = heapArenaBytes / pageSize;
/** Arena index slots: enough for a 4 GiB reservation. */
export const maxArenas = 2 ** 32 / heapArenaBytes;
/** Most Ps (attached contexts) one heap can have. */
export const maxProcs = 64;

/** Capacity of a P's mspan cache, and how many structs a refill takes (Go: 128 and 64). */
export const mspanCacheCap = 128;
export const mspanCacheRefill = 64;
/** Span allocation types (Go: spanAllocType). */
export const spanAllocHeap = 0;
export const spanAllocStack = 1;

// heapArena (A_*) and the mheap header (H_*): layout.ts (generated).

/**
 * Sizes of the gcBits fixallocs: a span's three bitmaps (alloc, freed, localFreed,
 * interleaved: see mspan.ts) for up to 128, 512 or 1024 slots. Multiples of a cache line,
 * so that frees in spans of different workers (an atomic OR on the freed bits) never
 * contend for one line.
 */
const GCBITS_SIZES = [64, 256, 512];
const GCBITS_CLASSES = GCBITS_SIZES.length;
/** Bytes of the tiny-block masks of a tiny span: one u16 per 16-byte block. */
export const TINY_MASKS_SIZE = 2 * (pageSize / 16);


/**
 * Handle onto the heap. Holds views and the handles of its parts; all state is in the
 * buffer at `base`.
 */
export class MHeap {
  readonly views: HeapViews;
  readonly pages: PageAlloc;
  readonly persistent: PersistentAlloc;
  readonly spanalloc: FixAlloc;
  readonly cachealloc: FixAlloc;
  readonly gcbitsalloc: FixAlloc[];
  readonly tinymaskalloc: FixAlloc;
  /** Byte offset of the mcentral array. */
  readonly central: number;
  /** f64 index of the global statistics block (for views.f64). */
  readonly stats: number;
  /** Byte offset of the arena index (u32 heapArena address per 64 MiB). */
  readonly arenas: number;
  /** The reservation in bytes (mem.reserve, kept here for the free path). */
  readonly reserve: number;
  /**
   * No other thread runs a P of this heap: it has never been shared (share() sets the
   * header's `shared` word; Heap.attach requires it), its memory cannot be shared (backend
   * 'rab'), or it allows one P (maxProcs 1). Then the words other Ps would write at the
   * same moment (freed bits, tiny masks, the sweepers' counts) are updated with plain
   * operations: an Atomics call is a builtin call of 10-15 ns in Node 20, and each free
   * into a span this P does not cache would pay one (JS difference: Go's frees are its
   * collector's). share() turns it off, in the one thread that has a P, before any other
   * thread can have one (see Heap.share).
   */
  solo: boolean;
  /** P id this handle's context runs as (-1 before it has one). */
  pid = -1;
  /** f64 index of this context's per-P statistics block. */
  pstats = 0;
  /**
   * Address of this context's P struct (0 before it has one), and the u32 index of its
   * spanInHand word: fixed once bound (a P struct never moves), like pstats.
   */
  pp = 0 as PPtr;
  private inHand = 0;
  /** Lock-holder token of this context: pid + 1 (maxProcs + 1 while attaching). */
  lockToken = maxProcs + 1;
  /** Second result of allocPages: bytes the heap grew by for it (Go: allocSpan's growth). */
  private grew = 0;
  /** Third result of allocPages: bytes of its pages that were scavenged (released). */
  private scav = 0;
  /**
   * The scavenging Go 1.19's allocSpan does after taking pages (mgcscavenge.ts,
   * scavengeOnAlloc: for the memory limit and after heap growth), called with the heap lock
   * held before the span's pages are made Ready. Set by the Heap facade: the scavenger's
   * pacing sits above this file (test/imports.test.ts). null: no scavenging on allocation.
   */
  onAllocSpan: ((h: MHeap, scav: number, growth: number) => void) | null = null;

  private constructor(readonly mem: OSMemory, readonly base: number) {
    this.views = mem.views;
    const u32 = this.views.u32;
    this.pages = PageAlloc.attach(this.views, mheapPageAlloc(u32, base), mem);
    this.persistent = new PersistentAlloc(mem, base + H_PERSISTENT);
    this.spanalloc = new FixAlloc(mem, this.persistent, base + H_SPANALLOC);
    this.cachealloc = new FixAlloc(mem, this.persistent, base + H_CACHEALLOC);
    this.gcbitsalloc = [];
    for (let i = 0; i < GCBITS_CLASSES; i++) {
      this.gcbitsalloc.push(new FixAlloc(mem, this.persistent, base + H_GCBITSALLOC + i * FIXALLOC_SIZE));
    }
    this.tinymaskalloc = new FixAlloc(mem, this.persistent, base + H_TINYMASKALLOC);
    this.central = base + H_CENTRAL;
    this.stats = (base + H_STATS) >>> 3;
    this.arenas = base + H_ARENAS;
    this.reserve = mem.reserve;
    this.solo = this.soloNow();
  }

  /** What solo is now, from the buffer and the header (see solo). */
  private soloNow(): boolean {
    return !(this.views.buffer instanceof SharedArrayBuffer) || this.maxprocs === 1 || !this.shared;
  }

  /** Create the heap's metadata in a fresh OS layer (Go: mallocinit + mheap.init). */
  static create(mem: OSMemory, mcacheSize: number, maxprocs: number): MHeap {
    const base = mem.sysAlloc(MHEAP_HEADER_SIZE, STAT_OTHER_SYS);
    if (base < 0) throw new HeapCorruptionError('no room for the heap header');
    const maxChunks = Math.ceil(mem.reserve / PALLOC_CHUNK_BYTES);
    const pa = mem.sysAlloc(PageAlloc.layoutSize(maxChunks), STAT_GC_MISC_SYS);
    if (pa < 0) throw new HeapCorruptionError('no room for the page allocator');
    PageAlloc.init(mem.views, pa, maxChunks, mem);
    const u32 = mem.views.u32;
    setMheapPageAlloc(u32, base, pa);
    setMheapMaxChunks(u32, base, maxChunks);
    setMheapSweepDone(u32, base, 1);
    setMheapMaxprocs(u32, base, maxprocs);
    const bootEnd = pa + align(PageAlloc.layoutSize(maxChunks), pageSize);
    setMheapArenaHint(u32, base, align(bootEnd + mem.reserve / 16, PALLOC_CHUNK_BYTES));
    FixAlloc.init(mem, base + H_SPANALLOC, MSPAN_SIZE, STAT_MSPAN_SYS, false);
    FixAlloc.init(mem, base + H_CACHEALLOC, mcacheSize, STAT_MCACHE_SYS, true);
    for (let i = 0; i < GCBITS_CLASSES; i++) FixAlloc.init(mem, base + H_GCBITSALLOC + i * FIXALLOC_SIZE, GCBITS_SIZES[i], STAT_GC_MISC_SYS, true);
    FixAlloc.init(mem, base + H_TINYMASKALLOC, TINY_MASKS_SIZE, STAT_GC_MISC_SYS, true);
    const h = new MHeap(mem, base);
    // emptymspan: all fields zero (nelems 0, allocCache 0), so every allocation from it
    // takes the slow path.
    setMheapEmptymspan(u32, base, h.persistent.alloc(MSPAN_SIZE, 8, STAT_OTHER_SYS) as SpanPtr);
    return h;
  }

  /** Handle onto an existing heap whose header is at `base`. */
  static attach(mem: OSMemory, base: number): MHeap {
    return new MHeap(mem, base);
  }

  /** Address of the empty span that empty mcache slots point to (Go: emptymspan). */
  get emptymspan(): SpanPtr {
    return mheapEmptymspan(this.views.u32, this.base);
  }

  /** The address zero-size allocations return (Go: &zerobase). */
  get zerobase(): number {
    return this.base + H_ZEROBASE;
  }

  /** Current sweepgen (bumped by 2 per GC cycle). */
  get sweepgen(): number {
    return mheapSweepgen(this.views.u32, this.base);
  }
  set sweepgen(v: number) {
    Atomics.store(this.views.i32, (this.base >>> 2) + HW_SWEEPGEN, v | 0);
  }

  /** Whether every span has been swept in the current cycle. */
  get sweepDone(): boolean {
    return mheapSweepDone(this.views.u32, this.base) !== 0;
  }
  set sweepDone(v: boolean) {
    setMheapSweepDone(this.views.u32, this.base, v ? 1 : 0);
  }

  // ----- arenas and growth ------------------------------------------------------------

  /** heapArena struct of address p, or 0. */
  arenaOf(p: number): number {
    return mheapArenas(this.views.u32, this.base, (p >>> logHeapArenaBytes));
  }

  /**
   * Span that owns address p according to the page -> span table, or 0 (Go: spanOf).
   * Validity of p inside the span is the caller's business.
   */
  spanOf(p: number): SpanPtr | 0 {
    const u32 = this.views.u32;
    const a = mheapArenas(u32, this.base, (p >>> logHeapArenaBytes));
    if (a === 0) return 0;
    return arenaSpans(u32, a, ((p >>> pageShift) & (pagesPerArena - 1)));
  }

  /**
   * Reserve address space for at least n more heap bytes (Go: mheap.sysAlloc): a whole
   * arena when there is room, else the largest chunk-aligned piece that holds n. Creates
   * the heapArena metadata of every arena it touches. Returns [v, size] or null.
   */
  private sysAllocArena(n: number): [number, number] | null {
    const mem = this.mem, u32 = this.views.u32;
    const hint = mheapArenaHint(u32, this.base);
    let size = align(n, heapArenaBytes);
    let v = mem.sysReserveAligned(hint, size, PALLOC_CHUNK_BYTES);
    if (v < 0) {
      // Less than an arena is left: take the largest chunk-aligned run if it holds n.
      const run = Math.floor(mem.largestNoneRun(hint, PALLOC_CHUNK_BYTES) / PALLOC_CHUNK_BYTES) * PALLOC_CHUNK_BYTES;
      if (run < n) return null;
      size = run;
      v = mem.sysReserveAligned(hint, size, PALLOC_CHUNK_BYTES);
      if (v < 0) return null;
    }
    // Arena metadata for every 64 MiB index the range touches.
    const first = v >>> logHeapArenaBytes, last = (v + size - 1) >>> logHeapArenaBytes;
    for (let ai = first; ai <= last; ai++) {
      const slot = (this.base + H_ARENAS + 4 * ai) >>> 2;
      if (u32[slot] !== 0) continue;
      let a: number;
      try {
        a = this.persistent.alloc(HEAP_ARENA_SIZE, 8, STAT_GC_MISC_SYS);
      } catch (e) {
        mem.sysFree(v, size, -1); // undo the reservation (Reserved: nothing was charged)
        throw e;
      }
      u32[slot] = a; // no call between these stores (word indices, not accessors)
      u32[(a >>> 2) + AW_ZEROED_BASE] = 0;
    }
    u32[(this.base >>> 2) + HW_ARENA_HINT] = v + size;
    return [v, size];
  }

  /**
   * Grow the heap by at least npage pages, in whole chunks (Go: mheap.grow). The new
   * memory is mapped (Reserved -> Prepared), counted in HeapReleased, and given to the
   * page allocator as free and scavenged. Returns false when the reservation is full.
   */
  grow(npage: number): boolean {
    const u32 = this.views.u32, b = this.base;
    const ask = align(npage, PALLOC_CHUNK_PAGES) * pageSize;
    let cur = mheapCurArenaBase(u32, b), end = mheapCurArenaEnd(u32, b);
    if (end - cur < ask) {
      const r = this.sysAllocArena(ask);
      if (r === null) return false;
      const [av, asize] = r;
      if (av === end) {
        end += asize;
      } else {
        // Not contiguous: hand the rest of the old arena to the heap before moving on.
        if (end > cur) this.mapAndGrow(cur, end - cur);
        cur = av;
        end = av + asize;
      }
    }
    u32[(b >>> 2) + HW_CUR_BASE] = cur + ask; // no call between these two stores
    u32[(b >>> 2) + HW_CUR_END] = end;
    this.mapAndGrow(cur, ask);
    return true;
  }

  private mapAndGrow(v: number, size: number): void {
    this.mem.sysMap(v, size, STAT_HEAP_RELEASED);
    this.pages.grow(v, size);
  }

  // ----- spans ------------------------------------------------------------------------

  /**
   * Allocate a heap span of npages pages for span class spc (Go: mheap.alloc): allocSpan
   * under the heap lock. 0 = out of memory. Go's mheap.alloc first runs the page reclaimer
   * if the last GC's sweep is not finished; here its callers do (mgcsweep.reclaim), so that
   * the heap does not depend on the sweeper.
   */
  alloc(npages: number, spc: number): SpanPtr | 0 {
    lock(this.views.i32, this.base + H_LOCK, this.lockToken);
    this.views.sync();
    try {
      const w = this.inHandWord();
      const s = this.allocSpanLocked(npages, spanAllocHeap, spc);
      this.views.u32[w] = s; // no call between: a terminated worker cannot stop in between
      return s;
    } finally {
      unlock(this.views.i32, this.base + H_LOCK);
    }
  }

  /** Allocate a manually managed span (stacks) (Go: mheap.allocManual). 0 = out of memory. */
  allocManual(npages: number, typ: number): number {
    lock(this.views.i32, this.base + H_LOCK, this.lockToken);
    this.views.sync();
    try {
      return this.allocSpanLocked(npages, typ, 0);
    } finally {
      unlock(this.views.i32, this.base + H_LOCK);
    }
  }

  /**
   * u32 index of this P's spanInHand word (P_INHAND, layout.ts): the span it has taken out of every
   * place and not yet put in another. Whoever takes a span stores it there right after the
   * take, with no call in between (V8 stops a terminated worker only at calls and loop
   * back-edges), under the lock of the place it came from if that place has one; whoever
   * places it clears it.
   * reclaimP puts a dead context's span in hand back (proc.ts, window 5).
   */
  inHandWord(): number {
    return this.inHand;
  }

  /** Free a span, taking the heap lock (Go: mheap.freeSpan / freeManual). */
  freeSpan(s: SpanPtr): void {
    lock(this.views.i32, this.base + H_LOCK, this.lockToken);
    this.views.sync();
    try {
      this.freeSpanLocked(s);
    } finally {
      unlock(this.views.i32, this.base + H_LOCK);
    }
  }

  /**
   * Allocate a span of npages pages (Go: mheap.allocSpan). typ is spanAllocHeap (span
   * class spc) or spanAllocStack (a manual span). The caller holds the heap lock.
   * Returns the span, or 0 when the reservation cannot hold it (nothing changed then).
   */
  allocSpanLocked(npages: number, typ: number, spc: number): SpanPtr | 0 {
    const mem = this.mem, views = this.views;
    // Metadata first: if any of it cannot be had, nothing has changed yet.
    const s = this.allocMSpanLocked();
    const sw = s >>> 2;
    views.u32.fill(0, sw, sw + (MSPAN_SIZE >>> 2)); // Go: mspan.init (u32: a u8 fill of a SharedArrayBuffer costs 2-3x)
    let bits = 0, masks = 0, nelems = 0, elemsize = 0;
    try {
      if (typ === spanAllocHeap) {
        const sizeclass = spanClassSizeclass(spc);
        elemsize = sizeclass === 0 ? npages * pageSize : class_to_size[sizeclass];
        nelems = sizeclass === 0 ? 1 : Math.floor(npages * pageSize / elemsize);
        bits = this.bitsAlloc(nelems).alloc();
        if (spc === tinySpanClass) masks = this.tinymaskalloc.alloc();
      }
    } catch (e) {
      if (bits !== 0) this.bitsAlloc(nelems).free(bits);
      this.freeMSpanLocked(s);
      throw e;
    }
    const base = this.allocPages(npages);
    if (base === 0) {
      if (masks !== 0) this.tinymaskalloc.free(masks);
      if (bits !== 0) this.bitsAlloc(nelems).free(bits);
      this.freeMSpanLocked(s);
      return 0;
    }
    const scav = this.scav;
    const u32 = views.u32;
    const nbytes = npages * pageSize;
    u32[sw + SW_START] = base;
    u32[sw + SW_NPAGES] = npages;
    // Go: needzero = allocNeedsZero. goheap difference: pages released with madvise read
    // back as zero (mem_linux.ts), so a span made only of released pages needs no zeroing.
    const dirty = this.allocNeedsZero(base, npages);
    u32[sw + SW_NEEDZERO] = dirty && !(scav === nbytes && mem.releasedPagesAreZero) ? 1 : 0;
    if (typ === spanAllocHeap) {
      u32[sw + SW_DIVMUL] = class_to_divmagic[spanClassSizeclass(spc)];
      u32[sw + SW_DIVMUL20] = spanClassSizeclass(spc) === 0 ? 0 : Math.ceil(2 ** 20 / elemsize);
      u32[sw + SW_SPANCLASS] = spc;
      u32[sw + SW_ELEMSIZE] = elemsize;
      u32[sw + SW_NELEMS] = nelems;
      u32[sw + SW_LIMIT] = base + nelems * elemsize;
      u32[sw + SW_CACHE_LO] = 0xffffffff;
      u32[sw + SW_CACHE_HI] = 0xffffffff;
      u32[sw + SW_GCBITS] = bits;
      u32[sw + SW_TINYMASKS] = masks;
      u32[sw + SW_SWEEPGEN] = this.sweepgen;
      u32[sw + SW_STATE] = mSpanInUse;
    } else {
      u32[sw + SW_LIMIT] = base + nbytes;
      u32[sw + SW_STATE] = mSpanManual;
    }
    // Go 1.19: scavenge for the memory limit and after heap growth, before sysUsed.
    if (this.onAllocSpan !== null) this.onAllocSpan(this, scav, this.grew);
    // Released pages come back into use: Prepared -> Ready.
    if (scav !== 0) {
      const prepared = mem.sysUsed(base, nbytes);
      if (prepared !== scav) throw new HeapCorruptionError(`allocSpan: page allocator says ${scav} bytes of [${base}, +${nbytes}) were scavenged, the OS layer says ${prepared}`);
      mem.statAdd(STAT_HEAP_RELEASED, -scav);
    }
    mem.statAdd(STAT_HEAP_FREE, -(nbytes - scav));
    if (typ === spanAllocHeap) {
      mem.statAdd(STAT_HEAP_INUSE, nbytes);
    } else {
      mem.statAdd(STAT_IN_STACKS, nbytes);
    }
    this.setSpans(base, npages, s);
    if (typ === spanAllocHeap) this.setPageInUse(base, true);
    return s;
  }

  /**
   * Pages for a span (Go: the page part of mheap.allocSpan): a small span's from this P's
   * page cache (mpagecache.ts), else from the page allocator, growing the heap if needed;
   * 0 if full. The scavenged bytes among them go to `scav`.
   */
  private allocPages(npages: number): number {
    this.grew = 0;
    const pp = this.pp, pages = this.pages;
    if (pp !== 0 && npages < pageCacheMaxPages) {
      const base = pageCacheAlloc(pages, this.views.u32, pp, npages);
      if (base !== 0) {
        this.scav = pageCacheScav;
        return base;
      }
    }
    let base = pages.alloc(npages);
    if (base === 0) {
      if (this.grow(npages)) {
        this.grew = align(npages, PALLOC_CHUNK_PAGES) * pageSize;
      } else {
        // The reservation is full: this P's cached pages are the last ones it can have.
        if (pp === 0) return 0;
        pageCacheFlush(pages, this.views.u32, pp);
      }
      base = pages.alloc(npages);
      if (base === 0 && this.grew !== 0) throw new HeapCorruptionError(`grew the heap by ${npages} pages but could not allocate them`);
    }
    this.scav = pages.scav;
    return base;
  }

  /** Give P pid's cached pages back to the page allocator (a P going away). */
  flushPageCache(pid: number): void {
    lock(this.views.i32, this.base + H_LOCK, this.lockToken);
    this.views.sync();
    try {
      pageCacheFlush(this.pages, this.views.u32, this.pOf(pid));
    } finally {
      unlock(this.views.i32, this.base + H_LOCK);
    }
  }

  /**
   * An mspan struct for a new span (Go: allocMSpanLocked): from this P's mspan cache,
   * which is refilled with 64 structs from the span fixalloc when empty. (That is why Go's
   * MSpanInuse grows in steps of 64 structs, and ours does too.) Heap lock held.
   */
  private allocMSpanLocked(): SpanPtr {
    const p = this.pp;
    const pw = p >>> 2;
    if (p === 0) return this.spanalloc.alloc() as SpanPtr;
    let n = this.views.u32[pw + PW_MSPANCACHE_LEN];
    if (n === 0) {
      for (; n < mspanCacheRefill; n++) {
        const s = this.spanalloc.alloc() as SpanPtr; // may grow the buffer: re-read views below
        this.views.u32[pw + PW_MSPANCACHE_BUF + n] = s;
      }
    }
    n--;
    this.views.u32[pw + PW_MSPANCACHE_LEN] = n;
    return this.views.u32[pw + PW_MSPANCACHE_BUF + n] as SpanPtr;
  }

  /** Give back an mspan struct: to this P's cache if it has room, else to the fixalloc. */
  private freeMSpanLocked(s: SpanPtr): void {
    const p = this.pp;
    const u32 = this.views.u32;
    const n = p === 0 ? mspanCacheCap : pMspancacheLen(u32, p);
    if (n < mspanCacheCap) {
      u32[(p >>> 2) + PW_MSPANCACHE_BUF + n] = s; // no call between these two stores
      u32[(p >>> 2) + PW_MSPANCACHE_LEN] = n + 1;
    } else {
      this.spanalloc.free(s);
    }
  }

  /** Return every struct in P pid's mspan cache to the fixalloc (a P going away). */
  flushMSpanCache(pid: number): void {
    const p = this.pOf(pid);
    const pw = p >>> 2;
    lock(this.views.i32, this.base + H_LOCK, this.lockToken);
    this.views.sync();
    try {
      const u32 = this.views.u32;
      for (let n = u32[pw + PW_MSPANCACHE_LEN]; n > 0; n--) this.spanalloc.free(u32[pw + PW_MSPANCACHE_BUF + (n - 1)]);
      u32[pw + PW_MSPANCACHE_LEN] = 0;
    } finally {
      unlock(this.views.i32, this.base + H_LOCK);
    }
  }

  /** mspan structs held by P mspan caches (they count in MSpanInuse, as in Go). */
  cachedMSpans(): number {
    let n = 0;
    for (let pid = 0; pid < this.nprocs; pid++) {
      const p = this.pOf(pid);
      if (p !== 0) n += pMspancacheLen(this.views.u32, p);
    }
    return n;
  }

  /** The pages every P's page cache holds: 1, or 2 if the cache has it as scavenged. */
  cachedPages(): Map<number, 1 | 2> {
    const out = new Map<number, 1 | 2>();
    for (let pid = 0; pid < this.nprocs; pid++) {
      const p = this.pOf(pid);
      if (p !== 0) addCachedPages(this.views.u32, p, out);
    }
    return out;
  }

  /**
   * Bitmap fixalloc for a span of nelems slots: the smallest of GCBITS_SIZES that holds
   * its three bitmaps together.
   */
  private bitsAlloc(nelems: number): FixAlloc {
    const need = gcBitsBytes(nelems);
    let i = 0;
    while (GCBITS_SIZES[i] < need) i++;
    return this.gcbitsalloc[i];
  }

  /**
   * Free a span (Go: mheap.freeSpanLocked): its pages go back to the page allocator as
   * free and not released (they stay Ready: HeapIdle but not HeapReleased).
   */
  freeSpanLocked(s: SpanPtr): void {
  const sw = s >>> 2;
    const views = this.views, u32 = views.u32, mem = this.mem;
    const state = u32[sw + SW_STATE];
    const base = u32[sw + SW_START], npages = u32[sw + SW_NPAGES];
    const nbytes = npages * pageSize;
    if (state === mSpanInUse) {
      if (u32[sw + SW_ALLOCCOUNT] !== 0) throw new HeapCorruptionError(`freeSpan: span ${s} still has ${u32[sw + SW_ALLOCCOUNT]} objects`);
      if (u32[sw + SW_SWEEPGEN] !== this.sweepgen) throw new HeapCorruptionError(`freeSpan: span ${s} is not swept (sweepgen ${u32[sw + SW_SWEEPGEN]}, heap ${this.sweepgen})`);
      this.setPageInUse(base, false);
      mem.statAdd(STAT_HEAP_INUSE, -nbytes);
      const nelems = u32[sw + SW_NELEMS];
      this.bitsAlloc(nelems).free(u32[sw + SW_GCBITS]);
      const tm = u32[sw + SW_TINYMASKS];
      if (tm !== 0) this.tinymaskalloc.free(tm);
    } else if (state === mSpanManual) {
      mem.statAdd(STAT_IN_STACKS, -nbytes);
    } else {
      throw new HeapCorruptionError(`freeSpan: span ${s} is ${state === mSpanDead ? 'already dead' : 'in state ' + state}`);
    }
    // goheap difference (Go 1.19 marks it dead after pages.free, just before freeMSpanLocked): dead before its
    // pages and table entries go. A worker terminated after the last entry was cleared
    // (setSpans' last loop back-edge) left a span that said in use and that the page
    // table named nowhere, which reclaimP could not see as torn, and freed a second time
    // from the dead P's span in hand. Dead first, every cut-short free is a torn span
    // (repairPagesLocked) or none at all.
    u32[sw + SW_STATE] = mSpanDead;
    mem.statAdd(STAT_HEAP_FREE, nbytes);
    this.pages.free(base, npages, false);
    this.setSpans(base, npages, 0);
    this.freeMSpanLocked(s);
  }

  /** Point the page -> span table of npages pages at base to s. */
  setSpans(base: number, npages: number, s: SpanPtr | 0): void {
    const u32 = this.views.u32;
    for (let i = 0; i < npages; i++) {
      const p = base + i * pageSize;
      const a = this.arenaOf(p);
      setArenaSpans(u32, a, ((p >>> pageShift) & (pagesPerArena - 1)), s);
    }
  }

  setPageInUse(base: number, on: boolean): void {
    const a = this.arenaOf(base);
    const i = (base >>> pageShift) & (pagesPerArena - 1);
    const u8 = this.views.u8, byte = a + A_PAGE_IN_USE + (i >>> 3);
    if (on) u8[byte] |= 1 << (i & 7); else u8[byte] &= ~(1 << (i & 7));
  }

  /** Whether the pageInUse bit of the page at p is set. */
  pageInUse(p: number): boolean {
    const a = this.arenaOf(p);
    const i = (p >>> pageShift) & (pagesPerArena - 1);
    return (this.views.u8[a + A_PAGE_IN_USE + (i >>> 3)] & (1 << (i & 7))) !== 0;
  }

  /**
   * Whether [base, base+npages pages) may hold old data (Go: allocNeedsZero): true if any
   * part of it lies below its arena's zeroedBase; advances zeroedBase past it.
   */
  private allocNeedsZero(base: number, npages: number): boolean {
    const u32 = this.views.u32;
    let needZero = false;
    let p = base;
    const end = base + npages * pageSize;
    while (p < end) {
      const a = this.arenaOf(p);
      const arenaBase = (p >>> logHeapArenaBytes) * heapArenaBytes;
      const off = p - arenaBase;
      const arenaLimit = Math.min(end, arenaBase + heapArenaBytes) - arenaBase;
      const zb = arenaZeroedBase(u32, a);
      if (off < zb) needZero = true;
      if (arenaLimit > zb) u32[(a >>> 2) + AW_ZEROED_BASE] = arenaLimit;
      p = arenaBase + arenaLimit;
    }
    return needZero;
  }

  // ----- walking, for check() and the GC ---------------------------------------------------

  /**
   * Call fn(span) once for every in-use span, found through the pageInUse bitmaps (Go
   * walks the same bitmaps in mheap.reclaimChunk): a few words per arena where no span
   * starts, one table read per span. Used by the GC to recount the freed, unswept bytes.
   */
  forEachInUseSpan(fn: (s: SpanPtr) => void): void {
    const u32 = this.views.u32;
    for (let ai = 0; ai < maxArenas; ai++) {
      const a = mheapArenas(u32, this.base, ai);
      if (a === 0) continue;
      for (let w = 0; w < pagesPerArena >>> 5; w++) {
        let bits = u32[((a + A_PAGE_IN_USE) >>> 2) + w];
        while (bits !== 0) {
          const i = 31 - Math.clz32(bits & -bits);
          bits &= bits - 1;
          fn(arenaSpans(u32, a, (w << 5) + i));
        }
      }
    }
  }

  /** Call fn(span) once for every span that has pages in the page -> span table. */
  forEachSpan(fn: (s: SpanPtr) => void): void {
    const u32 = this.views.u32;
    for (let ai = 0; ai < maxArenas; ai++) {
      const a = mheapArenas(u32, this.base, ai);
      if (a === 0) continue;
      for (let i = 0; i < pagesPerArena; i++) {
        const s = arenaSpans(u32, a, i);
        if (s !== 0 && spanStartAddr(u32, s) === ai * heapArenaBytes + i * pageSize) fn(s);
      }
    }
  }

  /** Address of the P struct with id pid, or 0. */
  pOf(pid: number): PPtr {
    return mheapAllp(this.views.u32, this.base, pid);
  }

  /** f64 index of the statistics block of P pid, or 0 if that P does not exist. */
  pStatsOf(pid: number): number {
    const p = this.pOf(pid);
    return p === 0 ? 0 : (p + P_STATS) >>> 3;
  }

  /** Set the P struct address of slot pid (heap lock held). */
  setP(pid: number, p: PPtr): void {
    const u32 = this.views.u32, bw = this.base >>> 2, nprocs = this.nprocs;
    u32[bw + HW_ALLP + pid] = p; // no call between these two stores
    if (pid >= nprocs) u32[bw + HW_NPROCS] = pid + 1;
  }

  /** First span class whose unswept sets may be non-empty (mgcsweep.ts). */
  get sweepCursor(): number {
    return Atomics.load(this.views.i32, (this.base >>> 2) + HW_SWEEP_CURSOR);
  }
  set sweepCursor(v: number) {
    Atomics.store(this.views.i32, (this.base >>> 2) + HW_SWEEP_CURSOR, v);
  }

  /** Byte offset of the stack pool's list heads (stack.ts). */
  get stackpool(): number {
    return this.base + H_STACKPOOL;
  }

  /** Byte offset of the heap lock word. */
  get lockOff(): number {
    return this.base + H_LOCK;
  }

  /** i32 index of the sweepers word (mgcsweep.ts). */
  get sweepersWord(): number {
    return (this.base + H_SWEEPERS) >>> 2;
  }

  /** Byte offset of the GC lock word (mgc.ts). */
  get gcLockOff(): number {
    return this.base + H_GCLOCK;
  }

  /** Number of P slots ever used. */
  get nprocs(): number {
    return Atomics.load(this.views.i32, (this.base >>> 2) + HW_NPROCS);
  }

  /** Most Ps this heap allows. */
  get maxprocs(): number {
    return mheapMaxprocs(this.views.u32, this.base);
  }

  /** Whether share() has made a descriptor of this heap (Ps may run in other threads). */
  get shared(): boolean {
    return mheapShared(this.views.u32, this.base) !== 0;
  }

  /**
   * share() is making a descriptor: from now on other threads may run Ps, so this handle
   * stops using plain stores where they would race (see solo). Called in the one thread
   * that has a P, before the descriptor exists.
   */
  markShared(): void {
    Atomics.store(this.views.i32, (this.base + H_SHARED) >>> 2, 1);
    this.solo = this.soloNow();
  }

  /** Make this handle run as P pid (Go: acquirep). */
  bindP(pid: number): void {
    this.pid = pid;
    this.pstats = this.pStatsOf(pid);
    this.pp = this.pOf(pid);
    this.inHand = (this.pp + P_INHAND) >>> 2;
    this.lockToken = pid + 1;
  }

  /** Bytes the heap has grown into (every chunk given to the page allocator). */
  grownBytes(): number {
    let n = 0;
    for (const [b, l] of this.pages.inUseRanges()) n += l - b;
    return n;
  }

  /** The reserved-but-not-grown rest of the current arena: [base, end). */
  curArena(): [number, number] {
    const u32 = this.views.u32;
    return [mheapCurArenaBase(u32, this.base), mheapCurArenaEnd(u32, this.base)];
  }
}
