/**
 * stack.ts — stacks (Go: src/runtime/stack.go), for the shadow stacks of wasm threads,
 * fibers and coroutines.
 *
 * Stacks are power-of-two blocks of at least 2 KiB carved from *manual* spans: spans the
 * heap lends out and that the sweeper never sees. Their bytes leave HeapSys/HeapInuse and
 * count in StackInuse/StackSys instead, whole spans at a time, as in Go.
 *
 *   small stacks (2, 4, 8, 16 KiB: orders 0..3)  come from the stack pool: per order, a
 *       list of 32 KiB spans cut into slots of that size, each span keeping its free
 *       slots on a list threaded through their first word (mspan.manualFreeList). A span
 *       whose last slot is freed goes back to the heap.
 *   large stacks (32 KiB and more)                get a span of their own.
 *
 * Differences from Go: there is no per-P stack cache (stackcache) and no deferral of
 * frees to the end of a GC (goheap has no concurrent mark); the pool is protected by the
 * heap lock instead of a lock per order.
 *
 * @module
 */
import { InvalidPointerError, InvalidSizeError, OutOfMemoryError, DoubleFreeError, describeValue } from './errors.js';
import { lock, unlock } from './lock_futex.js';
import { spanAllocStack, type MHeap } from './mheap.js';
import { listInsert, listRemove } from './mspanset.js';
import { mSpanManual } from './mspan.js';
import { pageSize } from './sizeclasses.js';
import {
  SLW_FIRST, SLW_LAST, SPAN_LIST_SIZE, SW_ALLOCCOUNT, SW_ELEMSIZE, SW_MANUAL_FREE, SW_START, type SpanPtr, mSpanListFirst, setSpanAllocCount,
  setSpanManualFreeList, spanElemsize, spanManualFreeList, spanNext, spanStartAddr, spanState,
} from './layout.js';

/** Go: _FixedStack, the smallest stack. */
export const fixedStack = 2048;
/** Go: _NumStackOrders (2, 4, 8, 16 KiB). */
export const numStackOrders = 4;
/** Go: _StackCacheSize: the size of a stack pool span. */
export const stackPoolSpanBytes = 32 << 10;

/** Allocate a stack of n bytes (a power of two >= 2048); returns its lowest address. */
export function stackalloc(h: MHeap, n: number): number {
  if (!Number.isSafeInteger(n) || n < fixedStack || (n & (n - 1)) !== 0 || n > h.reserve) {
    throw new InvalidSizeError(`stackAlloc: size must be a power of two of at least ${fixedStack} bytes, got ${describeValue(n)}`);
  }
  lock(h.views.i32, h.lockOff, h.lockToken);
  h.views.sync();
  try {
    if (n < stackPoolSpanBytes) return stackpoolalloc(h, 31 - Math.clz32(n / fixedStack));
    const s = h.allocSpanLocked(n / pageSize, spanAllocStack, 0);
    const sw = s >>> 2;
    if (s === 0) throw new OutOfMemoryError(`out of memory: no room for a ${n}-byte stack`);
    const u32 = h.views.u32;
    u32[sw + SW_ELEMSIZE] = n;
    u32[sw + SW_ALLOCCOUNT] = 1;
    return u32[sw + SW_START];
  } finally {
    unlock(h.views.i32, h.lockOff);
  }
}

/** Free the stack of n bytes at p. */
export function stackfree(h: MHeap, p: number, n: number): void {
  lock(h.views.i32, h.lockOff, h.lockToken);
  h.views.sync();
  try {
    const s = (p >>> 0) === p && p < h.reserve ? h.spanOf(p) : 0;
    const u32 = h.views.u32;
    if (s === 0 || spanState(u32, s) !== mSpanManual) throw new InvalidPointerError(`stackFree: ${String(p)} is not a stack`);
    const elemsize = spanElemsize(u32, s), start = spanStartAddr(u32, s);
    if (n !== elemsize) throw new InvalidSizeError(`stackFree: the stack at ${p} has ${elemsize} bytes, not ${n}`);
    if ((p - start) % elemsize !== 0) throw new InvalidPointerError(`stackFree: ${p} is inside a stack, not at its start`);
    if (n >= stackPoolSpanBytes) {
      setSpanAllocCount(u32, s, 0);
      h.freeSpanLocked(s);
      return;
    }
    for (let x = spanManualFreeList(u32, s); x !== 0; x = u32[x >>> 2]) {
      if (x === p) throw new DoubleFreeError(`stackFree: the stack at ${p} was already freed`);
    }
    stackpoolfree(h, s, p, 31 - Math.clz32(n / fixedStack));
  } finally {
    unlock(h.views.i32, h.lockOff);
  }
}

/** A slot of order `order` from the pool (Go: stackpoolalloc). Heap lock held. */
function stackpoolalloc(h: MHeap, order: number): number {
  const head = h.stackpool + order * SPAN_LIST_SIZE;
  let u32 = h.views.u32;
  let s: SpanPtr | 0 = mSpanListFirst(u32, head);
  if (s === 0) {
    s = h.allocSpanLocked(stackPoolSpanBytes / pageSize, spanAllocStack, 0);
    if (s === 0) throw new OutOfMemoryError('out of memory: no room for a stack pool span');
    u32 = h.views.u32;
    const size = fixedStack << order, start = u32[(s >>> 2) + SW_START];
    u32[(s >>> 2) + SW_ELEMSIZE] = size;
    let list = 0;
    for (let i = stackPoolSpanBytes / size - 1; i >= 0; i--) {
      const x = start + i * size;
      u32[x >>> 2] = list;
      list = x;
    }
    u32[(s >>> 2) + SW_MANUAL_FREE] = list;
    listInsert(u32, head, s);
  }
  // No call from here to the list removal (word indices, not accessors).
  const sw = s >>> 2;
  const x = u32[sw + SW_MANUAL_FREE];
  u32[sw + SW_MANUAL_FREE] = u32[x >>> 2];
  u32[x >>> 2] = 0;
  u32[sw + SW_ALLOCCOUNT]++;
  if (u32[sw + SW_MANUAL_FREE] === 0) listRemove(u32, head, s);
  return x;
}

/** Return slot x of span s to the pool (Go: stackpoolfree). Heap lock held. */
function stackpoolfree(h: MHeap, s: SpanPtr, x: number, order: number): void {
  const sw = s >>> 2;
  const head = h.stackpool + order * SPAN_LIST_SIZE;
  const u32 = h.views.u32;
  if (u32[sw + SW_MANUAL_FREE] === 0) listInsert(u32, head, s);
  u32[x >>> 2] = u32[sw + SW_MANUAL_FREE];
  u32[sw + SW_MANUAL_FREE] = x;
  const n = u32[sw + SW_ALLOCCOUNT] - 1;
  u32[sw + SW_ALLOCCOUNT] = n;
  if (n === 0) {
    listRemove(u32, head, s);
    u32[sw + SW_MANUAL_FREE] = 0;
    h.freeSpanLocked(s);
  }
}

/**
 * Rebuild the stack pool lists after a context died holding the heap lock (reclaimP's
 * repairPagesLocked calls this, heap lock held; no Go equivalent). stackpoolalloc and
 * stackpoolfree update a span's free list, its allocCount and its place on the pool list
 * in several steps; cut short between them, a span with no free slot could stay on the
 * list (the next pop would hand out address 0) or one with free slots be off it. Each
 * pool span (a manual span of a stack order, whole after the page repair) gets its
 * allocCount recounted from its free list, and is on its order's list exactly when its
 * free list is not empty. A slot taken and not yet handed out is leaked.
 */
export function repairStackpoolLocked(h: MHeap): void {
  const u32 = h.views.u32;
  const byOrder: SpanPtr[][] = Array.from({ length: numStackOrders }, () => []);
  h.forEachSpan((s) => {
    if (spanState(u32, s) !== mSpanManual) return;
    const size = spanElemsize(u32, s);
    if (size < fixedStack || size >= stackPoolSpanBytes || (size & (size - 1)) !== 0) return;
    const nslots = stackPoolSpanBytes / size, start = spanStartAddr(u32, s);
    let free = 0, prev = 0;
    for (let x = spanManualFreeList(u32, s); x !== 0; x = u32[x >>> 2]) {
      if (free === nslots || x < start || x >= start + stackPoolSpanBytes || (x - start) % size !== 0) {
        // Not a free slot of this span: the list ends before it.
        if (prev === 0) setSpanManualFreeList(u32, s, 0); else u32[prev >>> 2] = 0;
        break;
      }
      free++;
      prev = x;
    }
    setSpanAllocCount(u32, s, nslots - free);
    if (free > 0) byOrder[31 - Math.clz32(size / fixedStack)].push(s);
  });
  for (let o = 0; o < numStackOrders; o++) {
    const head = h.stackpool + o * SPAN_LIST_SIZE;
    u32[(head >>> 2) + SLW_FIRST] = 0;
    u32[(head >>> 2) + SLW_LAST] = 0;
    for (const s of byOrder[o]) listInsert(u32, head, s);
  }
}

/** Stack spans on the pool lists, per order (for check()). */
export function stackpoolSpans(h: MHeap): number[][] {
  const u32 = h.views.u32;
  const out: number[][] = [];
  for (let o = 0; o < numStackOrders; o++) {
    const l: number[] = [];
    for (let s = mSpanListFirst(u32, h.stackpool + o * SPAN_LIST_SIZE); s !== 0; s = spanNext(u32, s)) l.push(s);
    out.push(l);
  }
  return out;
}

