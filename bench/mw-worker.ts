/**
 * mw-worker.ts — one worker thread of an (e) multi-worker workload (started by bench/mw.ts
 * through bench/mw-bootstrap.mjs).
 *
 * Protocol with the child's main thread, over the control SharedArrayBuffer `ctl`:
 *   1. set up and warm up (not timed), then postMessage('ready');
 *   2. Atomics.wait until ctl[START] != 0 (the main thread records t0, then stores START
 *      and notifies everybody at once: the shared start barrier);
 *   3. run the measured ops, store process.hrtime.bigint() (a process-wide monotonic clock)
 *      into times[1 + id], post { done, ns, ops, check } and clean up.
 *
 * Roles: 'churn' (the 1k-window FIFO of (b) on its own slots), 'producer' and 'consumer'
 * (an SPSC ring of u32 entries in `ring`, head and tail on separate cache lines).
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { attachFromWorkerData, userWorkerData } from '../src/node.js';
import type { Heap } from '../src/index.js';
import { BumpAllocator, GoHeapAllocator } from './allocators.js';
import type { Allocator } from './common.js';
import { CTL_START, RING_BASE, RING_HEAD, RING_TAIL, type MwParams } from './mw-protocol.js';
import { INPUT_MASK, fillWindow, makeInputs, runWindowFifo, workloads } from './workloads.js';


const P = userWorkerData<MwParams>();
const ctl = new Int32Array(P.ctl);
const times = new BigInt64Array(P.times);
const heap: Heap | null = P.allocator === 'goheap' || P.allocator === 'goheap-private' ? attachFromWorkerData() : null;

function barrier(): void {
  parentPort!.postMessage({ ready: true });
  while (Atomics.load(ctl, CTL_START) === 0) Atomics.wait(ctl, CTL_START, 0);
}

function finish(ns0: bigint, ops: number, check: number): void {
  const t1 = process.hrtime.bigint();
  times[1 + P.id] = t1;
  parentPort!.postMessage({ done: true, ns: Number(t1 - ns0), ops, check });
}

// ----- per-worker churn ---------------------------------------------------------------

function churn(): void {
  const spec = workloads.find((w) => w.id === 'window-1k-fifo')!;
  const { sizes } = makeInputs(spec);
  const a: Allocator = heap !== null ? new GoHeapAllocator(heap) : new BumpAllocator(16 << 20);
  const w = spec.window;
  const slots = new Uint32Array(w);
  fillWindow(a, slots, w, sizes);
  let pos = 0, i = w;
  // Warm-up in chunks (so the loop is optimised as it will run), same loop as measured.
  for (let done = 0; done < P.warmupOps;) {
    const n = Math.min(1 << 14, P.warmupOps - done);
    pos = runWindowFifo(a, slots, w, sizes, i, n, pos);
    i += n; done += n;
  }
  barrier();
  const t0 = process.hrtime.bigint();
  for (let done = 0; done < P.ops;) {
    const n = Math.min(1 << 16, P.ops - done);
    pos = runWindowFifo(a, slots, w, sizes, i, n, pos);
    i += n; done += n;
  }
  finish(t0, P.ops, pos);
  for (let k = 0; k < w; k++) a.free(slots[k]);
}

// ----- producer / consumer ------------------------------------------------------------

const ring = new Int32Array(P.ring ?? new SharedArrayBuffer(4 * RING_BASE));
const cap = P.ringCap ?? 1;
const mask = cap - 1;
let tail = 0, head = 0, seenHead = 0, seenTail = 0;

/** Producer with goheap: malloc, write 4 bytes (the sequence number), push the pointer. */
function produceHeap(h: Heap, sizes: Uint32Array, start: number, n: number): void {
  let u32 = h.u32;
  for (let i = start; i < start + n; i++) {
    const p = h.malloc(sizes[i & INPUT_MASK]);
    if ((p >>> 2) >= u32.length) u32 = h.u32; // the buffer grew: re-take the view
    u32[p >>> 2] = i;
    while (tail - seenHead >= cap) seenHead = Atomics.load(ring, RING_HEAD);
    ring[RING_BASE + (tail & mask)] = p;
    Atomics.store(ring, RING_TAIL, ++tail);
  }
}

/** Consumer with goheap: pop, read and check the 4 bytes, free. */
function consumeHeap(h: Heap, start: number, n: number): number {
  let u32 = h.u32, sum = 0;
  for (let i = start; i < start + n; i++) {
    while (head === seenTail) seenTail = Atomics.load(ring, RING_TAIL);
    const p = ring[RING_BASE + (head & mask)];
    Atomics.store(ring, RING_HEAD, ++head);
    if ((p >>> 2) >= u32.length) u32 = h.u32;
    const v = u32[p >>> 2];
    if (v !== i) throw new Error(`consumer: object ${p} holds ${v}, expected ${i}`);
    sum = (sum + v) | 0;
    h.free(p);
  }
  return sum;
}

/** Copy baseline producer: the 4 bytes go into the ring itself. */
function produceCopy(start: number, n: number): void {
  for (let i = start; i < start + n; i++) {
    while (tail - seenHead >= cap) seenHead = Atomics.load(ring, RING_HEAD);
    ring[RING_BASE + (tail & mask)] = i;
    Atomics.store(ring, RING_TAIL, ++tail);
  }
}

function consumeCopy(start: number, n: number): number {
  let sum = 0;
  for (let i = start; i < start + n; i++) {
    while (head === seenTail) seenTail = Atomics.load(ring, RING_TAIL);
    const v = ring[RING_BASE + (head & mask)];
    Atomics.store(ring, RING_HEAD, ++head);
    if (v !== i) throw new Error(`consumer: ring holds ${v}, expected ${i}`);
    sum = (sum + v) | 0;
  }
  return sum;
}

function prodcons(): void {
  const spec = workloads.find((w) => w.id === 'pairs')!; // 16–128 B uniform sizes
  const producer = P.role === 'producer';
  const sizes = producer && heap !== null ? makeInputs(spec).sizes : new Uint32Array(1);
  const step = (start: number, n: number): number => {
    if (heap !== null) {
      if (producer) { produceHeap(heap, sizes, start, n); return 0; }
      return consumeHeap(heap, start, n);
    }
    if (producer) { produceCopy(start, n); return 0; }
    return consumeCopy(start, n);
  };
  let i = 0;
  for (; i < P.warmupOps;) {
    const n = Math.min(1 << 14, P.warmupOps - i);
    step(i, n);
    i += n;
  }
  barrier();
  const t0 = process.hrtime.bigint();
  let check = 0;
  for (let done = 0; done < P.ops;) {
    const n = Math.min(1 << 16, P.ops - done);
    check = (check + step(i, n)) | 0;
    i += n; done += n;
  }
  finish(t0, P.ops, check);
}

if (P.role === 'churn') churn();
else prodcons();
heap?.detach();
