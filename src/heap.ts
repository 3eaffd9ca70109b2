/**
 * heap.ts — the public facade: one `Heap` handle per context (thread) over Go's allocator.
 *
 * Everything a Heap does is delegated to the runtime-concept files (malloc.ts, mheap.ts,
 * mcache.ts, mgc.ts, mstats.ts ...). The handle itself holds only views and a few
 * addresses: the allocator's state is entirely in the buffer.
 *
 * @module
 */
import { checkHeap, type HeapRecount } from './check.js';
import { inspectHeap, type HeapSnapshot } from './inspect.js';
import { stackalloc, stackfree } from './stack.js';
import { InvalidArgumentError, InvalidSizeError, OutOfMemoryError } from './errors.js';
import { P_RESERVED, P_RUNNING, type GCCycleInfo, type MallocContext } from './runtime2.js';
import { findObject, freeObject, mallocgc, usableSize } from './malloc.js';
import { inFlightAllocs, releaseAll } from './mcache.js';
import { OSMemory, STAT_OTHER_SYS, type BackendKind } from './mem.js';
import { gcBeforeOOM, gcinit, gcStart, heapGoalFor } from './mgc.js';
import { MHeap, maxProcs } from './mheap.js';
import { lock, unlock } from './lock_futex.js';
import { InvalidArgumentError as ArgError } from './errors.js';
import { computeMemStats, computeMetrics, type MemStats } from './mstats.js';
import { spanClassNoscan } from './sizeclasses.js';
import { acquireP, detachP, reclaimP } from './proc.js';
import { scavenge } from './mgcscavenge.js';
import {
  MCACHE_SIZE, type MCachePtr, PW_EPOCH, ST_GC_PERCENT, ST_HEAP_GOAL, ST_HEAP_MARKED, ST_MEMORY_LIMIT, type SpanPtr, pMcache, spanElemsize, spanSpanclass,
} from './layout.js';
import { checkMemoryLimit, heapGoal, memoryLimit } from './mgcpacer.js';
import {
  BackgroundScavenger, backgroundScavengerOn, gcPaceScavenger, scavengeAll, scavengeOnAlloc, scavTraceInfo, setBackgroundScavenger,
  type ScavTraceInfo,
} from './mgcscavenge.js';
import type { ReleaseMode } from './mem_linux.js';

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
  /** Most contexts (Ps) that can be attached at once: the creator plus workers. 1..64, default 64. */
  maxProcs?: number;
  /**
   * The memory limit in bytes (like GOMEMLIMIT / debug.SetMemoryLimit): GC cycles and the
   * scavenger keep the memory the heap holds (Sys − HeapReleased) under it. Infinity (the
   * default) = no limit.
   */
  memoryLimit?: number;
  /** false: no background scavenger in any context of this heap (release only on allocation and freeOSMemory). Default true. */
  scavenger?: boolean;
  /**
   * false: never use the native release addon, so released pages stay resident
   * (releaseMode 'none' on 'sab' and 'wasm'; for tests and comparisons). Default true; the
   * environment variable GOHEAP_NO_NATIVE=1 has the same effect for every heap.
   */
  native?: boolean;
  /**
   * A static region to set aside before the heap takes any memory: `size` bytes at `base`
   * (both multiples of 8 KiB), for the data segment of a WebAssembly module compiled to
   * live there (AssemblyScript `--memoryBase`, clang `--global-base`). Counted in OtherSys;
   * goheap never allocates inside it. `base` must be above the OS header and page table
   * (1 MiB is above them for any reservation). See {@link Heap.staticData}.
   */
  staticData?: StaticRegion;
}

/** A range of the heap's address space: `size` bytes from `base`. */
export interface StaticRegion {
  readonly base: number;
  readonly size: number;
}

/**
 * What a worker needs to attach to a heap: structured-clonable, so it can be posted to a
 * Worker or passed as workerData.
 */
export interface HeapDescriptor {
  /** The heap's buffer (a SharedArrayBuffer), or null with the wasm backend. */
  readonly buffer: SharedArrayBuffer | null;
  /** The shared WebAssembly.Memory, with the wasm backend. */
  readonly memory: WebAssembly.Memory | null;
  /** Address of the mheap header. */
  readonly heapBase: number;
  /** A P set aside for this worker by {@link Heap.reserveP} (spawnHeapWorker), or -1 to take any free P. */
  readonly pid: number;
  /** The lease of that P (see {@link Heap.reclaimP}). */
  readonly epoch: number;
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
  readonly mcache: MCachePtr;
  /** Address of the heap's emptymspan. */
  readonly emptymspan: SpanPtr;
  /** This context's P id. */
  readonly pid: number;
  /** Called after each GC cycle this context runs (gctrace). */
  onGC: ((info: GCCycleInfo) => void) | null = null;
  /**
   * Called with a scavtrace line (Go's GODEBUG=scavtrace=1): after each GC cycle this
   * context runs (what the background scavenger released since the last line), and by
   * freeOSMemory (forced). Format it with formatScavTrace.
   */
  onScavenge: ((t: ScavTraceInfo) => void) | null = null;
  /** This context's background scavenger (null when the heap was created with scavenger: false). */
  readonly scavenger: BackgroundScavenger | null;

  private detached = false;

  private constructor(h: MHeap, pid: number) {
    this.h = h;
    this.pid = pid;
    h.bindP(pid);
    this.mcache = pMcache(h.views.u32, h.pOf(pid));
    this.emptymspan = h.emptymspan;
    this.scavenger = backgroundScavengerOn(h) ? new BackgroundScavenger(this) : null;
    h.onAllocSpan = scavengeOnAlloc;
  }

  /** Create a new heap in a new buffer (Go: mallocinit), with this context as P 0. */
  static create(opts: HeapOptions = {}): Heap {
    const reserve = opts.reserve ?? defaultReserve;
    const maxprocs = opts.maxProcs ?? maxProcs;
    if (!Number.isInteger(maxprocs) || maxprocs < 1 || maxprocs > maxProcs) throw new ArgError(`maxProcs must be an integer in 1..${maxProcs}, got ${maxprocs}`);
    const memoryLimit = opts.memoryLimit === undefined ? Infinity : checkMemoryLimit(opts.memoryLimit, 'Heap.create');
    const mem = OSMemory.create({ reserve, backend: opts.backend, native: opts.native });
    if (opts.staticData != null) mem.sysAllocStatic(opts.staticData.base, opts.staticData.size, STAT_OTHER_SYS);
    const h = MHeap.create(mem, MCACHE_SIZE, maxprocs);
    gcinit(h);
    if (opts.gcPercent !== undefined) setGCPercentIn(h, opts.gcPercent);
    setBackgroundScavenger(h, opts.scavenger !== false);
    const heap = new Heap(h, acquireP(h, -1, P_RUNNING));
    if (memoryLimit !== Infinity) heap.setMemoryLimit(memoryLimit);
    return heap;
  }

  /**
   * Attach this context (a worker) to a heap created elsewhere: it gets its own P and
   * mcache in shared memory. Call {@link Heap.detach} when done.
   * @throws NoFreePError when maxProcs contexts are attached already
   */
  static attach(desc: HeapDescriptor): Heap {
    if (desc === null || typeof desc !== 'object' || typeof desc.heapBase !== 'number') throw new ArgError('Heap.attach: expected the descriptor made by heap.share()');
    const buffer = desc.memory ? desc.memory.buffer : desc.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) throw new ArgError('Heap.attach: only heaps over shared memory (backend sab or wasm) can be attached');
    const mem = OSMemory.attach(buffer, desc.memory);
    const h = MHeap.attach(mem, desc.heapBase);
    return new Heap(h, acquireP(h, desc.pid, P_RUNNING));
  }

  /**
   * A structured-clonable descriptor of this heap, for {@link Heap.attach} in a worker.
   * With `reserveP`, a P is set aside for that worker now (see {@link Heap.reserveP}).
   */
  share(reserveP = false): HeapDescriptor {
    const views = this.h.views;
    if (!(views.buffer instanceof SharedArrayBuffer)) throw new ArgError('share: a heap over a resizable ArrayBuffer cannot be shared; create it with backend "sab" or "wasm"');
    const pid = reserveP ? this.reserveP() : -1;
    return { buffer: views.memory ? null : views.buffer, memory: views.memory, heapBase: this.h.base, pid, epoch: pid < 0 ? 0 : this.pEpoch(pid) };
  }

  /** Set a P aside for a worker about to start (it claims it in attach); returns its id. */
  reserveP(): number {
    return acquireP(this.h, -1, P_RESERVED);
  }

  /** The lease number of P pid: it changes every time the P is handed to a new context. */
  pEpoch(pid: number): number {
    const p = this.h.pOf(pid);
    return p === 0 ? -1 : Atomics.load(this.h.views.i32, (p >>> 2) + PW_EPOCH);
  }

  /**
   * Flush this context's mcache (releaseAll) and give its P back. The handle cannot be
   * used afterwards.
   */
  detach(): void {
    if (this.detached) return;
    this.detached = true;
    this.scavenger?.stop();
    detachP(this.h, this.pid, this.mcache, this.emptymspan);
  }

  /**
   * Give back the P of a context that ended without detaching (a worker that exited or
   * was terminated, possibly in the middle of an operation): what it left half done is
   * finished or undone (a heap-lock section, a GC cycle, a sweep, a span it had taken),
   * any lock it held is released, its cached spans return to their mcentrals, and the P
   * becomes free (docs/go-mapping.md, "Dead workers"). Safe to call for a P that did
   * detach (then it does nothing). With `epoch` (from the descriptor), only that lease of
   * the P is reclaimed, never a later context's. Returns true if the P was reclaimed.
   * spawnHeapWorker calls this when its worker exits. Only for contexts that are really
   * gone: reclaiming a live context's P corrupts the heap.
   */
  reclaimP(pid: number, epoch?: number): boolean {
    if (pid === this.pid) throw new ArgError('reclaimP: a context cannot reclaim its own P; use detach()');
    return reclaimP(this.h, pid, epoch, this.emptymspan);
  }


  // ----- views ------------------------------------------------------------------------

  /** The buffer that holds the heap (all of its objects and all of its metadata). */
  get buffer(): ArrayBufferLike { this.h.views.sync(); return this.h.views.buffer; }
  /** Byte view of the whole buffer; index = pointer. */
  get u8(): Uint8Array { this.h.views.sync(); return this.h.views.u8; }
  /** 16-bit view; index = pointer >>> 1. */
  get u16(): Uint16Array { this.h.views.sync(); return this.h.views.u16; }
  /** 32-bit view; index = pointer >>> 2. */
  get u32(): Uint32Array { this.h.views.sync(); return this.h.views.u32; }
  /** Signed 32-bit view (for Atomics); index = pointer >>> 2. */
  get i32(): Int32Array { this.h.views.sync(); return this.h.views.i32; }
  /** 64-bit float view; index = pointer >>> 3. */
  get f64(): Float64Array { this.h.views.sync(); return this.h.views.f64; }
  /** A DataView over the whole buffer (as long as it is now). */
  get view(): DataView { return new DataView(this.buffer, 0, this.u8.length); }
  /** The reservation in bytes. */
  get reserve(): number { return this.h.mem.reserve; }
  /** The static region set aside by {@link HeapOptions.staticData} (counted in OtherSys), or null. */
  get staticData(): StaticRegion | null {
    const [base, size] = this.h.mem.staticRegion;
    return size === 0 ? null : { base, size };
  }

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
    this.h.views.sync();
    freeObject(this, p);
  }

  /**
   * Resize the object at p to `size` bytes. In place when `size` fits the object's slot;
   * otherwise a new object (same scan/noscan kind) receives the old bytes and p is freed.
   * realloc(0, size) is malloc(size); realloc(p, 0) frees p and returns zerobase.
   */
  realloc(p: number, size: number): number {
    this.h.views.sync();
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
    const noscan = spanClassNoscan(spanSpanclass(h.views.u32, s));
    const q = mallocgc(this, size, noscan, false);
    const u8 = h.views.u8;
    u8.copyWithin(q, p, p + Math.min(old, size));
    this.free(p);
    return q;
  }

  /** Bytes usable at p (the object's slot size). @throws InvalidPointerError */
  usableSize(p: number): number {
    this.h.views.sync();
    return usableSize(this, p);
  }

  /** Size of the slot that holds the object at p, as Go's span elemsize. @throws InvalidPointerError */
  slotSize(p: number): number {
    this.h.views.sync();
    const s = findObject(this.h, p, 'slotSize');
    return spanElemsize(this.h.views.u32, s);
  }

  // ----- stacks -----------------------------------------------------------------------

  /**
   * Allocate a stack of n bytes (a power of two, at least 2048), e.g. the shadow stack of a
   * wasm thread; returns its lowest address. Counted in StackInuse/StackSys (Go: stackalloc).
   * @throws InvalidSizeError, OutOfMemoryError
   */
  stackAlloc(n: number): number {
    try {
      return stackalloc(this.h, n);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError) || !gcBeforeOOM(this)) throw e;
      return stackalloc(this.h, n);
    }
  }

  /** Free a stack from stackAlloc; n must be its size (Go: stackfree). @throws InvalidPointerError, DoubleFreeError */
  stackFree(p: number, n: number): void {
    stackfree(this.h, p, n);
  }

  // ----- GC, scavenger ----------------------------------------------------------------

  /**
   * Run a full GC cycle (like runtime.GC()): finish sweeping, start a new cycle, flush this
   * context's mcache, and sweep every span, so that every freed object is reclaimed:
   * HeapAlloc equals the live bytes afterwards, and empty spans are back in the heap.
   */
  gc(): GCCycleInfo {
    return gcStart(this, true)!;
  }

  /**
   * Return as much memory to the OS as possible (like debug.FreeOSMemory): a full GC, then
   * every free page is released (sysUnused: Ready -> Prepared). HeapIdle == HeapReleased
   * afterwards. Returns the bytes released by the scavenge.
   */
  freeOSMemory(): number {
    this.gc();
    const released = scavengeAll(this.h);
    if (this.onScavenge !== null) this.onScavenge(scavTraceInfo(this.h, released, true));
    return released;
  }

  /** The memory limit in bytes (Infinity: none), like debug.SetMemoryLimit(-1) in Go. */
  get memoryLimit(): number {
    return memoryLimit(this.h);
  }

  /**
   * Set the memory limit (like debug.SetMemoryLimit): GC cycles start as the memory the
   * heap holds from the OS (Sys − HeapReleased) nears it, also with GOGC off, and the
   * scavenger keeps it under about 95 % of it. Soft, as in Go: the heap passes it when its
   * live objects need more (docs/go-mapping.md, "Memory limit"). Returns the previous
   * limit. Infinity = no limit.
   * @throws InvalidArgumentError unless bytes is a non-negative integer or Infinity
   */
  setMemoryLimit(bytes: number): number {
    checkMemoryLimit(bytes, 'setMemoryLimit');
    const h = this.h;
    lock(h.views.i32, h.gcLockOff, h.lockToken);
    h.views.sync();
    try {
      const f64 = h.views.f64;
      const prev = f64[h.stats + ST_MEMORY_LIMIT];
      f64[h.stats + ST_MEMORY_LIMIT] = bytes;
      gcPaceScavenger(h); // Go: gcControllerCommit; the scavenger is not woken (Go 1.19 does not)
      return prev;
    } finally {
      unlock(h.views.i32, h.gcLockOff);
    }
  }

  /**
   * How released memory goes back to the OS in this context: 'madvise' (the native addon:
   * RSS falls, released pages read back as zero), 'shrink' (a resizable ArrayBuffer
   * shrinks when its top is released), 'none' (bookkeeping only). See docs/go-mapping.md,
   * "Releasing memory".
   */
  get releaseMode(): ReleaseMode {
    return this.h.mem.releaseMode;
  }

  /** The background scavenger's idle cycle (mgcscavenge.ts): a GC cycle that sweeps everything, not counted as forced. */
  idleGC(): void {
    gcStart(this, false, true);
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
    this.h.views.sync();
    releaseAll(this.h, this.mcache, this.emptymspan);
    return computeMemStats(this.h, inFlightAllocs(this.h, this.pid), heapGoal(this.h));
  }

  /** Go's runtime/metrics /memory/classes/... values (and a few /gc/ ones), after a flush like readMemStats. */
  readMetrics(): Record<string, number> {
    this.h.views.sync();
    releaseAll(this.h, this.mcache, this.emptymspan);
    const flight = inFlightAllocs(this.h, this.pid);
    return computeMetrics(this.h, computeMemStats(this.h, flight, heapGoal(this.h)), flight);
  }

  /**
   * Check every piece of allocator metadata against a recount; throws HeapCorruptionError
   * on the first difference. Returns the recount (the numbers it checked the counters
   * against).
   */
  check(): HeapRecount {
    this.h.views.sync();
    return checkHeap(this.h);
  }

  /**
   * A snapshot of the allocator's structures: the OS state of every page, every span
   * (where it is, how full, its sweep state), the mcentral sets, each P's mcache, and
   * MemStats and metrics of that moment, in typed arrays (see {@link HeapSnapshot}).
   * Changes nothing in the heap (it does not flush this context's mcache, unlike
   * readMemStats; every P's unsettled allocations are counted). Cheap enough to call a few
   * times a second: O(pages of the reservation). While other workers allocate, each value
   * is one it had during the call. Go: none (the nearest is debug.WriteHeapDump).
   */
  inspect(): HeapSnapshot {
    return inspectHeap(this.h);
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
