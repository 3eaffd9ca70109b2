// Go 1.19 mpallocbits_test.go vectors (re-expressed), plus summarize vs a slow reference.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xorshift } from './helpers/random.js';
import {
  PALLOC_CHUNK_PAGES as P,
  PAGE_BITS_WORDS,
  MAX_PACKED_VALUE,
  packSum,
  packSumBig,
  sumStart,
  sumMax,
  sumEnd,
  sumOut,
  SUM_START,
  SUM_MAX,
  SUM_END,
  mergeSummaries,
  pallocBitsSummarize,
  pallocBitsFind,
  findOut,
  FIND_SEARCH_IDX,
  pageBitsSetRange,
  pageBitsClearRange,
  pageBitsPopcntRange,
  pageBitsGet,
  findBitRange64,
  findBitRange32,
  ctz32,
  popcnt32,
  NOT_FOUND,
} from '../src/mpallocbits.js';

type Range = [number, number]; // [i, n] = bits [i, i+n)

function bits(ranges: Range[]): Uint32Array {
  const u32 = new Uint32Array(PAGE_BITS_WORDS);
  for (const [i, n] of ranges) if (n > 0) pageBitsSetRange(u32, 0, i, n);
  return u32;
}

function invert(u32: Uint32Array): Uint32Array {
  for (let k = 0; k < u32.length; k++) u32[k] = ~u32[k]! >>> 0;
  return u32;
}

/** Go's 64-bit word k of the bitmap. */
function word64(u32: Uint32Array, k: number): bigint {
  return BigInt(u32[2 * k]!) | (BigInt(u32[2 * k + 1]!) << 32n);
}

function words64(u32: Uint32Array): bigint[] {
  const out: bigint[] = [];
  for (let k = 0; k < P / 64; k++) out.push(word64(u32, k));
  return out;
}

const ONES = (1n << 64n) - 1n;

function summarize(u32: Uint32Array): [number, number, number] {
  pallocBitsSummarize(u32, 0);
  return [sumOut[SUM_START]!, sumOut[SUM_MAX]!, sumOut[SUM_END]!];
}

function summarizeSlow(u32: Uint32Array): [number, number, number] {
  let start = 0;
  let max = 0;
  let end = 0;
  let cur = 0;
  let seenUsed = false;
  for (let i = 0; i < P; i++) {
    const used = pageBitsGet(u32, 0, i) === 1;
    if (!used) {
      cur++;
      if (cur > max) max = cur;
    } else {
      if (!seenUsed) start = cur;
      seenUsed = true;
      cur = 0;
    }
  }
  if (!seenUsed) return [P, P, P];
  end = cur;
  return [start, max, end];
}


test('pallocSum pack/unpack', () => {
  const u32 = new Uint32Array(2);
  for (const [s, m, e] of [
    [3, 7, 5],
    [0, 0, 0],
    [512, 512, 512],
    [MAX_PACKED_VALUE - 1, MAX_PACKED_VALUE - 1, MAX_PACKED_VALUE - 1],
    [12345, 200000, 99],
  ] as const) {
    packSum(u32, 0, s, m, e);
    assert.deepEqual([sumStart(u32, 0), sumMax(u32, 0), sumEnd(u32, 0)], [s, m, e]);
    assert.equal(BigInt(u32[0]!) | (BigInt(u32[1]!) << 32n), packSumBig(s, m, e));
  }
  assert.equal(packSumBig(3, 7, 5), 3n | (7n << 18n) | (5n << 36n));
  packSum(u32, 0, 1, MAX_PACKED_VALUE, 2);
  assert.equal(BigInt(u32[0]!) | (BigInt(u32[1]!) << 32n), 1n << 63n);
  assert.equal(packSumBig(0, MAX_PACKED_VALUE, 0), 1n << 63n);
  assert.deepEqual([sumStart(u32, 0), sumMax(u32, 0), sumEnd(u32, 0)], [MAX_PACKED_VALUE, MAX_PACKED_VALUE, MAX_PACKED_VALUE]);
  packSum(u32, 0, 0, 0, 0);
  assert.deepEqual([...u32], [0, 0]);
});

test('mergeSummaries', () => {
  const u32 = new Uint32Array(16);
  const set = (i: number, s: number, m: number, e: number) => packSum(u32, 2 * i, s, m, e);
  // 8 free chunks → one fully free entry.
  for (let i = 0; i < 8; i++) set(i, 512, 512, 512);
  mergeSummaries(u32, 0, 8, 9);
  assert.deepEqual([...sumOut], [4096, 4096, 4096]);
  // Run across children: child 2 ends with 10 free, child 3 starts with 20.
  for (let i = 0; i < 8; i++) set(i, 0, 5, 0);
  set(2, 0, 5, 10);
  set(3, 20, 20, 3);
  set(7, 1, 30, 7);
  mergeSummaries(u32, 0, 8, 9);
  assert.deepEqual([...sumOut], [0, 30, 7]);
  // Start grows while everything so far is free; end grows through free children from the top.
  for (let i = 0; i < 8; i++) set(i, 512, 512, 512);
  set(2, 4, 100, 6);
  mergeSummaries(u32, 0, 8, 9);
  assert.deepEqual([...sumOut], [1024 + 4, 6 + 5 * 512, 6 + 5 * 512]);
});

test('bit helpers', () => {
  assert.equal(ctz32(0), 32);
  assert.equal(ctz32(1), 0);
  assert.equal(ctz32(0x80000000), 31);
  assert.equal(popcnt32(0xffffffff), 32);
  assert.equal(popcnt32(0x80000001), 2);
  assert.equal(findBitRange32(0xffffffff, 32), 0);
  assert.equal(findBitRange32(0x7fffffff, 32), 32);
  assert.equal(findBitRange32(0xf0f00ff0, 8), 4);
});

test('PallocBits AllocRange', () => {
  const want = (set: Array<[number, bigint]>) => {
    const w: bigint[] = new Array(P / 64).fill(0n);
    for (const [k, v] of set) w[k] = v;
    return w;
  };
  assert.deepEqual(words64(bits([[0, 1]])), want([[0, 1n]]));
  assert.deepEqual(words64(bits([[P - 1, 1]])), want([[7, 1n << 63n]]));
  assert.deepEqual(words64(bits([[129, 5]])), want([[2, 0x3en]]));
  assert.deepEqual(words64(bits([[128, 128]])), want([[2, ONES], [3, ONES]]));
  assert.deepEqual(
    words64(bits([[0, 321]])),
    want([[0, ONES], [1, ONES], [2, ONES], [3, ONES], [4, ONES], [5, 1n]]),
  );
  assert.deepEqual(
    words64(bits([[P - (64 * 3 + 1), 64 * 3 + 1]])),
    want([[7, ONES], [6, ONES], [5, ONES], [4, 1n << 63n]]),
  );
  assert.deepEqual(words64(bits([[0, P]])), new Array(8).fill(ONES));
});

test('PallocBits PopcntRange', () => {
  const cases: Array<{ init: Range[]; tests: Array<[number, number, number]> }> = [
    {
      init: [],
      tests: [[0, 1, 0], [5, 3, 0], [2, 11, 0], [P / 4 + 1, P / 2, 0], [0, P, 0]],
    },
    {
      init: [[0, P]],
      tests: [[0, 1, 1], [5, 3, 3], [2, 11, 11], [P / 4 + 1, P / 2, P / 2], [0, P, P]],
    },
    {
      init: [[P / 2, P / 2]],
      tests: [
        [0, 1, 0], [5, 3, 0], [2, 11, 0], [P / 2 - 1, 1, 0], [P / 2, 1, 1], [P / 2 + 10, 1, 1],
        [P / 2 - 1, 2, 1], [P / 4, P / 4, 0], [P / 4, P / 4 + 1, 1], [P / 4 + 1, P / 2, P / 4 + 1], [0, P, P / 2],
      ],
    },
    {
      init: [[0, 111]],
      tests: [
        [0, 1, 1], [5, 3, 3], [2, 11, 11], [110, 2, 1], [99, 50, 12], [110, 1, 1], [111, 1, 0], [99, 1, 1],
        [120, 1, 0], [P / 2, P / 2, 0], [0, P, 111],
      ],
    },
    {
      init: [
        [1, 3], [5, 1], [7, 1], [10, 2], [13, 1], [15, 4], [21, 1], [23, 1], [26, 2], [30, 5], [36, 2], [40, 3],
        [44, 6], [51, 1], [53, 2], [58, 3], [63, 1], [67, 2], [71, 10], [84, 1], [89, 7], [99, 2], [103, 1],
        [107, 2], [111, 1], [113, 1], [115, 1], [118, 1], [120, 2], [125, 5],
      ],
      tests: [[0, 11, 6], [0, 64, 39], [13, 64, 40], [64, 64, 34], [0, 128, 73], [1, 128, 74], [0, P, 75]],
    },
  ];
  for (const c of cases) {
    const b = bits(c.init);
    for (const [i, n, want] of c.tests) {
      assert.equal(pageBitsPopcntRange(b, 0, i, n), want, `popcnt(${i}, ${n})`);
    }
  }
});

test('PallocBits Summarize', () => {
  const cases: Array<[Range[], [number, number, number]]> = [
    [[], [0, 0, 0]],
    [[[0, 10]], [10, 10, 0]],
    [[[P - 40, 40]], [0, 40, 40]],
    [[[0, 11], [P - 23, 23]], [11, 23, 23]],
    [[[0, 4], [50, 100], [P - 4, 4]], [4, 100, 4]],
    [[[1, 20], [35, 241], [P - 50, 30]], [0, 241, 0]],
    [[[35, 2], [40, 5], [100, 5]], [0, 5, 0]],
    [[[2, 1]], [0, 1, 0]],
    [[[0, P]], [P, P, P]],
  ];
  for (const [free, want] of cases) {
    const b = invert(bits(free));
    assert.deepEqual(summarize(b), want, JSON.stringify(free));
    assert.deepEqual(summarizeSlow(b), want);
  }
});

test('PallocBits Summarize: 1000 random bitmaps vs slow reference', () => {
  const rnd = xorshift(0x5eed1);
  const b = new Uint32Array(PAGE_BITS_WORDS);
  for (let iter = 0; iter < 1000; iter++) {
    // Mix densities so that long runs appear too.
    const mode = iter % 4;
    for (let k = 0; k < PAGE_BITS_WORDS; k++) {
      let x = rnd();
      if (mode === 1) x &= rnd() & rnd(); // sparse ones → long free runs
      if (mode === 2) x |= rnd() | rnd(); // dense ones → short free runs
      if (mode === 3 && (rnd() & 3) === 0) x = 0;
      b[k] = x;
    }
    assert.deepEqual(summarize(b), summarizeSlow(b), `iteration ${iter}`);
  }
  // Go's benchmark patterns, repeated over every 64-bit word.
  for (const p of [
    0n, ONES, 0xaan, 0xaaaaaaaaaaaaaaaan, 0x80000000aaaaaaaan, 0xaaaaaaaa00000001n, 0xbbbbbbbbbbbbbbbbn,
    0x80000000bbbbbbbbn, 0xbbbbbbbb00000001n, 0xccccccccccccccccn, 0x4444444444444444n, 0x4040404040404040n,
    0x4000400040004000n, 0x1000404044ccaaffn,
  ]) {
    for (let k = 0; k < 8; k++) {
      b[2 * k] = Number(p & 0xffffffffn);
      b[2 * k + 1] = Number(p >> 32n);
    }
    assert.deepEqual(summarize(b), summarizeSlow(b), `pattern ${p.toString(16)}`);
  }
});

test('PallocBits Find/alloc loop', () => {
  const F = NOT_FOUND;
  const cases: Array<{ name: string; before: Range[]; npages: number; hits: number[]; after: Range[] }> = [
    { name: 'AllFree1', before: [], npages: 1, hits: [0, 1, 2, 3, 4, 5], after: [[0, 6]] },
    { name: 'AllFree2', before: [], npages: 2, hits: [0, 2, 4, 6, 8, 10], after: [[0, 12]] },
    { name: 'AllFree5', before: [], npages: 5, hits: [0, 5, 10, 15, 20], after: [[0, 25]] },
    { name: 'AllFree64', before: [], npages: 64, hits: [0, 64, 128], after: [[0, 192]] },
    { name: 'AllFree65', before: [], npages: 65, hits: [0, 65, 130], after: [[0, 195]] },
    {
      name: 'SomeFree64',
      before: [[0, 32], [64, 32], [100, P - 100]],
      npages: 64,
      hits: [F],
      after: [[0, 32], [64, 32], [100, P - 100]],
    },
    { name: 'NoneFree1', before: [[0, P]], npages: 1, hits: [F, F], after: [[0, P]] },
    { name: 'NoneFree2', before: [[0, P]], npages: 2, hits: [F, F], after: [[0, P]] },
    { name: 'NoneFree5', before: [[0, P]], npages: 5, hits: [F, F], after: [[0, P]] },
    { name: 'NoneFree65', before: [[0, P]], npages: 65, hits: [F, F], after: [[0, P]] },
    {
      name: 'ExactFit1',
      before: [[0, P / 2 - 3], [P / 2 - 2, P / 2 + 2]],
      npages: 1,
      hits: [P / 2 - 3, F],
      after: [[0, P]],
    },
    {
      name: 'ExactFit2',
      before: [[0, P / 2 - 3], [P / 2 - 1, P / 2 + 1]],
      npages: 2,
      hits: [P / 2 - 3, F],
      after: [[0, P]],
    },
    {
      name: 'ExactFit5',
      before: [[0, P / 2 - 3], [P / 2 + 2, P / 2 - 2]],
      npages: 5,
      hits: [P / 2 - 3, F],
      after: [[0, P]],
    },
    {
      name: 'ExactFit65',
      before: [[0, P / 2 - 31], [P / 2 + 34, P / 2 - 34]],
      npages: 65,
      hits: [P / 2 - 31, F],
      after: [[0, P]],
    },
    { name: 'SomeFree161', before: [[0, 185], [331, 1]], npages: 161, hits: [332], after: [[0, 185], [331, 162]] },
  ];
  for (const c of cases) {
    const b = bits(c.before);
    c.hits.forEach((want, iter) => {
      const a = pallocBitsFind(b, 0, c.npages, 0);
      assert.equal(a, want, `${c.name}: find #${iter + 1}`);
      if (a !== NOT_FOUND) pageBitsSetRange(b, 0, a, c.npages);
    });
    assert.deepEqual([...b], [...bits(c.after)], c.name);
  }
});

test('PallocBits Find: search index and start word', () => {
  // Free pages 10..19 and 100..199; searching from 70 starts at Go's 64-bit word 1 (page 64).
  const b = invert(bits([[10, 10], [100, 100]]));
  assert.equal(pallocBitsFind(b, 0, 1, 70), 100);
  assert.equal(findOut[FIND_SEARCH_IDX], 100);
  assert.equal(pallocBitsFind(b, 0, 5, 0), 10);
  assert.equal(findOut[FIND_SEARCH_IDX], 10);
  assert.equal(pallocBitsFind(b, 0, 11, 0), 100);
  assert.equal(findOut[FIND_SEARCH_IDX], 10);
  assert.equal(pallocBitsFind(b, 0, 100, 127), 100); // word 1 starts at 64 ≤ 100
  assert.equal(pallocBitsFind(b, 0, 100, 128), NOT_FOUND); // word 2 starts at 128 > 100
  assert.equal(findOut[FIND_SEARCH_IDX], 128);
  assert.equal(pallocBitsFind(b, 0, 101, 0), NOT_FOUND);
  assert.equal(findOut[FIND_SEARCH_IDX], 10);
  // Failure with nothing free at all.
  assert.equal(pallocBitsFind(bits([[0, P]]), 0, 3, 0), NOT_FOUND);
  assert.equal(findOut[FIND_SEARCH_IDX], NOT_FOUND);
});

test('PallocBits Find: random bitmaps vs first-fit reference', () => {
  const rnd = xorshift(77);
  const b = new Uint32Array(PAGE_BITS_WORDS);
  for (let iter = 0; iter < 300; iter++) {
    for (let k = 0; k < PAGE_BITS_WORDS; k++) b[k] = iter % 2 ? rnd() & rnd() & rnd() : rnd() & rnd();
    const searchIdx = rnd() % P;
    const from = (searchIdx >>> 6) << 6;
    for (const n of [1, 2, 3, 7, 31, 32, 33, 63, 64, 65, 100, 200]) {
      let want = NOT_FOUND;
      let firstFree = NOT_FOUND;
      let run = 0;
      for (let i = from; i < P; i++) {
        if (pageBitsGet(b, 0, i) === 0) {
          if (firstFree < 0) firstFree = i;
          run++;
          if (run >= n) {
            want = i - n + 1;
            break;
          }
        } else run = 0;
      }
      assert.equal(pallocBitsFind(b, 0, n, searchIdx), want, `iter ${iter} n ${n} searchIdx ${searchIdx}`);
      assert.equal(findOut[FIND_SEARCH_IDX], firstFree, `iter ${iter} n ${n} searchIdx ${searchIdx}: searchIdx out`);
    }
  }
});

test('PallocBits Free', () => {
  const cases: Array<{ name: string; npages: number; beforeInv: Range[]; frees: number[]; afterInv: Range[] }> = [
    { name: 'SomeFree', npages: 1, beforeInv: [[0, 32], [64, 32], [100, 1]], frees: [32], afterInv: [[0, 33], [64, 32], [100, 1]] },
    { name: 'NoneFree1', npages: 1, beforeInv: [], frees: [0, 1, 2, 3, 4, 5], afterInv: [[0, 6]] },
    { name: 'NoneFree2', npages: 2, beforeInv: [], frees: [0, 2, 4, 6, 8, 10], afterInv: [[0, 12]] },
    { name: 'NoneFree5', npages: 5, beforeInv: [], frees: [0, 5, 10, 15, 20], afterInv: [[0, 25]] },
    { name: 'NoneFree64', npages: 64, beforeInv: [], frees: [0, 64, 128], afterInv: [[0, 192]] },
    { name: 'NoneFree65', npages: 65, beforeInv: [], frees: [0, 65, 130], afterInv: [[0, 195]] },
  ];
  for (const c of cases) {
    const b = invert(bits(c.beforeInv));
    for (const i of c.frees) pageBitsClearRange(b, 0, i, c.npages);
    assert.deepEqual([...b], [...invert(bits(c.afterInv))], c.name);
  }
});

test('FindBitRange64', () => {
  const check = (x: bigint, n: number, want: number | null) => {
    const got = findBitRange64(Number(x & 0xffffffffn), Number(x >> 32n), n);
    if (want === null) assert.ok(got >= 64, `(${x.toString(16)}, ${n}): got ${got}, want failure`);
    else assert.equal(got, want, `(${x.toString(16)}, ${n})`);
  };
  for (let i = 1; i <= 64; i++) check(ONES, i, 0);
  for (let i = 1; i <= 64; i++) check(0n, i, null);
  check(0x8000000000000000n, 1, 63);
  check(0xc000010001010000n, 2, 62);
  check(0xc000010001030000n, 2, 16);
  check(0xe000030001030000n, 3, 61);
  check(0xe000030001070000n, 3, 16);
  check(0xffff03ff01070000n, 16, 48);
  check(0xffff03ff0107ffffn, 16, 0);
  check(0x0fff03ff01079fffn, 16, null);
  // Random values against a bit-by-bit reference.
  const rnd = xorshift(99);
  for (let iter = 0; iter < 2000; iter++) {
    const lo = iter % 3 === 0 ? rnd() | rnd() : rnd();
    const hi = iter % 5 === 0 ? 0xffffffff : rnd() | rnd();
    const x = BigInt(lo) | (BigInt(hi) << 32n);
    const n = 1 + (rnd() % 40);
    let want: number | null = null;
    let run = 0;
    for (let i = 0; i < 64; i++) {
      if ((x >> BigInt(i)) & 1n) {
        if (++run >= n) {
          want = i - n + 1;
          break;
        }
      } else run = 0;
    }
    check(x, n, want);
  }
});
