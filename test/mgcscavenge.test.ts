// Go 1.19 mgcscavenge_test.go vectors (re-expressed, 32-bit geometry: BaseChunkIdx = 0x100;
// physPageSize 4 KiB → minPages = 1; no huge pages).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { xorshift } from './helpers/random.js';
import {
  PALLOC_CHUNK_PAGES as P,
  PALLOC_CHUNK_BYTES,
  MIN_SCAV_PAGES,
  chunkBase,
} from '../src/mpagealloc.js';
import { pageSize } from '../src/sizeclasses.js';
import {
  pageBitsSetRange,
  pallocDataAllocRange,
  PD_SCAV_W,
  PALLOC_DATA_WORDS,
} from '../src/mpallocbits.js';
import { HeapCorruptionError } from '../src/errors.js';
import {
  CAND_SIZE, CAND_START, candOut, fillAligned32, fillAligned64, pallocDataFindScavengeCandidate, scavenge, u64Out,
} from '../src/mgcscavenge.js';

import { B, StubOS, newPageAlloc, PB, checkPageAlloc, type Range, type ChunkMap } from './helpers/pagealloc.js';

// ---- fillAligned ------------------------------------------------------------------------

function fillAlignedSlow(x: bigint, m: number): bigint {
  if (m === 1) return x;
  let out = 0n;
  for (let i = 0; i < 64; i += m) {
    for (let j = 0; j < m; j++) {
      if ((x >> BigInt(i + j)) & 1n) {
        out |= ((1n << BigInt(m)) - 1n) << BigInt(i);
        break;
      }
    }
  }
  return out;
}

function fillAligned(x: bigint, m: number): bigint {
  fillAligned64(Number(x & 0xffffffffn), Number(x >> 32n), m);
  return BigInt(u64Out[0]!) | (BigInt(u64Out[1]!) << 32n);
}

test('FillAligned', () => {
  const rnd32 = xorshift(7);
  const rnd64 = () => (BigInt(rnd32()) << 32n) | BigInt(rnd32());
  for (let m = 1; m <= 64; m *= 2) {
    const fixed = [
      0x0000000000000000n, 0x00000000ffffffffn, 0xffffffff00000000n, 0x8000000000000001n, 0xf00000000000000fn,
      0xf00000010050000fn, 0xffffffffffffffffn, 0x0000000000000001n, 0x0000000000000002n, 0x0000000000000008n,
      (1n << BigInt(m - 1)) & 0xffffffffffffffffn, (1n << BigInt(m)) & 0xffffffffffffffffn,
      0xb02b9effcf137016n, 0x3975a076a9fbff18n, 0x0f8c88ec3b81506en, 0x60f14d80ef2fa0e6n,
    ];
    for (const x of fixed) assert.equal(fillAligned(x, m), fillAlignedSlow(x, m), `(${x.toString(16)}, ${m})`);
    for (let i = 0; i < 1000; i++) {
      const x = rnd64();
      assert.equal(fillAligned(x, m), fillAlignedSlow(x, m), `(${x.toString(16)}, ${m})`);
      if (m > 1) {
        // Each m-aligned group either zero or random.
        let val = 0n;
        for (let n = 0; n < 64; n += m) {
          if (rnd32() % 2 === 0) val |= (rnd64() & ((1n << BigInt(m)) - 1n)) << BigInt(n);
        }
        assert.equal(fillAligned(val, m), fillAlignedSlow(val, m), `(${val.toString(16)}, ${m})`);
      }
    }
  }
  assert.equal(fillAligned32(0x0100a3, 8), 0xff00ff);
  assert.throws(() => fillAligned32(1, 3), HeapCorruptionError);
});

// ---- findScavengeCandidate --------------------------------------------------------------

function makePallocData(alloc: Range[], scavenged: Range[]): Uint32Array {
  const u32 = new Uint32Array(PALLOC_DATA_WORDS);
  for (const [i, n] of alloc) if (n > 0) pallocDataAllocRange(u32, 0, i, n);
  for (const [i, n] of scavenged) if (n > 0) pageBitsSetRange(u32, PD_SCAV_W, i, n);
  return u32;
}

test('PallocData FindScavengeCandidate', async (t) => {
  interface Case {
    alloc?: Range[];
    scavenged?: Range[];
    min: number;
    max: number;
    want: Range;
  }
  const tests: Record<string, Case> = {
    MixedMin1: { alloc: [[0, 40], [42, P - 42]], scavenged: [[0, 41], [42, P - 42]], min: 1, max: P, want: [41, 1] },
    MultiMin1: { alloc: [[0, 63], [65, 20], [87, P - 87]], scavenged: [[86, 1]], min: 1, max: P, want: [85, 1] },
  };
  for (let m = 1; m <= 64; m *= 2) {
    const sfx = `Min${m}`;
    tests[`AllFree${sfx}`] = { min: m, max: P, want: [0, P] };
    tests[`AllScavenged${sfx}`] = { scavenged: [[0, P]], min: m, max: P, want: [0, 0] };
    tests[`NoneFree${sfx}`] = { alloc: [[0, P]], scavenged: [[P / 2, P / 2]], min: m, max: P, want: [0, 0] };
    tests[`StartFree${sfx}`] = { alloc: [[m, P - m]], min: m, max: P, want: [0, m] };
    tests[`EndFree${sfx}`] = { alloc: [[0, P - m]], min: m, max: P, want: [P - m, m] };
    tests[`Straddle64${sfx}`] = { alloc: [[0, 64 - m], [64 + m, P - (64 + m)]], min: m, max: 2 * m, want: [64 - m, 2 * m] };
    tests[`BottomEdge64WithFull${sfx}`] = {
      alloc: [[64, 64], [128 + 3 * m, P - (128 + 3 * m)]],
      scavenged: [[1, 10]],
      min: m,
      max: 3 * m,
      want: [128, 3 * m],
    };
    tests[`BottomEdge64WithPocket${sfx}`] = {
      alloc: [[64, 62], [127, 1], [128 + 3 * m, P - (128 + 3 * m)]],
      scavenged: [[1, 10]],
      min: m,
      max: 3 * m,
      want: [128, 3 * m],
    };
    tests[`Max0${sfx}`] = { scavenged: [[0, P - m]], min: m, max: 0, want: [P - m, m] };
    if (m <= 8) {
      tests[`OneFree${sfx}`] = { alloc: [[0, 40], [40 + m, P - (40 + m)]], min: m, max: P, want: [40, m] };
      tests[`OneScavenged${sfx}`] = {
        alloc: [[0, 40], [40 + m, P - (40 + m)]],
        scavenged: [[40, 1]],
        min: m,
        max: P,
        want: [0, 0],
      };
    }
    if (m > 1) {
      tests[`MaxUnaligned${sfx}`] = { scavenged: [[0, P - (m * 2 - 1)]], min: m, max: m - 2, want: [P - m, m] };
      tests[`SkipSmall${sfx}`] = { alloc: [[0, 64 - m], [64, 5], [70, 11], [82, P - 82]], min: m, max: m, want: [64 - m, m] };
      tests[`SkipMisaligned${sfx}`] = {
        alloc: [[0, 64 - m], [64, 63], [127 + m, P - (127 + m)]],
        min: m,
        max: m,
        want: [64 - m, m],
      };
      tests[`MaxLessThan${sfx}`] = { scavenged: [[0, P - m]], min: m, max: 1, want: [P - m, m] };
    }
  }
  // No huge-page preservation in a buffer: a 1-page maximum is honoured even inside a
  // large free region (Go would extend it on a host with transparent huge pages).
  tests['NoHugePagePreservation'] = { alloc: [[0, P - 300]], min: 1, max: 1, want: [P - 1, 1] };
  tests['MaxInfinity'] = { alloc: [[0, 10]], min: 4, max: Infinity, want: [12, P - 12] };
  for (const [name, v] of Object.entries(tests)) {
    await t.test(name, () => {
      const b = makePallocData(v.alloc ?? [], v.scavenged ?? []);
      const size = pallocDataFindScavengeCandidate(b, 0, P - 1, v.min, v.max);
      assert.equal(size, candOut[CAND_SIZE]);
      const got: Range = [candOut[CAND_START]!, candOut[CAND_SIZE]!];
      if (!(got[1] === 0 && v.want[1] === 0)) assert.deepEqual(got, v.want);
    });
  }
  assert.throws(() => pallocDataFindScavengeCandidate(new Uint32Array(32), 0, P - 1, 3, 3), HeapCorruptionError);
  assert.throws(() => pallocDataFindScavengeCandidate(new Uint32Array(32), 0, P - 1, 128, 128), HeapCorruptionError);
});

// ---- pageAlloc.scavenge ------------------------------------------------------------------

test('PageAlloc Scavenge', async (t) => {
  const minPages = MIN_SCAV_PAGES;
  assert.equal(minPages, 1);
  interface Setup {
    beforeAlloc: ChunkMap;
    beforeScav: ChunkMap;
    expect: Array<[number, number]>; // request, expected bytes
    afterScav: ChunkMap;
    unused?: Array<[number, number]>; // expected sysUnused calls
  }
  const tests: Record<string, Setup> = {
    AllFreeUnscavExhaust: {
      beforeAlloc: [[B, []], [B + 1, []], [B + 2, []]],
      beforeScav: [[B, []], [B + 1, []], [B + 2, []]],
      expect: [[Infinity, 3 * P * pageSize]],
      afterScav: [[B, [[0, P]]], [B + 1, [[0, P]]], [B + 2, [[0, P]]]],
      unused: [[PB(B + 2, 0), PALLOC_CHUNK_BYTES], [PB(B + 1, 0), PALLOC_CHUNK_BYTES], [PB(B, 0), PALLOC_CHUNK_BYTES]],
    },
    NoneFreeUnscavExhaust: {
      beforeAlloc: [[B, [[0, P]]], [B + 1, []], [B + 2, [[0, P]]]],
      beforeScav: [[B, []], [B + 1, [[0, P]]], [B + 2, []]],
      expect: [[Infinity, 0]],
      afterScav: [[B, []], [B + 1, [[0, P]]], [B + 2, []]],
      unused: [],
    },
    ScavHighestPageFirst: {
      beforeAlloc: [[B, []]],
      beforeScav: [[B, [[minPages, P - 2 * minPages]]]],
      expect: [[1, minPages * pageSize]],
      afterScav: [[B, [[minPages, P - minPages]]]],
      unused: [[PB(B, P - 1), pageSize]],
    },
    ScavMultiple: {
      beforeAlloc: [[B, []]],
      beforeScav: [[B, [[minPages, P - 2 * minPages]]]],
      expect: [[minPages * pageSize, minPages * pageSize], [minPages * pageSize, minPages * pageSize]],
      afterScav: [[B, [[0, P]]]],
      unused: [[PB(B, P - 1), pageSize], [PB(B, 0), pageSize]],
    },
    ScavMultiple2: {
      beforeAlloc: [[B, []], [B + 1, []]],
      beforeScav: [[B, [[minPages, P - 2 * minPages]]], [B + 1, [[0, P - 2 * minPages]]]],
      expect: [
        [2 * minPages * pageSize, 2 * minPages * pageSize],
        [minPages * pageSize, minPages * pageSize],
        [minPages * pageSize, minPages * pageSize],
      ],
      afterScav: [[B, [[0, P]]], [B + 1, [[0, P]]]],
      unused: [[PB(B + 1, P - 2), 2 * pageSize], [PB(B, P - 1), pageSize], [PB(B, 0), pageSize]],
    },
    ScavDiscontiguous: {
      beforeAlloc: [[B, []], [B + 0xe, []]],
      beforeScav: [[B, [[minPages, P - 2 * minPages]]], [B + 0xe, [[2 * minPages, P - 2 * minPages]]]],
      expect: [
        [2 * minPages * pageSize, 2 * minPages * pageSize],
        [Infinity, 2 * minPages * pageSize],
        [Infinity, 0],
      ],
      afterScav: [[B, [[0, P]]], [B + 0xe, [[0, P]]]],
      unused: [[PB(B + 0xe, 0), 2 * pageSize], [PB(B, P - 1), pageSize], [PB(B, 0), pageSize]],
    },
    // 32-bit analogue of Go's 64-bit-only ScavAllVeryDiscontiguous: chunks 2 GiB apart.
    ScavAllVeryDiscontiguous: {
      beforeAlloc: [[B, []], [B + 0x200, []]],
      beforeScav: [[B, []], [B + 0x200, []]],
      expect: [[Infinity, 2 * P * pageSize], [Infinity, 0]],
      afterScav: [[B, [[0, P]]], [B + 0x200, [[0, P]]]],
    },
  };
  for (const [name, v] of Object.entries(tests)) {
    await t.test(name, () => {
      const os = new StubOS();
      const b = newPageAlloc(v.beforeAlloc, v.beforeScav, os);
      v.expect.forEach(([request, want], iter) => {
        assert.equal(scavenge(b, request), want, `scavenge #${iter + 1}`);
        b.check();
      });
      if (v.unused) assert.deepEqual(os.calls, v.unused, 'sysUnused calls');
      checkPageAlloc(b, newPageAlloc(v.beforeAlloc, v.afterScav), name);
    });
  }
});

test('PageAlloc Scavenge: freed pages become scavengable, allocation reports them', () => {
  const os = new StubOS();
  const b = newPageAlloc([[B, []], [B + 1, []]], [[B, [[0, P]]], [B + 1, [[0, P]]]], os);
  assert.equal(scavenge(b, Infinity), 0); // everything already released
  const a = b.alloc(600);
  assert.equal(a, PB(B, 0));
  assert.equal(b.scav, 600 * pageSize);
  b.free(a, 600, false); // free but not released: marked in the scavenge index
  b.check();
  assert.equal(scavenge(b, 100 * pageSize), 100 * pageSize);
  // Highest chunk first: all 88 unreleased pages of B+1, then the top 12 of B.
  assert.deepEqual(os.calls, [
    [PB(B + 1, 0), 88 * pageSize],
    [PB(B, P - 12), 12 * pageSize],
  ]);
  assert.equal(scavenge(b, Infinity), 500 * pageSize);
  b.check();
  for (let ci = B; ci <= B + 1; ci++) for (let i = 0; i < P; i++) assert.ok(b.chunkScavBit(ci, i));
  // Allocating again reports every page as scavenged.
  assert.equal(b.alloc(2 * P), PB(B, 0));
  assert.equal(b.scav, 2 * P * pageSize);
});

// ---- scavengeIndex ----------------------------------------------------------------------

test('ScavengeIndex', async (t) => {
  const setup = () => {
    const pa = newPageAlloc([]);
    pa.grow(chunkBase(B), 64 * PALLOC_CHUNK_BYTES); // no marks: grown memory is scavenged
    const find = (want: number, wantOffset: number) => {
      const got = pa.scavIndexFind();
      assert.equal(got, want, 'find: chunk index');
      assert.equal(pa.scavIndexFindPage, wantOffset, 'find: page offset');
      if (got >= 0) pa.scavIndexClear(got);
    };
    const mark = (base: number, limit: number) => pa.scavIndexMark(base, limit);
    return { find, mark };
  };
  const NONE = -1;
  const cases: Record<string, (f: ReturnType<typeof setup>) => void> = {
    Uninitialized: ({ find }) => find(NONE, 0),
    OnePage: ({ find, mark }) => {
      mark(PB(B, 3), PB(B, 4));
      find(B, 3);
      find(NONE, 0);
    },
    FirstPage: ({ find, mark }) => {
      mark(PB(B, 0), PB(B, 1));
      find(B, 0);
      find(NONE, 0);
    },
    SeveralPages: ({ find, mark }) => {
      mark(PB(B, 9), PB(B, 14));
      find(B, 13);
      find(NONE, 0);
    },
    WholeChunk: ({ find, mark }) => {
      mark(PB(B, 0), PB(B + 1, 0));
      find(B, P - 1);
      find(NONE, 0);
    },
    LastPage: ({ find, mark }) => {
      mark(PB(B, P - 1), PB(B + 1, 0));
      find(B, P - 1);
      find(NONE, 0);
    },
    TwoChunks: ({ find, mark }) => {
      mark(PB(B, 128), PB(B + 1, 128));
      find(B + 1, 127);
      find(B, P - 1);
      find(NONE, 0);
    },
    TwoChunksOffset: ({ find, mark }) => {
      mark(PB(B + 7, 128), PB(B + 8, 129));
      find(B + 8, 128);
      find(B + 7, P - 1);
      find(NONE, 0);
    },
    SevenChunksOffset: ({ find, mark }) => {
      mark(PB(B + 6, 11), PB(B + 13, 15));
      find(B + 13, 14);
      for (let i = B + 12; i >= B + 6; i--) find(i, P - 1);
      find(NONE, 0);
    },
    ThirtyTwoChunks: ({ find, mark }) => {
      mark(PB(B, 0), PB(B + 32, 0));
      for (let i = B + 31; i >= B; i--) find(i, P - 1);
      find(NONE, 0);
    },
    ThirtyTwoChunksOffset: ({ find, mark }) => {
      mark(PB(B + 3, 0), PB(B + 35, 0));
      for (let i = B + 34; i >= B + 3; i--) find(i, P - 1);
      find(NONE, 0);
    },
    Mark: ({ find, mark }) => {
      for (let i = B; i < B + 32; i++) mark(PB(i, 0), PB(i + 1, 0));
      for (let i = B + 31; i >= B; i--) find(i, P - 1);
      find(NONE, 0);
    },
    MarkInterleaved: ({ find, mark }) => {
      for (let i = B; i < B + 32; i++) {
        mark(PB(i, 0), PB(i + 1, 0));
        find(i, P - 1);
      }
      find(NONE, 0);
    },
    MarkIdempotentOneChunk: ({ find, mark }) => {
      mark(PB(B, 0), PB(B + 1, 0));
      mark(PB(B, 0), PB(B + 1, 0));
      find(B, P - 1);
      find(NONE, 0);
    },
    MarkIdempotentThirtyTwoChunks: ({ find, mark }) => {
      mark(PB(B, 0), PB(B + 32, 0));
      mark(PB(B, 0), PB(B + 32, 0));
      for (let i = B + 31; i >= B; i--) find(i, P - 1);
      find(NONE, 0);
    },
    MarkIdempotentThirtyTwoChunksOffset: ({ find, mark }) => {
      mark(PB(B + 4, 0), PB(B + 31, 0));
      mark(PB(B + 5, 0), PB(B + 36, 0));
      for (let i = B + 35; i >= B + 4; i--) find(i, P - 1);
      find(NONE, 0);
    },
  };
  for (const [name, run] of Object.entries(cases)) {
    await t.test(name, () => run(setup()));
  }
});
