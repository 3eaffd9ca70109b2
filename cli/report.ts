/**
 * report.ts — the human output of `goheap run`: gctrace lines and the MemStats report.
 *
 * gctrace line (Go: GODEBUG=gctrace=1, runtime/extern.go), fields that exist in goheap:
 *
 *   gc 7 @1.204s 3%: 0.41 ms clock, 23->24->12 MB, 24 MB goal, 1 P (forced)
 *
 *   gc 7          the cycle number, from 1
 *   @1.204s       seconds since the run started
 *   3%            share of the run's wall time spent in GC cycles so far
 *   0.41 ms clock wall time of the cycle (goheap has one phase, so one number where Go
 *                 prints three: sweep termination + mark + mark termination)
 *   23->24->12 MB heap (HeapAlloc) when the cycle started -> when it ended -> live
 *                 (heapMarked: allocated and not freed). Like Go, whole MB (bytes >> 20)
 *   24 MB goal    the next heap goal (NextGC); "no goal (GOGC=off)" when GOGC is off
 *   1 P           Ps (contexts) allocating: 1, or the number of workers with --workers
 *   (forced)      the cycle was forced by gc() / freeOSMemory(), not by the pacer
 *   (w1)          with --workers: the worker that ran the cycle (its allocation reached
 *                 the goal, or it called gc())
 *
 * With --workers N the share is Go's: GC time over N × the wall time (Go divides by
 * GOMAXPROCS), since the other workers keep allocating while one runs a cycle.
 *
 * Go's "ms cpu" times and its "MB stacks" / "MB globals" fields are left out: goheap has
 * no concurrent mark, no stacks yet and no globals to scan.
 *
 * @module
 */
import type { MemStats } from '../src/index.js';
import { class_to_size } from '../src/sizeclasses.js';
import { duration, group, human, humanExact } from './format.js';
import type { GCEvent } from './run.js';

/** One gctrace line for a GC cycle (see the module comment for the format). */
export function gctraceLine(ev: GCEvent, pauseTotalNs: number, elapsedSec: number, procs = 1): string {
  const mb = (b: number): number => Math.floor(b / (1 << 20));
  const pct = elapsedSec > 0 ? Math.round((pauseTotalNs / 1e9 / (elapsedSec * procs)) * 100) : 0;
  const goal = Number.isFinite(ev.goal) ? `${mb(ev.goal)} MB goal` : 'no goal (GOGC=off)';
  const clock = (ev.pauseNs / 1e6).toFixed(ev.pauseNs < 1e7 ? 2 : 1);
  return `gc ${ev.cycle} @${ev.at.toFixed(3)}s ${pct}%: ${clock} ms clock, ` +
    `${mb(ev.heapBefore)}->${mb(ev.heapAfter)}->${mb(ev.heapMarked)} MB, ${goal}, ${procs} P${ev.forced ? ' (forced)' : ''}${ev.worker !== undefined ? ` (w${ev.worker})` : ''}`;
}

type Kind = 'bytes' | 'count' | 'ns' | 'time' | 'bool' | 'fraction';
interface Row { field: keyof MemStats; kind: Kind; doc: string }

/** MemStats fields in the groups and order of Go's runtime.MemStats documentation. */
export const memStatsGroups: { title: string; rows: Row[] }[] = [
  {
    title: 'General statistics',
    rows: [
      { field: 'Alloc', kind: 'bytes', doc: 'bytes of allocated heap objects (= HeapAlloc)' },
      { field: 'TotalAlloc', kind: 'bytes', doc: 'cumulative bytes allocated for heap objects' },
      { field: 'Sys', kind: 'bytes', doc: 'total bytes of memory obtained from the OS' },
      { field: 'Lookups', kind: 'count', doc: 'pointer lookups by the runtime (none in goheap)' },
      { field: 'Mallocs', kind: 'count', doc: 'cumulative count of heap objects allocated' },
      { field: 'Frees', kind: 'count', doc: 'cumulative count of heap objects freed' },
    ],
  },
  {
    title: 'Heap memory statistics',
    rows: [
      { field: 'HeapAlloc', kind: 'bytes', doc: 'bytes of allocated heap objects, incl. freed ones not yet swept' },
      { field: 'HeapSys', kind: 'bytes', doc: 'heap memory obtained from the OS (HeapInuse + HeapIdle)' },
      { field: 'HeapIdle', kind: 'bytes', doc: 'bytes in idle (unused) spans' },
      { field: 'HeapInuse', kind: 'bytes', doc: 'bytes in in-use spans' },
      { field: 'HeapReleased', kind: 'bytes', doc: 'physical memory returned to the OS' },
      { field: 'HeapObjects', kind: 'count', doc: 'number of allocated heap objects' },
    ],
  },
  {
    title: 'Stack memory statistics',
    rows: [
      { field: 'StackInuse', kind: 'bytes', doc: 'bytes in stack spans' },
      { field: 'StackSys', kind: 'bytes', doc: 'stack memory obtained from the OS' },
    ],
  },
  {
    title: 'Off-heap memory statistics',
    rows: [
      { field: 'MSpanInuse', kind: 'bytes', doc: 'bytes of allocated mspan structures' },
      { field: 'MSpanSys', kind: 'bytes', doc: 'memory obtained from the OS for mspan structures' },
      { field: 'MCacheInuse', kind: 'bytes', doc: 'bytes of allocated mcache structures' },
      { field: 'MCacheSys', kind: 'bytes', doc: 'memory obtained from the OS for mcache structures' },
      { field: 'BuckHashSys', kind: 'bytes', doc: 'profiling bucket hash tables (no profiler: 0)' },
      { field: 'GCSys', kind: 'bytes', doc: 'garbage collection metadata (heap bitmaps, summaries)' },
      { field: 'OtherSys', kind: 'bytes', doc: 'miscellaneous off-heap runtime allocations' },
    ],
  },
  {
    title: 'Garbage collector statistics',
    rows: [
      { field: 'NextGC', kind: 'bytes', doc: 'target heap size of the next GC cycle (0: GOGC off)' },
      { field: 'LastGC', kind: 'time', doc: 'when the last GC cycle finished' },
      { field: 'PauseTotalNs', kind: 'ns', doc: 'cumulative time in GC cycles' },
      { field: 'PauseNs', kind: 'ns', doc: 'recent cycle durations (ring of 256), newest first' },
      { field: 'PauseEnd', kind: 'time', doc: 'recent cycle end times (ring of 256), newest first' },
      { field: 'NumGC', kind: 'count', doc: 'completed GC cycles' },
      { field: 'NumForcedGC', kind: 'count', doc: 'GC cycles forced by gc() / freeOSMemory()' },
      { field: 'GCCPUFraction', kind: 'fraction', doc: 'CPU share of the GC (no concurrent GC: 0)' },
      { field: 'EnableGC', kind: 'bool', doc: 'GC enabled (false when GOGC is off)' },
      { field: 'DebugGC', kind: 'bool', doc: 'unused' },
    ],
  },
];

/** The newest `n` entries of a 256-entry circular buffer written at index NumGC % 256. */
function recent(ring: number[], numGC: number, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(n, numGC, 256); i++) out.push(ring[(numGC - 1 - i + 256 * 2) % 256]!);
  return out;
}

function fmtTime(ns: number): string {
  if (ns === 0) return 'never';
  return new Date(ns / 1e6).toISOString().replace('T', ' ').replace('Z', ' UTC');
}

function valueText(ms: MemStats, row: Row): string {
  const v = ms[row.field];
  switch (row.field) {
    case 'PauseNs': {
      const r = recent(ms.PauseNs, ms.NumGC, 3).map(duration);
      return r.length === 0 ? '(none)' : r.join(', ') + (ms.NumGC > 3 ? ', …' : '');
    }
    case 'PauseEnd': {
      const r = recent(ms.PauseEnd, ms.NumGC, 1);
      return r.length === 0 ? '(none)' : fmtTime(r[0]!) + (ms.NumGC > 1 ? ', …' : '');
    }
    default:
  }
  switch (row.kind) {
    case 'bytes': return humanExact(v as number);
    case 'count': return group(v as number);
    case 'ns': return `${duration(v as number)} (${group(v as number)} ns)`;
    case 'time': return fmtTime(v as number);
    case 'bool': return String(v);
    case 'fraction': return String(v);
  }
}

/** Options of {@link memStatsReport}. */
export interface ReportOptions {
  /** First line (what was run). */
  heading: string;
  /** The process's RSS at the end (bytes), shown after the heap statistics. */
  rss?: number;
  /** How the heap released memory (heap.releaseMode), shown with the RSS. */
  releaseMode?: string;
}

/**
 * The MemStats report: the fields grouped as in Go's documentation, each with its value
 * in human units (and the exact byte count) and a short definition; what the heap
 * numbers mean together; and the size classes that were used (BySize).
 */
export function memStatsReport(ms: MemStats, opts: ReportOptions): string {
  const out: string[] = [opts.heading, ''];
  const valueWidth = 30;
  for (const g of memStatsGroups) {
    out.push(g.title);
    for (const row of g.rows) {
      const text = valueText(ms, row);
      out.push(`  ${row.field.padEnd(13)} ${text.padEnd(valueWidth)}  ${row.doc}`);
    }
    if (g.title === 'Heap memory statistics') {
      out.push(`  ${''.padEnd(13)} ${'-'.repeat(valueWidth)}`);
      out.push(`  ${'unused slots'.padEnd(13)} ${humanExact(ms.HeapInuse - ms.HeapAlloc).padEnd(valueWidth)}  HeapInuse - HeapAlloc: free slots inside in-use spans`);
      out.push(`  ${'free pages'.padEnd(13)} ${humanExact(ms.HeapIdle - ms.HeapReleased).padEnd(valueWidth)}  HeapIdle - HeapReleased: kept for reuse, could go back to the OS`);
      out.push(`  ${'total memory'.padEnd(13)} ${humanExact(ms.Sys - ms.HeapReleased).padEnd(valueWidth)}  Sys - HeapReleased: what the memory limit counts`);
      if (opts.rss !== undefined) {
        const how = opts.releaseMode === 'madvise' ? 'released pages leave it (madvise)' : opts.releaseMode === 'shrink' ? 'the buffer shrinks when its top is released' : 'released pages stay resident: release is bookkeeping only';
        out.push(`  ${'RSS'.padEnd(13)} ${humanExact(opts.rss).padEnd(valueWidth)}  the whole process's resident memory (Node, V8 and the buffer); release mode ${opts.releaseMode}: ${how}`);
      }
    }
    out.push('');
  }
  out.push(...bySizeTable(ms));
  return out.join('\n') + '\n';
}

function bySizeTable(ms: MemStats): string[] {
  const used = ms.BySize.map((e, cls) => ({ cls, ...e })).filter((e) => e.Mallocs > 0 || e.Frees > 0);
  const out = [
    'BySize (the classes used; Go\'s BySize covers classes 0..60, objects up to 27,264 B)',
    '  objects combined by the tiny allocator count in Mallocs and Frees only; their 16 B blocks in class 2',
  ];
  if (used.length === 0) { out.push('  (no small objects allocated)'); return out; }
  const header = `  ${'class'.padStart(5)}  ${'size'.padStart(6)}  ${'Mallocs'.padStart(11)}  ${'Frees'.padStart(11)}  ${'live'.padStart(10)}  ${'live bytes'.padStart(12)}`;
  out.push(header);
  for (const e of used) {
    const live = e.Mallocs - e.Frees;
    out.push(`  ${String(e.cls).padStart(5)}  ${String(e.Size).padStart(6)}  ${group(e.Mallocs).padStart(11)}  ${group(e.Frees).padStart(11)}  ${group(live).padStart(10)}  ${human(live * (class_to_size[e.cls] ?? e.Size)).padStart(12)}`);
  }
  return out;
}
