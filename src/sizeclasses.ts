/**
 * Size classes: how goheap (like Go 1.19's runtime) turns "I need N bytes" into one of 67
 * fixed object sizes.
 *
 * Why classes at all? Small objects (up to 32 KiB) are not carved to their exact length.
 * Each request is rounded up to the nearest *size class*, and every span (a run of 8 KiB
 * pages) holds objects of exactly one class, packed back to back. Because all slots in a
 * span are the same size, a slot is found by index (base + i·size), its state is one bit in
 * a bitmap, and freeing needs no header in front of the object. The price is waste, which
 * the class list keeps bounded in two ways:
 *
 * - Round-up waste: consecutive class sizes are close enough (the step grows with the size,
 *   roughly an eighth of it) that rounding a request up costs at most about 12.5%, except
 *   for the tiniest sizes, where 8- and 16-byte alignment dominate.
 * - Tail waste: a span is made of whole pages, and whatever is left over at its end after
 *   packing whole objects is lost. The generator picks, per class, the smallest number of
 *   pages whose leftover is at most one eighth (12.5%) of the span. Together the two
 *   bounds keep the worst case near 26.6%.
 *
 * The list itself is not typed in by hand: it is produced when this module loads, by our
 * own re-implementation of the procedure of Go's generator (mksizeclasses.go):
 *
 * 1. Walk candidate sizes upward from 8 in steps of the current alignment. The step starts
 *    at 8 and is raised whenever the walk reaches a power of two: to 16 from 32 bytes on,
 *    to size/8 from 128 bytes on (so the relative step stays ~12.5%), and to 256 from
 *    2048 bytes on.
 * 2. For each candidate, find its span length with the 12.5% tail rule above.
 * 3. Merge pass: if the candidate needs the same number of pages as the previous class
 *    *and* fits the same number of objects in them, it simply replaces (widens) the
 *    previous class instead of adding a new one: a bigger object at no extra cost.
 * 4. Widening pass: afterwards every class is grown to the largest size that still fits
 *    the same number of objects in its span, rounded down to a multiple of 128 so the
 *    coarse lookup table (128-byte steps) stays exact. Example: 8448 becomes 9472 (six
 *    objects in seven pages).
 * 5. Checks: exactly 68 classes (class 0 is a dummy standing for "large object"), and the
 *    division magic of every class must be exact (see {@link objIndex}).
 *
 * Two byte-indexed tables then map a request size to its class without searching: one
 * with 8-byte steps for sizes up to 1016 bytes and one with 128-byte steps above that.
 *
 * Span classes: each size class comes in two flavours, spans whose objects contain
 * pointers (must be scanned by the GC) and "noscan" spans that do not. The span class is
 * `sizeclass << 1 | noscan`, giving 136 span classes; class 0 (large objects) has both
 * flavours too (span classes 0 and 1). mcache and mcentral are indexed by span class.
 *
 * @module
 */

import { HeapCorruptionError } from './errors.js';

// ---------------------------------------------------------------------------------------
// Constants (Go's names, plus camelCase aliases)
// ---------------------------------------------------------------------------------------

/** log2 of the runtime page size: a runtime page is 1 << 13 = 8 KiB. */
export const _PageShift = 13;
/** Runtime page size in bytes (8192). Spans are whole numbers of these pages. */
export const _PageSize = 8192;
/** Largest "small" object size (32 KiB). Larger requests get a dedicated span (class 0). */
export const _MaxSmallSize = 32768;
/** Granularity (bytes) of {@link size_to_class8}. */
export const smallSizeDiv = 8;
/** Upper end of the range covered by {@link size_to_class8} (1024 bytes). */
export const smallSizeMax = 1024;
/** Granularity (bytes) of {@link size_to_class128}. */
export const largeSizeDiv = 128;
/** Size of a tiny-allocator block in bytes (16). */
export const _TinySize = 16;
/** The size class whose object size is {@link _TinySize} (class 2, 16 bytes). */
export const _TinySizeClass = 2;
/** Number of size classes including the dummy class 0 used for large objects (68). */
export const NUM_SIZE_CLASSES = 68;
/** Go's name for {@link NUM_SIZE_CLASSES}. */
export const _NumSizeClasses = NUM_SIZE_CLASSES;
/** Number of span classes: every size class in a scan and a noscan flavour (136). */
export const numSpanClasses = NUM_SIZE_CLASSES << 1;
/** Span class of tiny blocks: size class 2, noscan (2 << 1 | 1 = 5). */
export const tinySpanClass = (_TinySizeClass << 1) | 1;

/** camelCase alias of {@link _PageShift}. */
export const pageShift = _PageShift;
/** camelCase alias of {@link _PageSize}. */
export const pageSize = _PageSize;
/** camelCase alias of {@link _MaxSmallSize}. */
export const maxSmallSize = _MaxSmallSize;
/** camelCase alias of {@link _TinySize} (Go's malloc.go calls it `maxTinySize`). */
export const maxTinySize = _TinySize;
/** camelCase alias of {@link _TinySizeClass}. */
export const tinySizeClass = _TinySizeClass;

/** 2^32 as a double; dividing by it is exact (power of two). */
const TWO_POW_32 = 4294967296;
/** 2^-32: multiplying by it is exact and, unlike a division by 2^32, cheap. */
const TWO_POW_MINUS_32 = 1 / TWO_POW_32;

// ---------------------------------------------------------------------------------------
// Generator
// ---------------------------------------------------------------------------------------

/** The tables produced by {@link generateSizeClasses}; all are indexed by size class. */
export interface SizeClassTables {
  /** Object size in bytes per class (class 0: 0). Length {@link NUM_SIZE_CLASSES}. */
  readonly classToSize: Uint32Array;
  /** Span length in pages per class (class 0: 0). Length {@link NUM_SIZE_CLASSES}. */
  readonly classToAllocNPages: Uint32Array;
  /** Division magic ⌊(2^32−1)/size⌋+1 per class (class 0: 0). Length {@link NUM_SIZE_CLASSES}. */
  readonly classToDivMagic: Uint32Array;
  /** Class for ⌈size/8⌉, sizes 0..1024 (129 entries). */
  readonly sizeToClass8: Uint8Array;
  /** Class for ⌈(size−1024)/128⌉, sizes 1024..32768 (249 entries). */
  readonly sizeToClass128: Uint8Array;
}

function isPowerOfTwo(x: number): boolean {
  return x > 0 && (x & (x - 1)) === 0;
}

/**
 * Proves that `magic` divides exactly by `size` for every offset 0..spanBytes.
 *
 * The quotient floor(n·magic / 2^32) never decreases as n grows, so on each run of offsets
 * [k·size, (k+1)·size − 1] it is right everywhere as soon as it is right (= k) at both ends
 * of the run. That needs 2 evaluations per object instead of one per byte; the test suite
 * additionally runs the literal byte-by-byte brute force that Go's generator does.
 */
function divMagicIsExact(size: number, spanBytes: number, magic: number): boolean {
  const objects = Math.floor(spanBytes / size);
  for (let k = 0; k <= objects; k++) {
    const first = k * size;
    const last = Math.min(first + size - 1, spanBytes);
    if (objIndex(first, magic) !== k || objIndex(last, magic) !== k) return false;
  }
  return true;
}

/**
 * Smallest F such that c = ⌈2^F/d⌉ gives floor(n·c / 2^F) = floor(n/d) for all n in [0, N],
 * using the sufficient condition of Lemire, Kaser and Kurz: (c·d − 2^F)·N < 2^F. Returns
 * Infinity if no F ≤ 40 works. All intermediate values stay far below 2^53.
 */
function minFractionBits(d: number, maxN: number): number {
  for (let f = 0; f <= 40; f++) {
    const p = 2 ** f;
    const c = Math.floor((p + d - 1) / d);
    if ((c * d - p) * maxN < p) return f;
  }
  return Infinity;
}

/**
 * Runs our re-implementation of Go 1.19's size-class generator and returns fresh tables.
 *
 * The module calls this once at load to fill {@link class_to_size} and friends; it is
 * exported so tests (or the CLI) can re-run and time it. Takes well under a millisecond.
 *
 * @throws {HeapCorruptionError} if a generator check fails (wrong class count, an inexact
 *   division magic, or the tiny class not being 16 bytes): that would be a bug in goheap.
 */
export function generateSizeClasses(): SizeClassTables {
  // Class 0 is the placeholder for large objects.
  const sizes: number[] = [0];
  const npages: number[] = [0];

  // Pass 1: walk candidate sizes, choose span lengths, merge equivalent neighbours.
  let align = 8;
  for (let size = align; size <= _MaxSmallSize; size += align) {
    if (isPowerOfTwo(size)) {
      if (size >= 2048) align = 256;
      else if (size >= 128) align = size / 8;
      else if (size >= 32) align = 16; // the heap bitmap wants 16-byte alignment from 32 B on
      if (!isPowerOfTwo(align)) {
        throw new HeapCorruptionError(`sizeclasses: alignment ${align} is not a power of two`);
      }
    }

    // Fewest whole pages whose tail (leftover after whole objects) is ≤ 1/8 of the span.
    let spanBytes = _PageSize;
    while (spanBytes % size > spanBytes / 8) spanBytes += _PageSize;
    const pages = spanBytes >>> _PageShift;

    const last = sizes.length - 1;
    if (
      last >= 1 &&
      npages[last] === pages &&
      Math.floor(spanBytes / size) === Math.floor(spanBytes / sizes[last]!)
    ) {
      sizes[last] = size; // same pages, same object count: widen the previous class
      continue;
    }
    sizes.push(size);
    npages.push(pages);
  }

  // Pass 2: grow each class to the largest multiple of 128 that keeps its object count.
  for (let c = 1; c < sizes.length; c++) {
    const spanBytes = npages[c]! * _PageSize;
    const objects = Math.floor(spanBytes / sizes[c]!);
    let widened = Math.floor(spanBytes / objects);
    widened -= widened % largeSizeDiv;
    if (widened > sizes[c]!) sizes[c] = widened;
  }

  if (sizes.length !== NUM_SIZE_CLASSES) {
    throw new HeapCorruptionError(
      `sizeclasses: generator produced ${sizes.length} classes, want ${NUM_SIZE_CLASSES}`,
    );
  }
  if (sizes[_TinySizeClass] !== _TinySize) {
    throw new HeapCorruptionError(`sizeclasses: class ${_TinySizeClass} is not ${_TinySize} bytes`);
  }

  const classToSize = new Uint32Array(NUM_SIZE_CLASSES);
  const classToAllocNPages = new Uint32Array(NUM_SIZE_CLASSES);
  const classToDivMagic = new Uint32Array(NUM_SIZE_CLASSES);
  for (let c = 0; c < NUM_SIZE_CLASSES; c++) {
    const size = sizes[c]!;
    classToSize[c] = size;
    classToAllocNPages[c] = npages[c]!;
    if (c === 0) continue; // class 0: size 0, pages 0, magic 0
    // ⌊(2^32−1)/size⌋ + 1 == ⌈2^32/size⌉; fits in 32 bits for every size ≥ 2.
    const magic = Math.floor(0xffffffff / size) + 1;
    const spanBytes = npages[c]! * _PageSize;
    if (!divMagicIsExact(size, spanBytes, magic)) {
      throw new HeapCorruptionError(`sizeclasses: divMagic ${magic} is inexact for size ${size}`);
    }
    const f = minFractionBits(size, spanBytes);
    if (f > 32) {
      throw new HeapCorruptionError(`sizeclasses: size ${size} needs ${f} > 32 fraction bits`);
    }
    classToDivMagic[c] = magic;
  }

  // Lookup tables: entry i = smallest class whose size covers the sizes of bucket i.
  const sizeToClass8 = new Uint8Array(smallSizeMax / smallSizeDiv + 1);
  let c8 = 0;
  for (let i = 0; i < sizeToClass8.length; i++) {
    while (sizes[c8]! < i * smallSizeDiv) c8++;
    sizeToClass8[i] = c8;
  }
  const sizeToClass128 = new Uint8Array((_MaxSmallSize - smallSizeMax) / largeSizeDiv + 1);
  let c128 = 0;
  for (let i = 0; i < sizeToClass128.length; i++) {
    while (sizes[c128]! < smallSizeMax + i * largeSizeDiv) c128++;
    sizeToClass128[i] = c128;
  }

  return { classToSize, classToAllocNPages, classToDivMagic, sizeToClass8, sizeToClass128 };
}

const TABLES = generateSizeClasses();

/**
 * Object size in bytes for each size class (index 0..67; class 0 = 0 = large object).
 * Treat as read-only.
 */
export const class_to_size: Uint32Array = TABLES.classToSize;
/**
 * Span length in 8 KiB pages for each size class (class 0 = 0). Treat as read-only.
 */
export const class_to_allocnpages: Uint32Array = TABLES.classToAllocNPages;
/**
 * Division magic per size class: ⌊(2^32−1)/size⌋+1, so that object index =
 * (offset·magic) >> 32 for every offset inside the class's span (see {@link objIndex}).
 * Class 0 has 0, so large spans always yield index 0. Treat as read-only.
 */
export const class_to_divmagic: Uint32Array = TABLES.classToDivMagic;
/**
 * Size class by ⌈size/8⌉ for sizes 0..1024 (129 entries); {@link sizeToClass} uses it
 * for sizes ≤ 1016. Treat as read-only.
 */
export const size_to_class8: Uint8Array = TABLES.sizeToClass8;
/**
 * Size class by ⌈(size−1024)/128⌉ for sizes 1024..32768 (249 entries); {@link sizeToClass}
 * uses it for sizes > 1016. Treat as read-only.
 */
export const size_to_class128: Uint8Array = TABLES.sizeToClass128;

// ---------------------------------------------------------------------------------------
// Hot-path lookups
// ---------------------------------------------------------------------------------------

/**
 * Size class by ⌈size/8⌉ for every small size 0..32768 (4097 entries), built from Go's two
 * tables: sizeToClass's one lookup. JS difference: Go splits it in two (size_to_class8 and
 * size_to_class128) to save memory; one table is 4 KiB of JS heap and half the bytecode on
 * the malloc fast path, which V8 must inline whole (docs/architecture.md, "Fast paths").
 * Exact because every 128-byte step above 1024 is made of whole 8-byte steps. Module-local
 * (not exported): V8 reads an exported binding through its module cell on every use, and
 * folds a local const into the optimized code (see malloc.ts).
 */
const sizeToClassBy8 = new Uint8Array(_MaxSmallSize / smallSizeDiv + 1);
for (let i = 0; i < sizeToClassBy8.length; i++) {
  const size = i * smallSizeDiv;
  sizeToClassBy8[i] = size <= smallSizeMax - smallSizeDiv
    ? TABLES.sizeToClass8[i]!
    : TABLES.sizeToClass128[(size - smallSizeMax + largeSizeDiv - 1) / largeSizeDiv >> 0]!;
}
const maxSmall = _MaxSmallSize;

/**
 * Size class for a request of `size` bytes: the smallest class whose objects hold it.
 *
 * Intended domain is 0 < size ≤ {@link _MaxSmallSize} with `size` an integer. Sizes above
 * 32768 return 0 (the large-object class) instead of reading past the table; size 0
 * returns 0 as well. No validation beyond that: this is on the allocation fast path.
 */
export function sizeToClass(size: number): number {
  return size <= maxSmall ? sizeToClassBy8[(size + 7) >> 3]! : 0;
}

/**
 * The number of bytes actually reserved for a request of `size` bytes (Go's msize.go):
 * the class size for small requests, otherwise `size` rounded up to a multiple of the
 * 8 KiB page. `size` must be a non-negative safe integer; roundupsize(0) is 0.
 */
export function roundupsize(size: number): number {
  if (size < _MaxSmallSize) return class_to_size[sizeToClass(size)]!;
  // Large: round up to a page multiple. `size % 8192` avoids `size + 8191` leaving the
  // safe-integer range; the result is a multiple of 8192 ≤ 2^53 and hence exact.
  const rem = size % _PageSize;
  return rem === 0 ? size : size - rem + _PageSize;
}

/**
 * Index of the object containing byte `offset` of a span whose division magic is
 * `divMagic` (a {@link class_to_divmagic} entry): Go's `((offset · divMul) >> 32)`.
 *
 * Exact without BigInt or splitting: for `offset` < 2^21 and `divMagic` < 2^32 the
 * product is below 2^53, so the double multiply is exact, dividing by 2^32 is exact, and
 * the truncation yields the integer part. Span offsets are at most 81920 (10 pages), well
 * inside the domain. Large spans have `divMagic` 0 and always give 0.
 */
export function objIndex(offset: number, divMagic: number): number {
  return (offset * divMagic * TWO_POW_MINUS_32) | 0;
}

/**
 * Slot index of the object that starts at byte `offset` of a span, with integer
 * arithmetic only: `imul(offset, divMul20) >>> 20`, divMul20 = ceil(2^20 / elemsize)
 * (JS difference: Go's `(offset · divMul) >> 32` needs a 64-bit product, which JS gets
 * only as a double multiply; this is several times cheaper on the free path).
 *
 * Exact at every object base k·elemsize with k < nelems: the product is
 * k·(2^20 + e), e = elemsize·divMul20 − 2^20 < elemsize, so the result is k + ⌊k·e/2^20⌋
 * = k because k·e < nelems·elemsize <= 81920 < 2^20, and the product stays below
 * nelems·2^21 <= 2^31. For any other offset the result is some index i with
 * i·elemsize ≠ offset, which is all the free path needs to reject an interior pointer
 * (findObject then names the object with {@link objIndex}).
 */
export function objIndex20(offset: number, divMul20: number): number {
  return Math.imul(offset, divMul20) >>> 20;
}

// ---------------------------------------------------------------------------------------
// Span classes
// ---------------------------------------------------------------------------------------

/**
 * Span class for a size class and a pointer-free flag: `sizeclass << 1 | noscan`.
 * `noscan` may be a boolean or a number (any non-zero number counts as true).
 */
export function makeSpanClass(sizeclass: number, noscan: boolean | number): number {
  return (sizeclass << 1) | (noscan ? 1 : 0);
}

/** Size class of span class `spc` (`spc >> 1`). */
export function spanClassSizeclass(spc: number): number {
  return spc >> 1;
}

/** Noscan bit of span class `spc` (`spc & 1`): 1 if its objects contain no pointers. */
export function spanClassNoscan(spc: number): number {
  return spc & 1;
}

