// Go 1.19 mpagealloc_test.go vectors (re-expressed, 32-bit geometry: BaseChunkIdx = 0x100),
// plus a fast-check property test of alloc/free/scavenge against a model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as pa32 from '../src/mpagealloc.js';
import {
  PageAlloc,
  PALLOC_CHUNK_PAGES as P,
  PALLOC_CHUNK_BYTES,
  MAX_SEARCH_ADDR,
  LEVEL_ENTRIES,
  SUMMARY_LEVELS,
  chunkBase,
} from '../src/mpagealloc.js';
import { pageSize } from '../src/sizeclasses.js';
import {
  PD_SCAV_W,
} from '../src/mpallocbits.js';
import { HeapCorruptionError } from '../src/errors.js';
import { scavenge } from '../src/mgcscavenge.js';

import { B, StubOS, newPageAlloc, PB, checkPageAlloc, type Range, type ChunkMap } from './helpers/pagealloc.js';

// ---- Geometry and layout --------------------------------------------------------------

test('32-bit geometry and the layout diagram', () => {
  assert.equal(pageSize, 8192);
  assert.equal(pa32.PALLOC_CHUNK_PAGES, 512);
  assert.equal(pa32.PALLOC_CHUNK_BYTES, 4 << 20);
  assert.equal(pa32.SUMMARY_LEVELS, 4);
  assert.equal(pa32.SUMMARY_LEVEL_BITS, 3);
  assert.equal(pa32.SUMMARY_L0_BITS, 1);
  assert.deepEqual(pa32.LEVEL_BITS, [1, 3, 3, 3]);
  assert.deepEqual(pa32.LEVEL_SHIFT, [31, 28, 25, 22]);
  assert.deepEqual(pa32.LEVEL_LOG_PAGES, [18, 15, 12, 9]);
  assert.deepEqual(pa32.LEVEL_ENTRIES, [2, 16, 128, 1024]);
  assert.equal(pa32.LOG_MAX_PACKED_VALUE, 18);
  assert.equal(pa32.MAX_PACKED_VALUE, 1 << 18);
  assert.equal(pa32.MAX_CHUNKS, 1024);
  assert.equal(pa32.MAX_SEARCH_ADDR, 0xffffffff);
  assert.equal(pa32.MIN_SCAV_PAGES, 1);
  // The offsets drawn in the diagram of mpagealloc.ts.
  assert.deepEqual(
    [pa32.PA_SUM_L0, pa32.PA_SUM_L1, pa32.PA_SUM_L2, pa32.PA_SUM_L3, pa32.PA_SCAV_INDEX, pa32.PA_IN_USE],
    [32, 48, 176, 1200, 9392, 9520],
  );
  assert.equal(PageAlloc.layoutSize(1024), 9520 + 1024 * 8 + 1024 * 128);
  assert.equal(PageAlloc.layoutSize(3), 9520 + 3 * 8 + 3 * 128);
  assert.throws(() => PageAlloc.layoutSize(0), HeapCorruptionError);
  assert.throws(() => PageAlloc.layoutSize(1025), HeapCorruptionError);
  assert.equal(pa32.chunkIndex(0xffffffff), 1023);
  assert.equal(pa32.chunkBase(1023), 1023 * 4 * 1024 * 1024);
  assert.equal(pa32.chunkPageIndex(pa32.chunkBase(7) + 5 * 8192 + 100), 5);
});

// ---- Grow -------------------------------------------------------------------------------

test('PageAlloc Grow', () => {
  const cases: Array<[string, number[], Range[]]> = [
    ['One', [B], [[B, B + 1]]],
    ['Contiguous2', [B, B + 1], [[B, B + 2]]],
    ['Contiguous5', [B, B + 1, B + 2, B + 3, B + 4], [[B, B + 5]]],
    ['Discontiguous', [B, B + 2, B + 4], [[B, B + 1], [B + 2, B + 3], [B + 4, B + 5]]],
    ['Mixed', [B, B + 1, B + 2, B + 4], [[B, B + 3], [B + 4, B + 5]]],
    ['WildlyDiscontiguous', [B, B + 1, B + 0x10, B + 0x21], [[B, B + 2], [B + 0x10, B + 0x11], [B + 0x21, B + 0x22]]],
  ];
  const many: number[] = [];
  const manyRanges: Range[] = [];
  for (let i = 0; i <= 64; i += 2) {
    many.push(B + i);
    manyRanges.push([B + i, B + i + 1]);
  }
  cases.push(['ManyDiscontiguous', many, manyRanges]);
  // Growth in descending and shuffled orders coalesces too.
  cases.push(['Descending', [B + 4, B + 3, B + 1, B + 2, B], [[B, B + 5]]]);
  cases.push(['FillGap', [B, B + 2, B + 1], [[B, B + 3]]]);
  for (const [name, chunks, ranges] of cases) {
    const pa = newPageAlloc(chunks.map((c) => [c, []]));
    assert.deepEqual(
      pa.inUseRanges(),
      ranges.map(([b, l]) => [chunkBase(b), chunkBase(l)]),
      name,
    );
    assert.equal(pa.start, Math.min(...chunks), name);
    assert.equal(pa.end, Math.max(...chunks) + 1, name);
    pa.check();
  }
});

test('PageAlloc grow: new memory is free and scavenged; overlap is refused', () => {
  const views = { u32: new Uint32Array(PageAlloc.layoutSize(8) / 4) };
  const pa = PageAlloc.init(views, 0, 8, new StubOS());
  assert.equal(pa.searchAddr, MAX_SEARCH_ADDR);
  assert.equal(pa.alloc(1), 0);
  pa.grow(chunkBase(2) + 100, 10); // rounded out to chunk 2
  assert.deepEqual(pa.inUseRanges(), [[chunkBase(2), chunkBase(3)]]);
  assert.equal(pa.searchAddr, chunkBase(2));
  for (let i = 0; i < P; i++) {
    assert.equal(pa.chunkAllocBit(2, i), false);
    assert.equal(pa.chunkScavBit(2, i), true);
  }
  assert.deepEqual(pa.readSummary(3, 2), [P, P, P]);
  assert.deepEqual(pa.readSummary(0, 0), [0, P, 0]); // root entry 0 covers chunks 0..511
  pa.check();
  assert.throws(() => pa.grow(chunkBase(2), PALLOC_CHUNK_BYTES), HeapCorruptionError);
  assert.throws(() => pa.grow(chunkBase(7), 2 * PALLOC_CHUNK_BYTES), HeapCorruptionError);
  // Chunk 0 is a real chunk here.
  pa.grow(0, PALLOC_CHUNK_BYTES);
  assert.equal(pa.start, 0);
  assert.equal(pa.end, 3);
  pa.grow(chunkBase(5), PALLOC_CHUNK_BYTES);
  assert.equal(pa.start, 0);
  assert.equal(pa.end, 6);
  pa.check();
  // attach sees the same state.
  const pb = PageAlloc.attach(views, 0, new StubOS());
  assert.equal(pb.maxChunks, 8);
  assert.deepEqual(pb.inUseRanges(), pa.inUseRanges());
  assert.equal(pb.alloc(3), 0 + 0); // page 0 of chunk 0 — address 0, indistinguishable from failure
  assert.equal(pa.chunkAllocBit(0, 2), true);
  assert.throws(() => PageAlloc.attach(views, 8, new StubOS()), HeapCorruptionError);
  assert.throws(() => pa.alloc(0), HeapCorruptionError);
  assert.throws(() => PageAlloc.init(views, 4, 8, new StubOS()), HeapCorruptionError);
  assert.throws(() => PageAlloc.init(views, 8, 8, new StubOS()), HeapCorruptionError); // does not fit
});

test('the views holder is re-read: buffer replaced between and during operations', () => {
  const views = { u32: new Uint32Array(PageAlloc.layoutSize(16) / 4) };
  const replace = () => {
    const nu = new Uint32Array(views.u32.length + 2);
    nu.set(views.u32);
    views.u32.fill(0xdeadbeef); // the old buffer must never be written again
    views.u32 = nu;
  };
  const pa = PageAlloc.init(views, 0, 16, { sysUnused: replace });
  pa.grow(chunkBase(1), 2 * PALLOC_CHUNK_BYTES);
  replace();
  const a = pa.alloc(10);
  assert.equal(a, chunkBase(1));
  replace();
  pa.free(a, 10, false);
  replace();
  assert.equal(scavenge(pa, Infinity), 10 * pageSize); // sysUnused replaces the buffer mid-operation
  pa.check();
  for (let i = 0; i < P; i++) assert.ok(pa.chunkScavBit(1, i) && !pa.chunkAllocBit(1, i));
  assert.equal(PageAlloc.attach(views, 0, { sysUnused() {} }).alloc(P * 2), chunkBase(1));
});

// ---- Alloc ------------------------------------------------------------------------------

interface AllocCase {
  before: ChunkMap;
  scav: ChunkMap;
  hits: Array<[number, number, number]>; // npages, base, scav bytes
  after: ChunkMap;
}

const PS = pageSize;
const allocCases: Record<string, AllocCase> = {
  AllFree1: {
    before: [[B, []]],
    scav: [[B, [[0, 1], [2, 2]]]],
    hits: [[1, PB(B, 0), PS], [1, PB(B, 1), 0], [1, PB(B, 2), PS], [1, PB(B, 3), PS], [1, PB(B, 4), 0]],
    after: [[B, [[0, 5]]]],
  },
  ManyArena1: {
    before: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P - 1]]]],
    scav: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P]]]],
    hits: [[1, PB(B + 2, P - 1), PS]],
    after: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P]]]],
  },
  NotContiguous1: {
    before: [[B, [[0, P]]], [B + 0xff, [[0, 0]]]],
    scav: [[B, [[0, P]]], [B + 0xff, [[0, P]]]],
    hits: [[1, PB(B + 0xff, 0), PS]],
    after: [[B, [[0, P]]], [B + 0xff, [[0, 1]]]],
  },
  AllFree2: {
    before: [[B, []]],
    scav: [[B, [[0, 3], [7, 1]]]],
    hits: [[2, PB(B, 0), 2 * PS], [2, PB(B, 2), PS], [2, PB(B, 4), 0], [2, PB(B, 6), PS], [2, PB(B, 8), 0]],
    after: [[B, [[0, 10]]]],
  },
  Straddle2: {
    before: [[B, [[0, P - 1]]], [B + 1, [[1, P - 1]]]],
    scav: [[B, [[P - 1, 1]]], [B + 1, []]],
    hits: [[2, PB(B, P - 1), PS]],
    after: [[B, [[0, P]]], [B + 1, [[0, P]]]],
  },
  AllFree5: {
    before: [[B, []]],
    scav: [[B, [[0, 8], [9, 1], [17, 5]]]],
    hits: [[5, PB(B, 0), 5 * PS], [5, PB(B, 5), 4 * PS], [5, PB(B, 10), 0], [5, PB(B, 15), 3 * PS], [5, PB(B, 20), 2 * PS]],
    after: [[B, [[0, 25]]]],
  },
  AllFree64: {
    before: [[B, []]],
    scav: [[B, [[21, 1], [63, 65]]]],
    hits: [[64, PB(B, 0), 2 * PS], [64, PB(B, 64), 64 * PS], [64, PB(B, 128), 0]],
    after: [[B, [[0, 192]]]],
  },
  AllFree65: {
    before: [[B, []]],
    scav: [[B, [[129, 1]]]],
    hits: [[65, PB(B, 0), 0], [65, PB(B, 65), PS], [65, PB(B, 130), 0]],
    after: [[B, [[0, 195]]]],
  },
  'ExhaustPallocChunkPages-3': {
    before: [[B, []]],
    scav: [[B, [[10, 1]]]],
    hits: [[P - 3, PB(B, 0), PS], [P - 3, 0, 0], [1, PB(B, P - 3), 0], [2, PB(B, P - 2), 0], [1, 0, 0], [P - 3, 0, 0]],
    after: [[B, [[0, P]]]],
  },
  AllFreePallocChunkPages: {
    before: [[B, []]],
    scav: [[B, [[0, 1], [P - 1, 1]]]],
    hits: [[P, PB(B, 0), 2 * PS], [P, 0, 0], [1, 0, 0]],
    after: [[B, [[0, P]]]],
  },
  StraddlePallocChunkPages: {
    before: [[B, [[0, P / 2]]], [B + 1, [[P / 2, P / 2]]]],
    scav: [[B, []], [B + 1, [[3, 100]]]],
    hits: [[P, PB(B, P / 2), 100 * PS], [P, 0, 0], [1, 0, 0]],
    after: [[B, [[0, P]]], [B + 1, [[0, P]]]],
  },
  'StraddlePallocChunkPages+1': {
    before: [[B, [[0, P / 2]]], [B + 1, []]],
    scav: [[B, [[0, P]]], [B + 1, [[0, P]]]],
    hits: [[P + 1, PB(B, P / 2), (P + 1) * PS], [P, 0, 0], [1, PB(B + 1, P / 2 + 1), PS]],
    after: [[B, [[0, P]]], [B + 1, [[0, P / 2 + 2]]]],
  },
  'AllFreePallocChunkPages*2': {
    before: [[B, []], [B + 1, []]],
    scav: [[B, []], [B + 1, []]],
    hits: [[P * 2, PB(B, 0), 0], [P * 2, 0, 0], [1, 0, 0]],
    after: [[B, [[0, P]]], [B + 1, [[0, P]]]],
  },
  'NotContiguousPallocChunkPages*2': {
    before: [[B, []], [B + 0x40, []], [B + 0x41, []]],
    scav: [[B, [[0, P]]], [B + 0x40, []], [B + 0x41, []]],
    hits: [[P * 2, PB(B + 0x40, 0), 0], [21, PB(B, 0), 21 * PS], [1, PB(B, 21), PS]],
    after: [[B, [[0, 22]]], [B + 0x40, [[0, P]]], [B + 0x41, [[0, P]]]],
  },
  'StraddlePallocChunkPages*2': {
    before: [[B, [[0, P / 2]]], [B + 1, []], [B + 2, [[P / 2, P / 2]]]],
    scav: [[B, [[0, 7]]], [B + 1, [[3, 5], [121, 10]]], [B + 2, [[P / 2 + 12, 2]]]],
    hits: [[P * 2, PB(B, P / 2), 15 * PS], [P * 2, 0, 0], [1, 0, 0]],
    after: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P]]]],
  },
  'StraddlePallocChunkPages*5/4': {
    before: [[B, [[0, P]]], [B + 1, [[0, (P * 3) / 4]]], [B + 2, [[0, (P * 3) / 4]]], [B + 3, [[0, 0]]]],
    scav: [[B, [[0, P]]], [B + 1, [[P / 2, P / 4 + 1]]], [B + 2, [[Math.floor(P / 3), 1]]], [B + 3, [[Math.floor((P * 2) / 3), 1]]]],
    hits: [[(P * 5) / 4, PB(B + 2, (P * 3) / 4), PS], [(P * 5) / 4, 0, 0], [1, PB(B + 1, (P * 3) / 4), PS]],
    after: [[B, [[0, P]]], [B + 1, [[0, (P * 3) / 4 + 1]]], [B + 2, [[0, P]]], [B + 3, [[0, P]]]],
  },
  'AllFreePallocChunkPages*7+5': {
    before: [0, 1, 2, 3, 4, 5, 6, 7].map((i) => [B + i, []] as [number, Range[]]),
    scav: [[B, [[50, 1]]], [B + 1, [[31, 1]]], [B + 2, [[7, 1]]], [B + 3, [[200, 1]]], [B + 4, [[3, 1]]], [B + 5, [[51, 1]]], [B + 6, [[20, 1]]], [B + 7, [[1, 1]]]],
    hits: [[P * 7 + 5, PB(B, 0), 8 * PS], [P * 7 + 5, 0, 0], [1, PB(B + 7, 5), 0]],
    after: [...[0, 1, 2, 3, 4, 5, 6].map((i) => [B + i, [[0, P]]] as [number, Range[]]), [B + 7, [[0, 6]]]],
  },
};

test('PageAlloc Alloc', async (t) => {
  for (const [name, v] of Object.entries(allocCases)) {
    await t.test(name, () => {
      const b = newPageAlloc(v.before, v.scav);
      v.hits.forEach(([npages, base, scav], iter) => {
        const a = b.alloc(npages);
        assert.equal(a, base, `alloc #${iter + 1}: base`);
        assert.equal(b.scav, scav, `alloc #${iter + 1}: scav`);
        b.check();
      });
      checkPageAlloc(b, newPageAlloc(v.after, v.scav), name);
    });
  }
});

test('PageAlloc Exhaust', async (t) => {
  for (const npages of [1, 2, 3, 4, 5, 8, 16, 64, 1024, 1025, 2048, 2049]) {
    await t.test(String(npages), () => {
      const desc: ChunkMap = [0, 1, 2, 3].map((i) => [B + i, []]);
      const b = newPageAlloc(desc);
      const nAlloc = Math.floor((P * 4) / npages);
      for (let i = 0; i < nAlloc; i++) {
        assert.equal(b.alloc(npages), PB(B, i * npages), `alloc #${i + 1}`);
      }
      assert.equal(b.alloc(npages), 0, 'alloc after exhaustion');
      let allocPages = nAlloc * npages;
      const want: ChunkMap = [];
      for (let i = 0; i < 4; i++) {
        if (allocPages >= P) {
          want.push([B + i, [[0, P]]]);
          allocPages -= P;
        } else if (allocPages > 0) {
          want.push([B + i, [[0, allocPages]]]);
          allocPages = 0;
        } else want.push([B + i, []]);
      }
      checkPageAlloc(b, newPageAlloc(want), String(npages));
    });
  }
});

// ---- Free -------------------------------------------------------------------------------

test('PageAlloc Free', async (t) => {
  const full = (n: number): ChunkMap => Array.from({ length: n }, (_, i) => [B + i, [[0, P]]] as [number, Range[]]);
  const cases: Record<string, { npages: number; before: ChunkMap; frees: number[]; after: ChunkMap }> = {
    Free1: { npages: 1, before: full(1), frees: [0, 1, 2, 3, 4].map((i) => PB(B, i)), after: [[B, [[5, P - 5]]]] },
    ManyArena1: {
      npages: 1,
      before: full(3),
      frees: [PB(B, P / 2), PB(B + 1, 0), PB(B + 2, P - 1)],
      after: [[B, [[0, P / 2], [P / 2 + 1, P / 2 - 1]]], [B + 1, [[1, P - 1]]], [B + 2, [[0, P - 1]]]],
    },
    Free2: { npages: 2, before: full(1), frees: [0, 2, 4, 6, 8].map((i) => PB(B, i)), after: [[B, [[10, P - 10]]]] },
    Straddle2: {
      npages: 2,
      before: [[B, [[P - 1, 1]]], [B + 1, [[0, 1]]]],
      frees: [PB(B, P - 1)],
      after: [[B, []], [B + 1, []]],
    },
    Free5: { npages: 5, before: full(1), frees: [0, 5, 10, 15, 20].map((i) => PB(B, i)), after: [[B, [[25, P - 25]]]] },
    Free64: { npages: 64, before: full(1), frees: [0, 64, 128].map((i) => PB(B, i)), after: [[B, [[192, P - 192]]]] },
    Free65: { npages: 65, before: full(1), frees: [0, 65, 130].map((i) => PB(B, i)), after: [[B, [[195, P - 195]]]] },
    FreePallocChunkPages: { npages: P, before: full(1), frees: [PB(B, 0)], after: [[B, []]] },
    StraddlePallocChunkPages: {
      npages: P,
      before: [[B, [[P / 2, P / 2]]], [B + 1, [[0, P / 2]]]],
      frees: [PB(B, P / 2)],
      after: [[B, []], [B + 1, []]],
    },
    'StraddlePallocChunkPages+1': {
      npages: P + 1,
      before: full(2),
      frees: [PB(B, P / 2)],
      after: [[B, [[0, P / 2]]], [B + 1, [[P / 2 + 1, P / 2 - 1]]]],
    },
    'FreePallocChunkPages*2': { npages: P * 2, before: full(2), frees: [PB(B, 0)], after: [[B, []], [B + 1, []]] },
    'StraddlePallocChunkPages*2': {
      npages: P * 2,
      before: full(3),
      frees: [PB(B, P / 2)],
      after: [[B, [[0, P / 2]]], [B + 1, []], [B + 2, [[P / 2, P / 2]]]],
    },
    'AllFreePallocChunkPages*7+5': {
      npages: P * 7 + 5,
      before: full(8),
      frees: [PB(B, 0)],
      after: [...[0, 1, 2, 3, 4, 5, 6].map((i) => [B + i, []] as [number, Range[]]), [B + 7, [[5, P - 5]]]],
    },
  };
  for (const [name, v] of Object.entries(cases)) {
    await t.test(name, () => {
      const b = newPageAlloc(v.before);
      for (const addr of v.frees) b.free(addr, v.npages, true);
      checkPageAlloc(b, newPageAlloc(v.after), name);
    });
  }
});

test('PageAlloc AllocAndFree Chunks8', () => {
  const b = newPageAlloc([0, 1, 2, 3, 4, 5, 6, 7].map((i) => [B + i, []]));
  const hits: Array<[boolean, number, number]> = [
    [true, P * 8, PB(B, 0)],
    [false, P * 8, PB(B, 0)],
    [true, P * 8, PB(B, 0)],
    [false, P * 8, PB(B, 0)],
    [true, P * 8, PB(B, 0)],
    [false, P * 8, PB(B, 0)],
    [true, 1, PB(B, 0)],
    [false, 1, PB(B, 0)],
    [true, P * 8, PB(B, 0)],
  ];
  hits.forEach(([alloc, npages, base], iter) => {
    if (alloc) assert.equal(b.alloc(npages), base, `alloc #${iter + 1}`);
    else b.free(base, npages, true);
    b.check();
  });
});

test('PageAlloc searchAddr follows Go: raised by alloc, lowered by free, MAX on 1-page failure', () => {
  const b = newPageAlloc([[B, [[0, 10]]], [B + 1, []]]);
  assert.equal(b.searchAddr, PB(B, 0));
  assert.equal(b.alloc(1), PB(B, 10));
  assert.equal(b.searchAddr, PB(B, 10));
  assert.equal(b.alloc(600), PB(B, 11));
  // The tree search stopped at the leaf level (run across chunks B, B+1), so its candidate
  // is chunk B's base, below searchAddr: searchAddr is not raised.
  assert.equal(b.searchAddr, PB(B, 10));
  b.free(PB(B, 5), 2, false);
  assert.equal(b.searchAddr, PB(B, 5));
  assert.equal(b.alloc(P * 2), 0);
  assert.equal(b.searchAddr, PB(B, 5)); // unchanged by a failed multi-page allocation
  b.check();
  while (b.alloc(1) !== 0) {
    /* exhaust */
  }
  assert.equal(b.searchAddr, MAX_SEARCH_ADDR);
  b.check();
});

test('PageAlloc check detects corruption', () => {
  const b = newPageAlloc([[B, []], [B + 1, []]]);
  b.check();
  // Leaf summary that disagrees with its bitmap.
  const u32 = b.views.u32;
  const leaf = b.summaryWord(SUMMARY_LEVELS - 1, B);
  const saved = [u32[leaf]!, u32[leaf + 1]!];
  u32[leaf] = 0;
  u32[leaf + 1] = 0;
  assert.throws(() => b.check(), /summary mismatch at level 3 index 256: expected \(start 512, max 512, end 512\), found \(start 0, max 0, end 0\)/);
  u32[leaf] = saved[0]!;
  u32[leaf + 1] = saved[1]!;
  b.check();
  // Inner summary.
  const l1 = b.summaryWord(1, B >>> 6);
  u32[l1] ^= 1;
  assert.throws(() => b.check(), /summary mismatch at level 1 index 4/);
  u32[l1] ^= 1;
  // Page both allocated and scavenged.
  const cw = b.chunkWord(B + 1);
  u32[cw + 3] = 1;
  u32[cw + PD_SCAV_W + 3] = 1;
  assert.throws(() => b.check(), /chunk 257 page 96 is both allocated and scavenged/);
  u32[cw + PD_SCAV_W + 3] = 0;
  // (chunk summary now stale)
  assert.throws(() => b.check(), HeapCorruptionError);
  b.update(PB(B + 1, 96), 1, false, true);
  b.check();
  assert.equal(LEVEL_ENTRIES.length, 4);
});

// ---- Property test --------------------------------------------------------------------

type Op =
  | { k: 'alloc'; n: number }
  | { k: 'free'; pick: number }
  | { k: 'scav'; pages: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ k: fc.constant('alloc' as const), n: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1200 })) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('scav' as const), pages: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(Infinity)) }) },
);

test('PageAlloc property: alloc/free/scavenge vs a model', () => {
  const NCH = 6; // chunks B .. B+NCH-1, some grown
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 0, max: NCH - 1 }), { minLength: 1, maxLength: NCH }),
      fc.array(opArb, { minLength: 10, maxLength: 60, size: 'max' }),
      (grown, ops) => {
        const views = { u32: new Uint32Array((PageAlloc.layoutSize(1024) + 64) / 4) };
        const os = new StubOS();
        const pa = PageAlloc.init(views, 0, 1024, os);
        const N = NCH * P;
        const inUse = new Array<boolean>(N).fill(false);
        const used = new Array<boolean>(N).fill(false);
        const scav = new Array<boolean>(N).fill(false);
        for (const c of grown) {
          pa.grow(chunkBase(B + c), PALLOC_CHUNK_BYTES);
          for (let i = c * P; i < (c + 1) * P; i++) {
            inUse[i] = true;
            scav[i] = true;
          }
        }
        const addrOf = (page: number) => chunkBase(B) + page * pageSize;
        const pageOf = (addr: number) => (addr - chunkBase(B)) / pageSize;
        const live: Array<[number, number]> = [];
        const compare = (label: string) => {
          pa.check();
          for (let c = 0; c < NCH; c++) {
            const ci = B + c;
            const cw = pa.chunkWord(ci);
            const u32 = views.u32;
            for (let i = 0; i < P; i++) {
              const g = c * P + i;
              const a = ((u32[cw + (i >>> 5)]! >>> (i & 31)) & 1) === 1;
              const s = ((u32[cw + PD_SCAV_W + (i >>> 5)]! >>> (i & 31)) & 1) === 1;
              if (a !== used[g] || s !== scav[g]) {
                assert.fail(`${label}: chunk ${ci} page ${i}: alloc ${a}/${used[g]} scav ${s}/${scav[g]}`);
              }
            }
          }
        };
        const firstFit = (n: number) => {
          let run = 0;
          for (let g = 0; g < N; g++) {
            if (inUse[g] && !used[g]) {
              if (++run >= n) return g - n + 1;
            } else run = 0;
          }
          return -1;
        };
        ops.forEach((op, step) => {
          const label = `step ${step} ${JSON.stringify(op)}`;
          switch (op.k) {
            case 'alloc': {
              const want = firstFit(op.n);
              const got = pa.alloc(op.n);
              assert.equal(got, want < 0 ? 0 : addrOf(want), label);
              if (want >= 0) {
                let s = 0;
                for (let g = want; g < want + op.n; g++) {
                  if (scav[g]) s++;
                  used[g] = true;
                  scav[g] = false;
                }
                assert.equal(pa.scav, s * pageSize, `${label}: scav`);
                live.push([want, op.n]);
              } else assert.equal(pa.scav, 0);
              break;
            }
            case 'free': {
              if (live.length === 0) return;
              const [g0, n] = live.splice(op.pick % live.length, 1)[0]!;
              pa.free(addrOf(g0), n, false);
              for (let g = g0; g < g0 + n; g++) used[g] = false;
              break;
            }
            case 'scav': {
              const before = scav.slice();
              const nbytes = op.pages * pageSize;
              os.calls.length = 0;
              const released = scavenge(pa, nbytes);
              let changed = 0;
              for (let c = 0; c < NCH; c++) {
                for (let i = 0; i < P; i++) {
                  const g = c * P + i;
                  const now = pa.chunkScavBit(B + c, i);
                  if (now !== before[g]) {
                    assert.ok(now && !used[g] && inUse[g], `${label}: page ${g} changed wrongly`);
                    changed++;
                    scav[g] = true;
                  }
                }
              }
              assert.equal(released, changed * pageSize, `${label}: released`);
              assert.equal(os.calls.reduce((s, [, n]) => s + n, 0), released, `${label}: sysUnused total`);
              for (const [v, n] of os.calls) {
                for (let g = pageOf(v); g < pageOf(v + n); g++) assert.ok(scav[g] && !before[g]);
              }
              if (op.pages !== Infinity) assert.ok(released <= nbytes, `${label}: released too much`);
              else {
                // Every free page is reachable through the scavenge index.
                for (let g = 0; g < N; g++) if (inUse[g] && !used[g]) assert.ok(scav[g], `${label}: page ${g} left`);
              }
              break;
            }
          }
          compare(label);
        });
      },
    ),
    { numRuns: 200, seed: 42 },
  );
});
