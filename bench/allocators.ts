/**
 * allocators.ts — goheap and its peers behind the common {@link Allocator} interface.
 *
 *   goheap          this project: Heap.create({ reserve: 1 GiB }) over a growable SharedArrayBuffer
 *   thing-mempool   @thi.ng/malloc MemPool over an ArrayBuffer (first fit, sorted free list)
 *   as-tlsf         AssemblyScript's TLSF (heap.alloc / heap.free, --runtime minimal), one
 *                   JS -> wasm call per malloc / free
 *   as-tlsf-wasm    the same wasm module running the whole loop inside wasm (see child.ts)
 *   bump            lower bound: malloc bumps an offset in a ring buffer, free does nothing
 *   uint8array      what users do otherwise: new Uint8Array(n) per object; free drops the reference
 *
 * Each class is the only one a child process loads into the timed loops, so the loops'
 * call sites see one receiver class.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { MemPool } from '@thi.ng/malloc';
import { Heap } from '../src/index.js';
import type { Allocator, AllocatorStats, GoHeapEndStats } from './common.js';

export const allocatorNames = ['goheap', 'thing-mempool', 'as-tlsf', 'as-tlsf-wasm', 'bump', 'uint8array'] as const;
export type AllocatorName = (typeof allocatorNames)[number];

/** Short descriptions, for BENCHMARKS.md. */
export const allocatorInfo: Record<AllocatorName, string> = {
  'goheap': 'this project, `Heap.create({ reserve: 1 GiB })` (growable SharedArrayBuffer, GOGC=100)',
  'thing-mempool': '`@thi.ng/malloc` MemPool over an ArrayBuffer (defaults: align 8, split + compact on)',
  'as-tlsf': 'AssemblyScript TLSF (`heap.alloc`/`heap.free`, `--runtime minimal -O3`), one JS→wasm call per malloc/free',
  'as-tlsf-wasm': 'the same wasm module with the whole loop inside wasm (upper bound for a wasm allocator)',
  'bump': 'JS bump allocator over a ring buffer: malloc adds, free is a no-op (lower bound)',
  'uint8array': '`new Uint8Array(n)` per object, held in a table; free drops the reference (V8 GC reclaims)',
};

// ----- goheap ------------------------------------------------------------------------

export class GoHeapAllocator implements Allocator {
  readonly name = 'goheap';
  readonly heap: Heap;
  /** A new heap of `reserve` bytes, or (in an (e) worker) a Heap already attached to a shared one. */
  constructor(reserve: number | Heap = 1 << 30) {
    this.heap = typeof reserve === 'number' ? Heap.create({ reserve }) : reserve;
  }
  malloc(size: number): number { return this.heap.malloc(size); }
  free(p: number): void { this.heap.free(p); }
  /** reserved = the SAB's grown byteLength; committed = Sys - HeapReleased (Go's mapped-and-not-released). */
  stats(): AllocatorStats {
    const ms = this.heap.readMemStats();
    return { reserved: this.heap.buffer.byteLength, committed: ms.Sys - ms.HeapReleased };
  }
  endStats(): GoHeapEndStats {
    const ms = this.heap.readMemStats();
    const out: GoHeapEndStats = {
      HeapInuse: ms.HeapInuse, HeapAlloc: ms.HeapAlloc, HeapSys: ms.HeapSys, HeapIdle: ms.HeapIdle,
      HeapReleased: ms.HeapReleased, Sys: ms.Sys, NumGC: ms.NumGC, Mallocs: ms.Mallocs, Frees: ms.Frees,
      HeapAllocAfterGC: 0, HeapInuseAfterGC: 0,
    };
    this.heap.gc();
    const after = this.heap.readMemStats();
    out.HeapAllocAfterGC = after.HeapAlloc;
    out.HeapInuseAfterGC = after.HeapInuse;
    return out;
  }
}

// ----- @thi.ng/malloc ----------------------------------------------------------------

export class ThingAllocator implements Allocator {
  readonly name = 'thing-mempool';
  readonly pool: MemPool;
  readonly capacity: number;
  constructor(capacity: number) {
    this.capacity = capacity;
    this.pool = new MemPool({ size: capacity });
  }
  malloc(size: number): number {
    const p = this.pool.malloc(size);
    if (p === 0) throw new Error(`thing-mempool: out of memory (capacity ${this.capacity})`);
    return p;
  }
  free(p: number): void { this.pool.free(p); }
  /** reserved = the ArrayBuffer; committed = `top`, the pool's high-water mark. */
  stats(): AllocatorStats {
    return { reserved: this.capacity, committed: (this.pool as unknown as { top: number }).top };
  }
}

// ----- AssemblyScript TLSF -----------------------------------------------------------

/** Exports of bench/peers/as/tlsf.ts. */
export interface TlsfExports {
  memory: WebAssembly.Memory;
  malloc(size: number): number;
  free(p: number): void;
  memoryBytes(): number;
  runPairs(sizes: number, mask: number, start: number, n: number): number;
  fillWindow(slots: number, w: number, sizes: number, mask: number): void;
  drainWindow(slots: number, w: number): void;
  runWindowFifo(slots: number, w: number, sizes: number, mask: number, start: number, n: number, pos: number): number;
  runWindowRandom(slots: number, sizes: number, victims: number, mask: number, start: number, n: number): void;
}

export function instantiateTlsf(wasmPath: string): TlsfExports {
  const mod = new WebAssembly.Module(readFileSync(wasmPath));
  const inst = new WebAssembly.Instance(mod, {
    env: {
      abort(_msg: number, _file: number, line: number, col: number): never {
        throw new Error(`AssemblyScript abort at ${line}:${col}`);
      },
    },
  });
  return inst.exports as unknown as TlsfExports;
}

export class TlsfAllocator implements Allocator {
  readonly name: string;
  readonly x: TlsfExports;
  /** Bytes of harness data placed in wasm memory (inputs, slots), not counted as allocator memory. */
  harnessBytes = 0;
  constructor(wasmPath: string, name = 'as-tlsf') {
    this.name = name;
    this.x = instantiateTlsf(wasmPath);
  }
  malloc(size: number): number { return this.x.malloc(size) >>> 0; }
  free(p: number): void { this.x.free(p); }
  /** reserved = committed = wasm linear memory size (it never shrinks), less the harness's own data. */
  stats(): AllocatorStats {
    const b = this.x.memory.buffer.byteLength - this.harnessBytes;
    return { reserved: b, committed: b };
  }
}

// ----- bump --------------------------------------------------------------------------

export class BumpAllocator implements Allocator {
  readonly name = 'bump';
  readonly u8: Uint8Array;
  private top = 0;
  private high = 0;
  private readonly cap: number;
  constructor(capacity: number) {
    this.u8 = new Uint8Array(capacity);
    this.cap = capacity;
  }
  malloc(size: number): number {
    let p = this.top;
    let t = p + ((size + 7) & ~7);
    if (t > this.cap) { // wrap around: a ring, so the bump never runs out
      if (p > this.high) this.high = p;
      p = 0;
      t = (size + 7) & ~7;
    }
    this.top = t;
    return p;
  }
  free(_p: number): void { /* a bump allocator never frees */ }
  stats(): AllocatorStats {
    return { reserved: this.cap, committed: Math.max(this.high, this.top) };
  }
}

// ----- plain Uint8Array --------------------------------------------------------------

export class Uint8ArrayAllocator implements Allocator {
  readonly name = 'uint8array';
  private readonly table: (Uint8Array | null)[];
  private readonly freeIds: Int32Array;
  private nfree = 0;
  private next = 0;
  private readonly base: number;
  constructor(maxLive: number) {
    this.table = new Array<Uint8Array | null>(maxLive + 1).fill(null);
    this.freeIds = new Int32Array(maxLive + 1);
    this.base = jsMemory();
  }
  malloc(size: number): number {
    const id = this.nfree > 0 ? this.freeIds[--this.nfree] : this.next++;
    this.table[id] = new Uint8Array(size);
    return id;
  }
  free(id: number): void {
    this.table[id] = null;
    this.freeIds[this.nfree++] = id;
  }
  /** reserved = committed = growth of V8's used heap + ArrayBuffer memory since creation (garbage included). */
  stats(): AllocatorStats {
    const b = Math.max(0, jsMemory() - this.base);
    return { reserved: b, committed: b };
  }
}

function jsMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
