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
// The P struct: P_* offsets and p*/setP* accessors in layout.ts (generated).

/** Capacity of a P's mspan cache, and how many structs a refill takes (Go: 128 and 64). */
export const mspanCacheCap = 128;
export const mspanCacheRefill = 64;
/** Free: any context may take it. */
export const P_IDLE = 0;
/** Owned by an attached context. */
export const P_RUNNING = 1;
/** Set aside for a worker that is being started (spawnHeapWorker). */
export const P_RESERVED = 2;
