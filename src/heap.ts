/**
 * heap.ts — the public facade: one `Heap` handle per context (thread) over Go's allocator.
 *
 * Everything a Heap does is delegated to the runtime-concept files (malloc.ts, mheap.ts,
 * mcache.ts, mgc.ts, mstats.ts ...). The handle itself holds only views and a few
 * addresses: the allocator's state is entirely in the buffer.
 *
 * @module
 */
import { checkHeap } from './check.js';
import { InvalidArgumentError, InvalidSizeError } from './errors.js';
import { findObject, freeObject, mallocgc, usableSize, type MallocContext } from './malloc.js';
import { MCACHE_SIZE, P_MCACHE, P_OWNER, P_SIZE, P_STATUS, P_RUNNING, initMCache, releaseAll } from './mcache.js';
import { OSMemory, STAT_HEAP_FREE, STAT_HEAP_RELEASED, STAT_OTHER_SYS, type BackendKind } from './mem.js';
import { gcinit, gcStart, heapGoalFor, type GCCycleInfo } from './mgc.js';
import { H_LOCK, MHeap } from './mheap.js';
import { lock, unlock } from './lock_futex.js';
import { S_ELEMSIZE, S_SPANCLASS } from './mspan.js';
import { computeMemStats, computeMetrics, ST_GC_PERCENT, ST_HEAP_GOAL, ST_HEAP_MARKED, type MemStats } from './mstats.js';
import { spanClassNoscan } from './sizeclasses.js';

/** Options of {@link Heap.create}. */
export interface HeapOptions {
  /**
   * Bytes of address space to reserve: the buffer's maxByteLength, and the most the heap
   * and its metadata can ever use. A multiple of 64 KiB, at most 4 GiB. Default 1 GiB.
   */
  reserve?: number;
  /** What backs the heap: 'sab' (growable SharedArrayBuffer, default), 'rab' (resizable ArrayBuffer, one thread), 'wasm' (shared WebAssembly.Memory). */
  backend?: BackendKind;
  /** GOGC: the heap grows by this percentage of the live heap between GC cycles; -1 turns automatic cycles off. Default 100. */
  gcPercent?: number;
}

/** Options of {@link Heap.malloc}. */
export interface MallocOptions {
  /** false: the object holds pointers (a "scan" span class, as in Go). Default true. */
  noscan?: boolean;
}

/** Default reservation: 1 GiB. */
export const defaultReserve = 1 << 30;

/**
 * A goheap heap, as seen from one context. Create one with {@link Heap.create}.
 *
 * Pointers are byte offsets into {@link Heap.buffer}; read and write objects through
 * {@link Heap.u8}, {@link Heap.u32}, {@link Heap.f64} and friends.
 */
export class Heap implements MallocContext {
  /** The page heap and its metadata (internal structures, for tools and tests). */
  readonly h: MHeap;
  /** Address of this context's mcache. */
  readonly mcache: number;
  /** Address of the heap's emptymspan. */
  readonly emptymspan: number;
  /** This context's P id. */
  readonly pid: number;
  /** Called after each GC cycle this context runs (gctrace). */
  onGC: ((info: GCCycleInfo) => void) | null = null;

  private constructor(h: MHeap, pid: number) {
    this.h = h;
    this.pid = pid;
    this.mcache = h.views.u32[(h.pOf(pid) + P_MCACHE) >>> 2];
    this.emptymspan = h.emptymspan;
  }

  /** Create a new heap in a new buffer (Go: mallocinit), with this context as P 0. */
  static create(opts: HeapOptions = {}): Heap {
    const reserve = opts.reserve ?? defaultReserve;
    const mem = OSMemory.create({ reserve, backend: opts.backend });
    const h = MHeap.create(mem, MCACHE_SIZE);
    gcinit(h);
    if (opts.gcPercent !== undefined) setGCPercentIn(h, opts.gcPercent);
    const pid = createP(h, 0);
    return new Heap(h, pid);
  }

  // ----- views ------------------------------------------------------------------------

  /** The buffer that holds the heap (all of its objects and all of its metadata). */
  get buffer(): ArrayBufferLike { this.h.views.refresh(); return this.h.views.buffer; }
  /** Byte view of the whole buffer; index = pointer. */
  get u8(): Uint8Array { this.h.views.refresh(); return this.h.views.u8; }
  /** 16-bit view; index = pointer >>> 1. */
  get u16(): Uint16Array { this.h.views.refresh(); return this.h.views.u16; }
  /** 32-bit view; index = pointer >>> 2. */
  get u32(): Uint32Array { this.h.views.refresh(); return this.h.views.u32; }
  /** Signed 32-bit view (for Atomics); index = pointer >>> 2. */
  get i32(): Int32Array { this.h.views.refresh(); return this.h.views.i32; }
  /** 64-bit float view; index = pointer >>> 3. */
  get f64(): Float64Array { this.h.views.refresh(); return this.h.views.f64; }
  /** A DataView over the whole buffer. */
  get view(): DataView { return new DataView(this.buffer); }
  /** The reservation in bytes. */
  get reserve(): number { return this.h.mem.reserve; }

  // ----- allocation -------------------------------------------------------------------

  /**
   * Allocate `size` bytes and return a pointer to them. The memory is not zeroed (use
   * calloc). Objects are aligned to their size class (8 bytes at least; tiny objects to
   * 8, 4 or 2 by their size, as in Go). size 0 returns the heap's zerobase pointer.
   * @throws InvalidSizeError for a size that is negative, fractional, NaN or larger than the reservation
   * @throws OutOfMemoryError when the reservation is full
   */
  malloc(size: number, opts?: MallocOptions): number {
    return mallocgc(this, size, opts === undefined || opts.noscan !== false ? 1 : 0, false);
  }

  /**
   * Allocate zeroed memory for `n` elements of `size` bytes.
   * @throws InvalidSizeError when n or size is invalid or n * size is larger than the reservation
   */
  calloc(n: number, size: number, opts?: MallocOptions): number {
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidSizeError(`calloc: count must be a non-negative integer, got ${String(n)}`);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidSizeError(`calloc: size must be a non-negative integer, got ${String(size)}`);
    const total = n * size;
    if (!Number.isSafeInteger(total)) throw new InvalidSizeError(`calloc: ${n} * ${size} overflows`);
    return mallocgc(this, total, opts === undefined || opts.noscan !== false ? 1 : 0, true);
  }

  /**
   * Free the object at p. It is dead at once (a second free throws DoubleFreeError); its
   * memory is reused once its span has been swept. free(0) does nothing.
   * @throws InvalidPointerError if p is not the base of a live object of this heap
   */
  free(p: number): void {
    freeObject(this, p);
  }

  /**
   * Resize the object at p to `size` bytes. In place when `size` fits the object's slot;
   * otherwise a new object (same scan/noscan kind) receives the old bytes and p is freed.
   * realloc(0, size) is malloc(size); realloc(p, 0) frees p and returns zerobase.
   */
  realloc(p: number, size: number): number {
    if (p === 0) return this.malloc(size);
    if ((size >>> 0) !== size && !(Number.isSafeInteger(size) && size >= 0)) {
      throw new InvalidSizeError(`realloc: size must be a non-negative integer number of bytes, got ${String(size)}`);
    }
    const h = this.h;
    if (p === h.zerobase) return this.malloc(size);
    const old = usableSize(this, p);
    if (size === 0) { this.free(p); return h.zerobase; }
    if (size <= old) return p;
    const s = findObject(h, p, 'realloc');
    const noscan = spanClassNoscan(h.views.u32[(s + S_SPANCLASS) >>> 2]);
    const q = mallocgc(this, size, noscan, false);
    const u8 = h.views.u8;
    u8.copyWithin(q, p, p + Math.min(old, size));
    this.free(p);
    return q;
  }

  /** Bytes usable at p (the object's slot size). @throws InvalidPointerError */
  usableSize(p: number): number {
    return usableSize(this, p);
  }

  /** Size of the slot that holds the object at p, as Go's span elemsize. @throws InvalidPointerError */
  slotSize(p: number): number {
    const s = findObject(this.h, p, 'slotSize');
    return this.h.views.u32[(s + S_ELEMSIZE) >>> 2];
  }

  // ----- GC, scavenger ----------------------------------------------------------------

  /**
   * Run a full GC cycle (like runtime.GC()): finish sweeping, start a new cycle, flush this
   * context's mcache, and sweep every span, so that every freed object is reclaimed:
   * HeapAlloc equals the live bytes afterwards, and empty spans are back in the heap.
   */
  gc(): GCCycleInfo {
    return gcStart(this, true);
  }

  /**
   * Return as much memory to the OS as possible (like debug.FreeOSMemory): a full GC, then
   * every free page is released (sysUnused: Ready -> Prepared). HeapIdle == HeapReleased
   * afterwards. Returns the bytes released by the scavenge.
   */
  freeOSMemory(): number {
    this.gc();
    const h = this.h, mem = h.mem;
    lock(h.views.i32, h.base + H_LOCK);
    try {
      const released = h.pages.scavenge(Infinity);
      mem.statAdd(STAT_HEAP_FREE, -released);
      mem.statAdd(STAT_HEAP_RELEASED, released);
      return released;
    } finally {
      unlock(h.views.i32, h.base + H_LOCK);
    }
  }

  /** Set GOGC; returns the previous value (like debug.SetGCPercent). -1 turns automatic GC off. */
  setGCPercent(percent: number): number {
    return setGCPercentIn(this.h, percent);
  }

  // ----- statistics -------------------------------------------------------------------

  /**
   * Go's runtime.MemStats for the whole heap. Like runtime.ReadMemStats it first flushes
   * the calling context's mcache, so every object it allocated is counted.
   */
  readMemStats(): MemStats {
    releaseAll(this.h, this.mcache, this.emptymspan);
    return computeMemStats(this.h);
  }

  /** Go's runtime/metrics /memory/classes/... values (and a few /gc/ ones), after a flush like readMemStats. */
  readMetrics(): Record<string, number> {
    const ms = this.readMemStats();
    return computeMetrics(this.h, ms);
  }

  /** Check every piece of allocator metadata against a recount; throws HeapCorruptionError on the first difference. */
  check(): void {
    checkHeap(this.h);
  }
}

/** Create P number pid with a fresh mcache, owned by the calling context. */
function createP(h: MHeap, pid: number): number {
  lock(h.views.i32, h.base + H_LOCK);
  try {
    const p = h.persistent.alloc(P_SIZE, 8, STAT_OTHER_SYS);
    const c = h.cachealloc.alloc();
    initMCache(h, c, pid, h.emptymspan);
    const u32 = h.views.u32;
    u32[(p + P_MCACHE) >>> 2] = c;
    u32[(p + P_OWNER) >>> 2] = pid + 1;
    Atomics.store(h.views.i32, (p + P_STATUS) >>> 2, P_RUNNING);
    h.setP(pid, p);
    return pid;
  } finally {
    unlock(h.views.i32, h.base + H_LOCK);
  }
}

function setGCPercentIn(h: MHeap, percent: number): number {
  if (!Number.isInteger(percent) || percent < -1) throw new InvalidArgumentError(`gcPercent must be an integer >= -1, got ${percent}`);
  const f64 = h.views.f64, st = h.stats;
  const prev = f64[st + ST_GC_PERCENT];
  f64[st + ST_GC_PERCENT] = percent;
  f64[st + ST_HEAP_GOAL] = heapGoalFor(f64[st + ST_HEAP_MARKED], percent);
  return prev;
}
