// heap.inspect(): every number of the snapshot against check()'s own recount and against
// readMemStats, on a heap with small, tiny, large and stack spans, unswept frees, spans
// cached by two Ps, and released pages; encode/decode round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Heap, InvalidArgumentError, MEM_PREPARED, MEM_READY, PLACE_MCACHE, PLACE_NONE, PLACE_STACKPOOL, PLACE_FULL_SWEPT, PLACE_PARTIAL_SWEPT,
  decodeSnapshot, encodeSnapshot, placeNames, sweepStateNames, type HeapRecount, type HeapSnapshot,
} from '../src/index.js';
import { mulberry32 } from '../cli/workloads.js';

const PAGE = 8192;

/** A heap after a varied workload: live and freed objects of every kind, two Ps. */
function busyHeap(): { heap: Heap; other: Heap; live: number[] } {
  const heap = Heap.create({ reserve: 256 << 20, gcPercent: -1 });
  const other = Heap.attach(heap.share());
  const rand = mulberry32(7);
  const live: number[] = [];
  const sizes = [1, 8, 12, 24, 100, 512, 3000, 20_000, 40_000];
  for (let i = 0; i < 10_000; i++) {
    const h = i % 3 === 0 ? other : heap;
    const size = i % 500 === 0 ? 300_000 : sizes[Math.floor(rand() * sizes.length)]!;
    live.push(h.malloc(size, { noscan: rand() < 0.7 }));
  }
  for (let i = 0; i < live.length; i += 2) heap.free(live[i]!);
  heap.gc();
  heap.freeOSMemory();
  for (let i = 1; i < live.length; i += 4) heap.free(live[i]!); // freed, not swept
  const own: number[] = [];
  for (let i = 0; i < 2000; i++) { other.malloc(48); own.push(heap.malloc(i % 2 === 0 ? 5 : 640)); } // both Ps cache spans again
  // Frees into a span this P caches go to its localFreedBits (settled when it leaves the mcache).
  for (let i = own.length - 1; i >= own.length - 20; i -= 2) heap.free(own[i]!);
  heap.stackAlloc(8192);
  heap.stackAlloc(32768);
  return { heap, other, live };
}

/** Compare a snapshot with check()'s recount. */
function assertMatchesRecount(snap: HeapSnapshot, rc: HeapRecount, settled: boolean): void {
  const sp = snap.spans;
  assert.equal(sp.count, rc.spans, 'spans');
  let inUse = 0, stack = 0, freed = 0, large = 0;
  const perClass = new Float64Array(rc.objectsByClass.length);
  const sg = snap.sweepgen;
  const setOfPlace = (place: number): number => {
    // PLACE_* -> the set index check() names (partial[0..1] = 0..1, full[0..1] = 2..3)
    const swept = (sg >>> 1) & 1;
    return place === 1 ? swept : place === 2 ? 1 - swept : place === 3 ? 2 + swept : 2 + (1 - swept);
  };
  const central = new Uint32Array(snap.central.length);
  for (let i = 0; i < sp.count; i++) {
    const bytes = sp.npages[i]! * PAGE;
    if (sp.state[i] === 2) { stack += bytes; assert.ok(sp.place[i] === PLACE_STACKPOOL || sp.place[i] === PLACE_NONE); continue; }
    assert.equal(sp.state[i], 1);
    inUse += bytes;
    freed += sp.freed[i]! * sp.elemsize[i]!;
    const spc = sp.spanclass[i]!, sc = spc >>> 1;
    if (sc === 0) large += sp.allocCount[i]! * sp.elemsize[i]!;
    else perClass[sc] += sp.allocCount[i]!;
    assert.notEqual(sweepStateNames[sp.sweep[i]!], undefined);
    const where = rc.places.get(sp.start[i]!);
    if (sp.place[i] === PLACE_MCACHE && snap.ps.find((p) => p.pid === sp.cachedBy[i])!.mcache[spc] !== i) {
      assert.equal(where, `retained by the mcache of P${sp.cachedBy[i]}`); // a full span it keeps (mcache.ts)
    } else if (sp.place[i] === PLACE_MCACHE) {
      assert.equal(where, `mcache of P${sp.cachedBy[i]} class ${spc}`);
    } else {
      assert.ok(sp.place[i]! >= 1 && sp.place[i]! <= 4, `span ${i} in ${placeNames[sp.place[i]!]}`);
      assert.equal(where, `mcentral[${spc}] set ${setOfPlace(sp.place[i]!)}`);
      central[spc * 4 + sp.place[i]! - 1]++;
      assert.equal(sp.cachedBy[i], -1);
    }
  }
  assert.equal(inUse, rc.inUseBytes);
  assert.equal(inUse, snap.memstats.HeapInuse);
  assert.equal(stack, rc.stackBytes);
  assert.equal(stack, snap.memstats.StackInuse);
  assert.equal(freed, rc.freedUnsweptBytes);
  assert.deepEqual([...snap.central], [...central]);
  if (settled) {
    assert.equal(large, rc.largeLiveBytes);
    assert.deepEqual([...perClass], [...rc.objectsByClass]);
  }
  // Pages: the heap's ranges, and the released pages in them.
  let grown = 0, released = 0;
  const inSpan = new Uint8Array(snap.pages.length);
  for (let i = 0; i < sp.count; i++) inSpan.fill(1, sp.start[i]! / PAGE, sp.start[i]! / PAGE + sp.npages[i]!);
  for (let r = 0; r < snap.heapRanges.length; r += 2) {
    grown += snap.heapRanges[r + 1]! - snap.heapRanges[r]!;
    for (let p = snap.heapRanges[r]! / PAGE; p < snap.heapRanges[r + 1]! / PAGE; p++) {
      if (inSpan[p]) assert.equal(snap.pages[p], MEM_READY);
      else if (snap.pages[p] === MEM_PREPARED) released += PAGE;
    }
  }
  assert.equal(grown, rc.grownBytes);
  assert.equal(released, rc.releasedBytes);
  assert.equal(released, snap.memstats.HeapReleased);
}

test('inspect() agrees with check()\'s recount: spans, places, pages, freed-unswept, mcentral sets', () => {
  const { heap, other } = busyHeap();
  const snap = heap.inspect();
  const rc = heap.check();
  assert.ok(snap.spans.count > 100, `spans: ${snap.spans.count}`);
  assertMatchesRecount(snap, rc, false);
  // Both Ps cache spans, and some spans hold freed-but-unswept objects.
  const sp = snap.spans;
  const cachedBy = new Set<number>();
  let freed = 0, stacks = 0;
  for (let i = 0; i < sp.count; i++) {
    if (sp.place[i] === PLACE_MCACHE) cachedBy.add(sp.cachedBy[i]!);
    freed += sp.freed[i]!;
    if (sp.state[i] === 2) stacks++;
  }
  assert.deepEqual([...cachedBy].sort(), [heap.pid, other.pid].sort());
  assert.ok(freed > 1000, `freed-unswept objects: ${freed}`);
  assert.equal(stacks, 2);
  assert.equal(snap.ps.length, 2);
  assert.ok(snap.memstats.HeapReleased > 0);
  // The OS state table: bytes per state as the OS layer counts them.
  const perState = [0, 0, 0, 0];
  for (const s of snap.pages) perState[s]! += PAGE;
  assert.equal(perState[MEM_PREPARED]! + perState[MEM_READY]!, snap.memstats.Sys);
  assert.equal(snap.pages.length * PAGE, heap.reserve);

  // Once every mcache is flushed and everything swept: the per-class objects too.
  other.detach();
  heap.gc();
  const snap2 = heap.inspect();
  const rc2 = heap.check();
  assertMatchesRecount(snap2, rc2, true);
  for (let i = 0; i < snap2.spans.count; i++) {
    if (snap2.spans.state[i] === 1) {
      assert.equal(snap2.spans.freed[i], 0);
      assert.equal(sweepStateNames[snap2.spans.sweep[i]!], 'swept');
      assert.ok(snap2.spans.place[i] === PLACE_PARTIAL_SWEPT || snap2.spans.place[i] === PLACE_FULL_SWEPT, placeNames[snap2.spans.place[i]!]);
    }
  }
});

test('inspect() changes nothing, and its MemStats are those readMemStats() gives right after', () => {
  const { heap, other } = busyHeap();
  const before = heap.inspect();
  const again = heap.inspect();
  assert.deepEqual({ ...again, time: 0 }, { ...before, time: 0 });
  const ms = heap.readMemStats(); // flushes this P's mcache: the numbers stay
  for (const f of ['HeapAlloc', 'HeapInuse', 'HeapIdle', 'HeapReleased', 'HeapObjects', 'Mallocs', 'Frees', 'TotalAlloc', 'Sys', 'StackInuse', 'NextGC'] as const) {
    assert.equal(before.memstats[f], ms[f], f);
  }
  assert.deepEqual(before.memstats.BySize, ms.BySize);
  assert.deepEqual(before.metrics, heap.readMetrics());
  heap.check();
  other.detach();
});

test('encodeSnapshot / decodeSnapshot round trip', () => {
  const { heap } = busyHeap();
  const snap = heap.inspect();
  const bytes = encodeSnapshot(snap);
  const back = decodeSnapshot(bytes);
  assert.deepEqual(back, snap);
  assert.ok(back.spans.start instanceof Uint32Array && back.spans.cachedBy instanceof Int8Array && back.ps[0]!.mcache instanceof Int16Array);
  // Not a snapshot: a typed error.
  for (const junk of [new Uint8Array(2), new Uint8Array([255, 255, 0, 0, 1]), bytes.subarray(0, 100), new TextEncoder().encode('\x05\0\0\0hello')]) {
    assert.throws(() => decodeSnapshot(junk), InvalidArgumentError);
  }
  // Compact: the typed arrays plus a JSON header (MemStats with its 512-entry rings, metrics).
  let arrays = snap.pages.byteLength + snap.heapRanges.byteLength + snap.central.byteLength;
  for (const v of Object.values(snap.spans)) if (ArrayBuffer.isView(v)) arrays += v.byteLength;
  assert.ok(bytes.length < arrays + 40_000, `${bytes.length} bytes for ${arrays} bytes of arrays`);
});
