/**
 * inspect.ts — heap.inspect(): a compact snapshot of the allocator's structures, for the
 * visualiser and for tools (Go: nothing exported; the nearest is runtime/debug's
 * WriteHeapDump in src/runtime/heapdump.go, which walks the same spans, mcaches and
 * statistics, but writes every object).
 *
 * A snapshot holds, in typed arrays (column per field, row per span):
 *
 *   - the OS state of every 8 KiB page of the reservation (None/Reserved/Prepared/Ready),
 *     and the address ranges the heap has grown into;
 *   - every span in the page -> span table: start, npages, state (in use / manual),
 *     span class, elemsize, nelems, allocCount, objects freed since its last sweep, its
 *     sweep state relative to mheap.sweepgen, and where it is (which P's mcache, which
 *     mcentral set, a stack pool);
 *   - per span class, how many spans each of the four mcentral sets holds;
 *   - each P: status, lease epoch, and its mcache (the span it holds per span class);
 *   - MemStats and the /memory/classes metrics of that moment.
 *
 * It reads the heap and changes nothing (no mcache flush, no lock): on a heap that other
 * workers are allocating from, each field is a value it had during the call, not all at
 * one instant (as sumP in mstats.ts). On a quiet heap it is exact, and agrees with
 * check()'s recount (test/inspect.test.ts). Its cost is O(pages of the reservation) plus
 * O(bitmap words) for the freed counts: a few milliseconds for a 1 GiB reservation.
 *
 * {@link encodeSnapshot} / {@link decodeSnapshot} turn a snapshot into one binary message
 * and back (the visualiser's attached mode streams them from Node to the page).
 *
 * @module
 */
import { heapGoal } from './mgcpacer.js';
import {
  GW_FREED, GW_LOCALFREED, mcacheAlloc, mcacheTinyAllocs, pEpoch, pMcache, pStatus, spanAllocCount, spanElemsize, spanList,
  spanNelems, spanNpages, spanSpanclass, spanStartAddr, spanState, spanSweepgen, type SpanPtr,
} from './layout.js';
import { InvalidArgumentError } from './errors.js';
import { inFlightAllocs } from './mcache.js';
import type { MHeap } from './mheap.js';
import { bitmapCount, mSpanManual } from './mspan.js';
import { LIST_MCACHE, LIST_RETAINED, SET_PARTIAL, fullSwept, fullUnswept, partialSwept, partialUnswept } from './mspanset.js';
import { computeMemStats, computeMetrics, type MemStats } from './mstats.js';
import { numSpanClasses, pageSize } from './sizeclasses.js';
import { stackpoolSpans } from './stack.js';

/** Where a span is ({@link SpanTable.place}). */
export const PLACE_NONE = 0;
/** In its mcentral's swept partial set. */
export const PLACE_PARTIAL_SWEPT = 1;
/** In its mcentral's unswept partial set. */
export const PLACE_PARTIAL_UNSWEPT = 2;
/** In its mcentral's swept full set. */
export const PLACE_FULL_SWEPT = 3;
/** In its mcentral's unswept full set. */
export const PLACE_FULL_UNSWEPT = 4;
/** In a P's mcache ({@link SpanTable.cachedBy} says which). */
export const PLACE_MCACHE = 5;
/** A stack span on a stack pool list. */
export const PLACE_STACKPOOL = 6;
/** Names of the places, indexed by PLACE_*. */
export const placeNames = ['none', 'partial swept', 'partial unswept', 'full swept', 'full unswept', 'mcache', 'stack pool'] as const;

/**
 * Sweep state of a span ({@link SpanTable.sweep}): its sweepgen relative to the heap's
 * sg (Go's encoding, mgcsweep.ts): index = span.sweepgen - sg + 2.
 */
export const sweepStateNames = ['unswept', 'sweeping', 'swept', 'cached (unswept)', '', 'cached (swept)'] as const;
/** {@link SpanTable.sweep} of a span that is not swept (a stack span). */
export const SWEEP_NA = 255;

/** The spans of a snapshot, one row per span in address order, one typed array per field. */
export interface SpanTable {
  /** Number of spans (the length of every array). */
  count: number;
  /** Address of the first page (Go: startAddr). */
  start: Uint32Array;
  /** Length in 8 KiB pages. */
  npages: Uint32Array;
  /** mSpanInUse (1) or mSpanManual (2, a stack span). */
  state: Uint8Array;
  /** Span class: size class << 1 | noscan (0 for stack spans). */
  spanclass: Uint8Array;
  /** Slot size in bytes. */
  elemsize: Uint32Array;
  /** Number of slots. */
  nelems: Uint16Array;
  /** Allocated slots, freed-but-unswept ones included (Go: allocCount). */
  allocCount: Uint16Array;
  /** Objects freed since the span was last swept: dead, not yet reusable. */
  freed: Uint16Array;
  /** Index into {@link sweepStateNames}, or SWEEP_NA. */
  sweep: Uint8Array;
  /** PLACE_* code: which list holds the span. */
  place: Uint8Array;
  /** The P whose mcache holds the span, or -1. */
  cachedBy: Int8Array;
}

/** One P of a snapshot. */
export interface PSnapshot {
  /** P id. */
  pid: number;
  /** 0 idle, 1 running (an attached context), 2 reserved for a starting worker. */
  status: number;
  /** Lease number (bumped each time the P is handed to a new context). */
  epoch: number;
  /** Row in {@link HeapSnapshot.spans} of the span cached per span class, -1 for none. */
  mcache: Int16Array;
  /** Tiny allocations combined into the current block since the last flush. */
  tinyAllocs: number;
}

/** What {@link Heap.inspect} (inspectHeap) returns. */
export interface HeapSnapshot {
  /** Date.now() when taken. */
  time: number;
  /** Bytes of the reservation. */
  reserve: number;
  /** Bytes per page (8192). */
  pageSize: number;
  /** mheap.sweepgen. */
  sweepgen: number;
  /** OS state (MEM_NONE .. MEM_READY) of every page of the reservation. */
  pages: Uint8Array;
  /** [base, limit) pairs of the address ranges the heap has grown into (heap pages; the rest is metadata or unused). */
  heapRanges: Uint32Array;
  spans: SpanTable;
  /**
   * Spans per mcentral set: 4 numbers per span class — partial swept, partial unswept,
   * full swept, full unswept (Go: mcentral.partial/full[sweepgen/2%2]).
   */
  central: Uint32Array;
  /** Every P that exists (idle ones included). */
  ps: PSnapshot[];
  /** runtime.MemStats of that moment (no mcache flushed; every P's unsettled allocations counted). */
  memstats: MemStats;
  /** The /memory/classes and /gc metrics of that moment (heap.readMetrics()). */
  metrics: Record<string, number>;
}

/** Scratch list of span addresses, reused across calls (single-threaded per context). */
let scratch = new Uint32Array(1024);

/**
 * Take a snapshot of heap h (see the module comment). Changes nothing in the heap.
 * Go: none (see the module comment).
 */
export function inspectHeap(h: MHeap): HeapSnapshot {
  h.views.sync();
  const u32 = h.views.u32, mem = h.mem;
  const sg = h.sweepgen;
  const pages = new Uint8Array(mem.npages);
  mem.copyStates(pages);
  const ranges = h.pages.inUseRanges();
  const heapRanges = new Uint32Array(ranges.length * 2);
  ranges.forEach(([b, l], i) => { heapRanges[2 * i] = b; heapRanges[2 * i + 1] = l; });

  let n = 0;
  h.forEachSpan((s) => {
    if (n === scratch.length) { const t = new Uint32Array(n * 2); t.set(scratch); scratch = t; }
    scratch[n++] = s;
  });
  const central = new Uint32Array(numSpanClasses * 4);
  const spans: SpanTable = {
    count: n,
    start: new Uint32Array(n), npages: new Uint32Array(n), state: new Uint8Array(n), spanclass: new Uint8Array(n),
    elemsize: new Uint32Array(n), nelems: new Uint16Array(n), allocCount: new Uint16Array(n), freed: new Uint16Array(n),
    sweep: new Uint8Array(n), place: new Uint8Array(n), cachedBy: new Int8Array(n),
  };
  const ps = partialSwept(sg), pu = partialUnswept(sg), fs = fullSwept(sg), fu = fullUnswept(sg);
  const setPlace = [0, 0, 0, 0];
  setPlace[ps - SET_PARTIAL] = PLACE_PARTIAL_SWEPT; setPlace[pu - SET_PARTIAL] = PLACE_PARTIAL_UNSWEPT;
  setPlace[fs - SET_PARTIAL] = PLACE_FULL_SWEPT; setPlace[fu - SET_PARTIAL] = PLACE_FULL_UNSWEPT;
  const pooled = new Set(stackpoolSpans(h).flat());
  for (let i = 0; i < n; i++) {
    const s = scratch[i]! as SpanPtr;
    const state = spanState(u32, s);
    const nelems = spanNelems(u32, s);
    spans.start[i] = spanStartAddr(u32, s);
    spans.npages[i] = spanNpages(u32, s);
    spans.state[i] = state;
    spans.elemsize[i] = spanElemsize(u32, s);
    spans.cachedBy[i] = -1;
    if (state === mSpanManual) {
      spans.sweep[i] = SWEEP_NA;
      spans.place[i] = pooled.has(s) ? PLACE_STACKPOOL : PLACE_NONE;
      continue;
    }
    spans.spanclass[i] = spanSpanclass(u32, s);
    spans.nelems[i] = nelems;
    spans.allocCount[i] = spanAllocCount(u32, s);
    // Freed by any P (freedBits) or by the P that caches the span (localFreedBits, not
    // yet settled): the two sets are disjoint (check() verifies it).
    spans.freed[i] = bitmapCount(u32, s, GW_FREED) + bitmapCount(u32, s, GW_LOCALFREED);
    spans.sweep[i] = (spanSweepgen(u32, s) - sg + 2) >>> 0;
    const list = spanList(u32, s);
    if (list >= LIST_MCACHE) { spans.place[i] = PLACE_MCACHE; spans.cachedBy[i] = (list - LIST_MCACHE) & ~LIST_RETAINED; }
    else if (list !== 0) {
      // list = 1 + (spanclass << 2 | set) for a span in an mcentral set (mcentral.setListId)
      const place = setPlace[(list - 1) & 3]!;
      spans.place[i] = place;
      central[((list - 1) >>> 2) * 4 + place - PLACE_PARTIAL_SWEPT]++;
    }
  }

  const procs: PSnapshot[] = [];
  const empty = h.emptymspan;
  for (let pid = 0; pid < h.nprocs; pid++) {
    const p = h.pOf(pid);
    if (p === 0) continue;
    const mc = pMcache(u32, p);
    const mcache = new Int16Array(numSpanClasses).fill(-1);
    for (let spc = 0; spc < numSpanClasses; spc++) {
      const s = mcacheAlloc(u32, mc, spc);
      if (s !== empty) mcache[spc] = rowOf(spans, spanStartAddr(u32, s));
    }
    procs.push({
      pid, status: pStatus(h.views.i32, p), epoch: pEpoch(h.views.i32, p), mcache, tinyAllocs: mcacheTinyAllocs(u32, mc),
    });
  }

  const flight = inFlightAllocs(h, -1);
  const memstats = computeMemStats(h, flight, heapGoal(h));
  return {
    time: Date.now(), reserve: mem.reserve, pageSize, sweepgen: sg, pages, heapRanges, spans, central,
    ps: procs, memstats, metrics: computeMetrics(h, memstats, flight),
  };
}

/** Row of the span starting at `start` (the rows are in address order), or -1. */
function rowOf(spans: SpanTable, start: number): number {
  let lo = 0, hi = spans.count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1, v = spans.start[mid]!;
    if (v === start) return mid;
    if (v < start) lo = mid + 1; else hi = mid - 1;
  }
  return -1;
}

// ----- binary encoding --------------------------------------------------------------------

type Typed = Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array | Float64Array;
const typedKinds = { Uint8Array, Int8Array, Uint16Array, Int16Array, Uint32Array, Int32Array, Float64Array } as const;
type TypedKind = keyof typeof typedKinds;

/**
 * A snapshot as one binary message: a u32 length, a JSON header in which each typed
 * array is replaced by {$t: kind, o: offset, n: length}, then the arrays' bytes (each
 * aligned to 8). About the size of the arrays themselves plus ~10 KiB of JSON.
 * Go: none (goheap's transport for the visualiser).
 */
export function encodeSnapshot(snap: HeapSnapshot): Uint8Array {
  const arrays: Typed[] = [];
  let off = 0;
  const header = JSON.stringify(snap, (_k, v: unknown) => {
    if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
      const a = v as Typed;
      const ref = { $t: a.constructor.name, o: off, n: a.length };
      arrays.push(a);
      off += (a.byteLength + 7) & ~7;
      return ref;
    }
    return v;
  });
  const head = new TextEncoder().encode(header);
  const start = (4 + head.length + 7) & ~7;
  const out = new Uint8Array(start + off);
  new DataView(out.buffer).setUint32(0, head.length, true);
  out.set(head, 4);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at += (a.byteLength + 7) & ~7;
  }
  return out;
}

/**
 * The snapshot encoded by {@link encodeSnapshot} (its arrays view one copy of the bytes).
 * Go: none.
 * @throws InvalidArgumentError when `bytes` is not an encoded snapshot (truncated, or not one at all)
 */
export function decodeSnapshot(bytes: Uint8Array): HeapSnapshot {
  const bad = (why: string): never => { throw new InvalidArgumentError(`decodeSnapshot: not a snapshot made by encodeSnapshot (${why})`); };
  if (!(bytes instanceof Uint8Array) || bytes.length < 4) bad('shorter than its header');
  const len = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0, true);
  const start = (4 + len + 7) & ~7;
  if (start > bytes.length) bad(`a ${len}-byte header in ${bytes.length} bytes`);
  const body = bytes.slice(start); // own, aligned buffer
  let snap: HeapSnapshot;
  try {
    snap = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + len)), (_k, v: unknown) => {
      if (v !== null && typeof v === 'object' && typeof (v as { $t?: unknown }).$t === 'string') {
        const { $t, o, n } = v as { $t: TypedKind; o: number; n: number };
        const K = typedKinds[$t];
        if (K === undefined) bad(`unknown array kind ${$t}`);
        return new K(body.buffer, o, n);
      }
      return v;
    }) as HeapSnapshot;
  } catch (e) {
    if (e instanceof InvalidArgumentError) throw e;
    return bad((e as Error).message);
  }
  if (snap === null || typeof snap !== 'object' || !(snap.pages instanceof Uint8Array) || snap.spans === undefined) bad('fields missing');
  return snap;
}
