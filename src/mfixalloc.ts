/**
 * mfixalloc.ts — fixalloc and persistentalloc (Go: src/runtime/mfixalloc.go, malloc.go).
 *
 * The allocator needs memory for its own metadata (span structs, mcaches, bitmaps, arena
 * tables). That memory cannot come from the heap it describes, so Go has two small
 * allocators beside it:
 *
 *   persistentalloc  a bump allocator over 256 KiB chunks obtained with sysAlloc. Memory it
 *                    hands out is never freed. Requests of 64 KiB or more go straight to
 *                    sysAlloc. A chunk is charged to other_sys; each carve moves its bytes
 *                    from other_sys to the stat of the caller (so Sys never double counts).
 *   fixalloc         a free-list allocator of one fixed object size on top of
 *                    persistentalloc: it carves 16 KiB chunks (rounded down to whole
 *                    objects) and keeps freed objects on a LIFO list linked through their
 *                    first word. `inuse` counts bytes handed out and not freed; the chunks
 *                    are charged to the fixalloc's stat (MSpanSys, MCacheSys, GCSys...).
 *
 * Both keep their state inside the heap buffer, so any worker can use them; the caller
 * holds the heap lock (as in Go).
 *
 * @module
 */
import { OutOfMemoryError, InvalidArgumentError, HeapCorruptionError } from './errors.js';
import { OSMemory, STAT_OTHER_SYS } from './mem.js';
import {
  FW_CHUNK, FW_INUSE, FW_LIST, FW_NALLOC, FW_NCHUNK, FW_STAT, FW_ZERO, PERW_CHUNK, PERW_OFF,
  fixallocInuse, fixallocList, fixallocSize, persistentChunk, persistentOff, setFixallocChunk,
  setFixallocInuse, setFixallocList, setFixallocNalloc, setFixallocNchunk, setFixallocSize,
  setFixallocStat, setFixallocZero,
} from './layout.js';

/** Go: persistentChunkSize. */
export const persistentChunkSize = 256 << 10;
/** Requests at least this large bypass the chunk (Go: maxBlock in persistentalloc). */
export const persistentMaxBlock = 64 << 10;
/** Go: _FixAllocChunk. */
export const fixAllocChunk = 16 << 10;

// persistentalloc state: PER_* in layout.ts (generated).

/** Handle onto the persistentalloc state at byte offset `off` of the buffer. */
export class PersistentAlloc {
  constructor(readonly mem: OSMemory, readonly off: number) {}

  /**
   * Allocate `size` zeroed bytes aligned to `alignment` (a power of two <= 8192; 0 means 8)
   * and charge them to `stat`. Never freed. Throws OutOfMemoryError when the reservation
   * has no room; nothing changes then.
   */
  alloc(size: number, alignment: number, stat: number): number {
    if (alignment === 0) alignment = 8;
    if ((alignment & (alignment - 1)) !== 0 || alignment > 8192) throw new InvalidArgumentError(`persistentalloc: bad alignment ${alignment}`);
    const mem = this.mem;
    if (size >= persistentMaxBlock) {
      const p = mem.sysAlloc(size, stat);
      if (p < 0) throw new OutOfMemoryError(`persistentalloc: no room for ${size} bytes of metadata in the reservation`);
      return p;
    }
    const u32 = mem.views.u32;
    let chunk = persistentChunk(u32, this.off);
    let off = alignUp(persistentOff(u32, this.off), alignment);
    if (chunk === 0 || off + size > persistentChunkSize) {
      const c = mem.sysAlloc(persistentChunkSize, STAT_OTHER_SYS);
      if (c < 0) throw new OutOfMemoryError(`persistentalloc: no room for a ${persistentChunkSize}-byte metadata chunk in the reservation`);
      chunk = c;
      off = 0; // Go links chunks through their first word; we never walk them, so no link.
      u32[(this.off >>> 2) + PERW_CHUNK] = chunk; // no call between these two stores
    }
    u32[(this.off >>> 2) + PERW_OFF] = off + size;
    if (stat !== STAT_OTHER_SYS) {
      mem.statAdd(stat, size);
      mem.statAdd(STAT_OTHER_SYS, -size);
    }
    return chunk + off;
  }
}

// fixalloc state: F_* in layout.ts (generated).

/** Handle onto a fixalloc whose state is at byte offset `off`. */
export class FixAlloc {
  private readonly size: number;
  constructor(readonly mem: OSMemory, readonly persistent: PersistentAlloc, readonly off: number) {
    this.size = fixallocSize(mem.views.u32, off);
  }

  /** Initialise the fixalloc state at `off` (Go: fixalloc.init). */
  static init(mem: OSMemory, off: number, size: number, stat: number, zero: boolean): void {
    if (size > fixAllocChunk) throw new InvalidArgumentError(`fixalloc: size ${size} > ${fixAllocChunk}`);
    if (size < 4) size = 4; // at least one link word
    const u32 = mem.views.u32;
    setFixallocSize(u32, off, size);
    setFixallocList(u32, off, 0);
    setFixallocChunk(u32, off, 0);
    setFixallocNchunk(u32, off, 0);
    setFixallocNalloc(u32, off, Math.floor(fixAllocChunk / size) * size);
    setFixallocInuse(u32, off, 0);
    setFixallocStat(u32, off, stat);
    setFixallocZero(u32, off, zero ? 1 : 0);
  }

  /** Allocate one object; throws OutOfMemoryError (changing nothing) when out of room. */
  alloc(): number {
    const views = this.mem.views;
    const u32 = views.u32, ow = this.off >>> 2, size = this.size;
    // Word indices, not accessor calls: a push or pop is a few stores with no call between
    // them, so a terminated worker does not leave the free list torn (proc.ts).
    const head = u32[ow + FW_LIST];
    if (head !== 0) {
      u32[ow + FW_LIST] = u32[head >>> 2];
      u32[ow + FW_INUSE] += size;
      // u32.fill where it can: on a SharedArrayBuffer, Uint8Array.fill costs 2-3x as much.
      if (u32[ow + FW_ZERO] !== 0) {
        if (((head | size) & 3) === 0) u32.fill(0, head >>> 2, (head + size) >>> 2);
        else views.u8.fill(0, head, head + size);
      }
      else u32[head >>> 2] = 0;
      return head;
    }
    if (u32[ow + FW_NCHUNK] < size) {
      const nalloc = u32[ow + FW_NALLOC];
      // Chunks start on a cache line, so objects of 64-byte multiples never share one.
      const c = this.persistent.alloc(nalloc, 64, u32[ow + FW_STAT]);
      u32[ow + FW_CHUNK] = c;
      u32[ow + FW_NCHUNK] = nalloc;
    }
    const p = u32[ow + FW_CHUNK];
    u32[ow + FW_CHUNK] = p + size;
    u32[ow + FW_NCHUNK] -= size;
    u32[ow + FW_INUSE] += size;
    return p;
  }

  /** Return an object to the free list. */
  free(p: number): void {
    const u32 = this.mem.views.u32, ow = this.off >>> 2;
    if (u32[ow + FW_INUSE] < this.size) throw new HeapCorruptionError(`fixalloc: free of ${p} with nothing in use`);
    u32[ow + FW_INUSE] -= this.size;
    u32[p >>> 2] = u32[ow + FW_LIST];
    u32[ow + FW_LIST] = p;
  }

  /** Bytes handed out and not freed (Go: fixalloc.inuse). */
  get inuse(): number {
    return fixallocInuse(this.mem.views.u32, this.off);
  }

  /**
   * Set inuse to `n` objects' worth: after a worker died between taking an object and
   * recording it, the object is lost (leaked) but no longer counted. Heap lock held.
   */
  recountInuse(n: number): void {
    setFixallocInuse(this.mem.views.u32, this.off, n * this.size);
  }

  /** Object size. */
  get objSize(): number {
    return this.size;
  }

  /** Length of the free list (walks it; for check()). */
  freeListLength(): number {
    const u32 = this.mem.views.u32;
    let n = 0;
    for (let p = fixallocList(u32, this.off); p !== 0; p = u32[p >>> 2]) {
      if (++n > 1 << 26) throw new HeapCorruptionError('fixalloc: free list has a cycle');
    }
    return n;
  }
}

function alignUp(n: number, a: number): number {
  return (n + a - 1) & ~(a - 1);
}
