// Issue 13: typed-array helpers (mallocAs, callocAs, reallocAs, free(view)), the i8, i16,
// f32, i64 and u64 views, the alignment rule of malloc and the align option.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DoubleFreeError, Heap, InvalidArgumentError, InvalidPointerError, InvalidSizeError, NoFreePError,
  type HeapDescriptor, type TypedArray, type TypedArrayConstructor,
} from '../src/index.js';
import { class_to_size, sizeToClass } from '../src/sizeclasses.js';
import { mulberry32 } from '../cli/workloads.js';

const types: TypedArrayConstructor<TypedArray>[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
];

/** Largest power of two dividing n, at most cap. */
function pow2Divisor(n: number, cap: number): number {
  let a = 1;
  while (a < cap && n % (a * 2) === 0) a *= 2;
  return a;
}

test('views i8, i16, f32, i64, u64 alias the same bytes as u8, u16, u32, f64', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  const p = heap.malloc(16, { align: 8 });
  heap.u8.fill(0, p, p + 16);
  heap.i8[p] = -1;
  assert.equal(heap.u8[p], 255);
  heap.i16[(p >>> 1) + 1] = -2;
  assert.equal(heap.u16[(p >>> 1) + 1], 65534);
  heap.f32[(p >>> 2) + 1] = 1.5;
  assert.equal(heap.u32[(p >>> 2) + 1], 0x3fc00000);
  heap.i64[(p >>> 3) + 1] = -3n;
  assert.equal(heap.u64[(p >>> 3) + 1], 2n ** 64n - 3n);
  assert.equal(heap.u32[(p >>> 2) + 2], 0xfffffffd);
  for (const v of [heap.i8, heap.i16, heap.f32, heap.i64, heap.u64]) assert.equal(v.buffer, heap.buffer);
  heap.free(p);
  heap.check();
});

test('mallocAs: a view of n elements at an object aligned to the element size, for every typed array', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  const rand = mulberry32(13);
  const kept: TypedArray[] = [];
  for (let i = 0; i < 2000; i++) {
    const T = types[i % types.length]!;
    const n = 1 + Math.floor(rand() * (i % 50 === 0 ? 10000 : 20));
    const v = heap.mallocAs(T, n);
    assert.ok(v instanceof T);
    assert.equal(v.length, n);
    assert.equal(v.buffer, heap.buffer);
    assert.equal(v.byteOffset % T.BYTES_PER_ELEMENT, 0);
    assert.ok(heap.usableSize(v.byteOffset) >= n * T.BYTES_PER_ELEMENT);
    // Writing the last element changes exactly those bytes of the buffer.
    const last = v.byteOffset + (n - 1) * T.BYTES_PER_ELEMENT;
    (v as unknown as { [i: number]: number | bigint })[n - 1] = typeof v[0] === 'bigint' ? -1n : (T === Float32Array || T === Float64Array ? -0.5 : 255);
    assert.ok(heap.u8.subarray(last, last + T.BYTES_PER_ELEMENT).some((b) => b !== 0));
    kept.push(v);
  }
  heap.check();
  for (const v of kept) heap.free(v);
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 0);
  heap.check();
});

test('malloc without align: Go\'s alignment (tiny by size, small by size class, large by page)', () => {
  const heap = Heap.create({ reserve: 1 << 28 });
  const rand = mulberry32(5);
  // The case: after a 4-byte tiny object, a 12-byte one shares its 16-byte block at
  // offset 4, so it is only 4-aligned, as in Go.
  const a = heap.malloc(4), b = heap.malloc(12);
  assert.equal(b, a + 4);
  assert.equal(b % 8, 4);
  assert.equal(heap.malloc(12, { align: 8 }) % 8, 0);
  for (let i = 0; i < 5000; i++) {
    const size = i < 2000 ? 1 + (i % 15) : 1 + Math.floor(rand() * (i % 10 === 0 ? 100000 : 2000));
    const p = heap.malloc(size);
    const want = size < 16 ? pow2Divisor(size, 8) : size <= 32768 ? pow2Divisor(class_to_size[sizeToClass(size)]!, 8192) : 8192;
    assert.equal(p % want, 0, `malloc(${size}) = ${p}, expected ${want}-aligned`);
  }
  heap.check();
});

test('malloc(size, { align }): every power of two to 8192, for tiny, small and large sizes; calloc and realloc too', () => {
  const heap = Heap.create({ reserve: 1 << 30 });
  const rand = mulberry32(7);
  const live: number[] = [];
  for (let i = 0; i < 4000; i++) {
    const align = 2 ** (i % 14);
    const size = 1 + Math.floor(rand() * (i % 7 === 0 ? 70000 : i % 2 === 0 ? 15 : 3000));
    const noscan = i % 3 !== 0;
    const p = i % 5 === 0 ? heap.calloc(1, size, { align, noscan }) : heap.malloc(size, { align, noscan });
    assert.equal(p % align, 0, `malloc(${size}, { align: ${align} }) = ${p}`);
    assert.ok(heap.usableSize(p) >= size);
    live.push(p);
  }
  heap.check();
  // realloc with align: the same object when it has the alignment and room, else a new one.
  const p = heap.malloc(12);
  heap.u8[p] = 7;
  const q = heap.realloc(p, 12, { align: 8 });
  assert.equal(q % 8, 0);
  assert.equal(heap.u8[q], 7);
  if (p % 8 === 0) assert.equal(q, p);
  const r = heap.realloc(q, 100, { align: 64 });
  assert.equal(r % 64, 0);
  assert.equal(heap.u8[r], 7);
  for (const x of live) heap.free(x);
  heap.free(r);
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 0);
  heap.check();
});

test('align must be a power of two from 1 to 8192: InvalidArgumentError, heap unchanged', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  const before = heap.readMemStats().Mallocs;
  for (const align of [0, 3, 12, 16384, -8, 1.5, NaN]) {
    assert.throws(() => heap.malloc(8, { align }), InvalidArgumentError);
    assert.throws(() => heap.mallocAs(Float64Array, 2, { align }), InvalidArgumentError);
  }
  assert.throws(() => heap.mallocAs(Float64Array, -1), InvalidSizeError);
  assert.throws(() => heap.mallocAs(Float64Array, 1.5), InvalidSizeError);
  assert.throws(() => heap.callocAs(Int32Array, NaN), InvalidSizeError);
  assert.equal(heap.readMemStats().Mallocs, before);
  heap.check();
  // A larger align than the element size is honoured.
  const v = heap.mallocAs(Uint8Array, 3, { align: 256 });
  assert.equal(v.byteOffset % 256, 0);
  heap.free(v);
});

test('callocAs zeroes memory that was dirty; mallocAs(T, 0) is an empty view at offset 0', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  const dirty = [];
  for (let i = 0; i < 64; i++) { const v = heap.mallocAs(Float64Array, 100); v.fill(-1); dirty.push(v); }
  for (const v of dirty) heap.free(v);
  heap.gc();
  for (let i = 0; i < 64; i++) {
    const v = heap.callocAs(Float64Array, 100);
    assert.ok(v.every((x) => x === 0));
    const w = heap.callocAs(BigInt64Array, 3);
    assert.ok(w.every((x) => x === 0n));
  }
  const e = heap.mallocAs(Float64Array, 0);
  assert.equal(e.length, 0);
  assert.equal(e.byteOffset, 0);
  heap.free(e); // free(0): nothing
  heap.check();
});

test('reallocAs: keeps the elements, in place while the slot holds them, aligned; 0 frees', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  let v = heap.mallocAs(Float64Array, 3);
  v.set([1, 2, 3]);
  const p = v.byteOffset, slot = heap.usableSize(p);
  v = heap.reallocAs(v, slot / 8);
  assert.equal(v.byteOffset, p, 'in place: the slot holds it');
  assert.deepEqual([...v.subarray(0, 3)], [1, 2, 3]);
  v = heap.reallocAs(v, 5000);
  assert.notEqual(v.byteOffset, p);
  assert.equal(v.byteOffset % 8, 0);
  assert.equal(v.length, 5000);
  assert.deepEqual([...v.subarray(0, 3)], [1, 2, 3]);
  assert.throws(() => heap.free(p), DoubleFreeError, 'the old object was freed');
  const w = heap.reallocAs(v, 0);
  assert.equal(w.length, 0);
  assert.throws(() => heap.free(v), DoubleFreeError);
  const x = heap.reallocAs(w, 4); // an empty view grows like realloc(0, n)
  assert.equal(x.length, 4);
  heap.free(x);
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 0);
  heap.check();
});

test('free(view): the base of a live object of this heap only; errors leave the heap consistent', () => {
  const heap = Heap.create({ reserve: 1 << 26 });
  const other = Heap.create({ reserve: 1 << 26 });
  const v = heap.mallocAs(Int32Array, 10);
  const foreign = other.mallocAs(Int32Array, 10);
  assert.throws(() => heap.free(foreign), InvalidPointerError);
  assert.throws(() => heap.free(new Int32Array(10)), InvalidPointerError);
  assert.throws(() => heap.free(v.subarray(1)), InvalidPointerError, 'interior pointer');
  assert.throws(() => heap.reallocAs(foreign, 20), InvalidPointerError);
  heap.check();
  heap.free(v);
  assert.throws(() => heap.free(v), DoubleFreeError);
  heap.check();
  other.free(foreign);
  other.check();
});

for (const backend of ['sab', 'rab', 'wasm'] as const) {
  test(`mallocAs views stay valid when the heap grows (${backend})`, () => {
    const heap = Heap.create({ reserve: 1 << 28, backend });
    const v = heap.mallocAs(Float64Array, 16);
    const len0 = heap.buffer.byteLength;
    const big: number[] = [];
    while (heap.buffer.byteLength < len0 + (8 << 20)) big.push(heap.malloc(1 << 20));
    v[15] = Math.PI; // through the old view, after the growth
    assert.equal(heap.f64[(v.byteOffset >>> 3) + 15], Math.PI);
    heap.f64[v.byteOffset >>> 3] = 2.5; // and the other way round
    assert.equal(v[0], 2.5);
    const w = heap.reallocAs(v, 32); // a view from before the growth is accepted
    assert.equal(w[0], 2.5);
    heap.free(w);
    for (const p of big) heap.free(p);
    heap.check();
  });
}

test('NoFreePError and HeapDescriptor are exported from goheap', () => {
  const heap = Heap.create({ reserve: 1 << 26, maxProcs: 1 });
  const desc: HeapDescriptor = heap.share();
  assert.equal(desc.heapBase, heap.h.base);
  assert.throws(() => Heap.attach(desc), NoFreePError);
});
