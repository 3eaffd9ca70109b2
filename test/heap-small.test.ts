// Issue "Core 2": small objects — mspan fast path, mcache/mcentral, tiny allocator, free and
// sweeping, MemStats with Go's numbers, calloc/realloc/usableSize, bad input, churn.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Heap, InvalidPointerError, DoubleFreeError, memStatsFields } from '../src/index.js';
import { cachedSpan } from '../src/mcache.js';
import { nextFreeFast } from '../src/mspan.js';
import { makeSpanClass, tinySpanClass } from '../src/sizeclasses.js';
import {
  S_FREEINDEX, S_NELEMS, S_START,
} from '../src/layout.js';

const MiB = 1 << 20;
type D = Record<string, number>;
const FIELDS = ['HeapAlloc', 'HeapInuse', 'HeapIdle', 'HeapReleased', 'HeapSys', 'HeapObjects', 'Mallocs', 'Frees', 'TotalAlloc'] as const;

function delta(heap: Heap, f: () => void): D {
  const a = heap.readMemStats();
  f();
  const b = heap.readMemStats();
  const d: D = {};
  for (const k of FIELDS) d[k] = b[k] - a[k];
  return d;
}

test('nextFreeFast on a fresh 24-byte span: base+0, 24, 48, ...; declines at the 64th slot', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const first = heap.malloc(24);
  const spc = makeSpanClass(3, true);
  const s = cachedSpan(heap.h, heap.mcache, spc);
  const u32 = heap.u32;
  const base = u32[(s + S_START) >>> 2];
  assert.equal(first, base);
  assert.equal(u32[(s + S_NELEMS) >>> 2], 341);
  for (let i = 1; i < 63; i++) assert.equal(nextFreeFast(u32, s), base + 24 * i);
  assert.equal(nextFreeFast(u32, s), 0, 'slot 63 would leave freeindex at 64: the fast path declines');
  assert.equal(u32[(s + S_FREEINDEX) >>> 2], 63);
  assert.equal(heap.malloc(24), base + 24 * 63, 'nextFreeIndex takes slot 63 and refills allocCache');
  assert.equal(heap.malloc(24), base + 24 * 64);
  heap.check();
});

test('nextFreeFast takes slots from the low half of allocCache only; with it empty, nextFreeIndex takes the next free slot of the high half', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const ptrs: number[] = [];
  for (let i = 0; i < 64; i++) ptrs.push(heap.malloc(24)); // slots 0..63 of one span
  const spc = makeSpanClass(3, true);
  const s = cachedSpan(heap.h, heap.mcache, spc);
  const u32 = heap.u32;
  const base = u32[(s + S_START) >>> 2];
  assert.equal(ptrs[0], base);
  // Slots 70 and 120 free after a sweep: take 64..127, free 70 and 120, gc.
  for (let i = 64; i < 128; i++) ptrs.push(heap.malloc(24));
  heap.free(ptrs[70]!);
  heap.free(ptrs[120]!);
  heap.gc(); // sweeps the span: slots 70 and 120 are free again
  const s2 = cachedSpan(heap.h, heap.mcache, spc);
  assert.notEqual(s2, s, 'the span went back to its mcentral at the GC');
  // The next 24-byte allocation refills from that span and takes slot 70; allocCache then
  // starts at slot 71 (bit 0), so its low half is slots 71..102, all taken, and slot 120
  // is in its high half, which only the slow path reads.
  assert.equal(heap.malloc(24), base + 24 * 70);
  assert.equal(cachedSpan(heap.h, heap.mcache, spc), s);
  assert.equal(u32[(s + S_FREEINDEX) >>> 2], 71);
  assert.equal(nextFreeFast(u32, s), 0, 'no free slot in the low half: the fast path declines');
  assert.equal(heap.malloc(24), base + 24 * 120, 'nextFreeIndex finds slot 120 in the high half');
  heap.check();
});

test('Go 1.19 numbers: 32,768 x 16 B noscan -> HeapInuse +524,288 (64 spans), HeapAlloc +524,288, Mallocs +32,768', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const spansBefore = heap.readMemStats().MSpanInuse;
  const d = delta(heap, () => { for (let i = 0; i < 32768; i++) heap.malloc(16); });
  assert.equal(d.HeapInuse, 524288);
  assert.equal(d.HeapAlloc, 524288);
  assert.equal(d.Mallocs, 32768);
  assert.equal(d.HeapObjects, 32768);
  assert.equal(heap.readMemStats().MSpanInuse - spansBefore, 9216, '64 span structs of 144 bytes, as Go 1.19 measures');
  heap.check();
});

test('Go 1.19 numbers: 21,824 x 24 B -> HeapAlloc +523,776, HeapInuse +524,288', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const d = delta(heap, () => { for (let i = 0; i < 21824; i++) heap.malloc(24); });
  assert.equal(d.HeapAlloc, 523776);
  assert.equal(d.HeapInuse, 524288);
  heap.check();
});

test('24 B with pointers (scan) uses different spans than noscan', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const a = heap.malloc(24);
  const b = heap.malloc(24, { noscan: false });
  const sa = heap.h.spanOf(a), sb = heap.h.spanOf(b);
  assert.notEqual(sa, sb);
  assert.equal(sa, cachedSpan(heap.h, heap.mcache, makeSpanClass(3, true)));
  assert.equal(sb, cachedSpan(heap.h, heap.mcache, makeSpanClass(3, false)));
  const d = delta(heap, () => { heap.malloc(24); heap.malloc(24, { noscan: false }); });
  assert.equal(d.HeapInuse, 0);
  heap.check();
});

test('Go 1.19 numbers: 16,384 x 12 B tiny -> 16,384 blocks; 16,384 x 1 B -> 1,024 blocks', () => {
  const h1 = Heap.create({ reserve: 64 * MiB });
  const d1 = delta(h1, () => { for (let i = 0; i < 16384; i++) h1.malloc(12); });
  assert.equal(d1.HeapObjects, 16384);
  assert.equal(d1.HeapAlloc, 16384 * 16);
  assert.equal(d1.Mallocs, 16384);
  const h2 = Heap.create({ reserve: 64 * MiB });
  const d2 = delta(h2, () => { for (let i = 0; i < 16384; i++) h2.malloc(1); });
  assert.equal(d2.HeapObjects, 1024);
  assert.equal(d2.HeapAlloc, 1024 * 16);
  assert.equal(d2.Mallocs, 16384, 'tiny allocations count in Mallocs ...');
  assert.equal(d2.Frees, 15360, '... and in Frees, as in Go');
  h1.check();
  h2.check();
});

test('Go\'s TestTinyAlloc: 16 one-byte objects do not all land in distinct 8-byte words', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const words = new Set<number>();
  for (let i = 0; i < 16; i++) words.add(heap.malloc(1) >>> 3);
  assert.ok(words.size < 16);
});

test('tiny alignment: 8-multiples at 8, 4-multiples at 4, 2-multiples at 2', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const a = heap.malloc(1);
  const b = heap.malloc(2);
  const c = heap.malloc(4);
  const d = heap.malloc(8);
  assert.equal(b - a, 2);
  assert.equal(c - a, 4);
  assert.equal(d - a, 8);
  heap.check();
});

test('Go 1.19 numbers: 65,536 x 16 B, free every 2nd, gc -> HeapAlloc -524,288, HeapInuse unchanged; free alone changes nothing', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const ptrs: number[] = [];
  for (let i = 0; i < 65536; i++) ptrs.push(heap.malloc(16));
  const dFree = delta(heap, () => { for (let i = 0; i < ptrs.length; i += 2) heap.free(ptrs[i]); });
  for (const k of FIELDS) assert.equal(dFree[k], 0, `free without gc changes no statistic (${k})`);
  heap.check();
  const dGC = delta(heap, () => { heap.gc(); });
  assert.equal(dGC.HeapAlloc, -524288);
  assert.equal(dGC.HeapInuse, 0);
  assert.equal(dGC.Frees, 32768);
  heap.check();
  // The freed slots are reused before the heap grows.
  const dReuse = delta(heap, () => { for (let i = 0; i < 32768; i++) heap.malloc(16); });
  assert.equal(dReuse.HeapInuse, 0);
  assert.equal(dReuse.HeapSys, 0);
  heap.check();
});

test('a span whose objects are all freed goes back to the heap at sweep (HeapInuse -> HeapIdle)', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const ptrs: number[] = [];
  for (let i = 0; i < 1024; i++) ptrs.push(heap.malloc(64)); // 8 spans of 128
  const d = delta(heap, () => { for (const p of ptrs) heap.free(p); heap.gc(); });
  assert.equal(d.HeapInuse, -8 * 8192);
  assert.equal(d.HeapIdle, 8 * 8192);
  assert.equal(d.HeapAlloc, -65536);
  heap.check();
});

test('bad pointers for small objects: double free, interior, free slot, span tail, outside heap', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const p = heap.malloc(48);
  const q = heap.malloc(48);
  heap.free(q);
  const t = heap.malloc(3);
  const s = heap.h.spanOf(p);
  const base = heap.u32[(s + S_START) >>> 2];
  assert.throws(() => heap.free(q), DoubleFreeError);
  assert.throws(() => heap.free(p + 8), InvalidPointerError);
  assert.throws(() => heap.free(base + 48 * 100), InvalidPointerError, 'slot never handed out');
  assert.throws(() => heap.free(base + 48 * 170 + 8), InvalidPointerError, 'tail waste after the last slot');
  assert.throws(() => heap.free(t + 1), InvalidPointerError, 'inside a tiny object');
  assert.throws(() => heap.free(60 * MiB), InvalidPointerError, 'a page no span holds');
  assert.throws(() => heap.free(2 ** 32 + 8), InvalidPointerError);
  heap.check();
  heap.free(t);
  assert.throws(() => heap.free(t), InvalidPointerError, 'a tiny double free is reported too');
  heap.free(p);
  heap.check();
});

test('calloc zeroes reused memory; realloc in place and by copy; usableSize', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const a: number[] = [];
  for (let i = 0; i < 200; i++) { const p = heap.malloc(100); heap.u8.fill(0xee, p, p + 112); a.push(p); }
  for (const p of a) heap.free(p);
  heap.gc();
  for (let i = 0; i < 200; i++) {
    const p = heap.calloc(10, 10);
    for (let k = 0; k < 112; k++) assert.equal(heap.u8[p + k], 0);
  }
  const r = heap.malloc(20);
  assert.equal(heap.usableSize(r), 24);
  assert.equal(heap.realloc(r, 24), r, 'fits its slot: in place');
  heap.u8.set([1, 2, 3, 4], r);
  const r2 = heap.realloc(r, 5000);
  assert.notEqual(r2, r);
  assert.deepEqual([...heap.u8.subarray(r2, r2 + 4)], [1, 2, 3, 4]);
  assert.equal(heap.usableSize(r2), 5376);
  assert.throws(() => heap.free(r), DoubleFreeError, 'realloc freed the old object');
  const big = heap.realloc(r2, 100000);
  assert.equal(heap.usableSize(big), 106496);
  assert.equal(heap.realloc(0, 8) > 0, true);
  heap.check();
});

test('MemStats: every Go field, invariants of Go\'s TestMemStats, BySize has 61 entries', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  for (let i = 0; i < 1000; i++) heap.free(heap.malloc(i * 7 + 1));
  heap.gc();
  heap.gc();
  const ms = heap.readMemStats();
  for (const f of memStatsFields) assert.ok(f in ms, f);
  assert.equal(ms.Sys, ms.HeapSys + ms.StackSys + ms.MSpanSys + ms.MCacheSys + ms.BuckHashSys + ms.GCSys + ms.OtherSys);
  assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
  assert.equal(ms.LastGC, ms.PauseEnd[(ms.NumGC + 255) % 256]);
  assert.equal(ms.PauseTotalNs, ms.PauseNs.reduce((a, b) => a + b, 0));
  assert.ok(ms.NumForcedGC <= ms.NumGC);
  assert.equal(ms.NumForcedGC, 2);
  assert.equal(ms.Lookups, 0);
  assert.equal(ms.EnableGC, true);
  assert.equal(ms.BySize.length, 61);
  assert.equal(ms.BySize[0].Size, 0);
  assert.equal(ms.BySize[60].Size, 18432);
  assert.equal(ms.HeapAlloc, 0);
  assert.equal(ms.Mallocs, ms.Frees);
  assert.equal(ms.Sys, heap.h.mem.mapped);
});

test('metrics: the /memory/classes leaves add up to /memory/classes/total:bytes', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  for (let i = 0; i < 5000; i++) heap.malloc((i % 300) + 1);
  heap.malloc(200000);
  const m = heap.readMetrics();
  const leaves = Object.keys(m).filter((k) => k.startsWith('/memory/classes/') && k !== '/memory/classes/total:bytes');
  assert.equal(leaves.length, 13);
  assert.equal(leaves.reduce((a, k) => a + m[k], 0), m['/memory/classes/total:bytes']);
  const ms = heap.readMemStats();
  assert.equal(m['/memory/classes/heap/objects:bytes'], ms.HeapAlloc);
  assert.equal(m['/memory/classes/total:bytes'], ms.Sys);
});

test('churn: a constant live set under a million alloc/free cycles keeps HeapSys flat', () => {
  const heap = Heap.create({ reserve: 256 * MiB });
  const N = 4096;
  const ring = new Float64Array(N);
  let seed = 12345;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let i = 0; i < N; i++) ring[i] = heap.malloc(16 + (rnd() % 113));
  for (let i = 0; i < 100000; i++) { const k = rnd() % N; heap.free(ring[k]); ring[k] = heap.malloc(16 + (rnd() % 113)); }
  const warm = heap.readMemStats().HeapSys;
  for (let i = 0; i < 1000000; i++) { const k = rnd() % N; heap.free(ring[k]); ring[k] = heap.malloc(16 + (rnd() % 113)); }
  const ms = heap.readMemStats();
  assert.equal(ms.HeapSys, warm, 'HeapSys did not grow after warm-up');
  assert.ok(ms.NumGC > 10, `automatic GC cycles ran (${ms.NumGC})`);
  heap.check();
});

// Go 1.19 (/usr/lib/go-1.19, 2026-11-25): debug.SetGCPercent(g); runtime.GC() twice with
// ~45 KB live -> MemStats.NextGC = 2,097,152 / 4,194,304 / 8,388,608 / 16,777,216 for
// GOGC = 50 / 100 / 200 / 400: the minimum heap goal scales with GOGC.
test('pacer: with nothing live the goal is heapMinimum = 4 MiB x GOGC/100 (Go\'s defaultHeapMinimum is its GOGC=100 value)', () => {
  for (const gogc of [50, 100, 200]) {
    const heap = Heap.create({ reserve: 256 * MiB, gcPercent: gogc });
    const minimum = Math.floor(4 * MiB * gogc / 100);
    assert.equal(heap.readMemStats().NextGC, minimum, `GOGC=${gogc}: goal before the first cycle`);
    let firstAt = 0;
    for (let i = 1; i <= 200000 && firstAt === 0; i++) {
      heap.free(heap.malloc(64));
      if ((i & 1023) === 0 && heap.readMemStats().NumGC > 0) firstAt = i;
    }
    // 64-byte objects: the first automatic cycle comes once about `minimum` bytes of spans
    // have been taken (heapLive counts whole spans as they are cached).
    assert.ok(firstAt * 64 >= minimum - 64 * 1024 && firstAt * 64 <= minimum + 2 * 64 * 1024, `GOGC=${gogc}: first cycle after ${firstAt * 64} bytes, minimum ${minimum}`);
    heap.gc();
    assert.equal(heap.readMemStats().NextGC, minimum, `GOGC=${gogc}: nothing live, the goal is the minimum again`);
    heap.check();
  }
});

test('GOGC off: no automatic cycle, freed memory is not reused until gc()', () => {
  const heap = Heap.create({ reserve: 256 * MiB, gcPercent: -1 });
  for (let i = 0; i < 200000; i++) heap.free(heap.malloc(64));
  const ms = heap.readMemStats();
  assert.equal(ms.NumGC, 0);
  assert.equal(ms.HeapAlloc, 200000 * 64);
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
  heap.check();
});

test('property: random small/large malloc, free, realloc, gc against a model', () => {
  fc.assert(fc.property(
    fc.array(fc.oneof(
      { weight: 6, arbitrary: fc.record({ op: fc.constant('malloc' as const), size: fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 1, max: 33000 }), fc.integer({ min: 32769, max: 300000 })), scan: fc.boolean() }) },
      { weight: 4, arbitrary: fc.record({ op: fc.constant('free' as const), pick: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constant('realloc' as const), pick: fc.nat(), size: fc.integer({ min: 1, max: 70000 }) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('gc' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('release' as const) }) },
    ), { maxLength: 80 }),
    (ops) => {
      const heap = Heap.create({ reserve: 64 * MiB });
      const live = new Map<number, { size: number; tag: number }>();
      let tag = 1;
      const write = (p: number, o: { size: number; tag: number }) => { const u8 = heap.u8; for (let k = 0; k < o.size; k++) u8[p + k] = (o.tag * 31 + k) & 255; };
      const verify = (p: number, o: { size: number; tag: number }) => {
        const u8 = heap.u8;
        for (let k = 0; k < o.size; k++) if (u8[p + k] !== ((o.tag * 31 + k) & 255)) assert.fail(`object ${p} (size ${o.size}) byte ${k} changed`);
      };
      const noOverlap = (p: number, size: number) => {
        if (size === 0) return;
        for (const [q, o] of live) if (o.size > 0) assert.ok(p + size <= q || q + o.size <= p, `overlap ${p}+${size} with ${q}+${o.size}`);
      };
      for (const op of ops) {
        if (op.op === 'malloc') {
          const p = heap.malloc(op.size, { noscan: !op.scan });
          if (op.size === 0) continue;
          noOverlap(p, op.size);
          const o = { size: op.size, tag: tag++ };
          write(p, o);
          live.set(p, o);
        } else if (op.op === 'free' || op.op === 'realloc') {
          if (live.size === 0) continue;
          const p = [...live.keys()][op.pick % live.size];
          const o = live.get(p)!;
          verify(p, o);
          live.delete(p);
          if (op.op === 'free') heap.free(p);
          else {
            const q = heap.realloc(p, op.size);
            const keep = Math.min(o.size, op.size);
            verify(q, { size: keep, tag: o.tag });
            noOverlap(q, op.size);
            const n = { size: op.size, tag: tag++ };
            write(q, n);
            live.set(q, n);
          }
        } else if (op.op === 'gc') heap.gc();
        else heap.freeOSMemory();
        heap.check();
      }
      for (const [p, o] of live) verify(p, o);
      heap.gc();
      heap.check();
      assert.equal(heap.readMemStats().HeapObjects <= live.size, true);
    }), { numRuns: 40 });
});

test('every size class, scan and noscan: fill two spans, free every 3rd, gc, refill — check() after each step', async () => {
  const { class_to_size, class_to_allocnpages, NUM_SIZE_CLASSES } = await import('../src/sizeclasses.js');
  const heap = Heap.create({ reserve: 128 * MiB });
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    for (const noscan of [true, false]) {
      const size = class_to_size[c];
      const per = Math.floor(class_to_allocnpages[c] * 8192 / size);
      const ptrs: number[] = [];
      for (let i = 0; i < 2 * per; i++) ptrs.push(heap.malloc(size, { noscan }));
      assert.equal(new Set(ptrs).size, ptrs.length, `class ${c}: distinct objects`);
      for (const p of ptrs) assert.equal(heap.slotSize(p), noscan && size < 16 ? 16 : size, "tiny objects live in 16-byte blocks");
      heap.check();
      for (let i = 0; i < ptrs.length; i += 3) heap.free(ptrs[i]);
      heap.gc();
      heap.check();
      for (let i = 0; i < ptrs.length; i += 3) ptrs[i] = heap.malloc(size, { noscan });
      assert.equal(new Set(ptrs).size, ptrs.length, `class ${c}: reused slots are distinct`);
      heap.check();
      for (const p of ptrs) heap.free(p);
    }
  }
  heap.gc();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
  heap.check();
});
