/**
 * Tests for src/sizeclasses.ts: every generated table entry against Go 1.19's values
 * (facts reference §2.1–§2.4 and §3), written out below as literal expected data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  NUM_SIZE_CLASSES,
  _NumSizeClasses,
  _PageShift,
  _PageSize,
  _MaxSmallSize,
  smallSizeDiv,
  smallSizeMax,
  largeSizeDiv,
  _TinySize,
  _TinySizeClass,
  numSpanClasses,
  tinySpanClass,
  pageShift,
  pageSize,
  maxSmallSize,
  maxTinySize,
  tinySizeClass,
  class_to_size,
  class_to_allocnpages,
  class_to_divmagic,
  size_to_class8,
  size_to_class128,
  generateSizeClasses,
  sizeToClass,
  roundupsize,
  objIndex,
  objIndex20,
  makeSpanClass,
  spanClassSizeclass,
  spanClassNoscan,
} from '../src/sizeclasses.js';
import { sizeClassTableText } from '../cli/sizeclasses-table.js';

// ---------------------------------------------------------------------------------------
// Expected data: Go 1.19 (src/runtime/sizeclasses.go), from the facts reference §2.1/§2.2.
// ---------------------------------------------------------------------------------------

/** [class, bytes/obj, bytes/span, objects, tail waste, max waste %, min align, divMagic] */
type Row = [number, number, number, number, number, string, number, number];

const GO119_TABLE: readonly Row[] = [
  [1, 8, 8192, 1024, 0, '87.50', 8, 536870912],
  [2, 16, 8192, 512, 0, '43.75', 16, 268435456],
  [3, 24, 8192, 341, 8, '29.24', 8, 178956971],
  [4, 32, 8192, 256, 0, '21.88', 32, 134217728],
  [5, 48, 8192, 170, 32, '31.52', 16, 89478486],
  [6, 64, 8192, 128, 0, '23.44', 64, 67108864],
  [7, 80, 8192, 102, 32, '19.07', 16, 53687092],
  [8, 96, 8192, 85, 32, '15.95', 32, 44739243],
  [9, 112, 8192, 73, 16, '13.56', 16, 38347923],
  [10, 128, 8192, 64, 0, '11.72', 128, 33554432],
  [11, 144, 8192, 56, 128, '11.82', 16, 29826162],
  [12, 160, 8192, 51, 32, '9.73', 32, 26843546],
  [13, 176, 8192, 46, 96, '9.59', 16, 24403224],
  [14, 192, 8192, 42, 128, '9.25', 64, 22369622],
  [15, 208, 8192, 39, 80, '8.12', 16, 20648882],
  [16, 224, 8192, 36, 128, '8.15', 32, 19173962],
  [17, 240, 8192, 34, 32, '6.62', 16, 17895698],
  [18, 256, 8192, 32, 0, '5.86', 256, 16777216],
  [19, 288, 8192, 28, 128, '12.16', 32, 14913081],
  [20, 320, 8192, 25, 192, '11.80', 64, 13421773],
  [21, 352, 8192, 23, 96, '9.88', 32, 12201612],
  [22, 384, 8192, 21, 128, '9.51', 128, 11184811],
  [23, 416, 8192, 19, 288, '10.71', 32, 10324441],
  [24, 448, 8192, 18, 128, '8.37', 64, 9586981],
  [25, 480, 8192, 17, 32, '6.82', 32, 8947849],
  [26, 512, 8192, 16, 0, '6.05', 512, 8388608],
  [27, 576, 8192, 14, 128, '12.33', 64, 7456541],
  [28, 640, 8192, 12, 512, '15.48', 128, 6710887],
  [29, 704, 8192, 11, 448, '13.93', 64, 6100806],
  [30, 768, 8192, 10, 512, '13.94', 256, 5592406],
  [31, 896, 8192, 9, 128, '15.52', 128, 4793491],
  [32, 1024, 8192, 8, 0, '12.40', 1024, 4194304],
  [33, 1152, 8192, 7, 128, '12.41', 128, 3728271],
  [34, 1280, 8192, 6, 512, '15.55', 256, 3355444],
  [35, 1408, 16384, 11, 896, '14.00', 128, 3050403],
  [36, 1536, 8192, 5, 512, '14.00', 512, 2796203],
  [37, 1792, 16384, 9, 256, '15.57', 256, 2396746],
  [38, 2048, 8192, 4, 0, '12.45', 2048, 2097152],
  [39, 2304, 16384, 7, 256, '12.46', 256, 1864136],
  [40, 2688, 8192, 3, 128, '15.59', 128, 1597831],
  [41, 3072, 24576, 8, 0, '12.47', 1024, 1398102],
  [42, 3200, 16384, 5, 384, '6.22', 128, 1342178],
  [43, 3456, 24576, 7, 384, '8.83', 128, 1242757],
  [44, 4096, 8192, 2, 0, '15.60', 4096, 1048576],
  [45, 4864, 24576, 5, 256, '16.65', 256, 883012],
  [46, 5376, 16384, 3, 256, '10.92', 256, 798916],
  [47, 6144, 24576, 4, 0, '12.48', 2048, 699051],
  [48, 6528, 32768, 5, 128, '6.23', 128, 657931],
  [49, 6784, 40960, 6, 256, '4.36', 128, 633103],
  [50, 6912, 49152, 7, 768, '3.37', 256, 621379],
  [51, 8192, 8192, 1, 0, '15.61', 8192, 524288],
  [52, 9472, 57344, 6, 512, '14.28', 256, 453439],
  [53, 9728, 49152, 5, 512, '3.64', 512, 441506],
  [54, 10240, 40960, 4, 0, '4.99', 2048, 419431],
  [55, 10880, 32768, 3, 128, '6.24', 128, 394759],
  [56, 12288, 24576, 2, 0, '11.45', 4096, 349526],
  [57, 13568, 40960, 3, 256, '9.99', 256, 316552],
  [58, 14336, 57344, 4, 0, '5.35', 2048, 299594],
  [59, 16384, 16384, 1, 0, '12.49', 8192, 262144],
  [60, 18432, 73728, 4, 0, '11.11', 2048, 233017],
  [61, 19072, 57344, 3, 128, '3.57', 128, 225198],
  [62, 20480, 40960, 2, 0, '6.87', 4096, 209716],
  [63, 21760, 65536, 3, 256, '6.25', 256, 197380],
  [64, 24576, 24576, 1, 0, '11.45', 8192, 174763],
  [65, 27264, 81920, 3, 128, '10.00', 128, 157533],
  [66, 28672, 57344, 2, 0, '4.91', 4096, 149797],
  [67, 32768, 32768, 1, 0, '12.50', 8192, 131072],
];

const GO119_SIZE_TO_CLASS8: readonly number[] = [
  0, 1, 2, 3, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18,
  18, 19, 19, 19, 19, 20, 20, 20, 20, 21, 21, 21, 21, 22, 22, 22, 22, 23, 23, 23, 23, 24, 24, 24, 24, 25, 25, 25, 25, 26, 26, 26,
  26, 27, 27, 27, 27, 27, 27, 27, 27, 28, 28, 28, 28, 28, 28, 28, 28, 29, 29, 29, 29, 29, 29, 29, 29, 30, 30, 30, 30, 30, 30, 30,
  30, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32, 32,
  32,
];

const GO119_SIZE_TO_CLASS128: readonly number[] = [
  32, 33, 34, 35, 36, 37, 37, 38, 38, 39, 39, 40, 40, 40, 41, 41, 41, 42, 43, 43, 44, 44, 44, 44, 44, 45, 45, 45, 45, 45, 45, 46,
  46, 46, 46, 47, 47, 47, 47, 47, 47, 48, 48, 48, 49, 49, 50, 51, 51, 51, 51, 51, 51, 51, 51, 51, 51, 52, 52, 52, 52, 52, 52, 52,
  52, 52, 52, 53, 53, 54, 54, 54, 54, 55, 55, 55, 55, 55, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 56, 57, 57, 57, 57, 57, 57, 57,
  57, 57, 57, 58, 58, 58, 58, 58, 58, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 59, 60, 60, 60, 60, 60, 60, 60,
  60, 60, 60, 60, 60, 60, 60, 60, 60, 61, 61, 61, 61, 61, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 62, 63, 63, 63, 63, 63, 63, 63,
  63, 63, 63, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 65, 65, 65, 65, 65, 65, 65,
  65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 66, 67, 67, 67, 67, 67, 67, 67,
  67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67, 67,
];

/** [alignment, bits, min obj size] */
const GO119_ALIGNMENT: readonly [number, number, number][] = [
  [8, 3, 8],
  [16, 4, 32],
  [32, 5, 256],
  [64, 6, 512],
  [128, 7, 768],
  [4096, 12, 28672],
  [8192, 13, 32768],
];

// ---------------------------------------------------------------------------------------

test('constants have Go 1.19 values', () => {
  assert.equal(NUM_SIZE_CLASSES, 68);
  assert.equal(_NumSizeClasses, 68);
  assert.equal(_PageShift, 13);
  assert.equal(_PageSize, 8192);
  assert.equal(_MaxSmallSize, 32768);
  assert.equal(smallSizeDiv, 8);
  assert.equal(smallSizeMax, 1024);
  assert.equal(largeSizeDiv, 128);
  assert.equal(_TinySize, 16);
  assert.equal(_TinySizeClass, 2);
  assert.equal(numSpanClasses, 136);
  assert.equal(tinySpanClass, 5);
  assert.equal(pageShift, 13);
  assert.equal(pageSize, 8192);
  assert.equal(maxSmallSize, 32768);
  assert.equal(maxTinySize, 16);
  assert.equal(tinySizeClass, 2);
});

test('tables are typed arrays of the right length', () => {
  assert.ok(class_to_size instanceof Uint32Array);
  assert.ok(class_to_allocnpages instanceof Uint32Array);
  assert.ok(class_to_divmagic instanceof Uint32Array);
  assert.ok(size_to_class8 instanceof Uint8Array);
  assert.ok(size_to_class128 instanceof Uint8Array);
  assert.equal(class_to_size.length, 68);
  assert.equal(class_to_allocnpages.length, 68);
  assert.equal(class_to_divmagic.length, 68);
  assert.equal(size_to_class8.length, 129);
  assert.equal(size_to_class128.length, 249);
});

test('expected data is complete (67 rows, classes 1..67 in order)', () => {
  assert.equal(GO119_TABLE.length, 67);
  GO119_TABLE.forEach((row, i) => assert.equal(row[0], i + 1));
  assert.equal(GO119_SIZE_TO_CLASS8.length, 129);
  assert.equal(GO119_SIZE_TO_CLASS128.length, 249);
});

test('class 0 is the large-object placeholder', () => {
  assert.equal(class_to_size[0], 0);
  assert.equal(class_to_allocnpages[0], 0);
  assert.equal(class_to_divmagic[0], 0);
});

test('every class matches Go 1.19: size, span, objects, tail, divMagic, min align', () => {
  for (const [c, size, span, objects, tail, , minAlign, divMagic] of GO119_TABLE) {
    assert.equal(class_to_size[c], size, `class ${c} size`);
    assert.equal(class_to_allocnpages[c], span / 8192, `class ${c} npages`);
    assert.equal(class_to_allocnpages[c]! * _PageSize, span, `class ${c} bytes/span`);
    assert.equal(Math.floor(span / class_to_size[c]!), objects, `class ${c} objects`);
    assert.equal(span - objects * class_to_size[c]!, tail, `class ${c} tail waste`);
    assert.equal(class_to_divmagic[c], divMagic, `class ${c} divMagic`);
    const s = class_to_size[c]!;
    assert.equal(Math.min(s & -s, 8192), minAlign, `class ${c} min align`);
  }
});

test('generator invariants: ascending sizes, tail ≤ 1/8 of span, tiny class is 16 bytes', () => {
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    const size = class_to_size[c]!;
    const span = class_to_allocnpages[c]! * _PageSize;
    assert.ok(size > class_to_size[c - 1]!, `class ${c} ascending`);
    assert.equal(size % 8, 0);
    assert.ok(span % size <= span / 8, `class ${c} tail rule`);
    assert.equal(class_to_divmagic[c], Math.floor(0xffffffff / size) + 1);
  }
  assert.equal(class_to_size[_TinySizeClass], _TinySize);
  assert.equal(class_to_size[NUM_SIZE_CLASSES - 1], _MaxSmallSize);
});

test('size_to_class8 matches Go 1.19 in full', () => {
  assert.deepEqual(Array.from(size_to_class8), GO119_SIZE_TO_CLASS8);
});

test('size_to_class128 matches Go 1.19 in full', () => {
  assert.deepEqual(Array.from(size_to_class128), GO119_SIZE_TO_CLASS128);
});

test('generateSizeClasses is deterministic, equals the exported tables, and is fast', () => {
  const t0 = performance.now();
  const t = generateSizeClasses();
  const ms = performance.now() - t0;
  assert.ok(ms < 50, `generator took ${ms} ms`);
  assert.deepEqual(t.classToSize, class_to_size);
  assert.deepEqual(t.classToAllocNPages, class_to_allocnpages);
  assert.deepEqual(t.classToDivMagic, class_to_divmagic);
  assert.deepEqual(t.sizeToClass8, size_to_class8);
  assert.deepEqual(t.sizeToClass128, size_to_class128);
  assert.notEqual(t.classToSize, class_to_size, 'fresh arrays');
});

test('worked lookups of §2.2', () => {
  const cases: [number[], number, number][] = [
    [[1, 2, 3, 4, 5, 6, 7, 8], 1, 8],
    [[9, 10, 15, 16], 2, 16],
    [[17, 20, 24], 3, 24],
    [[25, 32], 4, 32],
    [[33, 40, 48], 5, 48],
    [[49], 6, 64],
    [[100], 9, 112],
    [[500], 26, 512],
    [[1000, 1016, 1017, 1024], 32, 1024],
    [[1025], 33, 1152],
    [[1153], 34, 1280],
    [[2000], 38, 2048],
    [[9000], 52, 9472],
    [[18433], 61, 19072],
    [[32767, 32768], 67, 32768],
  ];
  for (const [sizes, cls, bytes] of cases) {
    for (const size of sizes) {
      assert.equal(sizeToClass(size), cls, `sizeToClass(${size})`);
      assert.equal(class_to_size[cls], bytes);
      assert.equal(roundupsize(size), bytes, `roundupsize(${size})`);
    }
  }
});

test('sizeToClass is the smallest fitting class for every size 1..32768', () => {
  let c = 1;
  for (let size = 1; size <= _MaxSmallSize; size++) {
    while (class_to_size[c]! < size) c++;
    assert.equal(sizeToClass(size), c, `size ${size}`);
  }
});

test('sizeToClass returns class 0 above 32768 and for 0', () => {
  assert.equal(sizeToClass(0), 0);
  assert.equal(sizeToClass(32769), 0);
  assert.equal(sizeToClass(1 << 20), 0);
});

test('roundupsize: small sizes get their class size, large sizes a page multiple', () => {
  assert.equal(roundupsize(0), 0);
  for (let size = 1; size < _MaxSmallSize; size++) {
    assert.equal(roundupsize(size), class_to_size[sizeToClass(size)], `size ${size}`);
  }
  assert.equal(roundupsize(32768), 32768);
  assert.equal(roundupsize(32769), 40960);
  assert.equal(roundupsize(40960), 40960);
  assert.equal(roundupsize(40961), 49152);
  assert.equal(roundupsize(100000), 106496);
  assert.equal(roundupsize(1 << 20), 1 << 20);
  assert.equal(roundupsize((1 << 20) + 1), (1 << 20) + 8192);
  // Near the top of the safe-integer range the result stays exact.
  assert.equal(roundupsize(2 ** 53 - 1), 2 ** 53);
  assert.equal(roundupsize(2 ** 53 - 8192), 2 ** 53 - 8192);
});

test('divMagic examples of §2.4 (class 3, size 24)', () => {
  const m = class_to_divmagic[3]!;
  assert.equal(m, 178956971);
  assert.equal(objIndex(48, m), 2);
  assert.equal(objIndex(8191, m), 341);
  assert.equal(objIndex(0, m), 0);
  assert.equal(objIndex(23, m), 0);
  assert.equal(objIndex(24, m), 1);
  // Large spans use divMagic 0: always index 0.
  assert.equal(objIndex(123456, 0), 0);
});

test('objIndex20 (the free path) finds every object base and no other offset, for every class', () => {
  for (let c = 1; c < class_to_size.length; c++) {
    const size = class_to_size[c]!, span = class_to_allocnpages[c]! * 8192, nelems = Math.floor(span / size);
    const m = Math.ceil(2 ** 20 / size);
    for (let off = 0; off < span; off++) {
      const i = objIndex20(off, m);
      const base = off % size === 0 && off / size < nelems;
      if (base) assert.equal(i, off / size, `class ${c} offset ${off}`);
      // (offsets at or past nelems·size are the span's tail, which free rejects by its limit)
      else if (i * size === off && off < nelems * size) assert.fail(`class ${c}: offset ${off} (not an object base) maps to index ${i}`);
    }
  }
  // Large spans use divMul20 0: index 0, so only offset 0 is a base.
  assert.equal(objIndex20(123456, 0), 0);
});

/** (n·m) >> 32 computed exactly by splitting m into 16-bit halves (all terms < 2^53). */
function mulHigh32Split(n: number, m: number): number {
  const mh = Math.floor(m / 65536);
  const ml = m % 65536;
  return Math.floor((n * mh + Math.floor((n * ml) / 65536)) / 65536);
}

test('divMagic brute force: (n·m)>>32 == ⌊n/size⌋ for every n in [0, span] of every class', () => {
  let checked = 0;
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    const size = class_to_size[c]!;
    const m = class_to_divmagic[c]!;
    const span = class_to_allocnpages[c]! * _PageSize;
    for (let n = 0; n <= span; n++) {
      const want = Math.floor(n / size);
      const split = mulHigh32Split(n, m);
      const fast = objIndex(n, m);
      if (split !== want || fast !== want) {
        assert.fail(`class ${c} size ${size} n ${n}: want ${want}, split ${split}, objIndex ${fast}`);
      }
      checked++;
    }
  }
  assert.ok(checked > 67 * 8192);
});

test('objIndex equals BigInt (offset·magic) >> 32 across its whole domain (offset < 2^21)', () => {
  let seed = 0x2545f491;
  const rnd = (): number => {
    // xorshift32, deterministic
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const edges = [0, 1, 2 ** 16 - 1, 2 ** 16, 2 ** 20, 2 ** 21 - 1];
  const mags = [0, 1, 2 ** 31, 2 ** 32 - 1, ...Array.from(class_to_divmagic)];
  for (const o of edges) {
    for (const m of mags) {
      assert.equal(objIndex(o, m), Number((BigInt(o) * BigInt(m)) >> 32n), `o ${o} m ${m}`);
    }
  }
  for (let i = 0; i < 20000; i++) {
    const o = rnd() % 2 ** 21;
    const m = rnd();
    assert.equal(objIndex(o, m), Number((BigInt(o) * BigInt(m)) >> 32n), `o ${o} m ${m}`);
  }
});

test('span class helpers', () => {
  assert.equal(makeSpanClass(2, true), tinySpanClass);
  assert.equal(makeSpanClass(2, 1), 5);
  assert.equal(makeSpanClass(0, false), 0);
  assert.equal(makeSpanClass(0, true), 1);
  assert.equal(makeSpanClass(67, 0), 134);
  assert.equal(makeSpanClass(67, true), 135);
  for (let c = 0; c < NUM_SIZE_CLASSES; c++) {
    for (const noscan of [false, true, 0, 1]) {
      const spc = makeSpanClass(c, noscan);
      assert.ok(spc >= 0 && spc < numSpanClasses);
      assert.equal(spanClassSizeclass(spc), c);
      assert.equal(spanClassNoscan(spc), noscan ? 1 : 0);
    }
  }
});

// ---------------------------------------------------------------------------------------
// sizeClassTableText
// ---------------------------------------------------------------------------------------

const HEADER = '// class  bytes/obj  bytes/span  objects  tail waste  max waste  min align';

test('sizeClassTableText: header, 67 data rows with Go 1.19 numbers', () => {
  const lines = sizeClassTableText().split('\n');
  assert.equal(lines[0], HEADER);
  const rows = lines.filter((l) => /^\/\/ +\d+ +\d+ +\d+ +\d+ +\d+ +\d+\.\d\d% +\d+$/.test(l));
  assert.equal(rows.length, 67);
  assert.deepEqual(lines.slice(1, 68), rows, 'rows follow the header directly');
  rows.forEach((line, i) => {
    const got = line.slice(2).trim().split(/ +/);
    const [c, size, span, objects, tail, maxWaste, minAlign] = GO119_TABLE[i]!;
    assert.deepEqual(
      got,
      [c, size, span, objects, tail, `${maxWaste}%`, minAlign].map(String),
      `row ${i + 1}`,
    );
  });
});

test('sizeClassTableText: Go column layout (right-aligned widths 5/9/10/7/10/9/9)', () => {
  const lines = sizeClassTableText().split('\n');
  // Literal lines as they appear in Go 1.19's sizeclasses.go.
  assert.equal(lines[1], '//     1          8        8192     1024           0     87.50%          8');
  assert.equal(lines[3], '//     3         24        8192      341           8     29.24%          8');
  assert.equal(lines[59], '//    59      16384       16384        1           0     12.49%       8192');
  assert.equal(lines[61], '//    61      19072       57344        3         128      3.57%        128');
  assert.equal(lines[67], '//    67      32768       32768        1           0     12.50%       8192');
  GO119_TABLE.forEach(([c, size, span, objects, tail, maxWaste, minAlign]) => {
    const want =
      '// ' +
      String(c).padStart(5) +
      '  ' +
      String(size).padStart(9) +
      '  ' +
      String(span).padStart(10) +
      '  ' +
      String(objects).padStart(7) +
      '  ' +
      String(tail).padStart(10) +
      '  ' +
      `${maxWaste}%`.padStart(9) +
      '  ' +
      String(minAlign).padStart(9);
    assert.equal(lines[c], want, `row ${c}`);
  });
});

test('sizeClassTableText: alignment block', () => {
  const text = sizeClassTableText();
  const expected =
    '\n' +
    '// alignment  bits  min obj size\n' +
    '//         8     3             8\n' +
    '//        16     4            32\n' +
    '//        32     5           256\n' +
    '//        64     6           512\n' +
    '//       128     7           768\n' +
    '//      4096    12         28672\n' +
    '//      8192    13         32768\n';
  assert.ok(text.endsWith(expected), 'alignment block at the end');
  const lines = text.split('\n');
  assert.equal(lines.length, 1 + 67 + 1 + 1 + 7 + 1); // header, rows, blank, header, 7 rows, ''
  assert.equal(lines[68], '');
  const block = lines.slice(70, 77).map((l) => l.slice(2).trim().split(/ +/).map(Number));
  assert.deepEqual(block, GO119_ALIGNMENT);
  assert.equal(sizeClassTableText(), text, 'stable across calls');
});
