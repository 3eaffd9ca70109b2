// Go 1.19 mpagecache_test.go vectors (re-expressed, 32-bit geometry: BaseChunkIdx = 0x100).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALLOC_CHUNK_PAGES as P, PageAlloc, cacheOut } from '../src/mpagealloc.js';
import * as mpagecache from '../src/mpagecache.js';
import { pageCacheFlush, pageCacheTake, pageCacheCount, emptyPageCache } from '../src/mpagecache.js';
import { pageSize as PAGE_SIZE } from '../src/sizeclasses.js';
import { H_LOCK, PW_PCACHE_BASE, PW_PCACHE_HI, PW_PCACHE_LO, PW_PCACHE_SCAV_HI, PW_PCACHE_SCAV_LO, P_PCACHE_BASE, type PPtr } from '../src/layout.js';
import { Heap } from '../src/index.js';
import { lock } from '../src/lock_futex.js';

import { B, newPageAlloc, PB, checkPageAlloc, type Range, type ChunkMap, cacheOf } from './helpers/pagealloc.js';

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number((x >> 32n) & 0xffffffffn);
const ONES = (1n << 64n) - 1n;
const PS = PAGE_SIZE;


// The cache words of a P struct at pp (layout.ts P_PCACHE_*); the tests place a bare one
// in the test buffer: pp such that its cache words start at offset `at`.
const ppAt = (at: number) => (at - P_PCACHE_BASE) as PPtr;

function setCache(views: { u32: Uint32Array }, pp: PPtr, base: number, cache: bigint, scav: bigint): void {
  const u32 = views.u32, pw = pp >>> 2;
  u32[pw + PW_PCACHE_BASE] = base;
  u32[pw + PW_PCACHE_LO] = lo(cache);
  u32[pw + PW_PCACHE_HI] = hi(cache);
  u32[pw + PW_PCACHE_SCAV_LO] = lo(scav);
  u32[pw + PW_PCACHE_SCAV_HI] = hi(scav);
}

function readCache(views: { u32: Uint32Array }, pp: PPtr): [number, bigint, bigint] {
  const u32 = views.u32, pw = pp >>> 2;
  return [
    u32[pw + PW_PCACHE_BASE]!,
    BigInt(u32[pw + PW_PCACHE_LO]!) | (BigInt(u32[pw + PW_PCACHE_HI]!) << 32n),
    BigInt(u32[pw + PW_PCACHE_SCAV_LO]!) | (BigInt(u32[pw + PW_PCACHE_SCAV_HI]!) << 32n),
  ];
}

/** Go's AllocToCache into the cache words of pp: the block, its free and scavenged bits. */
function allocToCache(b: PageAlloc, pp: PPtr): void {
  const base = b.allocToCache();
  if (base === 0) setCache(b.views, pp, 0, 0n, 0n);
  else setCache(b.views, pp, base, BigInt(cacheOut[0]!) | (BigInt(cacheOut[1]!) << 32n), BigInt(cacheOut[2]!) | (BigInt(cacheOut[3]!) << 32n));
}

const empty = (views: { u32: Uint32Array }, pp: PPtr) => pageCacheCount(views.u32, pp) === 0;

// ---- pageCache.alloc --------------------------------------------------------------------

test('PageCache Alloc', async (t) => {
  const base = PB(B, 0);
  const cases: Record<string, { cache: bigint; scav: bigint; hits: Array<[number, number, number]> }> = {
    Empty: {
      cache: 0n,
      scav: 0n,
      hits: [1, 2, 3, 4, 5, 11, 12, 16, 27, 32, 43, 57, 64, 121].map((n) => [n, 0, 0] as [number, number, number]),
    },
    Lo1: { cache: 0x1n, scav: 0x1n, hits: [[1, base, PS], [1, 0, 0], [10, 0, 0]] },
    Hi1: { cache: 0x1n << 63n, scav: 0x1n, hits: [[1, base + 63 * PS, 0], [1, 0, 0], [10, 0, 0]] },
    Swiss1: {
      cache: 0x20005555n,
      scav: 0x5505n,
      hits: [
        [2, 0, 0], [1, base, PS], [1, base + 2 * PS, PS], [1, base + 4 * PS, 0], [1, base + 6 * PS, 0],
        [1, base + 8 * PS, PS], [1, base + 10 * PS, PS], [1, base + 12 * PS, PS], [1, base + 14 * PS, PS],
        [1, base + 29 * PS, 0], [1, 0, 0], [10, 0, 0],
      ],
    },
    Lo2: { cache: 0x3n, scav: 0x2n << 62n, hits: [[2, base, 0], [2, 0, 0], [1, 0, 0]] },
    Hi2: { cache: 0x3n << 62n, scav: 0x3n << 62n, hits: [[2, base + 62 * PS, 2 * PS], [2, 0, 0], [1, 0, 0]] },
    Swiss2: {
      cache: 0x3333n << 31n,
      scav: 0x3030n << 31n,
      hits: [[2, base + 31 * PS, 0], [2, base + 35 * PS, 2 * PS], [2, base + 39 * PS, 0], [2, base + 43 * PS, 2 * PS], [2, 0, 0]],
    },
    Hi53: {
      cache: ((1n << 53n) - 1n) << 10n,
      scav: ((1n << 16n) - 1n) << 10n,
      hits: [[53, base + 10 * PS, 16 * PS], [53, 0, 0], [1, 0, 0]],
    },
    Full53: { cache: ONES, scav: ((1n << 16n) - 1n) << 10n, hits: [[53, base, 16 * PS], [53, 0, 0], [1, base + 53 * PS, 0]] },
    Full64: { cache: ONES, scav: ONES, hits: [[64, base, 64 * PS], [64, 0, 0], [1, 0, 0]] },
    FullMixed: {
      cache: ONES,
      scav: ONES,
      hits: [
        [5, base, 5 * PS], [7, base + 5 * PS, 7 * PS], [1, base + 12 * PS, PS], [23, base + 13 * PS, 23 * PS],
        [63, 0, 0], [3, base + 36 * PS, 3 * PS], [3, base + 39 * PS, 3 * PS], [3, base + 42 * PS, 3 * PS],
        [12, base + 45 * PS, 12 * PS], [11, 0, 0], [4, base + 57 * PS, 4 * PS], [4, 0, 0], [6, 0, 0], [36, 0, 0],
        [2, base + 61 * PS, 2 * PS], [3, 0, 0], [1, base + 63 * PS, PS], [4, 0, 0], [2, 0, 0], [62, 0, 0], [1, 0, 0],
      ],
    },
  };
  for (const [name, v] of Object.entries(cases)) {
    await t.test(name, () => {
      const views = { u32: new Uint32Array(16) };
      const pp = 0 as PPtr; // its cache words at bytes 24..43
      setCache(views, pp, base, v.cache, v.scav);
      v.hits.forEach(([npages, wantBase, wantScav], i) => {
        const a = pageCacheTake(views.u32, pp, npages);
        assert.equal(a, wantBase, `alloc #${i}: base`);
        assert.equal(mpagecache.pageCacheScav, wantScav, `alloc #${i}: scav`);
      });
    });
  }
});

test('PageCache Alloc: the second result is the last call\'s', () => {
  const views = { u32: new Uint32Array(16) };
  const pp = ppAt(0 + P_PCACHE_BASE);
  setCache(views, pp, 0x4000_0000, 0x6n, 0x4n);
  assert.equal(empty(views, pp), false);
  assert.equal(pageCacheTake(views.u32, pp, 1), 0x4000_0000 + PS);
  assert.equal(mpagecache.pageCacheScav, 0);
  assert.equal(pageCacheTake(views.u32, pp, 1), 0x4000_0000 + 2 * PS);
  assert.equal(mpagecache.pageCacheScav, PS);
  assert.equal(empty(views, pp), true);
  assert.equal(pageCacheTake(views.u32, pp, 1), 0);
  assert.equal(mpagecache.pageCacheScav, 0);
});

// ---- pageCache.flush --------------------------------------------------------------------

function bits64ToRanges(bits: bigint, base: number): Range[] {
  const ranges: Range[] = [];
  let start = 0;
  let size = 0;
  for (let i = 0; i < 64; i++) {
    if ((bits >> BigInt(i)) & 1n) {
      if (size === 0) start = i + base;
      size++;
    } else if (size !== 0) {
      ranges.push([start, size]);
      size = 0;
    }
  }
  if (size !== 0) ranges.push([start, size]);
  return ranges;
}

test('PageCache Flush', () => {
  const run = (base: number, cache: bigint, scav: bigint) => {
    const b = newPageAlloc([[B, [[base, 64]]]], [[B, []]]);
    const pp = ppAt(cacheOf(b));
    setCache(b.views, pp, PB(B, base), cache, scav);
    pageCacheFlush(b, b.views.u32, pp);
    assert.ok(empty(b.views, pp), 'flush did not clear cache');
    // As in Go, flushing an empty cache returns at once (its base is left as it was).
    assert.deepEqual(readCache(b.views, pp), [cache === 0n ? PB(B, base) : 0, 0n, 0n]);
    if (cache !== 0n) assert.ok(b.searchAddr <= PB(B, base));
    const want = newPageAlloc([[B, bits64ToRanges(~cache & ONES, base)]], [[B, bits64ToRanges(scav, base)]]);
    checkPageAlloc(b, want, `base ${base} cache ${cache.toString(16)} scav ${scav.toString(16)}`);
  };
  run(0, 0n, 0n);
  run(0, ONES, ONES);
  let s = 12345;
  const rnd32 = () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s;
  };
  const rnd64 = () => (BigInt(rnd32()) << 32n) | BigInt(rnd32());
  for (let i = 0; i < 100; i++) {
    const base = (rnd32() % (P / 64)) * 64;
    const cache = rnd64();
    const scav = rnd64() & cache;
    run(base, cache, scav);
  }
});

// ---- pageAlloc.allocToCache -------------------------------------------------------------

test('PageAlloc AllocToCache', async (t) => {
  const cases: Record<
    string,
    { beforeAlloc: ChunkMap; beforeScav?: ChunkMap; hits: Array<[number, bigint, bigint]>; afterAlloc: ChunkMap; afterScav?: ChunkMap }
  > = {
    AllFree: {
      beforeAlloc: [[B, []]],
      beforeScav: [[B, [[1, 1], [64, 64]]]],
      hits: [
        [PB(B, 0), ONES, 0x2n],
        [PB(B, 64), ONES, ONES],
        [PB(B, 128), ONES, 0n],
        [PB(B, 192), ONES, 0n],
      ],
      afterAlloc: [[B, [[0, 256]]]],
    },
    ManyArena: {
      beforeAlloc: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P - 64]]]],
      beforeScav: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, []]],
      hits: [[PB(B + 2, P - 64), ONES, 0n]],
      afterAlloc: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P]]]],
    },
    NotContiguous: {
      beforeAlloc: [[B, [[0, P]]], [B + 0xff, [[0, 0]]]],
      beforeScav: [[B, [[0, P]]], [B + 0xff, [[31, 67]]]],
      hits: [[PB(B + 0xff, 0), ONES, ((1n << 33n) - 1n) << 31n]],
      afterAlloc: [[B, [[0, P]]], [B + 0xff, [[0, 64]]]],
      afterScav: [[B, [[0, P]]], [B + 0xff, [[64, 34]]]],
    },
    First: {
      beforeAlloc: [[B, [[0, 32], [33, 31], [96, 32]]]],
      beforeScav: [[B, [[1, 4], [31, 5], [66, 2]]]],
      hits: [
        [PB(B, 0), 1n << 32n, 1n << 32n],
        [PB(B, 64), (1n << 32n) - 1n, 0x3n << 2n],
      ],
      afterAlloc: [[B, [[0, 128]]]],
    },
    Fail: {
      beforeAlloc: [[B, [[0, P]]]],
      hits: [[0, 0n, 0n], [0, 0n, 0n], [0, 0n, 0n]],
      afterAlloc: [[B, [[0, P]]]],
    },
    RetainScavBits: {
      beforeAlloc: [[B, [[0, 1], [10, 2]]]],
      beforeScav: [[B, [[0, 4], [11, 1]]]],
      hits: [[PB(B, 0), ~(0x1n | (0x3n << 10n)) & ONES, 0x7n << 1n]],
      afterAlloc: [[B, [[0, 64]]]],
      afterScav: [[B, [[0, 1], [11, 1]]]],
    },
  };
  for (const [name, v] of Object.entries(cases)) {
    await t.test(name, () => {
      const b = newPageAlloc(v.beforeAlloc, v.beforeScav);
      const pp = ppAt(cacheOf(b));
      v.hits.forEach((want, i) => {
        allocToCache(b, pp);
        assert.deepEqual(readCache(b.views, pp), want, `hit #${i}`);
        if (want[1] !== 0n) assert.equal(b.searchAddr, want[0] + 63 * PS, `hit #${i}: searchAddr`);
        b.check();
        // Empty the struct (as a P would after using it all) without flushing.
        setCache(b.views, pp, 0, 0n, 0n);
      });
      checkPageAlloc(b, newPageAlloc(v.afterAlloc, v.afterScav), name);
    });
  }
});

test('PageAlloc AllocToCache then flush restores the heap', () => {
  const before: ChunkMap = [[B, [[0, 3], [70, 5]]], [B + 1, [[0, 100]]]];
  const scav: ChunkMap = [[B, [[3, 10], [200, 50]]], [B + 1, [[100, 5]]]];
  const b = newPageAlloc(before, scav);
  const pp = ppAt(cacheOf(b));
  allocToCache(b, pp);
  assert.deepEqual(readCache(b.views, pp), [PB(B, 0), ~0x7n & ONES, 0x3ffn << 3n]);
  b.check();
  pageCacheFlush(b, b.views.u32, pp);
  b.check();
  checkPageAlloc(b, newPageAlloc(before, scav), 'after flush');
  assert.equal(b.searchAddr, PB(B, 0));
  // Flushing an empty cache changes nothing.
  pageCacheFlush(b, b.views.u32, pp);
  checkPageAlloc(b, newPageAlloc(before, scav), 'after second flush');
});

// ---- The page cache inside a heap ----------------------------------------------------------

const MiB = 1 << 20;
/** Pages the page cache of P pid holds, and its block. */
function pcache(heap: Heap, pid: number): { n: number; base: number } {
  const u32 = heap.h.views.u32, pp = heap.h.pOf(pid);
  return { n: pageCacheCount(u32, pp), base: u32[(pp >>> 2) + PW_PCACHE_BASE]! };
}

test('a P\'s small spans take their pages from its page cache, a 64-page block at a time; check() counts cached pages as idle; detach gives them back', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const first = heap.malloc(8192); // size class 8192, 1-page spans; the heap grows for this one
  assert.equal(pcache(heap, 0).n, 0, 'a heap with no free page: the first span comes from the page allocator, which grows it');
  const a = heap.malloc(8192);
  const c0 = pcache(heap, 0);
  assert.ok(c0.n > 0 && c0.n < 64, `the P took a block and one page of it (${c0.n} left)`);
  const s = heap.h.spanOf(a);
  assert.ok(a >= c0.base && a < c0.base + 64 * PAGE_SIZE, 'the span lies in the cached block');
  assert.notEqual(s, 0);
  // Cached pages are idle for the statistics, in use for the page allocator.
  const ms = heap.readMemStats();
  assert.equal(ms.HeapInuse + ms.HeapIdle, ms.HeapSys);
  assert.equal(heap.h.pages.pageAllocated(c0.base + 63 * PAGE_SIZE), true);
  heap.check();
  // A span of 16 pages or more does not use the cache (Go: npages < pageCachePages/4).
  const big = heap.malloc(16 * PAGE_SIZE);
  assert.ok(big < c0.base || big >= c0.base + 64 * PAGE_SIZE);
  assert.equal(pcache(heap, 0).n, c0.n);
  // A second P gets its own block.
  const d = heap.share(true);
  const other = Heap.attach(d);
  const b = other.malloc(8192);
  const c1 = pcache(heap, d.pid);
  assert.ok(c1.n > 0 && c1.base !== c0.base && b >= c1.base && b < c1.base + 64 * PAGE_SIZE);
  heap.check();
  other.free(b);
  other.detach();
  assert.equal(pcache(heap, d.pid).n, 0, 'detach flushed the cache');
  assert.equal(heap.h.pages.pageAllocated(c1.base + 63 * PAGE_SIZE), false, 'its pages are free again');
  heap.check();
  heap.free(a);
  heap.free(first);
  heap.free(big);
  heap.gc();
  heap.check();
});

test('a full reservation: the P\'s own cached pages serve its last spans before OutOfMemoryError', () => {
  const heap = Heap.create({ reserve: 16 * MiB });
  const got: number[] = [];
  assert.throws(() => { for (;;) got.push(heap.malloc(8192)); }, (e: Error) => e.name === 'OutOfMemoryError');
  assert.equal(pcache(heap, 0).n, 0, 'every cached page went to a span');
  heap.check();
  for (const p of got) heap.free(p);
  heap.gc();
  heap.check();
  assert.equal(heap.readMemStats().HeapAlloc, 0);
});

test('reclaimP: a dead P\'s whole page cache is flushed; one cut short in a refill (block taken, not recorded) is freed by the page repair; live Ps keep theirs', () => {
  for (const window of ['whole', 'refill'] as const) {
    const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 4 });
    const live = [heap.malloc(8192), heap.malloc(8192)]; // the second from P 0's page cache
    const mine = pcache(heap, 0);
    assert.ok(mine.n > 0);
    const d = heap.share(true);
    const dead = Heap.attach(d);
    for (let i = 0; i < 5; i++) dead.malloc(8192);
    let block = pcache(heap, d.pid).base;
    if (window === 'refill') {
      // Died holding the heap lock right after the page allocator handed over a block.
      emptyPageCache(dead.h.views.u32, dead.h.pp);
      lock(dead.h.views.i32, heap.h.base + H_LOCK, dead.h.lockToken);
      block = dead.h.pages.allocToCache();
      assert.notEqual(block, 0);
    }
    assert.equal(heap.markDead(d.pid, d.epoch), true);
    assert.equal(heap.reclaimP(d.pid, d.epoch), true);
    assert.equal(pcache(heap, d.pid).n, 0, `${window}: the dead P's cache is empty`);
    assert.equal(heap.h.pages.pageAllocated(block + 63 * PAGE_SIZE), false, `${window}: its block's last page is free again`);
    assert.deepEqual(pcache(heap, 0), mine, `${window}: the live P's cache is untouched`);
    heap.check();
    const more = heap.malloc(8192); // from the live P's cache
    assert.ok(more >= mine.base && more < mine.base + 64 * PAGE_SIZE);
    heap.free(more);
    for (const p of live) heap.free(p);
    heap.gc();
    heap.check();
  }
});
