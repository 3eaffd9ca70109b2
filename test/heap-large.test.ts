// Issue "Core 1": large objects on the page heap, Go's worked numbers, bad input, exhaustion,
// and a property test against a model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  Heap, InvalidSizeError, InvalidPointerError, DoubleFreeError, OutOfMemoryError, MEM_PREPARED, MEM_READY,
} from '../src/index.js';

const KiB = 1024, MiB = 1 << 20;

function delta(heap: Heap, f: () => void) {
  const a = heap.readMemStats();
  f();
  const b = heap.readMemStats();
  return {
    HeapInuse: b.HeapInuse - a.HeapInuse, HeapSys: b.HeapSys - a.HeapSys, HeapAlloc: b.HeapAlloc - a.HeapAlloc,
    HeapIdle: b.HeapIdle - a.HeapIdle, HeapReleased: b.HeapReleased - a.HeapReleased, HeapObjects: b.HeapObjects - a.HeapObjects,
    Mallocs: b.Mallocs - a.Mallocs, Frees: b.Frees - a.Frees, TotalAlloc: b.TotalAlloc - a.TotalAlloc,
  };
}

test('Go 1.19 worked numbers: HeapInuse grows by whole pages per large object', () => {
  for (const [size, inuse] of [[32769, 40960], [100000, 106496], [MiB, MiB]] as const) {
    const heap = Heap.create({ reserve: 256 * MiB });
    const d = delta(heap, () => { heap.malloc(size); });
    assert.equal(d.HeapInuse, inuse, `HeapInuse for ${size}`);
    assert.equal(d.HeapAlloc, inuse, 'a large object counts as whole pages in HeapAlloc');
    assert.equal(d.TotalAlloc, inuse);
    assert.equal(d.Mallocs, 1);
    assert.equal(d.HeapObjects, 1);
    heap.check();
  }
});

test('Go 1.19 worked numbers: a 10 MiB object grows HeapSys by 12 MiB (whole 4 MiB chunks)', () => {
  const heap = Heap.create({ reserve: 256 * MiB });
  const d = delta(heap, () => { heap.malloc(10 * MiB); });
  assert.equal(d.HeapSys, 12 * MiB);
  assert.equal(d.HeapInuse, 10 * MiB);
  assert.equal(d.HeapReleased, 2 * MiB, 'the rest of the new chunks is free and released');
  heap.check();
});

test('free + freeOSMemory: HeapIdle == HeapReleased, pages are Prepared; reuse does not grow HeapSys', () => {
  const heap = Heap.create({ reserve: 256 * MiB });
  const p = heap.malloc(10 * MiB);
  heap.u8.fill(0xab, p, p + 10 * MiB);
  const q = heap.malloc(100000);
  heap.free(p);
  heap.free(q);
  const d0 = delta(heap, () => {});
  assert.equal(d0.HeapAlloc, 0);
  const before = heap.readMemStats();
  assert.equal(before.HeapAlloc, 10 * MiB + 106496, 'free without gc changes no statistic (objects are swept later)');
  heap.freeOSMemory();
  const ms = heap.readMemStats();
  assert.equal(ms.HeapAlloc, 0);
  assert.equal(ms.HeapInuse, 0);
  assert.equal(ms.HeapIdle, ms.HeapReleased);
  assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
  assert.equal(heap.h.mem.stateOf(p), MEM_PREPARED);
  heap.check();
  const d = delta(heap, () => { heap.malloc(10 * MiB); });
  assert.equal(d.HeapSys, 0, 'reusing freed pages does not grow HeapSys');
  assert.equal(d.HeapReleased, -10 * MiB, 'the reused pages are no longer released');
  assert.equal(heap.h.mem.stateOf(p), MEM_READY, 'sysUsed made them Ready again');
  heap.check();
});

test('Sys equals the sum of the *Sys fields and the bytes the backend has mapped', () => {
  const heap = Heap.create({ reserve: 256 * MiB });
  const ptrs = [heap.malloc(40000), heap.malloc(5 * MiB), heap.malloc(70000)];
  heap.free(ptrs[1]);
  heap.gc();
  const ms = heap.readMemStats();
  assert.equal(ms.Sys, ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys);
  assert.equal(ms.Sys, heap.h.mem.mapped);
  assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
  heap.check();
});

test('size 0 returns a valid zero-size pointer that free accepts (as Go\'s zerobase)', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const z = heap.malloc(0);
  assert.notEqual(z, 0);
  assert.equal(heap.malloc(0), z, 'every zero-size allocation shares it');
  assert.equal(heap.usableSize(z), 0);
  heap.free(z);
  heap.free(z);
  heap.free(0); // like C's free(NULL)
  heap.check();
});

test('bad sizes: typed InvalidSizeError and the heap unchanged', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const keep = heap.malloc(50000);
  const before = heap.readMemStats();
  for (const bad of [-1, NaN, 1.5, 40000.25, Infinity, 64 * MiB + 1, 2 ** 53, '12' as unknown as number]) {
    assert.throws(() => heap.malloc(bad), InvalidSizeError, `size ${String(bad)}`);
  }
  assert.throws(() => heap.calloc(-1, 8), InvalidSizeError);
  assert.throws(() => heap.calloc(2 ** 40, 2 ** 20), InvalidSizeError);
  const after = heap.readMemStats();
  assert.equal(after.HeapSys, before.HeapSys);
  assert.equal(after.Mallocs, before.Mallocs);
  heap.check();
  heap.free(keep);
  heap.check();
});

test('bad pointers: interior, out of range, never allocated, double free — typed errors, heap unchanged', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const p = heap.malloc(40000);
  const q = heap.malloc(40000);
  heap.free(q);
  const cases: Array<[number, typeof InvalidPointerError]> = [
    [p + 8, InvalidPointerError],          // interior
    [p + 8192, InvalidPointerError],       // interior, another page of the span
    [64 * MiB + 8, InvalidPointerError],   // outside the reservation
    [123, InvalidPointerError],            // inside the metadata
    [-8, InvalidPointerError],
    [1.5, InvalidPointerError],
    [q, DoubleFreeError],                  // already freed
  ];
  for (const [bad, cls] of cases) {
    assert.throws(() => heap.free(bad), cls, `free(${bad})`);
    heap.check();
  }
  heap.gc();
  assert.throws(() => heap.free(q), InvalidPointerError, 'after the sweep q\'s pages belong to no span');
  heap.free(p);
  heap.check();
});

test('exhaustion of the reservation: OutOfMemoryError, consistent heap, and it works again after frees', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const got: number[] = [];
  assert.throws(() => { for (;;) got.push(heap.malloc(3 * MiB)); }, OutOfMemoryError);
  assert.ok(got.length >= 10, `allocated ${got.length} x 3 MiB before running out`);
  heap.check();
  assert.throws(() => heap.malloc(3 * MiB), OutOfMemoryError);
  heap.check();
  for (const p of got.splice(0, 4)) heap.free(p);
  heap.gc();
  const p = heap.malloc(3 * MiB);
  heap.u8[p + 3 * MiB - 1] = 1;
  heap.check();
});

test('property: random large malloc/free/freeOSMemory against a model', () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(
      fc.record({ op: fc.constant('malloc' as const), size: fc.integer({ min: 32769, max: 3 * MiB }) }),
      fc.record({ op: fc.constant('free' as const), pick: fc.nat() }),
      fc.record({ op: fc.constant('gc' as const) }),
      fc.record({ op: fc.constant('release' as const) }),
    ), { maxLength: 40 }),
    (ops) => {
      const heap = Heap.create({ reserve: 128 * MiB });
      const live = new Map<number, { size: number; tag: number }>();
      let tag = 1;
      const verify = (p: number, o: { size: number; tag: number }) => {
        const u8 = heap.u8;
        for (const off of [0, 1, o.size >> 1, o.size - 1]) assert.equal(u8[p + off], (o.tag + off) & 255, `object ${p} byte ${off}`);
      };
      for (const op of ops) {
        if (op.op === 'malloc') {
          let p: number;
          try { p = heap.malloc(op.size); } catch (e) { assert.ok(e instanceof OutOfMemoryError); heap.check(); continue; }
          for (const [q, o] of live) assert.ok(p + op.size <= q || q + o.size <= p, `overlap ${p}+${op.size} with ${q}+${o.size}`);
          const o = { size: op.size, tag: tag++ };
          const u8 = heap.u8;
          for (const off of [0, 1, o.size >> 1, o.size - 1]) u8[p + off] = (o.tag + off) & 255;
          live.set(p, o);
        } else if (op.op === 'free') {
          if (live.size === 0) continue;
          const p = [...live.keys()][op.pick % live.size];
          verify(p, live.get(p)!);
          heap.free(p);
          live.delete(p);
        } else if (op.op === 'gc') heap.gc();
        else heap.freeOSMemory();
        heap.check();
        for (const [p, o] of live) verify(p, o);
      }
      heap.gc();
      const ms = heap.readMemStats();
      let bytes = 0;
      for (const o of live.values()) bytes += Math.ceil(o.size / 8192) * 8192;
      assert.equal(ms.HeapAlloc, bytes);
      assert.equal(ms.HeapObjects, live.size);
    }), { numRuns: 60 });
});
