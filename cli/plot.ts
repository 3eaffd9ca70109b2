/**
 * plot.ts — the SVG line chart of `goheap run --plot FILE.svg`: HeapSys, HeapInuse,
 * HeapAlloc, HeapIdle and HeapReleased over the run, with operations (--ops) or seconds
 * (--duration) on the x axis, bytes in binary units on the y axis, a marker for every GC
 * cycle, a legend and a title.
 * Self-contained SVG 1.1 (no scripts, no external fonts), written by hand.
 *
 * @module
 */
import { group } from './format.js';
import { sampleFields, type GCEvent, type Sample } from './run.js';

/** What to draw. */
export interface PlotInput {
  title: string;
  subtitle: string;
  samples: Sample[];
  gcs: GCEvent[];
  /**
   * The x axis: operations done ('ops', for runs of a number of operations: the chart is
   * then the same on every machine) or seconds since the start ('time').
   */
  xAxis: 'ops' | 'time';
}

const COLORS: Record<(typeof sampleFields)[number], string> = {
  HeapSys: '#4b5563',
  HeapInuse: '#2563eb',
  HeapAlloc: '#dc2626',
  HeapIdle: '#f59e0b',
  HeapReleased: '#16a34a',
  RSS: '#0891b2',
};
const DASH: Partial<Record<(typeof sampleFields)[number], string>> = { HeapSys: '7 4', RSS: '2 3' };
/**
 * Line widths: HeapInuse and HeapIdle are drawn wide and light, under the thin HeapAlloc
 * and HeapReleased lines they often coincide with (full spans; idle memory all released),
 * so both stay visible.
 */
const WIDTH: Record<(typeof sampleFields)[number], number> = { HeapSys: 2, HeapInuse: 5, HeapAlloc: 1.8, HeapIdle: 5, HeapReleased: 1.8, RSS: 1.8 };
const OPACITY: Record<(typeof sampleFields)[number], number> = { HeapSys: 1, HeapInuse: 0.55, HeapAlloc: 1, HeapIdle: 0.6, HeapReleased: 1, RSS: 1 };
const DOCS: Record<(typeof sampleFields)[number], string> = {
  HeapSys: 'heap memory obtained from the OS',
  HeapInuse: 'bytes in in-use spans',
  HeapAlloc: 'bytes of allocated objects',
  HeapIdle: 'bytes in idle spans',
  HeapReleased: 'idle bytes returned to the OS',
  RSS: "the whole process's resident memory (Node, V8 and the heap's buffer)",
};

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A "nice" step (1, 2 or 5 × 10^k) so that `span` has at most `maxTicks` ticks. */
function niceStep(span: number, maxTicks: number): number {
  const raw = span / maxTicks;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** A power-of-two byte step (… 4 MiB, 8 MiB, 16 MiB …) so that `max` has at most `maxTicks` ticks. */
function byteStep(max: number, maxTicks: number): number {
  let step = 1;
  while (max / step > maxTicks) step *= 2;
  return step;
}

function byteLabel(b: number): string {
  if (b === 0) return '0';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let u = 0, v = b;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[u]}`;
}

function secLabel(s: number, step: number): string {
  const digits = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
  return `${s.toFixed(digits)} s`;
}

function opsLabel(n: number): string {
  if (n === 0) return '0';
  if (n >= 1e6) return `${+(n / 1e6).toFixed(2)}M`;
  if (n >= 1e3) return `${+(n / 1e3).toFixed(1)}k`;
  return String(n);
}

/** Cycles within this many pixels of a marker share it. */
const MARKER_PX = 6;

/** One GC marker: one cycle, or several close together (all forced, or all not). */
interface GCMarker { x: number; forced: boolean; first: number; last: number; count: number; at: number }

/** The markers for `gcs` (in order), cycles less than MARKER_PX apart merged. */
function gcMarkers(gcs: readonly GCEvent[], xOf: (g: GCEvent) => number): GCMarker[] {
  const out: GCMarker[] = [];
  const open: Partial<Record<'true' | 'false', GCMarker>> = {};
  for (const g of gcs) {
    const gx = xOf(g), key = g.forced ? 'true' : 'false';
    const mk = open[key];
    if (mk !== undefined && gx - mk.x < MARKER_PX) { mk.last = g.cycle; mk.count++; continue; }
    const next: GCMarker = { x: gx, forced: g.forced, first: g.cycle, last: g.cycle, count: 1, at: g.at };
    out.push(next);
    open[key] = next;
  }
  return out;
}

/** Render the chart. */
export function plotSVG(input: PlotInput): string {
  const W = 1000, H = 600;
  const m = { left: 86, right: 28, top: 92, bottom: 64 };
  const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
  const samples = input.samples;
  const byOps = input.xAxis === 'ops';
  const xOf = (v: { t: number; ops: number }): number => (byOps ? v.ops : v.t);
  const tMax = Math.max(samples.length > 0 ? xOf(samples[samples.length - 1]!) : 0, byOps ? 1 : 1e-3);
  let yMaxData = 0;
  for (const s of samples) for (const f of sampleFields) yMaxData = Math.max(yMaxData, s[f]);
  const yStep = byteStep(Math.max(yMaxData, 1 << 20), 6);
  const yMax = Math.max(yStep, Math.ceil((yMaxData * 1.04) / yStep) * yStep);
  const xStep = niceStep(tMax, 10);
  const xLabel = (v: number): string => (byOps ? opsLabel(v) : secLabel(v, xStep));
  const x = (t: number): number => m.left + (t / tMax) * pw;
  const y = (b: number): number => m.top + ph - (b / yMax) * ph;
  const r = (v: number): string => v.toFixed(1);

  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif">`);
  o.push(`<title>${esc(input.title)}</title>`);
  o.push(`<desc>${esc(input.subtitle)}. Series: ${sampleFields.join(', ')} (bytes) over ${byOps ? 'operations' : 'time (seconds)'}; markers: GC cycles.</desc>`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  // Title.
  o.push(`<text x="${m.left}" y="34" font-size="20" font-weight="600" fill="#111827">${esc(input.title)}</text>`);
  o.push(`<text x="${m.left}" y="56" font-size="13" fill="#6b7280">${esc(input.subtitle)}</text>`);

  // Grid and axes.
  o.push('<g id="grid" stroke="#e5e7eb" stroke-width="1">');
  for (let b = 0; b <= yMax + 1e-9; b += yStep) o.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${r(y(b))}" y2="${r(y(b))}"/>`);
  for (let t = 0; t <= tMax + 1e-9; t += xStep) o.push(`<line x1="${r(x(t))}" x2="${r(x(t))}" y1="${m.top}" y2="${m.top + ph}"/>`);
  o.push('</g>');
  o.push('<g id="axes" font-size="12" fill="#374151">');
  for (let b = 0; b <= yMax + 1e-9; b += yStep) o.push(`<text x="${m.left - 8}" y="${r(y(b) + 4)}" text-anchor="end">${byteLabel(b)}</text>`);
  for (let t = 0; t <= tMax + 1e-9; t += xStep) o.push(`<text x="${r(x(t))}" y="${m.top + ph + 20}" text-anchor="middle">${xLabel(t)}</text>`);
  o.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#6b7280"/>`);
  o.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#6b7280"/>`);
  o.push(`<text x="${m.left + pw / 2}" y="${H - 18}" text-anchor="middle" font-size="13" fill="#374151">${byOps ? 'operations (malloc and free calls)' : 'time since the start of the run'}</text>`);
  o.push(`<text transform="translate(20 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="13" fill="#374151">bytes</text>`);
  o.push('</g>');

  // GC markers: a dashed line and a tick at the top of the plot area per cycle, forced
  // ones darker. Cycles closer than MARKER_PX pixels share one marker, whose tooltip
  // names the range (a run with thousands of cycles would otherwise draw a hatch).
  if (input.gcs.length > 0) {
    o.push('<g id="gc-cycles">');
    for (const mk of gcMarkers(input.gcs, (g) => x(Math.min(byOps ? g.opsDone : g.at, tMax)))) {
      const gx = r(mk.x);
      const color = mk.forced ? '#7c3aed' : '#9ca3af';
      const what = mk.count === 1 ? `gc ${mk.first}${mk.forced ? ' (forced)' : ''} @${mk.at.toFixed(3)}s` : `gc ${mk.first}–${mk.last}: ${mk.count}${mk.forced ? ' forced' : ''} cycles`;
      o.push(`<line x1="${gx}" x2="${gx}" y1="${m.top}" y2="${m.top + ph}" stroke="${color}" stroke-width="1" stroke-opacity="${mk.forced ? 0.55 : 0.28}" stroke-dasharray="2 3"><title>${what}</title></line>`);
      o.push(`<path d="M${gx} ${m.top} l-4 -7 h8 z" fill="${color}"/>`);
    }
    o.push('</g>');
  }

  // HeapSys area (light) under the lines.
  if (samples.length > 1) {
    const pts = samples.map((s) => `${r(x(xOf(s)))},${r(y(s.HeapSys))}`);
    o.push(`<path d="M${r(x(xOf(samples[0]!)))},${r(y(0))} L${pts.join(' L')} L${r(x(xOf(samples[samples.length - 1]!)))},${r(y(0))} Z" fill="#4b5563" fill-opacity="0.06"/>`);
  }

  // Series.
  o.push('<g id="series" fill="none" stroke-linejoin="round" stroke-linecap="round">');
  for (const f of sampleFields) {
    const pts = samples.map((s) => `${r(x(xOf(s)))},${r(y(s[f]))}`).join(' ');
    const dash = DASH[f] !== undefined ? ` stroke-dasharray="${DASH[f]}"` : '';
    const op = OPACITY[f] < 1 ? ` stroke-opacity="${OPACITY[f]}"` : '';
    o.push(`<polyline data-series="${f}" stroke="${COLORS[f]}" stroke-width="${WIDTH[f]}"${op}${dash} points="${pts}"><title>${f}: ${DOCS[f]}</title></polyline>`);
  }
  o.push('</g>');

  // Legend: one row above the plot, right of the title block.
  o.push('<g id="legend" font-size="12.5" fill="#111827">');
  let lx = m.left;
  const ly = 78;
  for (const f of sampleFields) {
    const dash = DASH[f] !== undefined ? ` stroke-dasharray="${DASH[f]}"` : '';
    const op = OPACITY[f] < 1 ? ` stroke-opacity="${OPACITY[f]}"` : '';
    o.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLORS[f]}" stroke-width="${Math.max(3, WIDTH[f])}"${op}${dash}/>`);
    o.push(`<text x="${lx + 28}" y="${ly}">${f}</text>`);
    lx += 28 + f.length * 7.6 + 22;
  }
  o.push(`<path d="M${lx + 6} ${ly - 8} l-4 -7 h8 z" transform="translate(0 9)" fill="#9ca3af"/>`);
  o.push(`<text x="${lx + 16}" y="${ly}">GC cycle</text>`);
  lx += 16 + 8 * 7.6 + 16;
  o.push(`<path d="M${lx + 6} ${ly - 8} l-4 -7 h8 z" transform="translate(0 9)" fill="#7c3aed"/>`);
  o.push(`<text x="${lx + 16}" y="${ly}">forced GC</text>`);
  o.push('</g>');

  // Final values, at the right end of each line.
  const last = samples[samples.length - 1];
  if (last !== undefined) {
    o.push(`<text x="${W - m.right}" y="${H - 18}" text-anchor="end" font-size="11" fill="#9ca3af">${group(samples.length)} samples · ${group(input.gcs.length)} GC cycles</text>`);
  }
  o.push('</svg>');
  return o.join('\n') + '\n';
}
