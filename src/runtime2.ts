/**
 * runtime2.ts — the P struct (Go: type p in src/runtime/runtime2.go).
 *
 * A P is what an allocating context owns: its mcache and its own statistics block. The
 * creating thread gets P 0; each worker that attaches gets the first free P. P structs
 * live in the heap header's allp table and are reused when their context detaches or is
 * reclaimed.
 *
 * @module
 */
import { P_STATS_SIZE } from './mstats.js';

/**
 * P struct (64 + P_STATS_SIZE bytes, persistentalloc'd, other_sys; reused by later
 * contexts once its owner detaches or is reclaimed):
 *
 *   offset  size   field
 *     0      4     status     P_IDLE / P_RUNNING / P_RESERVED (i32, Atomics)
 *     4      4     mcache     address of this P's mcache
 *     8      4     epoch      bumped each time the P is handed to a new context
 *    12      4     sweeping   sweeps this P has in progress (Go: sweep.active, per P so that
 *                             a dead worker's share can be taken back)
 *    16      4     sweepSpan  the span this P is sweeping (0 = none), for reclaimP
 *    20      4     spanInHand a span this P has taken out of every place (its mcache, an mcentral
 *                             set, the page heap) and not yet put in another (0 = none), so
 *                             that reclaimP can put back the one a dead context was holding
 *                             (MHeap.inHandWord)
 *    24     40     (pad to 64)
 *    64   1152     stats      this P's statistics block (mstats.ts, per-P slots)
 *  1216      4     mspancache.len   mspan structs cached (Go: p.mspancache)
 *  1220    512     mspancache.buf   up to 128 mspan struct addresses
 *  1732      4     sweep.phase      0, or SWEEP_COMMITTED once the sweep of sweepSpan has
 *                                   changed the span's counts and statistics
 *  1736      4     sweep.freeindex  the span's freeindex when the sweep began
 *  1740    128     sweep.taken[32]  the freed-bit words the sweep took, so that reclaimP
 *                                   can finish a sweep its context died in (mgcsweep.ts)
 *  1868            end (P_SIZE rounds up to a cache line)
 */
export const P_STATUS = 0;
export const P_MCACHE = 4;
export const P_EPOCH = 8;
export const P_SWEEPING = 12;
export const P_SWEEPSPAN = 16;
export const P_INHAND = 20;
export const P_STATS = 64;
export const P_MSPANCACHE_LEN = P_STATS + P_STATS_SIZE;
export const P_MSPANCACHE_BUF = P_MSPANCACHE_LEN + 4;
/** Capacity of a P's mspan cache, and how many structs a refill takes (Go: 128 and 64). */
export const mspanCacheCap = 128;
export const mspanCacheRefill = 64;
/** The P's sweep journal (see the layout above). */
export const P_SWEEP_PHASE = P_MSPANCACHE_BUF + 4 * mspanCacheCap;
export const P_SWEEP_FREEINDEX = P_SWEEP_PHASE + 4;
export const P_SWEEP_TAKEN = P_SWEEP_FREEINDEX + 4;
/** Freed-bit words of the largest span (1024 slots of 8 B): 2 per 64 slots. */
export const SWEEP_TAKEN_WORDS = 32;
export const P_SIZE = Math.ceil((P_SWEEP_TAKEN + 4 * SWEEP_TAKEN_WORDS) / 64) * 64;
/** Free: any context may take it. */
export const P_IDLE = 0;
/** Owned by an attached context. */
export const P_RUNNING = 1;
/** Set aside for a worker that is being started (spawnHeapWorker). */
export const P_RESERVED = 2;
