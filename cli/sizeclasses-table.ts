/**
 * sizeclasses-table.ts — the size-class table as text, in the layout of the comment at the
 * top of Go's sizeclasses.go (`goheap sizeclasses`).
 *
 * @module
 */
import { NUM_SIZE_CLASSES, _PageShift, _PageSize, class_to_allocnpages, class_to_size } from '../src/sizeclasses.js';

function pad(value: number | string, width: number): string {
  return String(value).padStart(width, ' ');
}

/**
 * `x` with two decimals like Go's `%.2f`: the exact binary value is rounded to nearest,
 * and an exact tie goes to the even cent (JS `toFixed` would round ties up). A tie is only
 * possible when x is a multiple of 1/8, in which case x·1000 is computed exactly.
 */
function formatFixed2(x: number): string {
  if (Number.isInteger(x * 8) && (x * 1000) % 10 === 5) {
    let cents = Math.floor(x * 100);
    if (cents % 2 !== 0) cents += 1;
    return (cents / 100).toFixed(2);
  }
  return x.toFixed(2);
}

/** Largest power of two dividing `size`, capped at one page (as log2). */
function alignBits(size: number): number {
  const bits = 31 - Math.clz32(size & -size);
  return bits > _PageShift ? _PageShift : bits;
}

let tableTextCache: string | undefined;

/**
 * The size-class table as a text block in the layout of the comment at the top of Go's
 * sizeclasses.go: a header, one row per class 1..67 (class, bytes/obj, bytes/span,
 * objects, tail waste, max waste as a percentage, min align), a blank line, and the
 * alignment summary (for each alignment, the smallest object size from which every
 * larger class is at least that aligned). Every line but the blank separator starts with
 * `// `, and every line ends with a newline. Used by the `goheap sizeclasses` CLI command.
 *
 * Max waste is the worst case for a class: every object is 1 byte larger than the
 * previous class size, plus the tail: ((size − prevSize − 1)·objects + tail) / span.
 */
export function sizeClassTableText(): string {
  if (tableTextCache !== undefined) return tableTextCache;
  const lines: string[] = [
    '// class  bytes/obj  bytes/span  objects  tail waste  max waste  min align',
  ];
  let prevSize = 0;
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    const size = class_to_size[c]!;
    const span = class_to_allocnpages[c]! * _PageSize;
    const objects = Math.floor(span / size);
    const tail = span - size * objects;
    const maxWaste = (size - prevSize - 1) * objects + tail;
    const pct = formatFixed2(100 * (maxWaste / span));
    lines.push(
      `// ${pad(c, 5)}  ${pad(size, 9)}  ${pad(span, 10)}  ${pad(objects, 7)}  ` +
        `${pad(tail, 10)}  ${pad(pct, 8)}%  ${pad(1 << alignBits(size), 9)}`,
    );
    prevSize = size;
  }

  // Alignment summary: walking the classes upward, the alignment guaranteed for "this
  // class and every larger one" only grows; print each new level with the first size
  // that reaches it.
  const suffixMinBits = new Array<number>(NUM_SIZE_CLASSES).fill(_PageShift);
  for (let c = NUM_SIZE_CLASSES - 1; c >= 1; c--) {
    const bits = alignBits(class_to_size[c]!);
    const after = c + 1 < NUM_SIZE_CLASSES ? suffixMinBits[c + 1]! : _PageShift;
    suffixMinBits[c] = bits < after ? bits : after;
  }
  lines.push('');
  lines.push('// alignment  bits  min obj size');
  let shown = -1;
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    const bits = suffixMinBits[c]!;
    if (bits === shown) continue;
    shown = bits;
    lines.push(`// ${pad(1 << bits, 9)}  ${pad(bits, 4)}  ${pad(class_to_size[c]!, 12)}`);
  }
  tableTextCache = lines.join('\n') + '\n';
  return tableTextCache;
}
