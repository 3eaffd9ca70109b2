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
import { DetachedHeapError, GoHeapError, InvalidArgumentError, InvalidPointerError, InvalidSizeError, OutOfMemoryError, describeValue } from './errors.js';
import { P_RESERVED, P_RUNNING, type GCCycleInfo, type MallocContext } from './runtime2.js';
import * as malloc from './malloc.js';
import { inFlightAllocs, releaseAll } from './mcache.js';
import { OSMemory, STAT_OTHER_SYS, type BackendKind, type HeapViews } from './mem.js';
import { gcBeforeOOM, gcinit, gcStart, heapGoalFor } from './mgc.js';
import { MHeap, maxProcs } from './mheap.js';
import { lock, unlock } from './lock_futex.js';
import { InvalidArgumentError as ArgError } from './errors.js';
import { computeMemStats, computeMetrics, type MemStats } from './mstats.js';
import { _MaxSmallSize, _NumSizeClasses, _PageSize, class_to_size, sizeToClass, spanClassNoscan } from './sizeclasses.js';
import { LIST_MCACHE, LIST_RETAINED } from './mspanset.js';
import { acquireP, detachP, markDead, reclaimDead, reclaimP } from './proc.js';
import { scavenge } from './mgcscavenge.js';
import {
  MCACHE_SIZE, MCW_ALLOC, type MCachePtr, PW_EPOCH, ST_GC_PERCENT, ST_HEAP_GOAL, ST_HEAP_MARKED, ST_MEMORY_LIMIT, type SpanPtr, pMcache, spanElemsize, spanSpanclass,
} from './layout.js';
import { checkMemoryLimit, heapGoal, memoryLimit } from './mgcpacer.js';
import {
  BackgroundScavenger, backgroundScavengerOn, gcPaceScavenger, scavengeAll, scavengeOnAlloc, scavTraceInfo, setBackgroundScavenger,
  type ScavTraceInfo,
} from './mgcscavenge.js';
import type { ReleaseMode } from './mem_linux.js';

// Module-local copies of the allocator's entry points: V8 checks an imported function
// through its module cell at every call it inlines, and folds a local const (see malloc.ts).
const { findObject, freeFast, freeObject, freeSlow, mallocgc, usableSize } = malloc;

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
  /**
   * Alignment the object's address must have: a power of two from 1 to 8192 (a page).
   * Without it, the object gets Go's alignment (see {@link Heap.malloc}), which for tiny
   * objects can be as small as their size allows (a 12-byte object is 4-aligned). The
   * request is met by choosing the size: tiny objects are rounded up to a multiple of
   * `align`; for `align` >= 16 a small object takes the smallest size class that holds it
   * and is a multiple of `align`; large objects start on a page. So usableSize may grow.
   * Size 0 still returns zerobase (nothing can be stored there).
   */
  align?: number;
}

/**
 * The typed arrays {@link Heap.mallocAs} can allocate. Each is made over the heap's
 * buffer at the object's address, so its byteOffset is the pointer.
 */
export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array
  | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** A typed-array class (Float64Array, Int32Array, ...), as {@link Heap.mallocAs} takes it. */
export interface TypedArrayConstructor<T extends TypedArray> {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** The views of {@link Heap.userViews}, and the u8 view of the buffer they cover. */
interface UserViews { u8: Uint8Array; i8: Int8Array; i16: Int16Array; f32: Float32Array; i64: BigInt64Array; u64: BigUint64Array }

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
  /** The heap's views (the same object as h.views; the fast paths read it one load sooner). */
  readonly views: HeapViews;
  /** Address of this context's mcache. */
  readonly mcache: MCachePtr;
  /** Address of the heap's emptymspan. */
  readonly emptymspan: SpanPtr;
  /** This context's P id. */
  readonly pid: number;
  /** The list id of a span in this context's mcache (see freeObject). */
  readonly cacheTag: number;
  /** cacheTag | LIST_RETAINED (see MallocContext.heldTag). */
  readonly heldTag: number;
  /** Word index of this context's mcache alloc array (see MallocContext.allocWords). */
  readonly allocWords: number;
  /** Word index of the heap's arena table (see MallocContext.arenaWords). */
  readonly arenaWords: number;
  /** No other thread runs a P of this heap (see MHeap.solo; share() turns it off). */
  solo: boolean;
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
  /** wasm backend: the buffers views were made over (see viewAt). */
  private viewBuffers: WeakSet<ArrayBufferLike> | undefined;
  /** The i8, i16, f32, i64 and u64 views, for the u8 view they were made with (see userViews). */
  private uv: UserViews | undefined;

  private constructor(h: MHeap, pid: number) {
    this.h = h;
    this.views = h.views;
    this.pid = pid;
    this.cacheTag = LIST_MCACHE + pid;
    this.solo = h.solo;
    h.bindP(pid);
    this.mcache = pMcache(h.views.u32, h.pOf(pid));
    this.heldTag = this.cacheTag | LIST_RETAINED;
    this.allocWords = (this.mcache >>> 2) + MCW_ALLOC;
    this.arenaWords = h.arenas >>> 2;
    this.emptymspan = h.emptymspan;
    this.scavenger = backgroundScavengerOn(h) ? new BackgroundScavenger(this) : null;
    h.onAllocSpan = scavengeOnAlloc;
  }

  /** Create a new heap in a new buffer (Go: mallocinit), with this context as P 0. */
  static create(opts: HeapOptions = {}): Heap {
    if (opts === null || typeof opts !== 'object') throw new ArgError(`Heap.create: options must be an object, got ${describeValue(opts)}`);
    const reserve = opts.reserve === undefined ? defaultReserve : opts.reserve;
    if (typeof reserve !== 'number') throw new ArgError(`reserve must be a number of bytes, got ${describeValue(reserve)}`);
    const backend = opts.backend;
    if (backend !== undefined && backend !== 'sab' && backend !== 'rab' && backend !== 'wasm') {
      throw new ArgError(`backend must be 'sab', 'rab' or 'wasm', got ${describeValue(backend)}`);
    }
    const maxprocs = opts.maxProcs === undefined ? maxProcs : opts.maxProcs;
    if (typeof maxprocs !== 'number' || !Number.isInteger(maxprocs) || maxprocs < 1 || maxprocs > maxProcs) {
      throw new ArgError(`maxProcs must be an integer in 1..${maxProcs}, got ${describeValue(maxprocs)}`);
    }
    if (opts.gcPercent !== undefined) checkGCPercent(opts.gcPercent);
    const memoryLimit = opts.memoryLimit === undefined ? Infinity : checkMemoryLimit(opts.memoryLimit, 'Heap.create');
    const native = booleanOption('Heap.create', 'native', opts.native, true);
    const scavenger = booleanOption('Heap.create', 'scavenger', opts.scavenger, true);
    const mem = OSMemory.create({ reserve, backend, native });
    if (opts.staticData != null) mem.sysAllocStatic(opts.staticData.base, opts.staticData.size, STAT_OTHER_SYS);
    const h = MHeap.create(mem, MCACHE_SIZE, maxprocs);
    gcinit(h);
    if (opts.gcPercent !== undefined) setGCPercentIn(h, opts.gcPercent);
    setBackgroundScavenger(h, scavenger);
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
    // Only share() makes a heap attachable: until then its one thread updates the words Ps
    // share without atomics (MHeap.solo).
    if (!h.shared) throw new ArgError('Heap.attach: this heap has not been shared; make the descriptor with heap.share()');
    const pid = desc.pid;
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < -1 || pid >= h.maxprocs) {
      throw new ArgError(`Heap.attach: the descriptor's pid must be -1 or a P id below ${h.maxprocs}, got ${describeValue(pid)}`);
    }
    if (pid >= 0 && h.pOf(pid) !== 0 && Atomics.load(h.views.i32, (h.pOf(pid) >>> 2) + PW_EPOCH) !== desc.epoch) {
      throw new ArgError(`Heap.attach: P ${pid} was reserved again since this descriptor was made (epoch ${describeValue(desc.epoch)})`);
    }
    return new Heap(h, acquireP(h, pid, P_RUNNING));
  }

  /**
   * A structured-clonable descriptor of this heap, for {@link Heap.attach} in a worker.
   * With `reserveP`, a P is set aside for that worker now (see {@link Heap.reserveP}).
   */
  share(reserveP = false): HeapDescriptor {
    if (this.detached) throw this.detachedError('share');
    booleanOption('share', 'reserveP', reserveP, false);
    const views = this.h.views;
    if (!(views.buffer instanceof SharedArrayBuffer)) throw new ArgError('share: a heap over a resizable ArrayBuffer cannot be shared; create it with backend "sab" or "wasm"');
    // Before any other thread can have a P: from here on this handle uses atomics where Ps
    // race (MHeap.solo).
    this.h.markShared();
    this.solo = this.h.solo;
    const pid = reserveP ? this.reserveP() : -1;
    return { buffer: views.memory ? null : views.buffer, memory: views.memory, heapBase: this.h.base, pid, epoch: pid < 0 ? 0 : this.pEpoch(pid) };
  }

  /** Set a P aside for a worker about to start (it claims it in attach); returns its id. */
  reserveP(): number {
    if (this.detached) throw this.detachedError('reserveP');
    return acquireP(this.h, -1, P_RESERVED);
  }

  /** The lease number of P pid: it changes every time the P is handed to a new context. */
  pEpoch(pid: number): number {
    if (this.detached) throw this.detachedError('pEpoch');
    this.checkPid('pEpoch', pid);
    const p = this.h.pOf(pid);
    return p === 0 ? -1 : Atomics.load(this.h.views.i32, (p >>> 2) + PW_EPOCH);
  }

  /**
   * Flush this context's mcache (releaseAll) and give its P back. Every method of the
   * handle throws DetachedHeapError afterwards, detach() included (the views stay readable:
   * the objects other contexts hold are still there).
   * @throws DetachedHeapError if the handle was already detached
   */
  detach(): void {
    if (this.detached) throw this.detachedError('detach');
    this.detached = true;
    this.scavenger?.stop();
    detachP(this.h, this.pid, this.mcache, this.emptymspan);
  }

  /**
   * Give back the P of a context that ended without detaching (a worker that exited or
   * was terminated, possibly in the middle of an operation): what it left half done is
   * finished or undone (a heap-lock section, an mcentral list update, a GC cycle, a sweep,
   * a span it had taken), any lock it held is released, its cached spans return to their
   * mcentrals, and the P becomes free (docs/go-mapping.md, "Dead workers"). Returns false
   * (doing nothing) for a P that is not leased (it detached, or was reclaimed already) or,
   * with `epoch` (from the descriptor), whose lease is another one. spawnHeapWorker does
   * this itself (markDead, then reclaimDead) when its worker exits.
   *
   * The P is first marked dead (see {@link Heap.markDead}). The repair needs every heap and
   * mcentral lock for a moment; it never waits on a lock held by a P marked dead (that P
   * is reclaimed first), but it does wait for a live context to let go of one. So when
   * several contexts died, mark them all dead first: a lock held by one not yet marked
   * would be waited for in vain. Only for contexts that are really gone: reclaiming a live
   * context's P corrupts the heap.
   * @throws InvalidArgumentError if pid is not an integer P id below maxProcs, is the
   *   caller's own P, or epoch is given and is not an integer
   */
  reclaimP(pid: number, epoch?: number): boolean {
    this.checkLease('reclaimP', pid, epoch);
    return reclaimP(this.h, pid, epoch, this.emptymspan);
  }

  /**
   * Mark the P of a context that is gone (a worker known to have exited) as dead, without
   * reclaiming it yet: a reclaim that meets a lock held by a dead P reclaims that P first.
   * Returns true if the P is dead now, false if it is not leased or (with `epoch`) its
   * lease is another one.
   * @throws InvalidArgumentError as reclaimP
   */
  markDead(pid: number, epoch?: number): boolean {
    this.checkLease('markDead', pid, epoch);
    return markDead(this.h, pid, epoch);
  }

  /**
   * Reclaim every P marked dead (markDead) that can be reclaimed right now, without
   * waiting: a P whose repair needs a lock that a live context holds is left for a later
   * call. Returns how many dead Ps are left (0: all reclaimed).
   */
  reclaimDead(): number {
    if (this.detached) throw this.detachedError('reclaimDead');
    return reclaimDead(this.h, this.emptymspan);
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
  /** Signed byte view; index = pointer. */
  get i8(): Int8Array { return this.userViews().i8; }
  /** Signed 16-bit view; index = pointer >>> 1. */
  get i16(): Int16Array { return this.userViews().i16; }
  /** 32-bit float view; index = pointer >>> 2. */
  get f32(): Float32Array { return this.userViews().f32; }
  /** Signed 64-bit integer view (bigint elements); index = pointer >>> 3. */
  get i64(): BigInt64Array { return this.userViews().i64; }
  /** Unsigned 64-bit integer view (bigint elements); index = pointer >>> 3. */
  get u64(): BigUint64Array { return this.userViews().u64; }

  /**
   * The views only users need (the allocator uses u8, u16, u32, i32 and f64), made on
   * first use and again after the buffer has grown, so growing the heap costs no more.
   */
  private userViews(): UserViews {
    const v = this.h.views;
    v.sync();
    let uv = this.uv;
    if (uv === undefined || uv.u8 !== v.u8) {
      const b = v.buffer, n = v.u8.length;
      uv = this.uv = { u8: v.u8, i8: new Int8Array(b, 0, n), i16: new Int16Array(b, 0, n >>> 1), f32: new Float32Array(b, 0, n >>> 2), i64: new BigInt64Array(b, 0, n >>> 3), u64: new BigUint64Array(b, 0, n >>> 3) };
    }
    return uv;
  }
  /** A DataView over the whole buffer (as long as it is now). */
  get view(): DataView {
    // One sync, then the buffer and the length of the same views: another worker may grow
    // the memory at any moment (with wasm that replaces memory.buffer).
    const v = this.h.views;
    v.sync();
    const u8 = v.u8;
    return new DataView(u8.buffer, 0, u8.length);
  }
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
   * calloc). size 0 returns the heap's zerobase pointer.
   *
   * Alignment, as in Go: a tiny object (noscan, under 16 bytes) is aligned by its size: to
   * 8 if size is a multiple of 8, else 4 if a multiple of 4, else 2 if even, else 1 (so
   * malloc(12) may return p with p % 8 = 4; an f64 stored there straddles its neighbour's
   * bytes). Any other small object is aligned to the largest power of two dividing its
   * size class (8 at least: 24-byte slots are 8-aligned, 48-byte ones 16-aligned); a large
   * object (over 32 KiB) starts on an 8 KiB page. For more, pass `opts.align` (e.g.
   * `{ align: 8 }` before storing f64 values in a 12-byte object), or use
   * {@link Heap.mallocAs}, which aligns to the element size.
   * @throws InvalidSizeError for a size that is negative, fractional, NaN or larger than the reservation
   * @throws OutOfMemoryError when the reservation is full
   */
  malloc(size: number, opts?: MallocOptions): number {
    // The common call in one test, the rest out of line: small enough for V8 to inline
    // this and mallocgc into the caller.
    if (opts === undefined && typeof size === 'number' && !this.detached) return mallocgc(this, size, 1, false);
    return this.mallocWith(size, opts);
  }

  /** malloc with options, or an error (malloc takes every other call). */
  private mallocWith(size: number, opts: MallocOptions | undefined): number {
    if (this.detached || typeof size !== 'number' || opts === undefined) throw this.badCall('malloc', 'size', size);
    const noscan = noscanOf(opts, 'malloc'); // first: it rejects a non-object opts
    return mallocgc(this, opts.align === undefined ? size : alignedSize(size, opts.align), noscan, false);
  }

  /**
   * Allocate `n` elements of a typed-array type and return a view of them:
   * `heap.mallocAs(Float64Array, 100)` is a Float64Array of 100 elements at a new object,
   * aligned to the element size (or to `opts.align`, if larger); its byteOffset is the
   * pointer. Not zeroed (see {@link Heap.callocAs}). Free it with `heap.free(view)`.
   *
   * The view has a fixed length over the heap's buffer and stays valid when the heap
   * grows (a growable SharedArrayBuffer or resizable ArrayBuffer grows in place; with the
   * wasm backend the view keeps the memory's previous buffer object, which still aliases
   * the same memory). It does not stop the object from being freed: using the view after
   * free(view) reads and writes memory that may belong to another object, as in C.
   * `n` = 0 returns an empty view at byte offset 0 (the null pointer), which free accepts.
   * @throws InvalidSizeError when n is not a non-negative safe integer or too large
   * @throws OutOfMemoryError when the reservation is full
   */
  mallocAs<T extends TypedArray>(type: TypedArrayConstructor<T>, n: number, opts?: MallocOptions): T {
    return this.arrayAlloc(type, n, opts, false, 'mallocAs');
  }

  /** Like {@link Heap.mallocAs}, with the elements zeroed (as calloc). */
  callocAs<T extends TypedArray>(type: TypedArrayConstructor<T>, n: number, opts?: MallocOptions): T {
    return this.arrayAlloc(type, n, opts, true, 'callocAs');
  }

  /**
   * Resize a view from {@link Heap.mallocAs} (or callocAs, reallocAs) to `n` elements of
   * the same type, as {@link Heap.realloc}: in place when the object's slot holds them,
   * else the elements are copied to a new object (same alignment) and the old one is
   * freed. Returns the new view; do not use the old one afterwards. `n` = 0 frees the
   * object and returns an empty view at offset 0.
   * @throws InvalidPointerError if the view's byteOffset is not the base of a live object of this heap
   */
  reallocAs<T extends TypedArray>(view: T, n: number): T {
    const type = view.constructor as TypedArrayConstructor<T>;
    const bpe = type.BYTES_PER_ELEMENT;
    const bytes = elementBytes('reallocAs', n, bpe);
    const p = this.pointerOf(view, 'reallocAs');
    if (bytes === 0) { if (p !== 0) this.free(p); return new type(this.buffer, 0, 0); }
    return this.viewAt(type, this.realloc(p, bytes, { align: bpe }), n);
  }

  private arrayAlloc<T extends TypedArray>(type: TypedArrayConstructor<T>, n: number, opts: MallocOptions | undefined, zero: boolean, op: string): T {
    if (this.detached) throw this.detachedError(op);
    if (opts !== undefined) noscanOf(opts, op);
    const bpe = type.BYTES_PER_ELEMENT;
    const bytes = elementBytes(op, n, bpe);
    if (bytes === 0) return new type(this.buffer, 0, 0);
    const align = opts?.align === undefined ? bpe : Math.max(bpe, checkAlign(opts.align));
    const p = mallocgc(this, alignedSize(bytes, align), opts === undefined || opts.noscan !== false ? 1 : 0, zero);
    return this.viewAt(type, p, n);
  }

  /** A view of n elements at p, over the buffer as it is now. */
  private viewAt<T extends TypedArray>(type: TypedArrayConstructor<T>, p: number, n: number): T {
    const views = this.h.views;
    views.sync();
    // With the wasm backend the buffer object changes when memory grows; remember the ones
    // views were made over, so that free(view) recognises them.
    if (views.memory !== null) (this.viewBuffers ??= new WeakSet()).add(views.buffer);
    return new type(views.buffer, p, n);
  }

  /** The pointer a view passed to free/reallocAs stands for: its byteOffset, if the view is over this heap. */
  private pointerOf(view: ArrayBufferView, op: string): number {
    const buffer = ArrayBuffer.isView(view) ? view.buffer : undefined;
    if (buffer === undefined || (buffer !== this.h.views.buffer && this.viewBuffers?.has(buffer) !== true)) {
      throw new InvalidPointerError(`${op}: expected a pointer or a view made by mallocAs/callocAs/reallocAs over this heap's buffer, got ${buffer === undefined ? typeof view : 'a view of another buffer'}`);
    }
    return view.byteOffset;
  }

  /**
   * Allocate zeroed memory for `n` elements of `size` bytes.
   * @throws InvalidSizeError when n or size is invalid or n * size is larger than the reservation
   */
  calloc(n: number, size: number, opts?: MallocOptions): number {
    if (this.detached) throw this.detachedError('calloc');
    if (!Number.isSafeInteger(n) || n < 0) throw new InvalidSizeError(`calloc: count must be a non-negative integer, got ${describeValue(n)}`);
    if (!Number.isSafeInteger(size) || size < 0) throw new InvalidSizeError(`calloc: size must be a non-negative integer, got ${describeValue(size)}`);
    const total = n * size;
    if (!Number.isSafeInteger(total)) throw new InvalidSizeError(`calloc: ${n} * ${size} overflows`);
    this.checkFits('calloc', total);
    const noscan = opts === undefined ? 1 : noscanOf(opts, 'calloc');
    return mallocgc(this, opts?.align === undefined ? total : alignedSize(total, opts.align), noscan, true);
  }

  /**
   * Free the object at p. It is dead at once (a second free throws DoubleFreeError); its
   * memory is reused once its span has been swept. free(0) does nothing. `p` may be a
   * view from {@link Heap.mallocAs}: its byteOffset is freed (the view must be over this
   * heap's buffer as this context sees it; for a view made in another context, pass
   * `view.byteOffset`).
   * @throws InvalidPointerError if p is not the base of a live object of this heap
   */
  free(p: number | TypedArray): void {
    // A live object's pointer in one test and freeFast (malloc.ts freeObject); the rest
    // out of line: small, so that V8 inlines this and freeFast into the caller.
    if (typeof p === 'number' && !this.detached && freeFast(this, p)) return;
    this.freeOther(p);
  }

  /** free of a pointer freeFast did not free (0, stale views, an error), of a view, or an error. */
  private freeOther(p: number | TypedArray): void {
    if (typeof p === 'number' && !this.detached) { freeSlow(this, p); return; }
    if (this.detached || typeof p === 'number' || !ArrayBuffer.isView(p)) throw this.badCall('free', 'pointer', p);
    this.h.views.sync();
    freeObject(this, this.pointerOf(p, 'free'));
  }

  /**
   * Resize the object at p to `size` bytes. In place when `size` fits the object's slot;
   * otherwise a new object (same scan/noscan kind) receives the old bytes and p is freed.
   * realloc(0, size) is malloc(size); realloc(p, 0) frees p and returns zerobase.
   * With `opts.align` (see {@link MallocOptions.align}) the result has that alignment: p
   * itself if it has it and its slot holds `size` bytes, else a new object.
   */
  realloc(p: number, size: number, opts?: Pick<MallocOptions, 'align'>): number {
    if (this.detached || typeof p !== 'number') throw this.badCall('realloc', 'pointer', p);
    if (typeof size !== 'number' || ((size >>> 0) !== size && !(Number.isSafeInteger(size) && size >= 0))) {
      throw new InvalidSizeError(`realloc: size must be a non-negative integer number of bytes, got ${describeValue(size)}`);
    }
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new ArgError(`realloc: options must be an object, got ${describeValue(opts)}`);
    this.checkFits('realloc', size);
    this.h.views.sync();
    const align = opts?.align;
    if (p === 0) return this.malloc(size, opts);
    const h = this.h;
    if (p === h.zerobase) return this.malloc(size, opts);
    const old = usableSize(this, p, 'realloc');
    if (size === 0) { this.free(p); return h.zerobase; }
    if (size <= old && (align === undefined || p % align === 0)) return p;
    const s = findObject(h, p, 'realloc');
    const noscan = spanClassNoscan(spanSpanclass(h.views.u32, s));
    const q = mallocgc(this, align === undefined ? size : alignedSize(size, align), noscan, false);
    const u8 = h.views.u8;
    u8.copyWithin(q, p, p + Math.min(old, size));
    this.free(p);
    return q;
  }

  /** Bytes usable at p (the object's slot size). @throws InvalidPointerError */
  usableSize(p: number): number {
    if (this.detached) throw this.detachedError('usableSize');
    this.h.views.sync();
    return usableSize(this, p);
  }

  /** Size of the slot that holds the object at p, as Go's span elemsize. @throws InvalidPointerError */
  slotSize(p: number): number {
    if (this.detached) throw this.detachedError('slotSize');
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
    if (this.detached) throw this.detachedError('stackAlloc');
    try {
      return stackalloc(this.h, n);
    } catch (e) {
      if (!(e instanceof OutOfMemoryError) || !gcBeforeOOM(this)) throw e;
      return stackalloc(this.h, n);
    }
  }

  /** Free a stack from stackAlloc; n must be its size (Go: stackfree). @throws InvalidPointerError, DoubleFreeError */
  stackFree(p: number, n: number): void {
    if (this.detached || typeof p !== 'number') throw this.badCall('stackFree', 'pointer', p);
    if (typeof n !== 'number') throw new InvalidSizeError(`stackFree: size must be the stack's size in bytes, got ${describeValue(n)}`);
    stackfree(this.h, p, n);
  }

  // ----- GC, scavenger ----------------------------------------------------------------

  /**
   * Run a full GC cycle (like runtime.GC()): finish sweeping, start a new cycle, flush this
   * context's mcache, and sweep every span, so that every freed object is reclaimed:
   * HeapAlloc equals the live bytes afterwards, and empty spans are back in the heap.
   */
  gc(): GCCycleInfo {
    if (this.detached) throw this.detachedError('gc');
    return gcStart(this, true)!;
  }

  /**
   * Return as much memory to the OS as possible (like debug.FreeOSMemory): a full GC, then
   * every free page is released (sysUnused: Ready -> Prepared). HeapIdle == HeapReleased
   * afterwards. Returns the bytes released by the scavenge.
   */
  freeOSMemory(): number {
    if (this.detached) throw this.detachedError('freeOSMemory');
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
    if (this.detached) throw this.detachedError('setMemoryLimit');
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
    if (this.detached) throw this.detachedError('idleGC');
    gcStart(this, false, true);
  }

  /** Set GOGC; returns the previous value (like debug.SetGCPercent). -1 turns automatic GC off. */
  setGCPercent(percent: number): number {
    if (this.detached) throw this.detachedError('setGCPercent');
    return setGCPercentIn(this.h, percent);
  }

  // ----- statistics -------------------------------------------------------------------

  /**
   * Go's runtime.MemStats for the whole heap. Like runtime.ReadMemStats it first flushes
   * the calling context's mcache, so every object it allocated is counted.
   */
  readMemStats(): MemStats {
    if (this.detached) throw this.detachedError('readMemStats');
    this.h.views.sync();
    releaseAll(this.h, this.mcache, this.emptymspan);
    return computeMemStats(this.h, inFlightAllocs(this.h, this.pid), heapGoal(this.h));
  }

  /** Go's runtime/metrics /memory/classes/... values (and a few /gc/ ones), after a flush like readMemStats. */
  readMetrics(): Record<string, number> {
    if (this.detached) throw this.detachedError('readMetrics');
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
    if (this.detached) throw this.detachedError('check');
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
    if (this.detached) throw this.detachedError('inspect');
    return inspectHeap(this.h);
  }
  // ----- argument errors (cold) --------------------------------------------------------

  private detachedError(op: string): DetachedHeapError {
    return new DetachedHeapError(`${op}: this heap handle was detached (it was P ${this.pid}); attach again for a new one`);
  }

  /** The error of a call refused on entry: detached handle, or an argument of the wrong type. */
  private badCall(op: string, what: 'size' | 'pointer', v: unknown): GoHeapError {
    if (this.detached) return this.detachedError(op);
    return what === 'size'
      ? new InvalidSizeError(`${op}: size must be a non-negative integer number of bytes, got ${describeValue(v)}`)
      : new InvalidPointerError(`${op}: ${describeValue(v)} is not a pointer (a non-negative integer below 2^32)`);
  }

  /** A P id argument: an integer below maxProcs. */
  private checkPid(op: string, pid: unknown): void {
    if (typeof pid !== 'number' || !Number.isInteger(pid) || pid < 0 || pid >= this.h.maxprocs) {
      throw new ArgError(`${op}: pid must be an integer P id in 0..${this.h.maxprocs - 1}, got ${describeValue(pid)}`);
    }
  }

  /** The arguments of reclaimP / markDead: another context's P id, and an integer epoch if any. */
  private checkLease(op: string, pid: unknown, epoch: unknown): void {
    if (this.detached) throw this.detachedError(op);
    this.checkPid(op, pid);
    if (pid === this.pid) throw new ArgError(`${op}: a context cannot reclaim its own P; use detach()`);
    if (epoch !== undefined && (typeof epoch !== 'number' || !Number.isInteger(epoch))) {
      throw new ArgError(`${op}: epoch must be an integer (from the descriptor), got ${describeValue(epoch)}`);
    }
  }

  /** A total size that must fit the reservation. */
  private checkFits(op: string, size: number): void {
    if (size > this.h.mem.reserve) {
      throw new InvalidSizeError(`${op}: size ${size} is larger than the heap's whole reservation (${this.h.mem.reserve} bytes); create the heap with a larger reserve`);
    }
  }
}


/** noscan from malloc's options: true unless `noscan: false`; anything but a boolean is an error. */
function noscanOf(opts: MallocOptions, op: string): number {
  if (opts === null || typeof opts !== 'object') throw new ArgError(`${op}: options must be an object, got ${describeValue(opts)}`);
  return booleanOption(op, 'noscan', opts.noscan, true) ? 1 : 0;
}

/** A boolean option: `dflt` when undefined; anything but true or false is an error (not truthiness). */
function booleanOption(op: string, name: string, v: unknown, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (v === true || v === false) return v;
  throw new ArgError(`${op}: ${name} must be true or false, got ${describeValue(v)}`);
}

function checkGCPercent(percent: unknown): void {
  if (typeof percent !== 'number' || !Number.isInteger(percent) || percent < -1) {
    throw new InvalidArgumentError(`gcPercent must be an integer >= -1, got ${describeValue(percent)}`);
  }
}

function setGCPercentIn(h: MHeap, percent: number): number {
  checkGCPercent(percent);
  const f64 = h.views.f64, st = h.stats;
  const prev = f64[st + ST_GC_PERCENT];
  f64[st + ST_GC_PERCENT] = percent;
  f64[st + ST_HEAP_GOAL] = heapGoalFor(f64[st + ST_HEAP_MARKED], percent);
  return prev;
}

/**
 * The size to ask mallocgc for so that the object's address is a multiple of `align`
 * (see {@link MallocOptions.align}). Not in Go, whose allocator gets the alignment from
 * the type: this picks the size whose Go alignment is at least `align`.
 */
function alignedSize(size: number, align: number): number {
  checkAlign(align);
  if (!Number.isSafeInteger(size) || size <= 0) return size; // mallocgc reports it, or returns zerobase
  // Tiny objects are aligned by their size, every small size class is a multiple of 8.
  if (align <= 8) return Math.ceil(size / align) * align;
  if (size > _MaxSmallSize) return size; // large: page-aligned
  for (let c = sizeToClass(size); c < _NumSizeClasses; c++) if (class_to_size[c]! % align === 0) return class_to_size[c]!;
  return size; // not reached: the largest class (32768) is a multiple of every align <= 8192
}

/** `align` if it is a power of two from 1 to 8192, else InvalidArgumentError. */
function checkAlign(align: number): number {
  if (!Number.isInteger(align) || align < 1 || align > _PageSize || (align & (align - 1)) !== 0) {
    throw new InvalidArgumentError(`align must be a power of two from 1 to ${_PageSize}, got ${describeValue(align)}`);
  }
  return align;
}

/** Bytes of n elements of bpe bytes, for mallocAs/callocAs/reallocAs. */
function elementBytes(op: string, n: number, bpe: number): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidSizeError(`${op}: the element count must be a non-negative integer, got ${describeValue(n)}`);
  return n * bpe;
}
