// One heap, many workers: real worker_threads allocating, freeing their own and each
// other's objects, with every object's pattern verified; a worker terminated mid-run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap } from '../src/index.js';
import { spawnHeapWorker } from '../src/node.js';
import { MEM_READY } from '../src/mem.js';
import { drainRings, newRings } from './helpers/ring.js';
import type { Worker } from 'node:worker_threads';

const MiB = 1 << 20;
const workerFile = new URL('./fixtures/ts-worker.mjs', import.meta.url);
const entry = new URL('./fixtures/stress-worker.ts', import.meta.url).href;
const RING_CAP = 1024;

function rings(n: number): SharedArrayBuffer {
  return newRings(n, RING_CAP);
}

/** Free every object left in the rings, verifying its pattern first. */
function drainAndFree(heap: Heap, sab: SharedArrayBuffer, n: number): number {
  return drainRings(sab, n, RING_CAP, (p, size, id) => {
    if (size >= 4) assert.equal(heap.u32[p >>> 2] === undefined ? -1 : (heap.u8[p] | (heap.u8[p + 1] << 8) | (heap.u8[p + 2] << 16) | (heap.u8[p + 3] << 24)) >>> 0, id);
    heap.free(p);
  });
}

function run(w: Worker): Promise<{ held: Array<[number, number, number]>; ops: number; remoteFrees: number }> {
  return new Promise((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
}

for (const nworkers of [2, 4]) {
  test(`${nworkers} workers x 1,000,000 ops of mixed sizes with cross-worker frees: nothing lost, nothing handed out twice`, { timeout: 120_000 }, async () => {
    const heap = Heap.create({ reserve: 1024 * MiB });
    const sab = rings(nworkers);
    const workers = Array.from({ length: nworkers }, (_, id) => spawnHeapWorker(heap, workerFile, { execArgv: [],
      workerData: { entry, id, nworkers, ops: 1_000_000, rings: sab, ringCap: RING_CAP, seed: 1234 + id * 7919, forever: false, keep: 100 },
    }));
    const exits = workers.map((w) => new Promise((r) => w.once('exit', r)));
    const results = await Promise.all(workers.map(run));
    await Promise.all(exits);
    for (const r of results) {
      assert.ok(r.ops >= 1_000_000);
      assert.ok(r.remoteFrees > 10_000, `frees of objects other workers allocated: ${r.remoteFrees}`);
    }
    drainAndFree(heap, sab, nworkers);
    heap.gc();
    heap.check();
    // HeapAlloc == the bytes of the objects still held (tiny objects share 16-byte blocks).
    let expected = 0;
    const tinyBlocks = new Set<number>();
    const seen = new Set<number>();
    for (const r of results) {
      for (const [p, size, id] of r.held) {
        assert.ok(!seen.has(p), `object ${p} held twice`);
        seen.add(p);
        if (size >= 4) assert.equal((heap.u8[p] | (heap.u8[p + 1] << 8) | (heap.u8[p + 2] << 16) | (heap.u8[p + 3] << 24)) >>> 0, id);
        const slot = heap.slotSize(p);
        if (slot === 16 && size < 16) tinyBlocks.add(p & ~15); else expected += slot;
      }
    }
    expected += 16 * tinyBlocks.size;
    const ms = heap.readMemStats();
    assert.equal(ms.HeapAlloc, expected);
    assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
    assert.equal(ms.Sys, heap.h.mem.mapped);
    // All held objects freed -> nothing left.
    for (const r of results) for (const [p] of r.held) heap.free(p);
    heap.gc();
    assert.equal(heap.readMemStats().HeapAlloc, 0);
    heap.check();
  });
}

test('a worker terminated mid-run is reclaimed: its P is free again, check() passes, the heap keeps working', { timeout: 60_000 }, async () => {
  const heap = Heap.create({ reserve: 512 * MiB, maxProcs: 3 });
  const sab = rings(2);
  const w = spawnHeapWorker(heap, workerFile, { execArgv: [],
    workerData: { entry, id: 0, nworkers: 1, ops: 0, rings: sab, ringCap: RING_CAP, seed: 99, forever: true, keep: 0 },
  });
  await new Promise((r) => setTimeout(r, 700));
  const exited = new Promise((r) => w.once('exit', r));
  await w.terminate();
  await exited;
  await new Promise((r) => setImmediate(r));
  heap.check();
  // The dead worker's P is reusable: two more contexts fit (maxProcs 3 = main + 2).
  const d1 = heap.share(), d2 = heap.share();
  const a = Heap.attach(d1), b = Heap.attach(d2);
  const p = a.malloc(100), q = b.malloc(200000);
  b.free(p);
  a.free(q);
  a.detach();
  b.detach();
  heap.gc();
  heap.check();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
  for (let i = 0; i < 10000; i++) heap.free(heap.malloc(i % 500 + 1));
  heap.check();
});

test('attach in the same thread: each Heap handle is its own P; buffer growth by one is seen by all', () => {
  const heap = Heap.create({ reserve: 256 * MiB, maxProcs: 2 });
  const other = Heap.attach(heap.share());
  assert.notEqual(other.pid, heap.pid);
  assert.throws(() => Heap.attach(heap.share()), /all 2 Ps are in use/);
  // readMemStats from one context counts what another context's mcache holds, unflushed.
  for (let i = 0; i < 1000; i++) other.malloc(24);
  for (let i = 0; i < 100; i++) other.malloc(3);
  const ms0 = heap.readMemStats();
  assert.equal(ms0.Mallocs, 1100);
  assert.equal(ms0.HeapAlloc, 1000 * 24 + 20 * 16, '3-byte tiny objects: 5 per 16-byte block');
  assert.equal(ms0.HeapObjects, 1020);
  const big = other.malloc(64 * MiB);
  assert.equal(heap.h.mem.stateOf(big + 64 * MiB - 1), MEM_READY);
  heap.u8[big + 64 * MiB - 1] = 42;
  assert.equal(other.u8[big + 64 * MiB - 1], 42);
  heap.free(big);
  other.detach();
  assert.throws(() => Heap.attach({ buffer: null, memory: null, heapBase: 0, pid: -1, epoch: 0 }), /only heaps over shared memory/);
  heap.gc();
  heap.check();
});

test('a span cached by an idle P while other Ps run two GC cycles is still swept (found by the browser test)', () => {
  const a = Heap.create({ reserve: 64 * MiB });
  const b = Heap.attach(a.share());
  a.malloc(100);
  const q = a.malloc(100);
  a.free(q);
  b.gc();
  b.gc();
  a.gc();
  assert.equal(a.readMemStats().HeapAlloc, 112, 'q (112-byte slot) was reclaimed');
  a.check();
});

test('a worker that died in the middle of a sweep does not block the next GC', async () => {
  const { sweepBegin } = await import('../src/mgcsweep.js');
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = heap.share(true);
  const w = Heap.attach(d);
  for (let i = 0; i < 1000; i++) w.free(w.malloc(100));
  assert.equal(sweepBegin(w.h), true, 'the worker registers a sweep and "dies"');
  assert.equal(heap.reclaimP(d.pid, d.epoch), true);
  heap.gc(); // would wait forever for the dead worker's sweep
  heap.check();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
});

test('an automatic GC trigger while another P runs a cycle does not wait for it (past the hard goal: at most gcWaitMs); a forced gc() does', async () => {
  const { gcStart, gcWaitMs, hardGoal, heapLive } = await import('../src/mgc.js');
  const { ST_HEAP_GOAL } = await import('../src/layout.js');
  const { lock, unlock, lockHolder } = await import('../src/lock_futex.js');
  const a = Heap.create({ reserve: 64 * MiB });
  const b = Heap.attach(a.share());
  const i32 = a.h.views.i32;
  lock(i32, b.h.gcLockOff, b.h.lockToken); // b is "in the middle of a cycle"
  const before = a.readMemStats().NumGC;
  assert.equal(gcStart(a, false), null, 'the trigger returns at once, leaving the cycle to b');
  assert.equal(a.readMemStats().NumGC, before);
  assert.equal(lockHolder(i32, a.h.gcLockOff), b.h.lockToken, 'b still holds the GC lock');
  // Past Go's hard goal (goal × 2 at GOGC=100) a's trigger waits for b's cycle, at most gcWaitMs.
  a.malloc(64);
  a.h.views.f64[a.h.stats + ST_HEAP_GOAL] = 1024;
  assert.ok(heapLive(a.h) >= hardGoal(a.h) && hardGoal(a.h) === 2048);
  const t0 = Date.now();
  assert.equal(gcStart(a, false), null);
  assert.ok(Date.now() - t0 >= gcWaitMs - 2, `waited ${Date.now() - t0} ms`);
  assert.equal(a.readMemStats().NumGC, before);
  unlock(i32, b.h.gcLockOff);
  const info = gcStart(a, true);
  assert.ok(info !== null && info.forced);
  assert.equal(a.readMemStats().NumGC, before + 1);
  a.check();
});

test('a sweep that ends while a GC waits bumps the wake sequence of the sweepers word; otherwise the word is untouched', async () => {
  const { sweepBegin, sweepEnd } = await import('../src/mgcsweep.js');
  const a = Heap.create({ reserve: 64 * MiB });
  const b = Heap.attach(a.share());
  const i32 = a.h.views.i32, g = a.h.sweepersWord;
  const PENDING = 0x80000000 | 0;
  assert.equal(sweepBegin(b.h), true);
  sweepEnd(b.h);
  assert.equal(Atomics.load(i32, g), 0, 'no GC waiting: the shared word is not written');
  assert.equal(sweepBegin(b.h), true);
  assert.equal(sweepBegin(b.h), true, 'nested registration (count 2)');
  Atomics.or(i32, g, PENDING); // a GC now waits in stopSweepers
  assert.equal(sweepBegin(a.h), false, 'no new sweeps while a GC waits');
  assert.equal(Atomics.load(i32, g), PENDING, 'a refused registration leaves the word alone');
  sweepEnd(b.h);
  assert.equal(Atomics.load(i32, g), PENDING, 'count 2 -> 1: still sweeping, no wake-up');
  sweepEnd(b.h);
  assert.equal(Atomics.load(i32, g), PENDING | 1, 'count 1 -> 0: sequence bumped so the GC cannot miss it');
  Atomics.and(i32, g, ~PENDING);
  a.gc();
  a.check();
});

// ----- a context that died half-way through a heap-lock section or holding a span ----

test('reclaimP repairs what a context left half done under the heap lock: a span half freed, pages taken without a span', async () => {
  const { lock } = await import('../src/lock_futex.js');
  const { H_LOCK } = await import('../src/layout.js');
  const a = Heap.create({ reserve: 64 * MiB });
  const keep = a.malloc(100_000);
  const idle = a.readMemStats().HeapIdle;
  const d = a.share(true);
  const b = Heap.attach(d);
  const big = b.malloc(200_000); // 25 pages
  b.free(big);
  // b's gc sweeps the freed span and frees it to the heap... and b "is terminated" inside
  // freeSpanLocked, just before the page allocator takes the pages back. (Termination runs
  // no finally blocks; the exception here does, so b takes the heap lock again below.)
  const h = b.h;
  h.pages.free = () => { throw new Error('terminated'); };
  assert.throws(() => b.gc(), /terminated/);
  lock(h.views.i32, h.base + H_LOCK, h.lockToken);
  assert.notEqual(h.pages.alloc(3), 0); // and, still holding the lock, took 3 pages for a span it never made
  assert.equal(a.reclaimP(d.pid, d.epoch), true);
  a.check();
  const ms = a.readMemStats();
  assert.equal(ms.HeapIdle, idle, 'the half-freed span\'s 25 pages and the 3 orphan pages are idle again');
  assert.equal(ms.HeapInuse + ms.HeapIdle, ms.HeapSys);
  a.free(keep);
  for (let i = 0; i < 1000; i++) a.free(a.malloc(1 + i * 97 % 70_000));
  a.gc();
  a.check();
});

test('reclaimP puts back the span a dead context had in hand: a fresh large span, a small span', async () => {
  const { makeSpanClass } = await import('../src/sizeclasses.js');
  const a = Heap.create({ reserve: 64 * MiB });
  for (const [npages, spc] of [[5, 1], [1, makeSpanClass(3, 1)]] as const) {
    const d = a.share(true);
    const b = Heap.attach(d);
    const s = b.h.alloc(npages, spc); // taken from the page heap, never placed: b "dies"
    assert.notEqual(s, 0);
    assert.equal(a.reclaimP(d.pid, d.epoch), true);
    a.check();
    assert.equal(a.readMemStats().HeapAlloc, 0);
  }
  a.gc();
  a.check();
  assert.equal(a.readMemStats().HeapInuse, 0, 'the large span went back to the heap; the small one was swept away at gc');
});

test('reclaimP of a context that died in a GC cycle lets sweeps start again', async () => {
  const { lock } = await import('../src/lock_futex.js');
  const a = Heap.create({ reserve: 64 * MiB });
  const d = a.share(true);
  const b = Heap.attach(d);
  for (let i = 0; i < 1000; i++) b.free(b.malloc(64));
  lock(b.h.views.i32, b.h.gcLockOff, b.h.lockToken);
  Atomics.or(b.h.views.i32, b.h.sweepersWord, 0x80000000 | 0); // in stopSweepers... and dies
  assert.equal(a.reclaimP(d.pid, d.epoch), true);
  assert.equal(Atomics.load(a.h.views.i32, a.h.sweepersWord) & (0x80000000 | 0), 0);
  for (let i = 0; i < 100_000; i++) a.free(a.malloc(64)); // refills sweep (they would wait for ever)
  a.gc();
  a.check();
});

test('workers terminated at random points while allocating large objects: every reclaim leaves a consistent heap', { timeout: 120_000 }, async () => {
  const { Worker } = await import('node:worker_threads');
  const { WORKER_DATA_KEY } = await import('../src/node.js');
  const { lockHolder } = await import('../src/lock_futex.js');
  const { H_LOCK } = await import('../src/layout.js');
  const { P_INHAND } = await import('../src/layout.js');
  const largeEntry = new URL('./fixtures/large-worker.ts', import.meta.url).href;
  const heap = Heap.create({ reserve: 1024 * MiB, maxProcs: 2 });
  let rounds = 0, heldHeapLock = 0, spanInHand = 0;
  // Until both kinds of death were seen at least twice (typically 10-30 rounds).
  while (rounds < 150 && (heldHeapLock < 2 || spanInHand < 2)) {
    const desc = heap.share(true);
    const w = new Worker(workerFile, { execArgv: [], workerData: { [WORKER_DATA_KEY]: desc, data: { entry: largeEntry, seed: rounds + 1 } } });
    await new Promise((r) => w.once('message', r)); // attached and allocating
    await new Promise((r) => setTimeout(r, 10 + (rounds * 37) % 90));
    await w.terminate();
    const h = heap.h;
    if (lockHolder(h.views.i32, h.base + H_LOCK) === desc.pid + 1) heldHeapLock++;
    if (h.views.u32[(h.pOf(desc.pid) + P_INHAND) >>> 2] !== 0) spanInHand++;
    assert.equal(heap.reclaimP(desc.pid, desc.epoch), true);
    heap.check();
    rounds++;
  }
  assert.ok(heldHeapLock >= 2 && spanInHand >= 2, `${rounds} rounds: died holding the heap lock ${heldHeapLock} times, with a span in hand ${spanInHand} times`);
  heap.gc();
  heap.check();
});

test('3 workers allocating and freeing only large objects keep the heap near its goal (Go hard goal: a P past it waits for the cycle in progress)', { timeout: 60_000 }, async (t) => {
  // Each worker keeps at most 8 objects of 32-333 KiB live (at most 8 MiB in all). Before
  // the hard-goal wait, the two Ps that were not running a cycle went on allocating while
  // the third swept, and the heap grew to the whole 1 GiB reservation (sometimes out of
  // memory); measured after the fix: 20-24 MiB.
  const largeEntry = new URL('./fixtures/large-worker.ts', import.meta.url).href;
  const heap = Heap.create({ reserve: 1024 * MiB, scavenger: false });
  const workers = Array.from({ length: 3 }, (_, id) => spawnHeapWorker(heap, workerFile, { execArgv: [], workerData: { entry: largeEntry, seed: id + 1 } }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r))));
  let peak = 0;
  for (let i = 0; i < 15; i++) {
    await new Promise((r) => setTimeout(r, 100));
    peak = Math.max(peak, heap.readMemStats().HeapSys);
  }
  const gcs = heap.readMemStats().NumGC;
  await Promise.all(workers.map((w) => w.terminate()));
  await new Promise((r) => setTimeout(r, 50)); // the exits are reclaimed from the event loop
  t.diagnostic(`peak HeapSys ${(peak / MiB).toFixed(1)} MiB, NumGC ${gcs}`);
  assert.ok(gcs > 10, `${gcs} GC cycles`);
  assert.ok(peak <= 128 * MiB, `HeapSys reached ${(peak / MiB).toFixed(1)} MiB`);
  heap.gc();
  heap.check();
});
