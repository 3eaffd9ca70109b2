/**
 * mem.ts — the OS memory layer (Go: src/runtime/mem.go, mem_linux.go).
 *
 * Go's runtime sees the process address space as regions in one of four states:
 *
 *   None      unreserved and unmapped (the default).
 *   Reserved  owned by the runtime; touching it faults; costs no memory.
 *   Prepared  mapped, but meant to hold no physical memory (released); contents undefined;
 *             can become Ready cheaply.
 *   Ready     safe to use.
 *
 * and moves regions between them with seven calls:
 *
 *   sysAlloc   None              -> Ready      (the OS picks the address)
 *   sysFree    any               -> None
 *   sysReserve None              -> Reserved
 *   sysMap     Reserved          -> Prepared
 *   sysUsed    Prepared | Ready  -> Ready      (idempotent on Ready pages)
 *   sysUnused  Ready             -> Prepared
 *   sysFault   Ready | Prepared  -> Reserved   (debugging only)
 *
 * goheap's "address space" is one buffer: its maxByteLength is the reservation (at most
 * 4 GiB, like wasm32) and a pointer is a byte offset into it. This file keeps the state of
 * every 8 KiB page of that reservation in a table inside the buffer, checks every call
 * against it (an illegal transition throws IllegalTransitionError and changes nothing) and
 * drives a backend:
 *
 *   - growable SharedArrayBuffer (default): sysMap / sysAlloc / sysUsed grow the buffer to
 *     cover the range. A SharedArrayBuffer cannot shrink; sysUnused gives the pages back
 *     with madvise through the optional native addon (mem_linux.ts, releaseMode
 *     'madvise'), or else only records the release (releaseMode 'none': the pages stay
 *     resident, their contents are undefined as in Go, and the heap zeroes memory it hands
 *     out when it must, span.needzero).
 *   - resizable ArrayBuffer (single thread): like the above, but when the top of the buffer
 *     holds no Ready page any more the buffer really shrinks to the highest Ready page.
 *   - WebAssembly.Memory (shared): grows in 64 KiB wasm pages; cannot shrink (release as
 *     for the SharedArrayBuffer: madvise through the addon, else bookkeeping). Growing
 *     replaces memory.buffer, so every handle reads the buffer through {@link HeapViews},
 *     which re-creates its views when the buffer changed.
 *
 * Differences from Go, forced by JS:
 *   - The tracking unit is the runtime page (8 KiB), not the OS page (4 KiB), so sysAlloc
 *     rounds sizes up to 8 KiB and charges the rounded size (keeps Sys == bytes mapped).
 *   - sysFault cannot make the hardware fault; it makes {@link OSMemory.assertReady} (the
 *     checked-access path) throw for those pages.
 *   - sysReserve with an address hint takes the first None run at or above the hint that is
 *     big enough, like an mmap hint that the kernel may move.
 *
 * Accounting (Go's sysMemStat) lives here too: an array of byte counters in the buffer,
 * indexed by the STAT_* ids below; sysAlloc/sysMap/sysFree charge the stat they are given.
 * `mappedReady` is the number of bytes in the Ready state, as in Go.
 *
 * @module
 */
import { IllegalTransitionError, InvalidArgumentError, OutOfMemoryError, HeapCorruptionError } from './errors.js';
import { pageSize } from './sizeclasses.js';
import {
  OSW_BACKEND, OSW_LENGTH_PAGES, OSW_MAGIC, OSW_MAPPED_READY, OSW_NONE_HINT, OSW_NPAGES,
  OSW_RELEASE_ZERO, OSW_STATIC_BASE, OSW_STATIC_SIZE, OSW_STATE_BYTES, OSW_SYS_STATS, OSW_TABLE_OFF, OSW_VERSION, OS_HEADER_SIZE,
} from './layout.js';
import { releaseAddon, sysUnusedOS, type ReleaseMode } from './mem_linux.js';


/** OS memory state of a page (one byte each in the state table): unreserved and unmapped (Go: None). */
export const MEM_NONE = 0;
/** OS memory state Reserved: owned by the runtime, touching it faults, costs no memory (Go: sysReserve). */
export const MEM_RESERVED = 1;
/** OS memory state Prepared: mapped but released (no physical memory), contents undefined (Go: sysMap, sysUnused). */
export const MEM_PREPARED = 2;
/** OS memory state Ready: safe to use (Go: sysUsed). */
export const MEM_READY = 3;
/** Names of the states, indexed by state. */
export const memStateNames = ['None', 'Reserved', 'Prepared', 'Ready'] as const;

// ---------------------------------------------------------------------------------------
// sysMemStat ids (Go: memstats.*_sys and gcController.heap{InUse,Free,Released}).
// ---------------------------------------------------------------------------------------
/** Bytes in mSpanInUse heap spans (gcController.heapInUse). */
export const STAT_HEAP_INUSE = 0;
/** Bytes of free heap pages that are not released (gcController.heapFree). */
export const STAT_HEAP_FREE = 1;
/** Bytes of free heap pages released to the OS (gcController.heapReleased). */
export const STAT_HEAP_RELEASED = 2;
/** Memory taken for stacks directly from the OS (memstats.stacks_sys). */
export const STAT_STACKS_SYS = 3;
/** mspan structs (memstats.mspan_sys). */
export const STAT_MSPAN_SYS = 4;
/** mcache structs (memstats.mcache_sys). */
export const STAT_MCACHE_SYS = 5;
/** Profiling bucket hash table (memstats.buckhash_sys); goheap has no profiler: always 0. */
export const STAT_BUCKHASH_SYS = 6;
/** GC and page-allocator metadata (memstats.gcMiscSys). */
export const STAT_GC_MISC_SYS = 7;
/** Everything else (memstats.other_sys). */
export const STAT_OTHER_SYS = 8;
/** Heap bytes lent to stack spans (consistent heapStats.inStacks). */
export const STAT_IN_STACKS = 9;
/** Number of sysMemStat counters. */
export const NUM_SYS_STATS = 10;
/** Names of the counters, indexed by id (for error messages and tools). */
export const sysStatNames = [
  'heapInUse', 'heapFree', 'heapReleased', 'stacks_sys', 'mspan_sys', 'mcache_sys',
  'buckhash_sys', 'gcMiscSys', 'other_sys', 'inStacks',
] as const;

// The OS layer's header, at byte 0 of the buffer: OS_* in layout.ts (generated).

const MAGIC = 0x50484f47;
/**
 * Layout version: a buffer made by a goheap whose shared structs differ (layout.ts) is
 * refused. 2: the mspan fields a free reads first, the span bitmaps interleaved.
 */
const VERSION = 2;

/** Backend ids (stored in the header so an attaching worker knows what it has). */
export const BACKEND_SAB = 1;
export const BACKEND_RAB = 2;
export const BACKEND_WASM = 3;
/** The kinds of memory that can back a heap. */
export type BackendKind = 'sab' | 'rab' | 'wasm';

const WASM_PAGE = 65536;

/**
 * Typed-array views over the heap's buffer, shared by every structure of one handle.
 *
 * The views have a fixed length: V8 makes element access on *length-tracking* views of a
 * growable SharedArrayBuffer about 15 times slower (measured here: 33 ns vs 2 ns per
 * element on Node 20), so goheap re-makes its views when the buffer has grown instead.
 * Whoever grows the buffer (under the heap lock) records the new length in the OS
 * header's lengthPages word; {@link HeapViews.sync} compares it with the views' length and
 * re-makes them (for WebAssembly.Memory, from the memory's new buffer). Every path that
 * can touch memory another context published calls sync first: the public entry points
 * that take a pointer, and every slow path right after it takes a lock.
 */
export class HeapViews {
  /** Byte view. */
  u8!: Uint8Array;
  /** 16-bit view (index = byte offset >>> 1). */
  u16!: Uint16Array;
  /** 32-bit unsigned view (index = byte offset >>> 2). */
  u32!: Uint32Array;
  /** 32-bit signed view for Atomics (index = byte offset >>> 2). */
  i32!: Int32Array;
  /** 64-bit float view (index = byte offset >>> 3). */
  f64!: Float64Array;
  /** The buffer the views were made from. */
  buffer!: ArrayBufferLike;
  /** Length of the views in 8 KiB pages. */
  pages = 0;

  constructor(readonly memory: WebAssembly.Memory | null, buffer: ArrayBufferLike) {
    this.set(buffer);
  }

  private set(buffer: ArrayBufferLike): void {
    const len = buffer.byteLength;
    this.buffer = buffer;
    this.u8 = new Uint8Array(buffer, 0, len);
    this.u16 = new Uint16Array(buffer, 0, len >>> 1);
    this.u32 = new Uint32Array(buffer, 0, len >>> 2);
    this.i32 = new Int32Array(buffer, 0, len >>> 2);
    this.f64 = new Float64Array(buffer, 0, len >>> 3);
    this.pages = Math.floor(len / pageSize);
  }

  /** Re-make the views if the buffer's length (or, for wasm, the buffer) changed. */
  refresh(): void {
    const buffer = this.memory !== null ? this.memory.buffer : this.buffer;
    if (buffer !== this.buffer || buffer.byteLength !== this.u8.length) this.set(buffer);
  }

  /** Cheap check, on every entry point: re-make the views if another context grew the buffer. */
  sync(): void {
    if (this.u32[OSW_LENGTH_PAGES] !== this.pages) this.refresh();
  }
}

/** Options that choose and size the backend. */
export interface BackendOptions {
  /** Reservation in bytes (the buffer's maxByteLength); a multiple of 8 KiB, at most 4 GiB. */
  reserve: number;
  /** Backend kind; default 'sab'. */
  backend?: BackendKind;
  /** false: never use the native release addon (releaseMode 'none' on sab/wasm). Default true. */
  native?: boolean;
}

/** Largest reservation: pointers are u32 byte offsets. */
export const maxReserve = 2 ** 32;

/**
 * Handle onto the OS memory layer of one heap. All of its state is in the buffer; the
 * handle holds only the views and constants, so any worker can make one with
 * {@link OSMemory.attach}.
 */
export class OSMemory {
  /** Pages in the reservation. */
  readonly npages: number;
  /** Reservation in bytes. */
  readonly reserve: number;
  private readonly table: number;
  /** The release addon, when this context madvises released pages. */
  private addon: ReturnType<typeof releaseAddon> = null;

  private constructor(readonly views: HeapViews, readonly backend: BackendKind) {
    const u32 = views.u32;
    if (u32[OSW_MAGIC] !== MAGIC) throw new InvalidArgumentError('not a goheap buffer (bad magic)');
    if (u32[OSW_VERSION] !== VERSION) throw new InvalidArgumentError('goheap buffer has an unsupported layout version');
    this.npages = u32[OSW_NPAGES];
    this.reserve = this.npages * pageSize;
    this.table = u32[OSW_TABLE_OFF];
    if (Atomics.load(views.i32, OSW_RELEASE_ZERO) !== 0) {
      // Attaching to a heap whose creator madvises: so must this context, or else every
      // context must stop counting on released pages being zero (never turned back on).
      this.addon = releaseAddon();
      if (this.addon === null) Atomics.store(views.i32, OSW_RELEASE_ZERO, 0);
    }
  }

  /**
   * How this context gives released pages back (mem_linux.ts): 'madvise' (the native
   * addon; RSS falls), 'shrink' (resizable ArrayBuffer: the top of the buffer), 'none'
   * (bookkeeping only).
   */
  get releaseMode(): ReleaseMode {
    if (this.addon !== null && this.releasedPagesAreZero) return 'madvise';
    return this.backend === 'rab' ? 'shrink' : 'none';
  }

  /**
   * Whether every page released by sysUnused reads back as zero: true while all contexts
   * madvise. Read when a span takes released pages (needzero).
   */
  get releasedPagesAreZero(): boolean {
    return Atomics.load(this.views.i32, OSW_RELEASE_ZERO) !== 0;
  }

  /**
   * Create the buffer and the OS layer inside it. The header and the state table are the
   * first allocation: they are sysAlloc'd (None -> Ready) and charged to other_sys.
   */
  static create(opts: BackendOptions): OSMemory {
    const reserve = opts.reserve;
    if (!Number.isSafeInteger(reserve) || reserve <= 0 || reserve % pageSize !== 0 || reserve > maxReserve) {
      throw new InvalidArgumentError(`reserve must be a positive multiple of ${pageSize} bytes and at most 4 GiB, got ${reserve}`);
    }
    const kind = opts.backend ?? 'sab';
    const npages = reserve / pageSize;
    const tableOff = align(OS_HEADER_SIZE, 8);
    const bootBytes = align(tableOff + npages, pageSize);
    if (bootBytes > reserve) throw new OutOfMemoryError(`reserve of ${reserve} bytes cannot hold the OS page table (${bootBytes} bytes)`);

    let memory: WebAssembly.Memory | null = null;
    let buffer: ArrayBufferLike;
    if (kind === 'sab') {
      buffer = new SharedArrayBuffer(bootBytes, { maxByteLength: reserve });
    } else if (kind === 'rab') {
      buffer = new ArrayBuffer(bootBytes, { maxByteLength: reserve });
    } else if (kind === 'wasm') {
      if (reserve % WASM_PAGE !== 0) throw new InvalidArgumentError(`a WebAssembly.Memory reserve must be a multiple of 64 KiB, got ${reserve}`);
      memory = new WebAssembly.Memory({ initial: align(bootBytes, WASM_PAGE) / WASM_PAGE, maximum: reserve / WASM_PAGE, shared: true });
      buffer = memory.buffer;
    } else {
      throw new InvalidArgumentError(`unknown backend '${String(kind)}' (expected 'sab', 'rab' or 'wasm')`);
    }
    const views = new HeapViews(memory, buffer);
    const u32 = views.u32;
    u32[OSW_MAGIC] = MAGIC;
    u32[OSW_VERSION] = VERSION;
    u32[OSW_NPAGES] = npages;
    u32[OSW_TABLE_OFF] = tableOff;
    u32[OSW_BACKEND] = kind === 'sab' ? BACKEND_SAB : kind === 'rab' ? BACKEND_RAB : BACKEND_WASM;
    u32[OSW_LENGTH_PAGES] = views.pages;
    const f64 = views.f64;
    f64[OSW_STATE_BYTES + MEM_NONE] = reserve;
    const mem = new OSMemory(views, kind);
    // The boot pages (this header and the table) are the first sysAlloc: None -> Ready.
    const p = mem.sysAlloc(bootBytes - 0, STAT_OTHER_SYS);
    if (p !== 0) throw new HeapCorruptionError(`boot allocation landed at ${p}, expected 0`);
    if (kind !== 'rab' && opts.native !== false) {
      mem.addon = releaseAddon();
      if (mem.addon !== null) Atomics.store(views.i32, OSW_RELEASE_ZERO, 1);
    }
    return mem;
  }

  /** Attach to the OS layer of an existing buffer (another worker). */
  static attach(buffer: ArrayBufferLike, memory: WebAssembly.Memory | null): OSMemory {
    const views = new HeapViews(memory, memory ? memory.buffer : buffer);
    const k = views.u32[OSW_BACKEND];
    return new OSMemory(views, k === BACKEND_SAB ? 'sab' : k === BACKEND_RAB ? 'rab' : 'wasm');
  }

  // ----- state table -----------------------------------------------------------------

  /** State of the page containing byte address p (MEM_NONE beyond the reservation). */
  stateOf(p: number): number {
    const i = Math.floor(p / pageSize);
    if (i < 0 || i >= this.npages) return MEM_NONE;
    return this.views.u8[this.table + i];
  }

  /**
   * Copy the state of every page of the reservation (MEM_* per 8 KiB page) into `out`
   * (length npages), for heap.inspect(). Go: none (Go's states live in the kernel's page
   * tables; goheap keeps them in its table).
   */
  copyStates(out: Uint8Array): void {
    out.set(this.views.u8.subarray(this.table, this.table + this.npages));
  }

  /** Bytes currently in the given state. */
  bytesInState(state: number): number {
    return this.views.f64[OSW_STATE_BYTES + state];
  }

  /** Bytes in the Ready state (Go: gcController.mappedReady). */
  get mappedReady(): number {
    return this.views.f64[OSW_MAPPED_READY];
  }

  /** Bytes mapped: Prepared + Ready. Equals Sys. */
  get mapped(): number {
    return this.bytesInState(MEM_PREPARED) + this.bytesInState(MEM_READY);
  }

  /** Current value of a sysMemStat counter. */
  stat(id: number): number {
    return this.views.f64[OSW_SYS_STATS + id];
  }

  /**
   * Add delta to a sysMemStat counter (Go: sysMemStat.add). Throws on underflow, which
   * only a bug in goheap can cause.
   */
  statAdd(id: number, delta: number): void {
    const i = OSW_SYS_STATS + id;
    const v = this.views.f64[i] + delta;
    if (v < 0) throw new HeapCorruptionError(`sysMemStat ${sysStatNames[id]} would go negative (${this.views.f64[i]} + ${delta})`);
    this.views.f64[i] = v;
  }

  // ----- the seven transitions --------------------------------------------------------

  /**
   * None -> Ready at an address the OS chooses (the lowest None run that fits). Charges
   * the (page-rounded) size to `stat`. Returns the address, or -1 if no None run is big
   * enough (Go returns nil).
   */
  sysAlloc(n: number, stat: number): number {
    const bytes = this.pageBytes(n, 'sysAlloc');
    const np = bytes / pageSize;
    const i = this.findNoneRun(this.views.u32[OSW_NONE_HINT], np, 1);
    if (i < 0) return -1;
    const v = i * pageSize;
    this.ensureLength(v + bytes);
    this.setStates(i, np, MEM_READY);
    this.statAdd(stat, bytes);
    this.advanceNoneHint();
    return v;
  }

  /**
   * None -> Ready for exactly [v, v + n): the static region, where a WebAssembly module's
   * data segment lives at the address it was compiled for. Go has no such call: its linker
   * places a binary's data and bss, and on 32-bit targets (wasm among them) mallocinit
   * hints the heap to start above the end of the binary. Here the module is placed into
   * an address space goheap already owns, so the OS layer sets the range aside (before the
   * heap takes any memory, by Heap.create's staticData option), charges it to `stat`, and
   * records it in the header for every attached context. One static region per buffer.
   * @throws InvalidArgumentError when the range is not page-aligned, not inside the
   *   reservation, not entirely None (it overlaps the OS header or metadata), or a static
   *   region exists already
   */
  sysAllocStatic(v: number, n: number, stat: number): void {
    const u32 = this.views.u32;
    if (u32[OSW_STATIC_SIZE] !== 0) throw new InvalidArgumentError('sysAllocStatic: the buffer has a static region already');
    const [i, np] = this.range(v, n, 'sysAllocStatic');
    for (let k = 0; k < np; k++) {
      if (this.views.u8[this.table + i + k] !== MEM_NONE) {
        throw new InvalidArgumentError(`sysAllocStatic: [${v}, ${v + n}) overlaps memory goheap uses already (page ${i + k} is ${memStateNames[this.views.u8[this.table + i + k]]}); place it higher`);
      }
    }
    this.ensureLength(v + n);
    this.setStates(i, np, MEM_READY);
    this.statAdd(stat, n);
    this.advanceNoneHint();
    u32[OSW_STATIC_BASE] = v;
    u32[OSW_STATIC_SIZE] = n;
  }

  /** The static region set aside by {@link OSMemory.sysAllocStatic}: [base, size], size 0 if none. */
  get staticRegion(): [number, number] {
    const u32 = this.views.u32;
    return [u32[OSW_STATIC_BASE], u32[OSW_STATIC_SIZE]];
  }

  /** any -> None. Uncharges `stat` by n (-1: nothing was charged, e.g. a Reserved range). */
  sysFree(v: number, n: number, stat: number): void {
    const [i, np] = this.range(v, n, 'sysFree');
    this.setStates(i, np, MEM_NONE);
    if (stat >= 0) this.statAdd(stat, -n);
    if (i < this.views.u32[OSW_NONE_HINT]) this.views.u32[OSW_NONE_HINT] = i;
    this.shrinkIfPossible();
  }

  /**
   * None -> Reserved. `v` is a hint: the first run of None pages at or above it that holds
   * n bytes is reserved. Returns its address, or -1 if there is none.
   */
  sysReserve(v: number, n: number): number {
    const bytes = this.pageBytes(n, 'sysReserve');
    if (!Number.isSafeInteger(v) || v < 0 || v % pageSize !== 0) throw new InvalidArgumentError(`sysReserve: hint ${v} is not page-aligned`);
    return this.sysReserveAligned(v, bytes, pageSize);
  }

  /**
   * None -> Reserved for the first run of n None bytes whose address is a multiple of
   * `alignment` and at least `hint` (Go: sysReserveAligned, which over-reserves and trims;
   * we can simply search the table). Returns the address, or -1 if there is none.
   */
  sysReserveAligned(hint: number, n: number, alignment: number): number {
    const bytes = this.pageBytes(n, 'sysReserveAligned');
    const np = bytes / pageSize, step = Math.max(1, alignment / pageSize);
    const i = this.findNoneRun(Math.ceil(hint / alignment) * step, np, step);
    if (i < 0) return -1;
    this.setStates(i, np, MEM_RESERVED);
    this.advanceNoneHint();
    return i * pageSize;
  }

  /** Bytes in the longest run of None pages at an `alignment` boundary at or above `hint`. */
  largestNoneRun(hint: number, alignment: number): number {
    const step = Math.max(1, alignment / pageSize);
    const u8 = this.views.u8, t = this.table;
    let best = 0;
    for (let i = Math.ceil(hint / alignment) * step; i < this.npages; ) {
      let j = 0;
      while (i + j < this.npages && u8[t + i + j] === MEM_NONE) j++;
      if (j > best) best = j;
      i = Math.ceil((i + j + 1) / step) * step;
    }
    return best * pageSize;
  }

  /** Reserved -> Prepared; grows the buffer to cover the range; charges `stat`. */
  sysMap(v: number, n: number, stat: number): void {
    const [i, np] = this.range(v, n, 'sysMap');
    this.requireStates(i, np, 1 << MEM_RESERVED, 'sysMap', 'Reserved');
    this.ensureLength(v + n);
    this.setStates(i, np, MEM_PREPARED);
    this.statAdd(stat, n);
  }

  /**
   * Prepared -> Ready (pages already Ready stay Ready). Returns the number of bytes that
   * were Prepared (Go's caller passes this count; we compute it from the table).
   */
  sysUsed(v: number, n: number): number {
    const [i, np] = this.range(v, n, 'sysUsed');
    this.requireStates(i, np, (1 << MEM_PREPARED) | (1 << MEM_READY), 'sysUsed', 'Prepared or Ready');
    this.ensureLength(v + n);
    const u8 = this.views.u8, t = this.table;
    let prepared = 0;
    for (let k = 0; k < np; k++) if (u8[t + i + k] === MEM_PREPARED) prepared++;
    this.setStates(i, np, MEM_READY);
    return prepared * pageSize;
  }

  /**
   * Ready -> Prepared (release). With the native addon the pages go back to the kernel
   * (madvise); the resizable-ArrayBuffer backend shrinks its top.
   */
  sysUnused(v: number, n: number): void {
    const [i, np] = this.range(v, n, 'sysUnused');
    this.requireStates(i, np, 1 << MEM_READY, 'sysUnused', 'Ready');
    if (this.addon !== null && (this.views.refresh(), !sysUnusedOS(this.addon, this.views.buffer, v, n))) {
      // The kernel refused (it should not): bookkeeping from now on, for every context.
      this.addon = null;
      Atomics.store(this.views.i32, OSW_RELEASE_ZERO, 0);
    }
    this.setStates(i, np, MEM_PREPARED);
    this.shrinkIfPossible();
  }

  /** Ready | Prepared -> Reserved. Checked accesses to the range fail afterwards. */
  sysFault(v: number, n: number): void {
    const [i, np] = this.range(v, n, 'sysFault');
    this.requireStates(i, np, (1 << MEM_READY) | (1 << MEM_PREPARED), 'sysFault', 'Ready or Prepared');
    // Go keeps the stat charged (the caller's problem); we do the same.
    this.setStates(i, np, MEM_RESERVED);
    this.shrinkIfPossible();
  }

  /** Throws IllegalTransitionError unless every page of [v, v+n) is Ready (checked access). */
  assertReady(v: number, n: number): void {
    const [i, np] = this.range(v, Math.max(n, 1), 'access', true);
    this.requireStates(i, np, 1 << MEM_READY, 'access', 'Ready');
  }

  // ----- helpers ----------------------------------------------------------------------

  /**
   * First page index >= `from` (a multiple of `step`) that starts a run of np None pages
   * and is itself a multiple of `step`; -1 if there is none. Like an mmap placement search.
   */
  private findNoneRun(from: number, np: number, step: number): number {
    const u8 = this.views.u8, t = this.table;
    let i = from;
    while (i + np <= this.npages) {
      let j = 0;
      while (j < np && u8[t + i + j] === MEM_NONE) j++;
      if (j === np) return i;
      i = Math.ceil((i + j + 1) / step) * step;
    }
    return -1;
  }

  private pageBytes(n: number, op: string): number {
    if (!Number.isSafeInteger(n) || n <= 0) throw new InvalidArgumentError(`${op}: size must be a positive integer, got ${n}`);
    return align(n, pageSize);
  }

  /** Validate [v, v+n) (page-aligned, inside the reservation) and return [first page, npages]. */
  private range(v: number, n: number, op: string, unaligned = false): [number, number] {
    if (!Number.isSafeInteger(v) || !Number.isSafeInteger(n) || n <= 0 || v < 0) {
      throw new InvalidArgumentError(`${op}: bad range [${v}, ${v}+${n})`);
    }
    if (!unaligned && (v % pageSize !== 0 || n % pageSize !== 0)) {
      throw new InvalidArgumentError(`${op}: range [${v}, ${v + n}) is not aligned to ${pageSize}-byte pages`);
    }
    if (v + n > this.reserve) {
      throw new IllegalTransitionError(`${op}: range [${v}, ${v + n}) goes beyond the reservation (${this.reserve} bytes): those pages are None`);
    }
    const i = Math.floor(v / pageSize);
    return [i, Math.ceil((v + n) / pageSize) - i];
  }

  private requireStates(i: number, np: number, allowed: number, op: string, want: string): void {
    const u8 = this.views.u8, t = this.table;
    for (let k = 0; k < np; k++) {
      const s = u8[t + i + k];
      if (((1 << s) & allowed) === 0) {
        throw new IllegalTransitionError(
          `${op}: page ${i + k} (address ${(i + k) * pageSize}) is ${memStateNames[s]}, must be ${want}; nothing was changed`);
      }
    }
  }

  private setStates(i: number, np: number, to: number): void {
    const u8 = this.views.u8, t = this.table, f64 = this.views.f64;
    const sb = OSW_STATE_BYTES;
    let readyDelta = 0;
    for (let k = 0; k < np; k++) {
      const from = u8[t + i + k];
      if (from === to) continue;
      f64[sb + from] -= pageSize;
      f64[sb + to] += pageSize;
      if (from === MEM_READY) readyDelta -= pageSize;
      else if (to === MEM_READY) readyDelta += pageSize;
      u8[t + i + k] = to;
    }
    f64[OSW_MAPPED_READY] += readyDelta;
  }

  private advanceNoneHint(): void {
    const u8 = this.views.u8, t = this.table;
    let i = this.views.u32[OSW_NONE_HINT];
    while (i < this.npages && u8[t + i] !== MEM_NONE) i++;
    this.views.u32[OSW_NONE_HINT] = i;
  }

  /** Make the buffer at least `end` bytes long. */
  private ensureLength(end: number): void {
    const views = this.views;
    views.refresh();
    const buf = views.buffer;
    if (buf.byteLength >= end) return;
    if (this.backend === 'wasm') {
      views.memory!.grow(Math.ceil((end - buf.byteLength) / WASM_PAGE));
    } else if (this.backend === 'sab') {
      (buf as SharedArrayBuffer).grow(end);
    } else {
      (buf as ArrayBuffer).resize(end);
    }
    this.publishLength();
  }

  /** Re-make this context's views and tell the others the buffer's new length. */
  private publishLength(): void {
    const views = this.views;
    views.refresh();
    Atomics.store(views.i32, OSW_LENGTH_PAGES, views.pages);
  }

  /** Resizable ArrayBuffer only: shrink the buffer to the end of the highest Ready page. */
  private shrinkIfPossible(): void {
    if (this.backend !== 'rab') return;
    const buf = this.views.buffer as ArrayBuffer;
    const u8 = this.views.u8, t = this.table;
    let top = Math.ceil(buf.byteLength / pageSize);
    // The state table itself lives below every heap page, so reading it here is safe.
    while (top > 0 && u8[t + top - 1] !== MEM_READY) top--;
    if (top * pageSize < buf.byteLength) {
      buf.resize(top * pageSize);
      this.publishLength();
    }
  }

  /** Current length of the backing buffer in bytes. */
  get bufferLength(): number {
    this.views.refresh();
    return this.views.u8.length;
  }

  /** Pages per state in the state table. */
  private countStates(): number[] {
    const counts = [0, 0, 0, 0];
    const u8 = this.views.u8, t = this.table;
    for (let i = 0; i < this.npages; i++) {
      const s = u8[t + i];
      if (s > MEM_READY) throw new HeapCorruptionError(`OS page ${i} has invalid state ${s}`);
      counts[s]++;
    }
    return counts;
  }

  /**
   * Set the per-state byte counters and mappedReady from the state table: after a worker
   * died in the middle of a transition (a page moved, its counters not yet). Heap lock held.
   */
  recountStates(): void {
    const counts = this.countStates(), f64 = this.views.f64;
    for (let s = 0; s < 4; s++) f64[OSW_STATE_BYTES + s] = counts[s] * pageSize;
    f64[OSW_MAPPED_READY] = counts[MEM_READY] * pageSize;
  }

  /**
   * Recount the state table and compare with the per-state byte counters and mappedReady.
   * Throws HeapCorruptionError on the first difference.
   */
  check(): void {
    const counts = this.countStates();
    const u8 = this.views.u8, t = this.table;
    for (let s = 0; s < 4; s++) {
      if (counts[s] * pageSize !== this.bytesInState(s)) {
        throw new HeapCorruptionError(`OS layer: ${counts[s] * pageSize} bytes are ${memStateNames[s]} in the page table, but the counter says ${this.bytesInState(s)}`);
      }
    }
    if (counts[MEM_READY] * pageSize !== this.mappedReady) {
      throw new HeapCorruptionError(`OS layer: mappedReady ${this.mappedReady} != ${counts[MEM_READY] * pageSize} Ready bytes`);
    }
    const top = this.bufferLength;
    for (let i = Math.ceil(top / pageSize); i < this.npages; i++) {
      if (u8[t + i] === MEM_READY) throw new HeapCorruptionError(`OS layer: page ${i} is Ready but beyond the buffer's length ${top}`);
    }
  }
}

/** Round n up to a multiple of a (a power of two or any positive integer). */
export function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
