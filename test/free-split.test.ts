// The two free paths (malloc.ts freeObject): a free into a span cached by the freeing P
// goes to the span's localFreedBits with plain stores; any other free goes to freedBits
// with an atomic OR. These tests pin down where each bit lands, that the local bits stay
// with the span when it leaves the mcache until a sweep takes them, that a double free is
// caught whichever path each of the two frees took, and that a P that dies with local
// frees pending loses none of them (reclaimP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap } from '../src/index.js';
import { spawnHeapWorker } from '../src/node.js';
import { DoubleFreeError, InvalidArgumentError } from '../src/errors.js';
import { LIST_MCACHE, LIST_RETAINED } from '../src/mspanset.js';
import { GW_FREED, GW_LOCALFREED, type MCachePtr, MC_RETAINED, P_MCACHE, S_GCBITS, S_LIST, S_NEXT, S_SPANCLASS, S_START, S_ELEMSIZE, mcacheAlloc } from '../src/layout.js';
import { gcBitsWord, nextFreeFast } from '../src/mspan.js';
import { tinySpanClass } from '../src/sizeclasses.js';

const MiB = 1 << 20;

/** Where the freed bit of object p is: 'local', 'freed', 'both' or 'none'. */
function bitOf(h: Heap, p: number): string {
  const u32 = h.u32, s = h.h.spanOf(p);
  const i = (p - u32[(s + S_START) >>> 2]) / u32[(s + S_ELEMSIZE) >>> 2];
  const bit = 1 << (i & 31), g = gcBitsWord(u32[(s + S_GCBITS) >>> 2], i >>> 5);
  const l = (u32[g + GW_LOCALFREED] & bit) !== 0;
  const f = (u32[g + GW_FREED] & bit) !== 0;
  return l && f ? 'both' : l ? 'local' : f ? 'freed' : 'none';
}

function cachedBy(h: Heap, p: number): number {
  const list = h.u32[(h.h.spanOf(p) + S_LIST) >>> 2];
  return list >= LIST_MCACHE ? list - LIST_MCACHE : -1;
}

test('a free into a span the freeing P caches sets a local bit; it stays when the span leaves the cache; the sweep reclaims it', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const ps = Array.from({ length: 10 }, () => heap.malloc(48));
  assert.equal(cachedBy(heap, ps[0]), heap.pid);
  heap.free(ps[3]);
  heap.free(ps[7]);
  assert.equal(bitOf(heap, ps[3]), 'local');
  assert.equal(bitOf(heap, ps[7]), 'local');
  assert.equal(bitOf(heap, ps[4]), 'none');
  heap.check();
  // readMemStats flushes the mcache (releaseAll): the bits stay, and HeapAlloc still counts
  // the freed objects until their span is swept (as Go counts unreachable, unswept ones).
  const ms = heap.readMemStats();
  assert.equal(cachedBy(heap, ps[0]), -1);
  assert.equal(bitOf(heap, ps[3]), 'local');
  assert.equal(bitOf(heap, ps[7]), 'local');
  assert.equal(ms.HeapAlloc, 10 * 48);
  assert.equal(ms.Frees, 0);
  heap.check();
  // Now the span is nobody's: a free goes to freedBits directly.
  heap.free(ps[5]);
  assert.equal(bitOf(heap, ps[5]), 'freed');
  heap.check();
  heap.gc();
  const after = heap.readMemStats();
  assert.equal(after.HeapAlloc, 7 * 48);
  assert.equal(after.Frees, 3);
  assert.equal(bitOf(heap, ps[3]), 'none');
  assert.equal(bitOf(heap, ps[5]), 'none');
  heap.check();
});

test('a span cached again before it is swept keeps the old holder\'s local frees: the new holder adds its own, double frees are caught, the sweep takes both', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const other = Heap.attach(heap.share());
  const ps = Array.from({ length: 10 }, () => heap.malloc(48));
  for (const i of [1, 3, 7]) heap.free(ps[i]);
  heap.readMemStats(); // heap's mcache gives the span back: partial, on the swept partial set
  assert.equal(cachedBy(heap, ps[0]), -1);
  const q = other.malloc(48); // other's refill takes the same span from the swept partial set
  assert.equal(heap.h.spanOf(q), heap.h.spanOf(ps[0]));
  assert.equal(cachedBy(heap, q), other.pid);
  assert.equal(bitOf(heap, ps[3]), 'local');
  assert.throws(() => other.free(ps[3]), DoubleFreeError);
  assert.throws(() => heap.free(ps[7]), DoubleFreeError);
  other.free(q); // the new holder's own local free
  other.free(ps[4]);
  assert.equal(bitOf(heap, q), 'local');
  assert.equal(bitOf(heap, ps[4]), 'local');
  heap.check();
  other.detach();
  heap.gc();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapAlloc, 6 * 48);
  assert.equal(ms.Frees, 5);
  for (const p of [ps[1], ps[3], ps[4], ps[7], q]) assert.equal(bitOf(heap, p), 'none');
  heap.check();
});

test('a double free is caught whichever path each free took (same P, another P, before and after the span leaves the cache)', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const other = Heap.attach(heap.share());
  const dbl = (h: Heap, p: number) => assert.throws(() => h.free(p), DoubleFreeError);
  // owner then owner
  const a = heap.malloc(64);
  heap.free(a);
  dbl(heap, a);
  // owner (local bit), then another P while the owner still caches the span
  const b = heap.malloc(64);
  heap.free(b);
  assert.equal(bitOf(heap, b), 'local');
  dbl(other, b);
  // another P first (freedBits), then the owner
  const c = heap.malloc(64);
  other.free(c);
  assert.equal(bitOf(heap, c), 'freed');
  dbl(heap, c);
  dbl(other, c);
  heap.check();
  // after the span left the owner's cache (its local bits stay until the sweep)
  heap.readMemStats();
  for (const p of [a, b, c]) { dbl(heap, p); dbl(other, p); }
  // the other P's own cached span: the same rules the other way round
  const d = other.malloc(64);
  other.free(d);
  assert.equal(bitOf(other, d), 'local');
  dbl(heap, d);
  dbl(other, d);
  heap.check();
  other.detach();
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
  heap.check();
});

test('the GC counts freedBits, not the local frees of a span another P still caches (the live heap is never underestimated)', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const other = Heap.attach(heap.share());
  const kept = Array.from({ length: 100 }, () => heap.malloc(128));
  const fromOther = Array.from({ length: 100 }, () => other.malloc(128));
  for (const p of fromOther) other.free(p); // local bits in other's cached span
  for (const p of kept.slice(50)) heap.free(p); // local bits in heap's span, uncached by gc's flush
  const info = heap.gc();
  // heap's 50 freed objects were swept; other's allocations and frees are both unsettled.
  assert.equal(info.heapMarked, 50 * 128);
  other.detach();
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 50 * 128);
  heap.check();
});

test('reclaimP of a P that died with local frees pending loses none of them', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const dead = Heap.attach(heap.share());
  const ps = Array.from({ length: 1000 }, () => dead.malloc(32));
  for (let i = 0; i < ps.length; i += 2) dead.free(ps[i]);
  const last = ps[ps.length - 2]; // freed, in the span dead still caches
  assert.equal(cachedBy(heap, last), dead.pid);
  assert.equal(bitOf(heap, last), 'local');
  assert.equal(heap.reclaimP(dead.pid), true);
  heap.check();
  heap.gc();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapAlloc, 500 * 32);
  assert.equal(ms.Frees, 500);
  assert.equal(bitOf(heap, last), 'none');
  for (let i = 1; i < ps.length; i += 2) heap.free(ps[i]);
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
  heap.check();
});

test('reclaimP: a tiny-class block a dead P took before recording its object start (mask 0) is kept, next to its local frees', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const dead = Heap.attach(heap.share());
  const objs = Array.from({ length: 6 }, () => dead.malloc(16)); // 16-byte noscan objects: tiny span class
  dead.free(objs[5]); // a local free in the same span
  const kept = objs.slice(0, 5);
  // "Terminated" inside mallocgc between taking the slot and startTinyBlock.
  const u32 = heap.u32, s = mcacheAlloc(u32, dead.mcache, tinySpanClass);
  assert.notEqual(nextFreeFast(u32, s), 0);
  assert.throws(() => heap.check(), /is live but its mask is 0/);
  assert.equal(heap.reclaimP(dead.pid), true);
  heap.check();
  heap.gc();
  // The taken block is leaked (nobody has its address) and counted; the local free is not lost.
  assert.equal(heap.readMemStats().HeapObjects, kept.length + 1);
  for (const p of kept) heap.free(p);
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 1);
  heap.check();
});

// ----- real workers ------------------------------------------------------------------

const workerFile = new URL('./fixtures/ts-worker.mjs', import.meta.url);
const splitEntry = new URL('./fixtures/split-worker.ts', import.meta.url).href;

test('2 workers free each other\'s objects while the allocating worker still caches their span: nothing lost, every object checked', { timeout: 120_000 }, async () => {
  const heap = Heap.create({ reserve: 256 * MiB });
  const cap = 256;
  const ring = new SharedArrayBuffer(4 * 2 * (4 + cap));
  const ws = [0, 1].map((id) => spawnHeapWorker(heap, workerFile, { execArgv: [],
    workerData: { entry: splitEntry, mode: 'exchange', id, ops: 300_000, ring, cap, slots: new SharedArrayBuffer(4) },
  }));
  const exits = ws.map((w) => new Promise((r) => w.once('exit', r)));
  const results = await Promise.all(ws.map((w) => new Promise<{ mallocs: number; frees: number; intoCachedByPeer: number }>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  })));
  await Promise.all(exits);
  const mallocs = results.reduce((a, r) => a + r.mallocs, 0), frees = results.reduce((a, r) => a + r.frees, 0);
  assert.equal(mallocs, 600_000);
  assert.equal(frees, 600_000);
  for (const r of results) assert.ok(r.intoCachedByPeer > 1000, `frees into a span the peer caches: ${r.intoCachedByPeer}`);
  heap.check();
  heap.gc();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapAlloc, 0);
  assert.equal(ms.Mallocs, 600_000);
  assert.equal(ms.Frees, 600_000);
  heap.check();
});

test('workers terminated at random points of a malloc/free loop: their local frees are not lost, check() passes', { timeout: 120_000 }, async () => {
  const heap = Heap.create({ reserve: 256 * MiB, maxProcs: 2 });
  let seed = 4242;
  for (let round = 0; round < 8; round++) {
    const slots = new SharedArrayBuffer(4 * 64);
    const w = spawnHeapWorker(heap, workerFile, { execArgv: [],
      workerData: { entry: splitEntry, mode: 'pairs', id: round, ops: 0, ring: new SharedArrayBuffer(4), cap: 0, slots },
    });
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    seed = (seed * 1103515245 + 12345) >>> 0;
    await new Promise((r) => setTimeout(r, 5 + (seed % 60)));
    const exited = new Promise((r) => w.once('exit', r));
    await w.terminate();
    await exited;
    await new Promise((r) => setImmediate(r)); // spawnHeapWorker's reclaimP
    heap.check();
    // Free the window the worker held. At most one object per round was in flight (taken
    // but not yet in its slot: leaked; or freed with its slot not yet cleared: refused).
    let refused = 0;
    for (const p of new Int32Array(slots)) {
      if (p === 0) continue;
      try { heap.free(p); } catch (e) { assert.ok(e instanceof DoubleFreeError); refused++; }
    }
    assert.ok(refused <= 1);
    heap.gc();
    const ms = heap.readMemStats();
    assert.ok(ms.HeapObjects <= round + 1 && ms.HeapAlloc <= 128 * (round + 1), `round ${round}: ${ms.HeapObjects} objects, ${ms.HeapAlloc} bytes left`);
    heap.check();
  }
});

test('a worker that grew the buffer, ran a GC and exited without detaching is reclaimed: every object it kept is accounted for', { timeout: 60_000 }, async () => {
  const heap = Heap.create({ reserve: 512 * MiB, maxProcs: 2 });
  const before = heap.h.views.u8.length;
  const slots = new SharedArrayBuffer(4 * 8192);
  const w = spawnHeapWorker(heap, workerFile, { execArgv: [],
    workerData: { entry: splitEntry, mode: 'grow', id: 0, ops: 0, ring: new SharedArrayBuffer(4), cap: 0, slots },
  });
  const exited = new Promise((r) => w.once('exit', r));
  const msg = await new Promise<{ kept: number; bytes: number }>((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
  await exited;
  await new Promise((r) => setImmediate(r)); // spawnHeapWorker's reclaimP
  assert.ok(msg.bytes > before + 100 * MiB, `the worker grew the buffer from ${before} to ${msg.bytes}`);
  heap.check();
  heap.gc();
  const kept = new Int32Array(slots).subarray(0, msg.kept);
  const ms = heap.readMemStats();
  assert.equal(ms.HeapObjects, 8 + kept.length);
  for (const p of kept) heap.free(p);
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 8);
  heap.check();
});

test('a dead tiny block that is still another P\'s current tiny block is not swept until that P lets go of it (no ABA on its mask)', () => {
  const a = Heap.create({ reserve: 64 * MiB, scavenger: false });
  const b = Heap.attach(a.share());
  const p = b.malloc(8); // b's current tiny block now holds one object, at offset 0
  const block = p & ~15;
  // 16-byte objects come from the same span class: use up b's span, so that the block's
  // span goes back to its mcentral (where a sweep can reach it) while the block is still
  // b's current tiny block. In a shared heap b keeps its full spans on its retained list
  // (mcache.ts) until it has more than it may keep: up to 64 more spans of 512 slots.
  const fill: number[] = [];
  while (cachedBy(b, block) >= 0) fill.push(b.malloc(16));
  assert.ok(fill.length > 64 * 512 && fill.length <= 66 * 512);
  const frees = () => a.readMemStats().Frees;
  a.free(p); // the block's last object: the block is dead, its freed bit set
  assert.equal(bitOf(a, block), 'freed');
  const f0 = frees();
  a.gc();
  assert.equal(bitOf(a, block), 'freed', 'kept for b: its freed bit was not taken');
  assert.equal(frees(), f0, 'not counted as freed yet');
  a.check();
  // b lets go of it: its next tiny allocation finds the block dead and starts another.
  const q = b.malloc(8);
  assert.notEqual(q & ~15, block);
  a.gc();
  assert.equal(bitOf(a, block), 'none', 'swept now');
  assert.ok(frees() >= f0 + 1);
  a.check();
  b.free(q);
  for (const f of fill) b.free(f);
  b.detach();
  a.gc();
  a.check();
});

test('a heap updates the words Ps share with plain stores until share(): share() turns that off before any other P can exist, and attach needs it', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  assert.equal(heap.solo, true);
  assert.equal(heap.h.solo, true);
  // Frees into a span no mcache holds, tiny frees and a double free, all on the plain path.
  const ps = Array.from({ length: 300 }, () => heap.malloc(48));
  const tiny = Array.from({ length: 40 }, () => heap.malloc(5));
  heap.readMemStats(); // flush: every span leaves the mcache
  for (const p of ps.slice(0, 100)) heap.free(p);
  assert.equal(bitOf(heap, ps[0]), 'freed');
  assert.throws(() => heap.free(ps[0]), DoubleFreeError);
  for (const p of tiny) heap.free(p);
  assert.throws(() => heap.free(tiny[0]), /already freed/);
  heap.check();
  // A descriptor made by hand for a heap never shared is refused.
  const forged = { buffer: heap.buffer, memory: null, heapBase: heap.h.base, pid: -1, epoch: 0 };
  assert.throws(() => Heap.attach(forged as never), (e: unknown) => e instanceof InvalidArgumentError && /has not been shared/.test(e.message));
  heap.check(); // the refused attach changed nothing
  assert.equal(heap.solo, true);
  const other = Heap.attach(heap.share());
  assert.equal(heap.solo, false);
  assert.equal(heap.h.solo, false);
  assert.equal(other.solo, false);
  for (const p of ps.slice(100, 200)) other.free(p);
  assert.throws(() => heap.free(ps[150]), DoubleFreeError);
  heap.check();
  other.detach();
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 100 * 48);
  heap.check();
  // One P at most: nothing can race, so share() leaves it on.
  const one = Heap.create({ reserve: 64 * MiB, maxProcs: 1 });
  one.share();
  assert.equal(one.solo, true);
});

// ---- Retained full spans (mcache.ts): shared heaps only ----------------------------------

/** The spans on P pid's retained list, oldest first. */
function retained(h: Heap, pid: number): number[] {
  const u32 = h.u32, c = u32[(h.h.pOf(pid) + P_MCACHE) >>> 2]! as MCachePtr;
  const out: number[] = [];
  for (let s = u32[(c + MC_RETAINED) >>> 2]!; s !== 0; s = u32[(s + S_NEXT) >>> 2]!) out.push(s);
  return out;
}

/** Allocate `size`-byte objects in b until the span of the first one has left b's slot. */
function fillOneSpan(b: Heap, size: number): number[] {
  const ps = [b.malloc(size)];
  const s = b.h.spanOf(ps[0]!);
  while (mcacheAlloc(b.u32, b.u32[(b.h.pOf(b.pid) + P_MCACHE) >>> 2]! as MCachePtr, b.u32[(s + S_SPANCLASS) >>> 2]!) === s) ps.push(b.malloc(size));
  return ps;
}

test('in a shared heap a full span goes from its mcache slot to the P\'s retained list: the owner\'s frees stay plain local bits, others\' go to freedBits; the next cycle\'s refills give it back, swept; detach gives back the rest', () => {
  const a = Heap.create({ reserve: 64 * MiB, scavenger: false });
  const b = Heap.attach(a.share());
  const ps = fillOneSpan(b, 48);
  const first = ps.slice(0, -1), s = b.h.spanOf(first[0]!);
  assert.deepEqual(retained(a, b.pid), [s]);
  assert.equal(cachedBy(a, first[0]!), LIST_RETAINED + b.pid);
  b.free(first[0]!);
  assert.equal(bitOf(a, first[0]!), 'local', 'the owner\'s free: a plain local bit');
  a.free(first[1]!);
  assert.equal(bitOf(a, first[1]!), 'freed', 'another P\'s free: freedBits');
  assert.throws(() => b.free(first[1]!), DoubleFreeError);
  assert.throws(() => a.free(first[0]!), DoubleFreeError);
  assert.equal(a.check().places.get(a.u32[(s + S_START) >>> 2]!), `retained by the mcache of P${b.pid}`);
  // A cycle: the retained span is stale now, and still b's; its frees are not swept yet.
  const f0 = a.readMemStats().Frees;
  a.gc();
  assert.equal(bitOf(a, first[0]!), 'local');
  assert.equal(a.readMemStats().Frees, f0);
  a.check();
  // b's next refills give it back, swept.
  const more = fillOneSpan(b, 48);
  assert.ok(!retained(a, b.pid).includes(s), 'given back');
  assert.equal(bitOf(a, first[0]!), 'none');
  assert.equal(bitOf(a, first[1]!), 'none');
  assert.equal(a.readMemStats().Frees, f0 + 2);
  a.check();
  for (const p of [...first.slice(2), ps.at(-1)!, ...more]) b.free(p);
  b.detach();
  assert.deepEqual(retained(a, b.pid), []);
  a.gc();
  a.check();
  assert.equal(a.readMemStats().HeapAlloc, 0);
});

test('retained spans: none in a heap no other thread uses; at most 64 per P, the oldest given back first; a dead P\'s are given back by reclaimP with their local frees', () => {
  const solo = Heap.create({ reserve: 64 * MiB });
  fillOneSpan(solo, 48);
  assert.deepEqual(retained(solo, solo.pid), []);
  solo.check();
  const a = Heap.create({ reserve: 256 * MiB, scavenger: false });
  const d = a.share(true);
  const b = Heap.attach(d);
  const spans: number[] = [];
  const objs: number[] = [];
  for (let i = 0; i < 70; i++) {
    const ps = fillOneSpan(b, 1024);
    spans.push(b.h.spanOf(ps[0]!));
    objs.push(...ps);
  }
  const kept = retained(a, b.pid);
  assert.equal(kept.length, 64);
  assert.deepEqual(kept, spans.slice(-64), 'the newest 64, oldest first');
  a.check();
  // b frees half its objects (local bits in its retained spans), then dies.
  for (const p of objs.slice(0, objs.length >> 1)) b.free(p);
  assert.equal(a.markDead(d.pid, d.epoch), true);
  assert.equal(a.reclaimP(d.pid, d.epoch), true);
  assert.deepEqual(retained(a, d.pid), []);
  a.check();
  const f0 = a.readMemStats().Frees;
  a.gc();
  assert.equal(a.readMemStats().Frees, f0 + (objs.length >> 1), 'every local free was swept');
  for (const p of objs.slice(objs.length >> 1)) a.free(p);
  a.gc();
  a.check();
  assert.equal(a.readMemStats().HeapAlloc, 0);
});
