// Regression tests for reclaimP's deadlocks (issue 16 item 1). A "dead" context is a Heap
// handle in this thread left in the state a terminated worker leaves (a lock held, a sweep
// registered); the GC that waits is a real worker thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap } from '../src/index.js';
import { spawnHeapWorker } from '../src/node.js';
import { lock, lockHolder } from '../src/lock_futex.js';
import { sweepBegin } from '../src/mgcsweep.js';
import { C_LOCK, H_LOCK, P_STATUS, SPAN_LIST_SIZE, type SpanPtr, mSpanListFirst, mcacheAlloc, pSpanInHand, setSpanManualFreeList } from '../src/layout.js';
import { nextFreeFast } from '../src/mspan.js';
import { centralOf } from '../src/mspanset.js';
import { P_DEAD, P_IDLE } from '../src/runtime2.js';
import { makeSpanClass, tinySpanClass } from '../src/sizeclasses.js';

const MiB = 1 << 20;
const workerFile = new URL('./fixtures/ts-worker.mjs', import.meta.url);
const gcEntry = new URL('./fixtures/gc-worker.ts', import.meta.url).href;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function status(heap: Heap, pid: number): number {
  return Atomics.load(heap.h.views.i32, (heap.h.pOf(pid) + P_STATUS) >>> 2);
}

test('a P that died inside a sweep while another worker\'s GC waits for it: reclaimP finishes, and so does the GC', { timeout: 60_000 }, async () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const dead = Heap.attach(d);
  for (let i = 0; i < 2000; i++) dead.free(dead.malloc(64));
  assert.equal(sweepBegin(dead.h), true, 'the dead context was sweeping (its count is 1)');
  const flag = new Int32Array(new SharedArrayBuffer(8));
  const w = spawnHeapWorker(heap, workerFile, { execArgv: [], workerData: { entry: gcEntry, flag: flag.buffer } });
  const exited = new Promise((r) => w.once('exit', r));
  // The worker's gc() now waits in the sweep barrier for the dead P's count.
  const i32 = heap.h.views.i32;
  while ((Atomics.load(i32, heap.h.sweepersWord) & (0x80000000 | 0)) === 0) await sleep(2);
  await sleep(20);
  assert.equal(Atomics.load(flag, 0), 0, 'the GC is still waiting');
  assert.equal(heap.reclaimP(d.pid, d.epoch), true, 'reclaimP returns (it used to wait for that GC)');
  while (Atomics.load(flag, 0) === 0) await sleep(2);
  await exited;
  heap.check();
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
  heap.check();
});

test('several dead Ps, one holding the heap lock another one\'s repair needs: marked dead, they are reclaimed in any order', () => {
  for (const order of [[0, 1], [1, 0]]) {
    const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 4 });
    const ds = [heap.share(true), heap.share(true)];
    const hs = ds.map((d) => Heap.attach(d));
    for (const x of hs) for (let i = 0; i < 500; i++) x.malloc(48 + 16 * x.pid);
    lock(hs[0].h.views.i32, heap.h.base + H_LOCK, hs[0].h.lockToken); // P a dies holding the heap lock
    const c = centralOf(heap.h.central, makeSpanClass(5, 1));
    lock(hs[1].h.views.i32, c + C_LOCK, hs[1].h.lockToken); // P b dies holding an mcentral lock
    for (const d of ds) assert.equal(heap.markDead(d.pid, d.epoch), true);
    assert.equal(status(heap, ds[0].pid), P_DEAD);
    const first = ds[order[0]];
    assert.equal(heap.reclaimP(first.pid, first.epoch), true);
    for (const d of ds) assert.equal(status(heap, d.pid), P_IDLE, 'both are reclaimed (the one holding the lock first)');
    assert.equal(lockHolder(heap.h.views.i32, heap.h.base + H_LOCK), 0);
    assert.equal(lockHolder(heap.h.views.i32, c + C_LOCK), 0);
    heap.check();
    heap.gc();
    heap.check();
  }
});

test('reclaimDead does not wait for a lock a live context holds: the P stays dead, and is reclaimed once the lock is free', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 4 });
  const live = Heap.attach(heap.share());
  const d = heap.share(true);
  const dead = Heap.attach(d);
  for (let i = 0; i < 300; i++) dead.malloc(100);
  const i32 = heap.h.views.i32;
  lock(i32, heap.h.base + H_LOCK, live.h.lockToken); // a live context is in a heap-lock section
  assert.equal(heap.markDead(d.pid, d.epoch), true);
  assert.equal(heap.reclaimDead(), 1, 'one dead P left');
  assert.equal(status(heap, d.pid), P_DEAD);
  assert.equal(lockHolder(i32, heap.h.base + H_LOCK), live.h.lockToken, 'the live context\'s lock is untouched');
  Atomics.store(i32, (heap.h.base + H_LOCK) >>> 2, 0); // it lets go
  assert.equal(heap.reclaimDead(), 0);
  assert.equal(status(heap, d.pid), P_IDLE);
  live.free(live.malloc(10));
  live.detach();
  heap.check();
});

test('a tiny block taken by a context that died before marking it (mask 0 while live) gets a mask: check() passes (issue 16 item 2)', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const dead = Heap.attach(d);
  const keep = dead.malloc(3); // a tiny block, and the tiny span cached by the dead P
  const u32 = heap.h.views.u32;
  const s = mcacheAlloc(u32, dead.mcache, tinySpanClass);
  assert.notEqual(nextFreeFast(u32, s), 0, 'mallocTiny took a new block ... and was terminated before writing its mask');
  assert.throws(() => heap.check(), /tiny span \d+: block \d+ is live but its mask is 0/);
  assert.equal(heap.reclaimP(d.pid, d.epoch), true);
  heap.check();
  heap.free(keep);
  heap.gc();
  heap.check();
  assert.equal(heap.readMemStats().HeapAlloc, 16, 'the orphan block is leaked, like any object taken and never handed out');
});

test('a stack pool span left on the pool list with no free slot by a context that died holding the heap lock is taken off: the next stack is not at address 0', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const dead = Heap.attach(d);
  const st = dead.stackAlloc(8192); // a pool span of 4 slots of 8 KiB: 3 left on its free list
  const u32 = heap.h.views.u32;
  const pool = heap.h.stackpool + 2 * SPAN_LIST_SIZE; // order 2: 8 KiB
  const s = mSpanListFirst(u32, pool);
  assert.notEqual(s, 0);
  // The dead context popped the last free slots and was terminated before listRemove.
  lock(heap.h.views.i32, heap.h.base + H_LOCK, dead.h.lockToken);
  setSpanManualFreeList(u32, s, 0);
  assert.equal(heap.reclaimP(d.pid, d.epoch), true);
  heap.check();
  assert.equal(mSpanListFirst(u32, pool), 0, 'the span with no free slot is off the list');
  const q = heap.stackAlloc(8192);
  assert.notEqual(q, 0);
  assert.notEqual(heap.h.spanOf(q), s);
  heap.u8.fill(7, q, q + 8192); // would overwrite the OS layer's header and page table at 0
  heap.check();
  heap.stackFree(q, 8192);
  heap.stackFree(st, 8192);
  heap.check();
});

test('a scavenge cut short by a context that died holding the heap lock (free pages whose OS state disagrees with their scavenged bit) is repaired', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const dead = Heap.attach(d);
  dead.free(dead.malloc(1 << 20));
  dead.freeOSMemory(); // every free page scavenged: Prepared
  const h = heap.h;
  const [base, limit] = h.pages.inUseRanges()[0];
  const free: number[] = [];
  for (let p = base; p < limit && free.length < 2; p += 8192) if (!h.pages.pageAllocated(p) && h.pages.pageScavenged(p)) free.push(p);
  assert.equal(free.length, 2);
  lock(h.views.i32, h.base + H_LOCK, dead.h.lockToken); // the dead context was scavenging...
  h.mem.sysUsed(free[0], 8192); // ...a page made Ready again while its bit says scavenged
  assert.throws(() => heap.check(), /is scavenged but its OS state/);
  assert.equal(heap.reclaimP(d.pid, d.epoch), true);
  heap.check();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapIdle, ms.HeapReleased, 'every free page is still released');
});

test('a large span a context had in hand, terminated in freeSpanLocked after the last page -> span entry was cleared: reclaimP does not free it a second time', () => {
  // The 3-worker large-object campaign below found it (about one run in five): a sweep
  // frees an empty large span with the span in hand (sweepone), and V8 may stop the worker
  // at setSpans' last loop back-edge. Its pages were free and the table named it nowhere,
  // yet its state still said in use, so recoverSpanInHand freed it again: HeapInuse fell
  // by the span's size (check(): "HeapInuse is N, in-use spans hold N + a few pages").
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const dead = Heap.attach(d);
  const keep = heap.malloc(200_000);
  const h = dead.h;
  const s = h.alloc(12, 1) as SpanPtr; // a noscan large span, in the dead context's hand
  assert.notEqual(s, 0);
  assert.equal(pSpanInHand(h.views.u32, h.pOf(d.pid)), s);
  const setSpans = h.setSpans;
  h.setSpans = function (base: number, npages: number, v: SpanPtr | 0) {
    setSpans.call(this, base, npages, v);
    if (v === 0) throw new Error('terminated'); // stopped at the loop's last back-edge
  };
  assert.throws(() => h.freeSpan(s), /terminated/);
  h.setSpans = setSpans;
  lock(h.views.i32, h.base + H_LOCK, h.lockToken); // it died holding the heap lock (freeSpan's finally let it go)
  assert.equal(heap.reclaimP(d.pid, d.epoch), true);
  heap.check();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapInuse, heap.check().inUseBytes);
  heap.free(keep);
  heap.gc();
  heap.check();
});

// Found by this test: the repair of a heap-lock death read the page table through views
// made before the dead worker grew the buffer, saw no span on the new pages and freed live
// spans' pages ("span … is in use but its first page is free", large-object counters off);
// fixed. It also found a large span freed twice (about one run in five: "HeapInuse is N,
// in-use spans hold N + a few pages"; the test above); fixed.
test('spawnHeapWorker: 3 workers terminated at once while allocating large objects are all reclaimed, in whatever order their exits come', {
  timeout: 120_000,
}, async () => {
  const largeEntry = new URL('./fixtures/large-worker.ts', import.meta.url).href;
  const heap = Heap.create({ reserve: 1024 * MiB, maxProcs: 4 });
  for (let round = 0; round < 6; round++) {
    const ws = [0, 1, 2].map((k) => spawnHeapWorker(heap, workerFile, { execArgv: [], workerData: { entry: largeEntry, seed: round * 3 + k + 1 } }));
    await Promise.all(ws.map((w) => new Promise((r) => w.once('message', r))));
    await sleep(5 + round * 7);
    await Promise.all(ws.map((w) => w.terminate()));
    const deadline = Date.now() + 30_000;
    while ([1, 2, 3].some((pid) => status(heap, pid) !== P_IDLE)) {
      assert.ok(Date.now() < deadline, 'every P reclaimed within 30 s');
      await sleep(2);
    }
    heap.check();
  }
  heap.gc();
  heap.check();
});
