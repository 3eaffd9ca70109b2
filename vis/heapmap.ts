/**
 * heapmap.ts — the heap map: every 8 KiB page of the reservation as a cell, one row per
 * 2 MiB (256 pages), rows of pages that are all None (never reserved) folded away.
 *
 * A page outside any span is coloured by its OS state and role: None, Reserved (address
 * space held for the heap, not yet grown into), metadata (Ready, outside the heap's
 * ranges: the OS layer's table, the page allocator, span structs ...), idle (a free heap
 * page, Ready), released (a free heap page, Prepared). A page of a span is coloured by the
 * span's role — small objects by size class (the part of the cell filled = the span's
 * occupancy, allocCount / nelems), large objects, stacks — and the cells of spans held
 * by a P's mcache are outlined in that P's colour. Hovering a cell shows the span's
 * fields, as inspect() gives them. Beside it, the mcentral table.
 *
 * @module
 */
import { MEM_NONE, MEM_PREPARED, MEM_READY, MEM_RESERVED } from '../src/mem.js';
import { placeNames, sweepStateNames, SWEEP_NA, type HeapSnapshot } from '../src/inspect.js';
import { class_to_size, numSpanClasses } from '../src/sizeclasses.js';
import { bytes } from './charts.js';

/** Pages per row (2 MiB). */
const COLS = 256;
/** Cell size in CSS pixels. */
const CELL = 4;

/** Colours of the map's non-span cells and of large-object and stack spans. */
export const colors = {
  none: '#ffffff', reserved: '#e4e4e4', metadata: '#555555', idle: '#ffe08a', released: '#bcd7f0',
  large: '#6a3d9a', stack: '#b15928',
} as const;

/** Colour of small-object spans of size class c. */
export function classColor(c: number): string {
  return `hsl(${(c * 137.508) % 360} 65% 45%)`;
}

/** Colour of P pid's outline. */
export function pColor(pid: number): string {
  return ['#e31a1c', '#1f78b4', '#33a02c', '#ff7f00', '#6a3d9a', '#b15928', '#a6cee3', '#fb9a99'][pid % 8]!;
}

/** What hovering a cell shows (also read by the browser test). */
export interface CellInfo {
  page: number;
  addr: number;
  os: string;
  role: string;
  span?: {
    index: number; start: number; npages: number; state: string; spanclass: number; sizeclass: number; noscan: boolean;
    elemsize: number; nelems: number; allocCount: number; freed: number; sweep: string; place: string; cachedBy: number;
  };
}

/** The heap map and the mcentral table. */
export class HeapMap {
  private snap: HeapSnapshot | null = null;
  private pageSpan = new Int32Array(0);
  private rows: number[] = [];
  /** Pages per role in the last snapshot (for the legend and the test). */
  counts: Record<string, number> = {};

  constructor(private readonly canvas: HTMLCanvasElement, private readonly tip: HTMLElement, private readonly table: HTMLTableElement) {
    canvas.addEventListener('mousemove', (e) => {
      const r = canvas.getBoundingClientRect();
      const info = this.cellAt(e.clientX - r.left, e.clientY - r.top);
      this.showTip(info, e.clientX - r.left, e.clientY - r.top);
    });
    canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  }

  /** The cell at canvas position (x, y), or null. */
  cellAt(x: number, y: number): CellInfo | null {
    const row = this.rows[Math.floor(y / CELL)];
    const col = Math.floor(x / CELL);
    if (row === undefined || col < 0 || col >= COLS) return null;
    return this.info(row * COLS + col);
  }

  /** Canvas position of the middle of page `page`'s cell, or null when its row is folded. */
  cellCenter(page: number): { x: number; y: number } | null {
    const r = this.rows.indexOf(Math.floor(page / COLS));
    if (r < 0) return null;
    return { x: (page % COLS) * CELL + CELL / 2, y: r * CELL + CELL / 2 };
  }

  /** What the map shows for page `page`. */
  info(page: number): CellInfo | null {
    const s = this.snap;
    if (s === null || page < 0 || page >= s.pages.length) return null;
    const os = ['None', 'Reserved', 'Prepared', 'Ready'][s.pages[page]!]!;
    const i = this.pageSpan[page]!;
    const out: CellInfo = { page, addr: page * s.pageSize, os, role: this.role(page) };
    if (i >= 0) {
      const sp = s.spans, spc = sp.spanclass[i]!;
      out.span = {
        index: i, start: sp.start[i]!, npages: sp.npages[i]!, state: sp.state[i] === 2 ? 'mSpanManual' : 'mSpanInUse',
        spanclass: spc, sizeclass: spc >>> 1, noscan: (spc & 1) === 1, elemsize: sp.elemsize[i]!, nelems: sp.nelems[i]!,
        allocCount: sp.allocCount[i]!, freed: sp.freed[i]!, sweep: sp.sweep[i] === SWEEP_NA ? 'n/a' : sweepStateNames[sp.sweep[i]!] ?? '?',
        place: placeNames[sp.place[i]!]!, cachedBy: sp.cachedBy[i]!,
      };
    }
    return out;
  }

  private inHeap(addr: number): boolean {
    const r = this.snap!.heapRanges;
    for (let k = 0; k < r.length; k += 2) if (addr >= r[k]! && addr < r[k + 1]!) return true;
    return false;
  }

  private role(page: number): string {
    const s = this.snap!, i = this.pageSpan[page]!;
    if (i >= 0) {
      if (s.spans.state[i] === 2) return 'stack';
      const sc = s.spans.spanclass[i]! >>> 1;
      return sc === 0 ? 'large' : `small (class ${sc})`;
    }
    const st = s.pages[page]!;
    if (st === MEM_NONE) return 'none';
    if (st === MEM_RESERVED) return 'reserved';
    if (this.inHeap(page * s.pageSize)) return st === MEM_PREPARED ? 'released' : 'idle';
    return st === MEM_READY ? 'metadata' : 'released';
  }

  private showTip(info: CellInfo | null, x: number, y: number): void {
    const tip = this.tip;
    if (info === null) { tip.hidden = true; return; }
    const lines = [`page ${info.page} @ 0x${info.addr.toString(16)}: ${info.os}, ${info.role}`];
    const sp = info.span;
    if (sp !== undefined) {
      lines.push(
        `span [0x${sp.start.toString(16)}, +${sp.npages} pages) ${sp.state}`,
        sp.state === 'mSpanManual' ? 'stack span' : `spanclass ${sp.spanclass} (size class ${sp.sizeclass}, ${sp.noscan ? 'noscan' : 'scan'})`,
        `elemsize ${sp.elemsize}  nelems ${sp.nelems}`,
        `allocCount ${sp.allocCount}  freed (unswept) ${sp.freed}`,
        `sweep ${sp.sweep}  in ${sp.place}${sp.cachedBy >= 0 ? ` of P${sp.cachedBy}` : ''}`,
      );
    }
    tip.textContent = lines.join('\n');
    tip.dataset.info = JSON.stringify(info);
    tip.hidden = false;
    tip.style.left = `${x + 14}px`;
    tip.style.top = `${y + 14}px`;
  }

  /** Draw a snapshot. */
  render(s: HeapSnapshot): void {
    this.snap = s;
    const npages = s.pages.length;
    if (this.pageSpan.length !== npages) this.pageSpan = new Int32Array(npages);
    this.pageSpan.fill(-1);
    const sp = s.spans;
    for (let i = 0; i < sp.count; i++) {
      const p0 = sp.start[i]! / s.pageSize;
      this.pageSpan.fill(i, p0, p0 + sp.npages[i]!);
    }
    this.rows = [];
    for (let r = 0; r * COLS < npages; r++) {
      let used = false;
      for (let p = r * COLS; p < Math.min(npages, (r + 1) * COLS) && !used; p++) used = s.pages[p] !== MEM_NONE;
      if (used) this.rows.push(r);
    }
    const dpr = globalThis.devicePixelRatio || 1;
    const c = this.canvas;
    const w = COLS * CELL, h = Math.max(1, this.rows.length) * CELL;
    if (c.width !== w * dpr || c.height !== h * dpr) {
      c.width = w * dpr; c.height = h * dpr; c.style.width = `${w}px`; c.style.height = `${h}px`;
    }
    const ctx = c.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = colors.none;
    ctx.fillRect(0, 0, w, h);
    const counts: Record<string, number> = {};
    this.rows.forEach((row, ri) => {
      for (let col = 0; col < COLS; col++) {
        const page = row * COLS + col;
        if (page >= npages) break;
        const x = col * CELL, y = ri * CELL;
        const i = this.pageSpan[page]!;
        const role = this.role(page);
        counts[role.startsWith('small') ? 'small' : role] = (counts[role.startsWith('small') ? 'small' : role] ?? 0) + 1;
        if (i < 0) {
          ctx.fillStyle = (colors as Record<string, string>)[role] ?? colors.none;
          ctx.fillRect(x, y, CELL, CELL);
          continue;
        }
        if (sp.state[i] === 2) { ctx.fillStyle = colors.stack; ctx.fillRect(x, y, CELL, CELL); continue; }
        const sc = sp.spanclass[i]! >>> 1;
        if (sc === 0) { ctx.fillStyle = colors.large; ctx.fillRect(x, y, CELL, CELL); continue; }
        // Small: a pale cell, filled from the bottom by the span's occupancy.
        const col2 = classColor(sc);
        ctx.fillStyle = col2; ctx.globalAlpha = 0.25; ctx.fillRect(x, y, CELL, CELL); ctx.globalAlpha = 1;
        const occ = sp.nelems[i]! === 0 ? 0 : sp.allocCount[i]! / sp.nelems[i]!;
        const fh = Math.round(occ * CELL);
        if (fh > 0) ctx.fillRect(x, y + CELL - fh, CELL, fh);
      }
    });
    // Spans cached by a P: outline their cells in the P's colour.
    ctx.lineWidth = 1;
    for (let i = 0; i < sp.count; i++) {
      const pid = sp.cachedBy[i]!;
      if (pid < 0) continue;
      ctx.strokeStyle = pColor(pid);
      const p0 = sp.start[i]! / s.pageSize;
      for (let p = p0; p < p0 + sp.npages[i]!; p++) {
        const pos = this.cellCenter(p);
        if (pos !== null) ctx.strokeRect(pos.x - CELL / 2 + 0.5, pos.y - CELL / 2 + 0.5, CELL - 1, CELL - 1);
      }
    }
    this.counts = counts;
    this.renderCentral(s);
  }

  private renderCentral(s: HeapSnapshot): void {
    const cached = new Uint32Array(numSpanClasses);
    for (let i = 0; i < s.spans.count; i++) if (s.spans.cachedBy[i]! >= 0) cached[s.spans.spanclass[i]!]++;
    const rows: string[] = [];
    for (let spc = 0; spc < numSpanClasses; spc++) {
      const c = s.central.subarray(spc * 4, spc * 4 + 4);
      if (c[0] === 0 && c[1] === 0 && c[2] === 0 && c[3] === 0 && cached[spc] === 0) continue;
      const sc = spc >>> 1;
      const cell = (v: number): string => `<td${v === 0 ? ' class="zero"' : ''}>${v}</td>`;
      rows.push(`<tr data-spc="${spc}"><td><span class="swatch" style="background:${sc === 0 ? colors.large : classColor(sc)}"></span>${spc}</td>` +
        `<td>${sc === 0 ? 'large' : bytes(class_to_size[sc]!)}</td><td>${spc & 1 ? 'noscan' : 'scan'}</td>` +
        `${cell(c[0]!)}${cell(c[1]!)}${cell(c[2]!)}${cell(c[3]!)}${cell(cached[spc]!)}</tr>`);
    }
    this.table.tBodies[0]!.innerHTML = rows.join('');
  }
}
