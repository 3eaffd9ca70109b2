/**
 * charts.ts — the statsviz-style charts of the visualiser, drawn with uPlot from a series
 * of heap.inspect() snapshots:
 *
 *   heap       HeapAlloc / unused slots (HeapInuse − HeapAlloc) / free pages (HeapIdle −
 *              HeapReleased) / released, stacked; NextGC and the memory limit
 *              (/gc/gomemlimit:bytes; none: no line) as lines; GC cycles as markers
 *   sys        Sys by /memory/classes/... (the 13 leaf classes, stacked)
 *   objects    HeapObjects; Mallocs and Frees per second
 *   pauses     the pause of every GC cycle (from the PauseNs/PauseEnd rings)
 *   sizes      a heatmap of allocations per size class per interval (BySize Mallocs deltas)
 *
 * @module
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { HeapSnapshot } from '../src/inspect.js';

/** Points kept per chart (at 4 snapshots a second: 3 minutes). */
const KEEP = 720;
const NCLASSES = 61;

const sysClasses = [
  ['heap/objects', '#1f77b4'], ['heap/unused', '#aec7e8'], ['heap/free', '#ffbb78'], ['heap/released', '#c7d7e8'],
  ['heap/stacks', '#8c564b'], ['os-stacks', '#c49c94'], ['metadata/mcache/inuse', '#2ca02c'], ['metadata/mcache/free', '#98df8a'],
  ['metadata/mspan/inuse', '#d62728'], ['metadata/mspan/free', '#ff9896'], ['metadata/other', '#9467bd'],
  ['profiling/buckets', '#e377c2'], ['other', '#7f7f7f'],
] as const;

/** Human bytes: 1.5 MiB. */
export function bytes(n: number): string {
  const a = Math.abs(n);
  if (a >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (a >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (a >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/** One stacked chart: layers given bottom first; uPlot draws the cumulative sums top first. */
interface Stack {
  plot: uPlot;
  raw: number[][];
}

/** The charts of one page, fed one snapshot at a time. */
export class Charts {
  private t: number[] = [];
  private heapRaw: number[][] = [[], [], [], []];
  private nextGC: number[] = [];
  private memLimit: Array<number | null> = [];
  private sysRaw: number[][] = sysClasses.map(() => []);
  private objects: number[] = [];
  private mallocRate: number[] = [];
  private freeRate: number[] = [];
  private heat: Float64Array[] = [];
  private pauseT: number[] = [];
  private pauseUs: number[] = [];
  private gcTimes: number[] = [];
  private prev: HeapSnapshot | null = null;
  private readonly heap: Stack;
  private readonly sys: Stack;
  private readonly objPlot: uPlot;
  private readonly pausePlot: uPlot;
  private readonly heatPlot: uPlot;

  constructor(root: HTMLElement) {
    const width = Math.min(560, Math.max(320, Math.floor((root.clientWidth || 1140) / 2) - 20));
    const box = (id: string, title: string): HTMLElement => {
      const d = document.createElement('div');
      d.className = 'chart';
      d.id = `chart-${id}`;
      const h = document.createElement('h3');
      h.textContent = title;
      d.append(h);
      root.append(d);
      return d;
    };
    const gcMarkers = (): uPlot.Plugin => ({
      hooks: {
        draw: (u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = 'rgba(200,0,0,0.35)';
          ctx.lineWidth = 1;
          ctx.setLineDash([3, 3]);
          for (const t of this.gcTimes) {
            const x = Math.round(u.valToPos(t, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
          }
          ctx.restore();
        },
      },
    });
    const stack = (id: string, title: string, layers: ReadonlyArray<readonly [string, string]>, extra: uPlot.Series[], raw: number[][]): Stack => {
      const series: uPlot.Series[] = [{}];
      for (let i = layers.length - 1; i >= 0; i--) {
        const [label, color] = layers[i]!;
        series.push({
          label, stroke: color, fill: color + 'cc', width: 1, points: { show: false },
          value: (_u, _v, _si, di) => di === null || di === undefined ? '–' : bytes(raw[i]![di] ?? 0),
        });
      }
      series.push(...extra);
      const plot = new uPlot({
        width, height: 220, series, plugins: [gcMarkers()],
        axes: [{}, { values: (_u, vals) => vals.map(bytes), size: 84 }],
        scales: { x: { time: true } },
        legend: { live: true },
      }, [[], ...series.slice(1).map(() => [])] as unknown as uPlot.AlignedData, box(id, title));
      return { plot, raw };
    };
    const line = (label: string, stroke: string, dash: number[]): uPlot.Series =>
      ({ label, stroke, width: 2, dash, points: { show: false }, value: (_u, v) => v === null ? '–' : bytes(v) });
    this.heap = stack('heap', 'Heap (stacked); NextGC; memory limit; GC cycles', [
      ['HeapAlloc', '#1f77b4'], ['unused slots', '#9ecae1'], ['free pages', '#fdae6b'], ['released', '#c6dbef'],
    ], [line('NextGC', '#d62728', [6, 4]), line('memory limit', '#000000', [2, 3])], this.heapRaw);
    this.sys = stack('sys', 'Sys by /memory/classes (stacked)', sysClasses, [], this.sysRaw);
    this.objPlot = new uPlot({
      width, height: 200, plugins: [gcMarkers()],
      series: [{}, { label: 'HeapObjects', stroke: '#1f77b4', width: 2, points: { show: false } },
        { label: 'Mallocs/s', stroke: '#2ca02c', scale: 'rate', points: { show: false } },
        { label: 'Frees/s', stroke: '#ff7f0e', scale: 'rate', points: { show: false } }],
      axes: [{}, { size: 70 }, { scale: 'rate', side: 1, size: 70, grid: { show: false } }],
      scales: { x: { time: true } },
    }, [[], [], [], []], box('objects', 'Objects: HeapObjects; Mallocs and Frees per second'));
    this.pausePlot = new uPlot({
      width, height: 200,
      series: [{}, { label: 'pause µs', stroke: '#9467bd', width: 0, paths: () => null, points: { show: true, size: 6, fill: '#9467bd' } }],
      axes: [{}, { size: 70 }],
      scales: { x: { time: true } },
    }, [[], []], box('pauses', 'GC pauses (µs per cycle)'));
    const heatDraw = (u: uPlot): void => {
      const ctx = u.ctx, t = u.data[0] as number[];
      let max = 1;
      for (const row of this.heat) for (let c = 0; c < NCLASSES; c++) if (row[c]! > max) max = row[c]!;
      const lmax = Math.log1p(max);
      const y0 = u.valToPos(0, 'y', true), y1 = u.valToPos(1, 'y', true), ch = Math.max(1, y0 - y1);
      for (let i = 1; i < t.length; i++) {
        const x0 = u.valToPos(t[i - 1]!, 'x', true), x1 = u.valToPos(t[i]!, 'x', true);
        const row = this.heat[i]!;
        for (let c = 0; c < NCLASSES; c++) {
          if (row[c] === 0) continue;
          const k = Math.log1p(row[c]!) / lmax;
          ctx.fillStyle = `hsl(${Math.round(50 + 180 * k)} 80% ${Math.round(92 - 62 * k)}%)`; // pale yellow -> dark blue
          ctx.fillRect(x0, u.valToPos(c + 1, 'y', true), Math.max(1, x1 - x0), ch);
        }
      }
    };
    this.heatPlot = new uPlot({
      width, height: 240,
      series: [{}, { label: 'size class', show: false }],
      axes: [{}, { label: 'size class', size: 50 }],
      scales: { x: { time: true }, y: { auto: false, range: [0, NCLASSES] } },
      hooks: { draw: [heatDraw] },
      legend: { show: false },
    }, [[], []], box('sizes', 'Allocations per size class per interval (BySize Mallocs)'));
  }

  /** Forget the history (a new heap). */
  reset(): void {
    this.t.length = 0; this.nextGC.length = 0; this.memLimit.length = 0; this.objects.length = 0; this.mallocRate.length = 0; this.freeRate.length = 0;
    for (const a of [...this.heapRaw, ...this.sysRaw]) a.length = 0;
    this.heat.length = 0; this.pauseT.length = 0; this.pauseUs.length = 0; this.gcTimes.length = 0;
    this.prev = null;
    this.redraw();
  }

  /** Points in the charts now. */
  get points(): number { return this.t.length; }

  /**
   * For each chart, how many of the values uPlot holds are non-zero numbers; `memoryLimit`:
   * the points of the memory-limit line (the browser test reads it).
   */
  filled(): Record<string, number> {
    const count = (u: uPlot): number => {
      let n = 0;
      for (const series of u.data.slice(1)) for (const v of series as Array<number | null>) if (typeof v === 'number' && v !== 0) n++;
      return n;
    };
    return { heap: count(this.heap.plot), sys: count(this.sys.plot), objects: count(this.objPlot), pauses: count(this.pausePlot), sizes: this.heat.reduce((n, r) => n + r.filter((v) => v > 0).length, 0),
      memoryLimit: this.memLimit.filter((v) => v !== null).length };
  }

  /** Add a snapshot and redraw. */
  push(s: HeapSnapshot): void {
    const ms = s.memstats, m = s.metrics, prev = this.prev;
    const t = s.time / 1000;
    if (prev !== null && t <= prev.time / 1000) return;
    this.t.push(t);
    this.heapRaw[0]!.push(ms.HeapAlloc);
    this.heapRaw[1]!.push(ms.HeapInuse - ms.HeapAlloc);
    this.heapRaw[2]!.push(ms.HeapIdle - ms.HeapReleased);
    this.heapRaw[3]!.push(ms.HeapReleased);
    this.nextGC.push(ms.NextGC);
    const limit = m['/gc/gomemlimit:bytes'] ?? 2 ** 63; // Go reports "no limit" as math.MaxInt64
    this.memLimit.push(limit >= 2 ** 63 ? null : limit);
    sysClasses.forEach(([k], i) => this.sysRaw[i]!.push(m[`/memory/classes/${k}:bytes`] ?? 0));
    this.objects.push(ms.HeapObjects);
    const dt = prev === null ? 0 : t - prev.time / 1000;
    this.mallocRate.push(prev === null ? 0 : (ms.Mallocs - prev.memstats.Mallocs) / dt);
    this.freeRate.push(prev === null ? 0 : (ms.Frees - prev.memstats.Frees) / dt);
    const row = new Float64Array(NCLASSES);
    if (prev !== null) for (let c = 0; c < NCLASSES; c++) row[c] = ms.BySize[c]!.Mallocs - prev.memstats.BySize[c]!.Mallocs;
    this.heat.push(row);
    // GC cycles since the last snapshot: their pauses and end times, from the rings.
    const from = prev === null ? Math.max(0, ms.NumGC - 256) : prev.memstats.NumGC;
    for (let n = from; n < ms.NumGC; n++) {
      const end = ms.PauseEnd[n % 256]! / 1e9;
      this.gcTimes.push(end);
      this.pauseT.push(end);
      this.pauseUs.push(ms.PauseNs[n % 256]! / 1000);
    }
    this.prev = s;
    if (this.t.length > KEEP) {
      for (const a of [this.t, this.nextGC, this.memLimit, this.objects, this.mallocRate, this.freeRate, ...this.heapRaw, ...this.sysRaw, this.heat] as unknown[][]) a.shift();
      while (this.gcTimes.length > 0 && this.gcTimes[0]! < this.t[0]!) this.gcTimes.shift();
      while (this.pauseT.length > KEEP) { this.pauseT.shift(); this.pauseUs.shift(); }
    }
    this.redraw();
  }

  private redraw(): void {
    const cumulative = (raw: number[][]): number[][] => {
      const out: number[][] = [];
      let acc = this.t.map(() => 0);
      for (const layer of raw) { acc = acc.map((v, i) => v + layer[i]!); out.push(acc); }
      return out.reverse(); // top layer first (drawn first, then covered by the ones below)
    };
    this.heap.plot.setData([this.t, ...cumulative(this.heapRaw), this.nextGC, this.memLimit] as uPlot.AlignedData);
    this.sys.plot.setData([this.t, ...cumulative(this.sysRaw)] as uPlot.AlignedData);
    this.objPlot.setData([this.t, this.objects, this.mallocRate, this.freeRate]);
    this.pausePlot.setData([this.pauseT, this.pauseUs]);
    this.heatPlot.setData([this.t, this.t.map(() => null)] as unknown as uPlot.AlignedData);
  }
}
