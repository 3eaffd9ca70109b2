/**
 * mgcpacer.ts — the memory limit and the heap goal it caps (Go 1.19: mgcpacer.go's
 * memoryLimit, memoryLimitHeapGoal, heapGoal, setMemoryLimit; mgclimit.go's GC CPU
 * limiter; runtime/debug.SetMemoryLimit).
 *
 * The memory limit bounds the memory the heap holds from the OS and has not released
 * (Go's mappedReady: every Ready page, heap and metadata alike). As in Go 1.19 it acts in
 * three places:
 *
 *   - the heap goal: NextGC is the smaller of the GOGC goal and
 *       limit − (mappedReady − heapFree − heapAlloc) − max(mappedReady − limit, 0) − 1 MiB
 *     (never below the live heap), so GC cycles start as total memory nears the limit,
 *     also with GOGC off ("GOGC=off + GOMEMLIMIT");
 *   - the background scavenger (mgcscavenge.ts) releases free pages while mappedReady is
 *     above 95 % of the limit;
 *   - allocation: a span that takes released pages, or grows the heap, first releases as
 *     much as it would push mappedReady over the limit (mgcscavenge.ts, scavengeOnAlloc).
 *
 * The GC CPU limiter. Go's limit is soft: when the live heap alone nears the limit, GC
 * cycles would run back to back; Go's limiter (a leaky bucket that fills with GC CPU time
 * and drains with mutator time, 1 CPU-second per P) caps the GC at about 50 % of the CPU
 * by limiting mark assists, and the heap passes the limit instead. goheap has no mark
 * phase and no assists: a cycle is a sweep of what was freed, so its cost is small and
 * the limiter rarely fills. When it does (the live heap alone is at the limit), goheap
 * does what Go's limiter amounts to: a cycle the memory-limit goal asks for starts only
 * once the time since the last cycle ended is at least that cycle's duration (cycles
 * take at most half of the time, and the heap passes the limit meanwhile), and
 * allocation stops scavenging for the limit, until the bucket drains. The bucket is
 * filled and drained at the end of each cycle, with the cycle's wall time as GC time and
 * the rest of the time since the last cycle as mutator time.
 *
 * @module
 */
import { InvalidArgumentError } from './errors.js';
import type { MHeap } from './mheap.js';
import { STAT_HEAP_FREE } from './mem.js';
import {
  ST_HEAP_GOAL, ST_HEAP_MARKED, ST_LIMITER_FILL, ST_LIMITER_LAST, ST_MEMORY_LIMIT, ST_NUM_GC,
  ST_PAUSE_NS,
} from './layout.js';
import { heapAllocBytes, sumP } from './mstats.js';

/** Go: memoryLimitHeapGoalHeadroom. */
export const memoryLimitHeapGoalHeadroom = 1 << 20;
/** Go: capacityPerProc (the GC CPU limiter's bucket), in ns. goheap counts one P: the one running cycles. */
export const limiterCapacity = 1e9;

/** The memory limit in bytes (Infinity: none). */
export function memoryLimit(h: MHeap): number {
  return h.views.f64[h.stats + ST_MEMORY_LIMIT];
}

/**
 * The heap goal implied by the memory limit (Go: gcControllerState.memoryLimitHeapGoal);
 * Infinity without a limit.
 */
export function memoryLimitHeapGoal(h: MHeap): number {
  const f64 = h.views.f64, st = h.stats;
  const limit = f64[st + ST_MEMORY_LIMIT];
  if (limit === Infinity) return Infinity;
  const mem = h.mem;
  const heapFree = mem.stat(STAT_HEAP_FREE);
  const heapAlloc = heapAllocBytes(h);
  const mappedReady = mem.mappedReady;
  const marked = f64[st + ST_HEAP_MARKED];
  const nonHeapMemory = Math.max(0, mappedReady - heapFree - heapAlloc);
  const overage = Math.max(0, mappedReady - limit);
  if (nonHeapMemory + overage >= limit) return marked;
  let goal = limit - (nonHeapMemory + overage);
  if (goal < 2 * memoryLimitHeapGoalHeadroom) goal = memoryLimitHeapGoalHeadroom;
  else goal -= memoryLimitHeapGoalHeadroom;
  return Math.max(goal, marked);
}

/**
 * The heap goal (Go: gcControllerState.heapGoal): the GOGC goal, or the memory-limit goal
 * if that is smaller. Infinity when GOGC is off and there is no limit.
 */
export function heapGoal(h: MHeap): number {
  const g = h.views.f64[h.stats + ST_HEAP_GOAL];
  if (memoryLimit(h) === Infinity) return g;
  return Math.min(g, memoryLimitHeapGoal(h));
}

/** Whether the GC CPU limiter is on (Go: gcCPULimiter.limiting): its bucket is full. */
export function limiting(h: MHeap): boolean {
  return h.views.f64[h.stats + ST_LIMITER_FILL] >= limiterCapacity;
}

/**
 * Whether the GC CPU limiter lets the memory-limit goal start a cycle now: always while
 * it is off; when it is on, only once the time since the last cycle is at least as long
 * as a cycle takes (GC at most half of the time).
 */
export function limiterAllowsCycle(h: MHeap): boolean {
  if (!limiting(h)) return true;
  return (epochMs() - h.views.f64[h.stats + ST_LIMITER_LAST]) * 1e6 >= cycleCostNs(h);
}

/** How many recent cycles cycleCostNs looks at. */
export const cycleCostWindow = 5;

/**
 * What a GC cycle costs, for the limiter: the median pause of the last
 * {@link cycleCostWindow} cycles (of fewer before the fifth; 0 before the first). JS
 * difference: Go's limiter counts the CPU time of GC work; a JS thread can only measure
 * wall time, which the OS inflates whenever it takes the CPU away in the middle of a
 * cycle (on a loaded machine one cycle in a few hundred measured 50-100 times its usual
 * length here, and holding cycles off for that long let the heap grow by tens of MiB).
 * The median ignores such a cycle and follows the real changes of the cost.
 */
export function cycleCostNs(h: MHeap): number {
  const f64 = h.views.f64, st = h.stats;
  const numGC = f64[st + ST_NUM_GC];
  const n = Math.min(numGC, cycleCostWindow);
  const v = recentPauses;
  for (let i = 0; i < n; i++) { // insertion sort of the last n pauses
    const x = f64[st + ST_PAUSE_NS + ((numGC - 1 - i) % 256)];
    let j = i;
    for (; j > 0 && v[j - 1] > x; j--) v[j] = v[j - 1];
    v[j] = x;
  }
  if (n === 0) return 0;
  return (n & 1) === 1 ? v[n >>> 1] : (v[(n >>> 1) - 1] + v[n >>> 1]) / 2;
}

/** Scratch for cycleCostNs (a cycle's end runs in one thread at a time per context). */
const recentPauses = new Float64Array(cycleCostWindow);

/** This thread's monotonic clock in ms (for durations measured within one thread). */
export function now(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

/** Wall-clock ms since the epoch, comparable between threads (performance.now is per thread). */
export function epochMs(): number {
  return typeof performance !== 'undefined' ? performance.timeOrigin + performance.now() : Date.now();
}

/**
 * Account the GC cycle that ended at nowMs (ms since the epoch) to the GC CPU limiter (Go:
 * gcCPULimiterState.accumulate): its cost (cycleCostNs, which includes it: the pause ring
 * has it already) fills the bucket, the rest of the time since the previous cycle drains
 * it. GC lock held.
 */
export function limiterAccumulate(h: MHeap, nowMs: number): void {
  const f64 = h.views.f64, st = h.stats;
  const gcNs = cycleCostNs(h);
  const last = f64[st + ST_LIMITER_LAST];
  const elapsedNs = last === 0 ? gcNs : Math.max(gcNs, (nowMs - last) * 1e6);
  const change = gcNs - (elapsedNs - gcNs);
  f64[st + ST_LIMITER_FILL] = Math.min(limiterCapacity, Math.max(0, f64[st + ST_LIMITER_FILL] + change));
  f64[st + ST_LIMITER_LAST] = nowMs;
}

/**
 * Validate a memory limit given by a user: bytes, a non-negative integer or Infinity.
 * Go's debug.SetMemoryLimit treats a negative value as "only read"; goheap has a
 * getter for that (heap.memoryLimit), so a negative value is an error.
 */
export function checkMemoryLimit(bytes: number, what: string): number {
  if (bytes === Infinity || (Number.isSafeInteger(bytes) && bytes >= 0)) return bytes;
  throw new InvalidArgumentError(`${what}: the memory limit must be a non-negative integer number of bytes or Infinity (no limit), got ${String(bytes)}`);
}
