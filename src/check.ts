/**
 * check.ts — heap.check(): the full metadata consistency check.
 *
 * It recomputes, from first principles, everything the allocator keeps incrementally and
 * throws HeapCorruptionError with a precise message at the first difference:
 *
 *   1. OS layer: per-state byte counters and mappedReady against the page state table.
 *   2. Page allocator: every summary from the bitmaps (mpagealloc's own check).
 *   3. Page -> span table: every page of every in-use span maps to it, every mapped page
 *      belongs to the span it names; the pageInUse bits.
 *   4. Page allocator vs spans vs OS states: a grown page is allocated iff a span holds it;
 *      a scavenged page is Prepared, any other grown page Ready.
 *   5. Spans: allocCount equals the bitmap count, the freed bits are allocated slots and
 *      agree with nfreed, allocCache agrees with allocBits at freeindex, tiny masks agree
 *      with the slots; every in-use span is in exactly one place (one mcache slot or one
 *      mcentral set) with the right span class.
 *   6. Statistics against a recount: HeapInuse, HeapReleased, HeapIdle + HeapInuse ==
 *      HeapSys == grown bytes, per-class allocation counts, freed-unswept bytes, MSpanInuse,
 *      and Sys == the bytes the backend has mapped.
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import {
  MEM_PREPARED, MEM_READY, STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED, STAT_IN_STACKS, NUM_SYS_STATS,
} from './mem.js';
import { maxProcs, type MHeap } from './mheap.js';
import { gcBitsWord, mSpanInUse, mSpanManual } from './mspan.js';
import { heapAllocBytes, sumP, totalAllocBytes, totalFreeBytes } from './mstats.js';
import { NUM_SIZE_CLASSES, numSpanClasses, spanClassSizeclass, tinySpanClass, pageSize } from './sizeclasses.js';
import { centralOf, SET_PARTIAL, SET_FULL, setHead, setListId, LIST_MCACHE, LIST_RETAINED } from './mspanset.js';
import {
  MC_RETAINED, MSPAN_SIZE, ST_LARGE_ALLOC, ST_LARGE_FREE, ST_SMALL_ALLOC, ST_SMALL_FREE, mSpanListFirst,
  GW_ALLOC, GW_FREED, GW_LOCALFREED, type SpanPtr, mcacheAlloc, pMcache, spanAllocCacheHi, spanAllocCacheLo,
  spanAllocCount, spanAllocCountBeforeCache, spanElemsize, spanFreeIndex, spanGcBits,
  spanList, spanNelems, spanNext, spanNpages, spanSpanclass, spanStartAddr, spanState,
  spanTinyMasks,
} from './layout.js';

function fail(msg: string): never {
  throw new HeapCorruptionError(`heap.check: ${msg}`);
}

/**
 * What check() recounted from first principles (and found equal to the counters); tests
 * compare heap.inspect() with it.
 */
export interface HeapRecount {
  /** Spans in the page -> span table (heap and stack spans). */
  spans: number;
  /** Bytes of in-use heap spans (= HeapInuse). */
  inUseBytes: number;
  /** Bytes of stack spans (= StackInuse). */
  stackBytes: number;
  /** Bytes of objects freed but not yet swept. */
  freedUnsweptBytes: number;
  /** Bytes of live large objects, as settled. */
  largeLiveBytes: number;
  /** Small objects held per size class, as settled (index = size class). */
  objectsByClass: Float64Array;
  /** Bytes of scavenged pages (= HeapReleased). */
  releasedBytes: number;
  /** Bytes the heap has grown into (= HeapSys + StackInuse). */
  grownBytes: number;
  /** Where each in-use heap span is, by its start address: "mcentral[spc] set k" or "mcache of Pn class spc". */
  places: Map<number, string>;
}

/** Run every consistency check on heap h; returns the recount. */
export function checkHeap(h: MHeap): HeapRecount {
  h.mem.check();
  h.pages.check();
  const spans = checkSpanTable(h);
  const cached = h.cachedPages();
  checkPagesAndOS(h, cached);
  const places = checkPlaces(h, spans);
  return { ...checkStats(h, spans, cached), spans: spans.length, places };
}

/** Spans found in the page -> span table, with their pages verified. */
function checkSpanTable(h: MHeap): SpanPtr[] {
  const u32 = h.views.u32;
  const spans: SpanPtr[] = [];
  h.forEachSpan((s) => spans.push(s));
  const seen = new Set(spans);
  for (const s of spans) {
    const state = spanState(u32, s);
    if (state !== mSpanInUse && state !== mSpanManual) fail(`span ${s} in the page table is in state ${state}`);
    const start = spanStartAddr(u32, s), np = spanNpages(u32, s);
    for (let i = 0; i < np; i++) {
      const p = start + i * pageSize;
      if (h.spanOf(p) !== s) fail(`page ${p} of span ${s} [${start}, +${np} pages) maps to ${h.spanOf(p)}`);
    }
    if ((state === mSpanInUse) !== h.pageInUse(start)) fail(`pageInUse bit of span ${s} at ${start} is wrong`);
    if (!h.pages.pageAllocated(start)) {
      fail(`span ${s} at ${start} is in use but its first page is free in the page allocator`);
    }
  }
  // No page may name a span that does not cover it.
  for (const [base, limit] of h.pages.inUseRanges()) {
    for (let p = base; p < limit; p += pageSize) {
      const s = h.spanOf(p);
      if (s !== 0 && !seen.has(s)) fail(`page ${p} maps to span ${s}, which does not start a span in the table`);
    }
  }
  return spans;
}

/** Page allocator bits against spans and OS states, for every grown page. */
function checkPagesAndOS(h: MHeap, cached: Map<number, 1 | 2>): void {
  for (const [base, limit] of h.pages.inUseRanges()) {
    for (let p = base; p < limit; p += pageSize) {
      const alloc = h.pages.pageAllocated(p);
      const s = h.spanOf(p), c = cached.get(p);
      if (c !== undefined && s !== 0) fail(`page ${p} is in a P's page cache and held by span ${s}`);
      if (alloc !== (s !== 0 || c !== undefined)) fail(`page ${p} is ${alloc ? 'allocated' : 'free'} in the page allocator but ${s !== 0 ? 'held by span ' + s : 'held by no span or page cache'}`);
      const pscav = h.pages.pageScavenged(p);
      if (alloc && pscav) fail(`page ${p} is both allocated and scavenged`);
      // A cached page's scavenged bit is its cache's (mpagecache.ts).
      const scav = c === undefined ? pscav : c === 2;
      const st = h.mem.stateOf(p);
      if (scav && st !== MEM_PREPARED) fail(`page ${p} is scavenged but its OS state is ${st}, not Prepared`);
      if (!scav && st !== MEM_READY) fail(`page ${p} is not scavenged but its OS state is ${st}, not Ready`);
    }
  }
}

/**
 * Every in-use heap span is in exactly one place: one mcache slot, one mcache's retained
 * list or one mcentral set.
 * Returns the places by span start address (checkSpanTable has shown that no two spans
 * share one).
 */
function checkPlaces(h: MHeap, spans: SpanPtr[]): Map<number, string> {
  const u32 = h.views.u32;
  const place = new Map<number, string>();
  const put = (s: SpanPtr, where: string) => {
    const start = spanStartAddr(u32, s);
    const prev = place.get(start);
    if (prev !== undefined) fail(`span ${s} (at ${start}) is in two places: ${prev} and ${where}`);
    place.set(start, where);
  };
  for (let spc = 0; spc < numSpanClasses; spc++) {
    const c = centralOf(h.central, spc);
    for (let set = SET_PARTIAL; set < SET_FULL + 2; set++) {
      let n = 0;
      for (let s = setHead(u32, c, set); s !== 0; s = spanNext(u32, s)) {
        if (++n > 1 << 24) fail(`mcentral ${spc} set ${set} has a cycle`);
        put(s, `mcentral[${spc}] set ${set}`);
        if (spanList(u32, s) !== setListId(spc, set)) fail(`span ${s} is in mcentral[${spc}] set ${set} but its list field says ${spanList(u32, s)}`);
        if (spanSpanclass(u32, s) !== spc) fail(`span ${s} of class ${spanSpanclass(u32, s)} is in mcentral[${spc}]`);
        if (spanState(u32, s) !== mSpanInUse) fail(`span ${s} in mcentral[${spc}] is not in use`);
      }
    }
  }
  const empty = h.emptymspan;
  for (let pid = 0; pid < maxProcs; pid++) {
    const p = h.pOf(pid);
    if (p === 0) continue;
    const mc = pMcache(u32, p);
    for (let spc = 0; spc < numSpanClasses; spc++) {
      const s = mcacheAlloc(u32, mc, spc);
      if (s === empty) continue;
      put(s, `mcache of P${pid} class ${spc}`);
      if (spanList(u32, s) !== LIST_MCACHE + pid) fail(`span ${s} is cached by P${pid} but its list field says ${spanList(u32, s)}`);
      if (spanSpanclass(u32, s) !== spc) fail(`span ${s} of class ${spanSpanclass(u32, s)} is in P${pid}'s slot ${spc}`);
    }
    let n = 0;
    for (let s = mSpanListFirst(u32, mc + MC_RETAINED); s !== 0; s = spanNext(u32, s)) {
      if (++n > 1 << 24) fail(`P${pid}'s retained list has a cycle`);
      put(s, `retained by the mcache of P${pid}`);
      if (spanList(u32, s) !== LIST_MCACHE + LIST_RETAINED + pid) fail(`span ${s} is retained by P${pid} but its list field says ${spanList(u32, s)}`);
      if (spanState(u32, s) !== mSpanInUse || spanClassSizeclass(spanSpanclass(u32, s)) === 0) fail(`span ${s} retained by P${pid} is not an in-use small-object span`);
    }
  }
  for (const s of spans) {
    if (spanState(u32, s) === mSpanInUse && !place.has(spanStartAddr(u32, s))) fail(`in-use span ${s} is in no mcache and no mcentral set`);
  }
  return place;
}

/** Bitmaps of each span, then the statistics against a recount. */
function checkStats(h: MHeap, spans: SpanPtr[], cached: Map<number, 1 | 2>): Omit<HeapRecount, 'spans' | 'places'> {
  const u32 = h.views.u32, mem = h.mem;
  let inUseBytes = 0, stackBytes = 0, freedUnswept = 0, largeLive = 0;
  const perClass = new Float64Array(NUM_SIZE_CLASSES);
  for (const s of spans) {
    const np = spanNpages(u32, s);
    if (spanState(u32, s) === mSpanManual) { stackBytes += np * pageSize; continue; }
    inUseBytes += np * pageSize;
    const nelems = spanNelems(u32, s), fi = spanFreeIndex(u32, s);
    const bits = spanGcBits(u32, s);
    const cached = spanList(u32, s) >= LIST_MCACHE;
    const spc = spanSpanclass(u32, s);
    const masks = spc === tinySpanClass ? spanTinyMasks(u32, s) >>> 1 : -1;
    if (fi > nelems) fail(`span ${s}: freeindex ${fi} > nelems ${nelems}`);
    let count = 0, freed = 0;
    for (let i = 0; i < nelems; i++) {
      const g = gcBitsWord(bits, i >>> 5), bit = 1 << (i & 31);
      const a = i < fi || (u32[g + GW_ALLOC] & bit) !== 0;
      const f = (u32[g + GW_FREED] & bit) !== 0;
      const l = (u32[g + GW_LOCALFREED] & bit) !== 0;
      if (a) count++;
      if (f || l) freed++;
      if ((f || l) && !a) fail(`span ${s}: slot ${i} is freed but not allocated`);
      if (l && f) fail(`span ${s}: slot ${i} is in both freed bitmaps (freed twice)`);
      // A tiny block is live (allocated, not freed) exactly when its mask has an object.
      if (masks >= 0 && (a && !f && !l) !== (h.views.u16[masks + i] !== 0)) {
        fail(`tiny span ${s}: block ${i} is ${a && !f && !l ? 'live' : 'dead'} but its mask is ${h.views.u16[masks + i]}`);
      }
    }
    const allocCount = spanAllocCount(u32, s);
    if (count !== allocCount) fail(`span ${s}: allocCount ${allocCount} but the bitmaps say ${count} slots are allocated`);
    if (fi < nelems) {
      // allocCache = NOT(allocBits of the 64-slot group of freeindex) >> (freeindex % 64)
      const g = fi & ~63, sh = fi & 63;
      let lo = ~u32[gcBitsWord(bits, g >>> 5) + GW_ALLOC] >>> 0, hi = ~u32[gcBitsWord(bits, (g >>> 5) + 1) + GW_ALLOC] >>> 0;
      if (sh >= 32) { lo = hi >>> (sh - 32); hi = 0; } else if (sh > 0) { lo = ((lo >>> sh) | (hi << (32 - sh))) >>> 0; hi = hi >>> sh; }
      if (spanAllocCacheLo(u32, s) !== lo || spanAllocCacheHi(u32, s) !== hi) {
        fail(`span ${s}: allocCache ${spanAllocCacheHi(u32, s).toString(16)}:${spanAllocCacheLo(u32, s).toString(16)} disagrees with allocBits at freeindex ${fi} (${hi.toString(16)}:${lo.toString(16)})`);
      }
    }
    const elemsize = spanElemsize(u32, s);
    freedUnswept += freed * elemsize;
    const settled = cached ? spanAllocCountBeforeCache(u32, s) : allocCount;
    const sc = spanClassSizeclass(spc);
    if (sc === 0) largeLive += settled * elemsize; else perClass[sc] += settled;
  }
  // Per-class counts: allocated - freed (as counted) == objects held by spans (as settled).
  for (let c = 1; c < NUM_SIZE_CLASSES; c++) {
    const counted = sumP(h, ST_SMALL_ALLOC + c) - sumP(h, ST_SMALL_FREE + c);
    if (counted !== perClass[c]) fail(`size class ${c}: counters say ${counted} objects, spans hold ${perClass[c]}`);
  }
  const largeCounted = sumP(h, ST_LARGE_ALLOC) - sumP(h, ST_LARGE_FREE);
  const allocMinusFree = totalAllocBytes(h) - totalFreeBytes(h);
  if (heapAllocBytes(h) !== allocMinusFree) fail(`heapAlloc per-P counters ${heapAllocBytes(h)} != totalAlloc - totalFree ${allocMinusFree}`);
  if (largeCounted !== largeLive) fail(`large objects: counters say ${largeCounted} bytes, spans hold ${largeLive}`);
  if (mem.stat(STAT_HEAP_INUSE) !== inUseBytes) fail(`HeapInuse is ${mem.stat(STAT_HEAP_INUSE)}, in-use spans hold ${inUseBytes}`);
  if (mem.stat(STAT_IN_STACKS) !== stackBytes) fail(`StackInuse is ${mem.stat(STAT_IN_STACKS)}, stack spans hold ${stackBytes}`);
  let scavPages = 0, grown = 0;
  for (const [base, limit] of h.pages.inUseRanges()) {
    grown += limit - base;
    for (let p = base; p < limit; p += pageSize) if (h.pages.pageScavenged(p)) scavPages++;
  }
  for (const c of cached.values()) if (c === 2) scavPages++; // released pages in P page caches
  if (mem.stat(STAT_HEAP_RELEASED) !== scavPages * pageSize) fail(`HeapReleased is ${mem.stat(STAT_HEAP_RELEASED)}, ${scavPages * pageSize} bytes are scavenged`);
  const heapSys = mem.stat(STAT_HEAP_INUSE) + mem.stat(STAT_HEAP_FREE) + mem.stat(STAT_HEAP_RELEASED);
  if (heapSys + stackBytes !== grown) fail(`HeapSys ${heapSys} + stacks ${stackBytes} != ${grown} bytes grown into`);
  const spanStructs = (spans.length + h.cachedMSpans()) * MSPAN_SIZE;
  if (h.spanalloc.inuse !== spanStructs) fail(`MSpanInuse is ${h.spanalloc.inuse}, but ${spans.length} spans and ${h.cachedMSpans()} P-cached structs use ${spanStructs}`);
  let sys = 0;
  for (let i = 0; i < NUM_SYS_STATS; i++) sys += mem.stat(i);
  if (sys !== mem.mapped) fail(`Sys (sum of the *Sys statistics) is ${sys}, but the backend has ${mem.mapped} bytes mapped`);
  return {
    inUseBytes, stackBytes, freedUnsweptBytes: freedUnswept, largeLiveBytes: largeLive, objectsByClass: perClass,
    releasedBytes: scavPages * pageSize, grownBytes: grown,
  };
}
