// Go 1.19 mpagecache_test.go vectors (re-expressed, 32-bit geometry: BaseChunkIdx = 0x100).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PALLOC_CHUNK_PAGES as P, PAGE_SIZE } from '../src/mpagealloc.js';
import {
  pageCacheAlloc,
  pageCacheEmpty,
  pageCacheSet,
  pageCacheOut,
  PAGE_CACHE_SIZE,
  PC_BASE,
  PC_CACHE_LO,
  PC_CACHE_HI,
  PC_SCAV_LO,
  PC_SCAV_HI,
} from '../src/mpagecache.js';

import { B, newPageAlloc, PB, checkPageAlloc, type Range, type ChunkMap, cacheOf } from './helpers/pagealloc.js';

const lo = (x: bigint) => Number(x & 0xffffffffn);
const hi = (x: bigint) => Number((x >> 32n) & 0xffffffffn);
const ONES = (1n << 64n) - 1n;
const PS = PAGE_SIZE;


function setCache(views: { u32: Uint32Array }, pc: number, base: number, cache: bigint, scav: bigint): void {
  pageCacheSet(views, pc, base, lo(cache), hi(cache), lo(scav), hi(scav));
}

function readCache(views: { u32: Uint32Array }, pc: number): [number, bigint, bigint] {
  const u32 = views.u32;
  const w = pc >>> 2;
  return [
    u32[w + (PC_BASE >>> 2)]!,
    BigInt(u32[w + (PC_CACHE_LO >>> 2)]!) | (BigInt(u32[w + (PC_CACHE_HI >>> 2)]!) << 32n),
    BigInt(u32[w + (PC_SCAV_LO >>> 2)]!) | (BigInt(u32[w + (PC_SCAV_HI >>> 2)]!) << 32n),
  ];
}

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
      const views = { u32: new Uint32Array(PAGE_CACHE_SIZE / 4 + 2) };
      const pc = 8; // any 8-aligned offset
      setCache(views, pc, base, v.cache, v.scav);
      v.hits.forEach(([npages, wantBase, wantScav], i) => {
        const out = { scav: -1 };
        const a = pageCacheAlloc(views, pc, npages, out);
        assert.equal(a, wantBase, `alloc #${i}: base`);
        assert.equal(out.scav, wantScav, `alloc #${i}: scav`);
      });
    });
  }
});

test('PageCache Alloc: default result holder', () => {
  const views = { u32: new Uint32Array(PAGE_CACHE_SIZE / 4) };
  setCache(views, 0, 0x4000_0000, 0x6n, 0x4n);
  assert.equal(pageCacheEmpty(views, 0), false);
  assert.equal(pageCacheAlloc(views, 0, 1), 0x4000_0000 + PS);
  assert.equal(pageCacheOut.scav, 0);
  assert.equal(pageCacheAlloc(views, 0, 1), 0x4000_0000 + 2 * PS);
  assert.equal(pageCacheOut.scav, PS);
  assert.equal(pageCacheEmpty(views, 0), true);
  assert.equal(pageCacheAlloc(views, 0, 1), 0);
  assert.equal(pageCacheOut.scav, 0);
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
    const pc = cacheOf(b);
    setCache(b.views, pc, PB(B, base), cache, scav);
    b.flushCache(pc);
    assert.ok(pageCacheEmpty(b.views, pc), 'flush did not clear cache');
    // As in Go, flushing an empty cache returns at once (its base is left as it was).
    assert.deepEqual(readCache(b.views, pc), [cache === 0n ? PB(B, base) : 0, 0n, 0n]);
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
      const pc = cacheOf(b);
      v.hits.forEach((want, i) => {
        b.allocToCache(pc);
        assert.deepEqual(readCache(b.views, pc), want, `hit #${i}`);
        if (want[1] !== 0n) assert.equal(b.searchAddr, want[0] + 63 * PS, `hit #${i}: searchAddr`);
        b.check();
        // Empty the struct (as a P would after using it all) without flushing.
        setCache(b.views, pc, 0, 0n, 0n);
      });
      checkPageAlloc(b, newPageAlloc(v.afterAlloc, v.afterScav), name);
    });
  }
});

test('PageAlloc AllocToCache then flush restores the heap', () => {
  const before: ChunkMap = [[B, [[0, 3], [70, 5]]], [B + 1, [[0, 100]]]];
  const scav: ChunkMap = [[B, [[3, 10], [200, 50]]], [B + 1, [[100, 5]]]];
  const b = newPageAlloc(before, scav);
  const pc = cacheOf(b);
  b.allocToCache(pc);
  assert.deepEqual(readCache(b.views, pc), [PB(B, 0), ~0x7n & ONES, 0x3ffn << 3n]);
  b.check();
  b.flushCache(pc);
  b.check();
  checkPageAlloc(b, newPageAlloc(before, scav), 'after flush');
  assert.equal(b.searchAddr, PB(B, 0));
  // Flushing an empty cache changes nothing.
  b.flushCache(pc);
  checkPageAlloc(b, newPageAlloc(before, scav), 'after second flush');
});
