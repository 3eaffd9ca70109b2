/**
 * views.ts — micro-benchmark: the cost of one element access through the kinds of
 * typed-array view goheap can read its buffer through. goheap's metadata lives in the
 * buffer, so every malloc / free is a few dozen such accesses; what one costs sets the
 * floor of goheap's per-op time.
 *
 *   node --import tsx bench/views.ts VARIANT      (run.ts runs every variant in its own process)
 *
 * Prints `VIEWS {"variant":..., "nsPerAccess":...}`.
 *
 * @module
 */
import { fileURLToPath } from 'node:url';

export const viewVariants = {
  'ArrayBuffer': 'Uint32Array over a plain ArrayBuffer',
  'SharedArrayBuffer': 'Uint32Array over a fixed-size SharedArrayBuffer',
  'growable SAB, length-tracking': 'new Uint32Array(growableSAB) — the view follows the buffer as it grows (goheap\'s default backend)',
  'growable SAB, fixed-length': 'new Uint32Array(growableSAB, 0, byteLength >>> 2) — same buffer, view of a fixed length (must be re-made after growth)',
  'resizable AB, length-tracking': 'new Uint32Array(resizableArrayBuffer) (goheap\'s "rab" backend)',
} as const;
export type ViewVariant = keyof typeof viewVariants;

function make(v: ViewVariant): Uint32Array {
  const n = 1 << 20;
  switch (v) {
    case 'ArrayBuffer': return new Uint32Array(new ArrayBuffer(n));
    case 'SharedArrayBuffer': return new Uint32Array(new SharedArrayBuffer(n));
    case 'growable SAB, length-tracking': return new Uint32Array(new SharedArrayBuffer(n, { maxByteLength: 1 << 30 }));
    case 'growable SAB, fixed-length': return new Uint32Array(new SharedArrayBuffer(n, { maxByteLength: 1 << 30 }), 0, n >>> 2);
    case 'resizable AB, length-tracking': return new Uint32Array(new ArrayBuffer(n, { maxByteLength: 1 << 30 }));
  }
}

/** Two loads and one store per iteration at scattered indices, like metadata accesses. */
function loop(u32: Uint32Array, n: number): number {
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const k = Math.imul(i, 2654435761) >>> 20; // 0..4095
    u32[k] = (u32[k] + i) | 0;
    acc ^= u32[(k + 13) & 4095];
  }
  return acc;
}

function main(): void {
  const v = process.argv[2] as ViewVariant;
  if (!(v in viewVariants)) throw new Error(`unknown variant ${v}; one of: ${Object.keys(viewVariants).join(', ')}`);
  const u32 = make(v);
  loop(u32, 200_000);
  loop(u32, 200_000);
  const n = 5_000_000;
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    loop(u32, n);
    const ns = Number(process.hrtime.bigint() - t0) / (3 * n);
    if (ns < best) best = ns;
  }
  process.stdout.write(`VIEWS ${JSON.stringify({ variant: v, nsPerAccess: best })}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
