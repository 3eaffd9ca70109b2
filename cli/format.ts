/**
 * format.ts — human units for the CLI: bytes in binary units, grouped integers, durations.
 *
 * @module
 */

/** 1234567 -> "1,234,567". */
export function group(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const neg = n < 0;
  const s = String(Math.abs(Math.trunc(n)));
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (i > 0 && (s.length - i) % 3 === 0) out += ',';
    out += s[i];
  }
  return (neg ? '-' : '') + out;
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/**
 * Bytes in binary units with three significant digits: 0 B, 512 B, 1.5 KiB, 12.3 MiB,
 * 256 MiB, 1.00 GiB.
 */
export function human(bytes: number): string {
  const neg = bytes < 0;
  let v = Math.abs(bytes), u = 0;
  while (v >= 1024 && u < UNITS.length - 1) { v /= 1024; u++; }
  let text: string;
  if (u === 0 || Number.isInteger(v)) text = String(v);
  else if (v >= 100) text = v.toFixed(0);
  else if (v >= 10) text = v.toFixed(1);
  else text = v.toFixed(2);
  return `${neg ? '-' : ''}${text} ${UNITS[u]}`;
}

/** Bytes in binary units and exactly: "12.3 MiB (12,897,312 B)"; just "512 B" below 1 KiB. */
export function humanExact(bytes: number): string {
  if (Math.abs(bytes) < 1024) return `${bytes} B`;
  return `${human(bytes)} (${group(bytes)} B)`;
}

/** Nanoseconds as a short duration: 850 ns, 12.5 µs, 3.21 ms, 1.50 s. */
export function duration(ns: number): string {
  if (ns < 1e3) return `${Math.round(ns)} ns`;
  if (ns < 1e6) return `${(ns / 1e3).toPrecision(3)} µs`;
  if (ns < 1e9) return `${(ns / 1e6).toPrecision(3)} ms`;
  return `${(ns / 1e9).toFixed(2)} s`;
}

/** A count with an SI suffix for progress lines: 950, 12.3k, 1.50M. */
export function shortCount(n: number): string {
  if (n < 1e3) return String(n);
  if (n < 1e6) return `${(n / 1e3).toPrecision(3)}k`;
  return `${(n / 1e6).toPrecision(3)}M`;
}
