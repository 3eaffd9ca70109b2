/**
 * mgcscavenge.ts — the scavenger's pacing and the background scavenger (Go 1.19:
 * mgcscavenge.go's gcPaceScavenger, heapRetained, scavengerState.run/sleep, bgscavenge,
 * printScavTrace; the scavenging half of mheap.allocSpan; mheap.scavengeAll) and the
 * release of free pages itself (pageAlloc.scavenge, scavengeOne, findScavengeCandidate,
 * fillAligned).
 *
 * scavenge(pa, n) walks the page allocator's scavenge index (mpagealloc.ts: one bit per
 * chunk that may hold free, unreleased pages, searched from the highest address down, as
 * Go's scavengeIndex), and in each such chunk finds the highest run of free, unscavenged
 * pages (findScavengeCandidate, at least MIN_SCAV_PAGES, aligned to them: fillAligned),
 * takes it so nobody allocates it meanwhile, releases it (sysUnused: Ready -> Prepared)
 * and frees it back as scavenged.
 *
 * Goals, computed at the end of every GC cycle and when the memory limit changes
 * (gcPaceScavenger), kept in the heap's statistics block:
 *
 *   gcPercentGoal   = lastHeapInUse × (heapGoal / lastHeapGoal) × 1.10, rounded up to
 *                     4 KiB (none before the second cycle, or when retained is under it)
 *   memoryLimitGoal = 95 % of the memory limit (none when mappedReady is under it)
 *
 * where retained = HeapInuse + HeapIdle − HeapReleased (heapRetained). The background
 * scavenger releases 64 KiB at a time (scavengeQuantum), highest addresses first, until
 * retained ≤ gcPercentGoal and mappedReady ≤ memoryLimitGoal, working at least 1 ms per
 * round (minScavWorkTime) and then sleeping so that it uses 1 % of the program's CPU
 * time — 1 % of every CPU, as Go 1.19 counts GOMAXPROCS: 49 × its work on 2 CPUs, 99 ×
 * on one (scavengeSleepMs) — the fixed point Go's PI controller (sleepController) steers
 * towards. (JS difference: at most 10 % of the thread it runs in, see
 * maxScavengeThreadPercent.)
 *
 * JS difference: there is no scavenger goroutine. Every context (the creating thread and
 * each attached worker) has a timer, unref'd so it never keeps Node alive, that runs a
 * round when the thread's event loop is free; a try-lock in the buffer lets one context
 * at a time do the work (any attached P may run it). A context's timer is started by the
 * first GC cycle it runs (or setMemoryLimit) and then keeps polling once a second while
 * there is nothing to do, as Go's sysmon checks on a parked scavenger.
 *
 * goheap difference, idle cycles: Go's collector finds garbage only by running; an idle Go
 * program that dropped its objects keeps them until sysmon forces a cycle after two
 * minutes (forcegcperiod). goheap's objects die when free() is called, so when the
 * background scavenger finds the heap idle (nothing allocated and no cycle since its
 * previous round) with at least 64 KiB freed and not yet swept, and GOGC or a memory
 * limit is on, it runs a GC cycle (counted in NumGC, not in NumForcedGC) so that
 * the heap goal falls and the freed pages can be released. Idle cycles are not charged to the scavenger's 1 % (Go's GC and sysmon's forced cycle are
 * not either); one runs at most once per round, and only after new frees. Create the heap
 * with `scavenger: false` for no background work at all.
 *
 * Scavenging on allocation (Go 1.19 mheap.allocSpan): a span that takes released pages
 * or grows the heap first releases enough free pages to keep mappedReady under the
 * memory limit (unless the GC CPU limiter is on), and, after a heap growth, as much of
 * the growth as takes retained memory over gcPercentGoal. Both run under the heap lock.
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import {
  ALL_ONES, LOG_WORD_BITS, PALLOC_CHUNK_PAGES, PD_SCAV_W, WORD_BITS, goWordFirst, pageBitsSetRange,
} from './mpallocbits.js';
import { MIN_SCAV_PAGES, SUMMARY_LEVELS, chunkBase, type PageAlloc } from './mpagealloc.js';
import { pageSize } from './sizeclasses.js';

import { lock, tryLock, unlock } from './lock_futex.js';
import { STAT_HEAP_FREE, STAT_HEAP_INUSE, STAT_HEAP_RELEASED } from './mem.js';
import type { MHeap } from './mheap.js';
import { heapGoal, limiting, now } from './mgcpacer.js';
import {
  ST_GC_PERCENT, ST_HEAP_LIVE, ST_LAST_HEAP_GOAL, ST_NUM_GC, ST_LAST_HEAP_INUSE, ST_MEMORY_LIMIT,
  ST_SCAV_GCPERCENT_GOAL, ST_SCAV_MEMLIMIT_GOAL, ST_SCAV_RELEASED, ST_SCAV_RELEASED_ASSIST,
  ST_SCAV_RELEASED_BG, ST_SCAV_WORDS,
} from './layout.js';
import { freedUnsweptBytes, sumP } from './mstats.js';

/**
 * Release up to nbytes (Infinity = everything) of free, unscavenged memory to the OS,
 * highest addresses first, through os.sysUnused (Go: pageAlloc.scavenge). Returns the
 * bytes released (whole pages; may exceed nbytes by less than a page). Heap lock held.
 */
export function scavenge(pa: PageAlloc, nbytes: number): number {
  let released = 0;
  while (released < nbytes) {
    const ci = pa.scavIndexFind();
    if (ci < 0) break;
    released += scavengeOne(pa, ci, nbytes - released);
  }
  return released;
}

/**
 * Scavenge at most maxBytes (rounded up to pages) from chunk ci; returns bytes released
 * (Go: pageAlloc.scavengeOne). A chunk with nothing left to release leaves the index.
 */
function scavengeOne(pa: PageAlloc, ci: number, maxBytes: number): number {
  let u32 = pa.views.u32;
  const maxPages = Math.ceil(maxBytes / pageSize);
  if (pa.readSummary(SUMMARY_LEVELS - 1, ci)[1] >= MIN_SCAV_PAGES) {
    const cw = pa.chunkWord(ci);
    const n = pallocDataFindScavengeCandidate(u32, cw, PALLOC_CHUNK_PAGES - 1, MIN_SCAV_PAGES, maxPages);
    if (n !== 0) {
      const start = candOut[CAND_START];
      const addr = chunkBase(ci) + start * pageSize;
      // Take the pages so nobody allocates them while they are released.
      if (pa.allocRange(u32, addr, n) !== 0) {
        throw new HeapCorruptionError(`page allocator: double scavenge of [${addr}, ${addr + n * pageSize})`);
      }
      pa.os.sysUnused(addr, n * pageSize);
      u32 = pa.views.u32; // the OS layer may have replaced the buffer
      pa.freeRange(u32, addr, n, true);
      pageBitsSetRange(u32, pa.chunkWord(ci) + PD_SCAV_W, start, n);
      return n * pageSize;
    }
  }
  pa.scavIndexClear(ci);
  return 0;
}

/**
 * Go's `fillAligned` on one 32-bit half, m ∈ {1, 2, 4, 8, 16, 32}: every m-aligned group of
 * m bits becomes all ones if any of its bits is set, else all zeros. (m = 64 spans both
 * halves; see {@link fillAligned64}.) The lowest bit of each group first collects the OR of
 * its group (shifting down by 1, 2, 4, … covers exactly m−1 bits above it), the other bits
 * are dropped, then that bit is copied up over its group.
 */
export function fillAligned32(x: number, m: number): number {
  if (m === 1) return x >>> 0;
  let y = x | 0;
  for (let s = 1; s < m; s <<= 1) y |= y >>> s;
  y &= groupLowBits(m);
  for (let s = 1; s < m; s <<= 1) y |= y << s;
  return y >>> 0;
}

/** A u32 with the lowest bit of every m-bit group set. */
function groupLowBits(m: number): number {
  switch (m) {
    case 2:
      return 0x55555555;
    case 4:
      return 0x11111111;
    case 8:
      return 0x01010101;
    case 16:
      return 0x00010001;
    case 32:
      return 0x00000001;
    default:
      throw new HeapCorruptionError(`fillAligned: bad m value ${m}`);
  }
}

/** Module scratch for 64-bit results as (lo, hi). */
export const u64Out = new Uint32Array(2);

/**
 * Go's `fillAligned` on a 64-bit value (lo, hi) for m ∈ {1, 2, …, 64}; result in
 * {@link u64Out}. (The scavenger takes one half at a time: fillAlignedHalf.)
 */
export function fillAligned64(lo: number, hi: number, m: number): void {
  u64Out[0] = fillAlignedHalf(lo, hi, 0, m);
  u64Out[1] = fillAlignedHalf(lo, hi, 1, m);
}

/** Half `half` (0: low, 1: high) of fillAligned((lo, hi), m). */
function fillAlignedHalf(lo: number, hi: number, half: number, m: number): number {
  if (m === 64) return (lo | hi) !== 0 ? ALL_ONES : 0;
  return fillAligned32(half === 0 ? lo : hi, m);
}

/** Word k of fillAligned(scavenged | alloc, m) of the pallocData at w: 0 bits = free and not scavenged. */
function scavFilledWord(u32: Uint32Array, w: number, k: number, m: number): number {
  const k0 = k & ~1;
  return fillAlignedHalf(u32[w + k0] | u32[w + PD_SCAV_W + k0], u32[w + k0 + 1] | u32[w + PD_SCAV_W + k0 + 1], k & 1, m);
}

/** Largest scavenge unit in pages: 512 KiB max physical page / 8 KiB. */
export const MAX_PAGES_PER_PHYS_PAGE = 64;

/** Module scratch for {@link pallocDataFindScavengeCandidate}: (start, size). */
export const candOut = new Int32Array(2);
/** Index of the candidate's first page in {@link candOut}. */
export const CAND_START = 0;
/** Index of the candidate's size in pages in {@link candOut}. */
export const CAND_SIZE = 1;

/**
 * Go's `pallocData.findScavengeCandidate`: the highest run of free, unscavenged pages at or
 * below (the 64-bit word of) `searchIdx`, looked at in `min`-aligned groups of `min` pages,
 * cut to at most `max` pages (0 → min; otherwise rounded up to a multiple of min) taken from
 * the top of the run. Result (start, size) in {@link candOut}; size 0 means none. Returns
 * the size.
 *
 * No huge-page preservation: pages in a JS buffer are never backed by transparent huge
 * pages, so Go's physHugePageSize is taken as 0 and that extension never applies.
 */
export function pallocDataFindScavengeCandidate(
  u32: Uint32Array,
  w: number,
  searchIdx: number,
  min: number,
  max: number,
): number {
  if (min <= 0 || (min & (min - 1)) !== 0) {
    throw new HeapCorruptionError(`findScavengeCandidate: min = ${min} must be a non-zero power of 2`);
  }
  if (min > MAX_PAGES_PER_PHYS_PAGE) {
    throw new HeapCorruptionError(`findScavengeCandidate: min = ${min} too large`);
  }
  if (max === 0) max = min;
  else {
    if (!(max <= PALLOC_CHUNK_PAGES)) max = PALLOC_CHUNK_PAGES; // also Infinity; 512 is aligned
    max = Math.ceil(max / min) * min;
  }
  // Highest word (downwards from the top of searchIdx's 64-bit word) with a free,
  // unscavenged group.
  let k = goWordFirst(searchIdx) + 1;
  let x = 0;
  for (; k >= 0; k--) {
    x = scavFilledWord(u32, w, k, min);
    if (x !== ALL_ONES) break;
  }
  if (k < 0) {
    candOut[CAND_START] = 0;
    candOut[CAND_SIZE] = 0;
    return 0;
  }
  const z1 = Math.clz32(~x); // used/scavenged bits at the top of word k
  const end = (k << LOG_WORD_BITS) + WORD_BITS - z1;
  let run: number;
  const below = x << z1;
  if (below !== 0) {
    run = Math.clz32(below);
  } else {
    run = WORD_BITS - z1;
    for (let j = k - 1; j >= 0; j--) {
      const y = scavFilledWord(u32, w, j, min);
      run += Math.clz32(y);
      if (y !== 0) break;
    }
  }
  const size = run < max ? run : max;
  candOut[CAND_START] = end - size;
  candOut[CAND_SIZE] = size;
  return size;
}

// ---------------------------------------------------------------------------------------
// Pacing and the background scavenger
// ---------------------------------------------------------------------------------------

/**
 * Go: scavengePercent — the share of the program's CPU time (all of its CPUs: Go's
 * GOMAXPROCS) the background scavenger may use.
 */
export const scavengePercent = 1;
/**
 * goheap: the most of its own thread's time a context's scavenger takes (JS difference:
 * Go's scavenger is a goroutine that any idle P may run; goheap's runs in the thread of
 * the program that owns the context, so on a many-core machine Go's 1 % of every CPU is
 * capped at this share of that one thread).
 */
export const maxScavengeThreadPercent = 10;
/** Go: retainExtraPercent. */
export const retainExtraPercent = 10;
/** Go: reduceExtraPercent. */
export const reduceExtraPercent = 5;
/** Go: scavengeQuantum (bgscavenge's unit of work), bytes. */
export const scavengeQuantum = 64 << 10;
/** Go: minScavWorkTime, in ms. */
export const minScavWorkTimeMs = 1;
/** How often a context with nothing to scavenge looks again, ms (Go: sysmon's wake of the scavenger). */
export const scavengerPollMs = 1000;
/**
 * The number of CPUs the program can use, Go's default GOMAXPROCS:
 * navigator.hardwareConcurrency in browsers, Deno and Node ≥ 21; os.availableParallelism()
 * in Node 20 (through process.getBuiltinModule, so the core imports no Node module);
 * 1 when neither is there.
 */
export function gomaxprocs(): number {
  const g = globalThis as { navigator?: { hardwareConcurrency?: number }; process?: { getBuiltinModule?: (id: string) => unknown } };
  const hc = g.navigator?.hardwareConcurrency;
  if (typeof hc === 'number' && hc >= 1) return Math.floor(hc);
  const os = g.process?.getBuiltinModule?.('node:os') as { availableParallelism?: () => number } | undefined;
  const n = os?.availableParallelism?.();
  return typeof n === 'number' && n >= 1 ? Math.floor(n) : 1;
}

/**
 * How long a round that worked `workedMs` sleeps (Go: scavengerState.sleep, at the fixed
 * point its controller steers to): worked / (worked + slept) = scavengePercent % of
 * gomaxprocs CPUs (at most maxScavengeThreadPercent % of this thread), with at least
 * minScavWorkTime counted as worked, and never longer than the poll interval.
 */
export function scavengeSleepMs(workedMs: number, procs = gomaxprocs()): number {
  const share = Math.min(scavengePercent * procs, maxScavengeThreadPercent) / 100;
  return Math.min(scavengerPollMs, Math.max(workedMs, minScavWorkTimeMs) * (1 / share - 1));
}

/** Go's physPageSize (the OS page) for rounding the goal. */
const physPageSize = 4096;

/** What one scavtrace line reports (Go: printScavTrace). */
export interface ScavTraceInfo {
  /** Bytes released since the last line: by the background scavenger, or by freeOSMemory when forced. */
  released: number;
  /** HeapReleased now. */
  heapReleased: number;
  /** HeapInuse × 100 / retained, an integer percentage (Go's "% util"). */
  utilPercent: number;
  /** True for freeOSMemory (Go: debug.FreeOSMemory → scavengeAll). */
  forced: boolean;
}

/** Go: heapRetained — HeapInuse + HeapIdle − HeapReleased, bytes. */
export function heapRetained(h: MHeap): number {
  return h.mem.stat(STAT_HEAP_INUSE) + h.mem.stat(STAT_HEAP_FREE);
}

/** i32 index of the scavenger lock word (byte offset for lock_futex). */
export function scavLockOff(h: MHeap): number {
  return (h.stats + ST_SCAV_WORDS) * 8;
}

/** Byte offset of the scavenger flags word (bit 0: background scavenger off). */
function scavFlagsOff(h: MHeap): number {
  return (h.stats + ST_SCAV_WORDS) * 8 + 4;
}

/** Turn the background scavenger of every context of this heap on or off. */
export function setBackgroundScavenger(h: MHeap, on: boolean): void {
  Atomics.store(h.views.i32, scavFlagsOff(h) >>> 2, on ? 0 : 1);
}

/** Whether the heap's background scavenger is on. */
export function backgroundScavengerOn(h: MHeap): boolean {
  return (Atomics.load(h.views.i32, scavFlagsOff(h) >>> 2) & 1) === 0;
}

/**
 * Set the scavenger's goals (Go: gcPaceScavenger). Called at the end of every GC cycle
 * (GC lock held) and when the memory limit changes.
 */
export function gcPaceScavenger(h: MHeap): void {
  const f64 = h.views.f64, st = h.stats;
  const limit = f64[st + ST_MEMORY_LIMIT];
  const memoryLimitGoal = Math.floor(limit * (100 - reduceExtraPercent) / 100);
  f64[st + ST_SCAV_MEMLIMIT_GOAL] = h.mem.mappedReady <= memoryLimitGoal ? Infinity : memoryLimitGoal;
  const lastHeapGoal = f64[st + ST_LAST_HEAP_GOAL];
  const goal = heapGoal(h);
  if (lastHeapGoal === 0 || !Number.isFinite(lastHeapGoal) || !Number.isFinite(goal)) {
    f64[st + ST_SCAV_GCPERCENT_GOAL] = Infinity;
    return;
  }
  let gcPercentGoal = Math.floor(f64[st + ST_LAST_HEAP_INUSE] * (goal / lastHeapGoal));
  gcPercentGoal += Math.floor(gcPercentGoal / (100 / retainExtraPercent));
  gcPercentGoal = Math.ceil(gcPercentGoal / physPageSize) * physPageSize;
  const retained = heapRetained(h);
  f64[st + ST_SCAV_GCPERCENT_GOAL] = retained <= gcPercentGoal || retained - gcPercentGoal < physPageSize ? Infinity : gcPercentGoal;
}

/** Whether the background scavenger has nothing to do (Go: scavengerState.shouldStop). */
export function scavengerShouldStop(h: MHeap): boolean {
  const f64 = h.views.f64, st = h.stats;
  return heapRetained(h) <= f64[st + ST_SCAV_GCPERCENT_GOAL] && h.mem.mappedReady <= f64[st + ST_SCAV_MEMLIMIT_GOAL];
}

/**
 * Release up to nbytes of free pages (Infinity: all) and move them from HeapFree to
 * HeapReleased. Heap lock held. Returns the bytes released.
 */
export function scavengeLocked(h: MHeap, nbytes: number): number {
  const released = scavenge(h.pages, nbytes);
  if (released > 0) {
    h.mem.statAdd(STAT_HEAP_FREE, -released);
    h.mem.statAdd(STAT_HEAP_RELEASED, released);
  }
  return released;
}

/** Release every free page (Go: mheap.scavengeAll). Takes the heap lock. */
export function scavengeAll(h: MHeap): number {
  lock(h.views.i32, h.lockOff, h.lockToken);
  h.views.sync();
  try {
    return scavengeLocked(h, Infinity);
  } finally {
    unlock(h.views.i32, h.lockOff);
  }
}

/**
 * The scavenging part of mheap.allocSpan (Go 1.19), after every span allocation: the span
 * took `scav` released bytes and the heap grew by `growth` bytes; release what the memory
 * limit (mappedReady + scav over the limit) and, after a growth, the gcPercent goal ask
 * for. Heap lock held, before the span's pages are made Ready.
 */
export function scavengeOnAlloc(h: MHeap, scav: number, growth: number): void {
  const f64 = h.views.f64, st = h.stats;
  let bytesToScavenge = 0;
  const limit = f64[st + ST_MEMORY_LIMIT];
  if (limit !== Infinity && !limiting(h)) {
    const inuse = h.mem.mappedReady;
    if (scav + inuse > limit) bytesToScavenge = scav + inuse - limit;
  }
  const goal = f64[st + ST_SCAV_GCPERCENT_GOAL];
  if (goal !== Infinity && growth > 0) {
    const retained = heapRetained(h);
    if (retained + growth > goal) bytesToScavenge = Math.max(bytesToScavenge, Math.min(growth, retained + growth - goal));
  }
  if (bytesToScavenge > 0) f64[st + ST_SCAV_RELEASED_ASSIST] += scavengeLocked(h, bytesToScavenge);
}

/**
 * The scavtrace line of the background scavenger's work since the last one (Go: the call
 * of printScavTrace when sweeping finishes); resets the count. GC lock held.
 */
export function takeScavTrace(h: MHeap): ScavTraceInfo {
  const f64 = h.views.f64, st = h.stats;
  const released = f64[st + ST_SCAV_RELEASED];
  f64[st + ST_SCAV_RELEASED] = 0;
  return scavTraceInfo(h, released, false);
}

/** A scavtrace line's numbers for `released` bytes. */
export function scavTraceInfo(h: MHeap, released: number, forced: boolean): ScavTraceInfo {
  const retained = heapRetained(h);
  return {
    released,
    heapReleased: h.mem.stat(STAT_HEAP_RELEASED),
    utilPercent: retained === 0 ? 100 : Math.floor(h.mem.stat(STAT_HEAP_INUSE) * 100 / retained),
    forced,
  };
}

/** Format a scavtrace line as Go 1.19 prints it (GODEBUG=scavtrace=1). */
export function formatScavTrace(t: ScavTraceInfo): string {
  return `scav ${Math.floor(t.released / 1024)} KiB work, ${Math.floor(t.heapReleased / 1024)} KiB total, ${t.utilPercent}% util${t.forced ? ' (forced)' : ''}`;
}

/** What the background scavenger needs from its context (a Heap). */
export interface ScavengerContext {
  readonly h: MHeap;
  /** Run a GC cycle that sweeps everything, not counted as forced (the idle cycle). */
  idleGC(): void;
}

/**
 * One context's background scavenger (Go: bgscavenge and scavengerState): a timer that
 * runs {@link BackgroundScavenger.runRound} when the thread is idle.
 */
export class BackgroundScavenger {
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;
  /** Go: !scavengerState.parked — set by wake, cleared when a round finds nothing to release. */
  private ready = false;
  /**
   * The context, held weakly: a pending timer must not keep a heap the program dropped
   * alive (the scavenger stops when its heap has been collected).
   */
  private readonly ctx: WeakRef<ScavengerContext>;
  /** Time of the last round's work, ms (for tests and tools). */
  lastWorkedMs = 0;
  /** heapLive + NumGC at the last round: unchanged means the heap was idle in between. */
  private lastActivity = -1;
  /** The machine's CPU count (Go's GOMAXPROCS), read once: it paces every round. */
  private readonly procs = gomaxprocs();

  constructor(ctx: ScavengerContext) {
    this.ctx = new WeakRef(ctx);
  }

  /**
   * Go: scavengerState.wake — make sure a round runs soon. Called at the end of each GC
   * cycle this context runs. Cheap when a round is already scheduled.
   */
  wake(): void {
    this.ready = true;
    if (this.stopped || this.timer !== null) return;
    this.schedule(0);
  }

  /** Stop for good (detach). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(ms: number): void {
    // One timer per context: a round that woke itself (its idle cycle) replaces that timer.
    if (this.timer !== null) clearTimeout(this.timer);
    const t = setTimeout(() => {
      this.timer = null;
      if (this.ctx.deref() === undefined) return; // the heap is gone
      this.schedule(this.runRound());
    }, ms);
    (t as { unref?: () => void }).unref?.();
    this.timer = t;
  }

  /**
   * One round (Go: scavengerState.run + sleep): an idle GC cycle if one is due, then, if
   * the scavenger is awake, 64 KiB releases until the goals are met or 1 ms of work is
   * done; a round that releases nothing parks it until the next GC cycle (Go: park, and
   * ready at the end of the sweep; setMemoryLimit does not wake it in Go 1.19 either).
   * Returns the delay before the next round (scavengeSleepMs of the work time: 1 % of the
   * program's CPUs), or the poll interval when there was nothing to do or another context
   * holds the lock.
   */
  runRound(): number {
    const ctx = this.ctx.deref();
    if (ctx === undefined) return scavengerPollMs;
    const h = ctx.h, views = h.views;
    views.sync();
    if (!backgroundScavengerOn(h)) return scavengerPollMs;
    if (!tryLock(views.i32, scavLockOff(h), h.lockToken)) return scavengerPollMs;
    let released = 0, worked = 0, cycled = false;
    try {
      const f64 = views.f64, st = h.stats;
      const gcOn = f64[st + ST_GC_PERCENT] >= 0 || f64[st + ST_MEMORY_LIMIT] !== Infinity;
      // Idle: nothing allocated and no cycle since the last round (a busy program's
      // allocations start their own cycles; this one is only for a heap left alone).
      const activity = sumP(h, ST_HEAP_LIVE) + f64[st + ST_NUM_GC];
      const idle = activity === this.lastActivity;
      this.lastActivity = activity;
      if (gcOn && idle && freedUnsweptBytes(h) >= scavengeQuantum) {
        ctx.idleGC();
        cycled = true;
        this.lastActivity = sumP(h, ST_HEAP_LIVE) + f64[st + ST_NUM_GC];
      }
      // Go: worked sums the time of each scavenge call (the idle cycle is not scavenging
      // work: Go's GC has its own budget, and sysmon's forced cycle is not charged to the
      // scavenger either).
      while (this.ready && worked < minScavWorkTimeMs) {
        if (scavengerShouldStop(h)) break;
        const ts = now();
        // Never wait for the heap lock here: its holder may be a worker that died, whose
        // exit this thread's event loop (busy in this timer) has yet to see (proc.ts).
        if (!tryLock(h.views.i32, h.lockOff, h.lockToken)) break;
        h.views.sync();
        let r: number;
        try {
          r = scavengeLocked(h, scavengeQuantum);
        } finally {
          unlock(h.views.i32, h.lockOff);
        }
        worked += now() - ts;
        released += r;
        if (r < scavengeQuantum) break;
      }
      if (released === 0) this.ready = false;
      if (released > 0) {
        h.views.f64[st + ST_SCAV_RELEASED] += released;
        h.views.f64[st + ST_SCAV_RELEASED_BG] += released;
      }
    } finally {
      unlock(h.views.i32, scavLockOff(h));
    }
    this.lastWorkedMs = worked;
    if (released === 0 && !cycled) return scavengerPollMs;
    // JS difference: the sleep is at most the poll interval. A round's wall time includes
    // any time the OS or V8 kept the thread from running (Go's scavenger has a thread of
    // its own); a round does about 1 ms of work, so a 1 s sleep keeps it well under its share.
    return scavengeSleepMs(worked, this.procs);
  }
}
