/**
 * mw-protocol.ts — what the multi-worker benchmark's main thread (mw.ts) and its workers
 * (mw-worker.ts) share: the worker's parameters, the control buffer and the ring layout.
 *
 * @module
 */

/** SPSC ring entries (power of two). */
export const RING_CAP = 1024;
/** i32 index of the start flag in the control buffer. */
export const CTL_START = 0;
/** Ring layout (i32 indices): head (consumer's) at 0, tail (producer's) at 16 — 64 bytes apart — entries from 32. */
export const RING_HEAD = 0, RING_TAIL = 16, RING_BASE = 32;

/** workerData.data of a benchmark worker. */
export interface MwParams {
  entry: string;
  role: 'churn' | 'producer' | 'consumer';
  /** 'goheap' (attached to the shared heap), 'goheap-private' (attached to a heap of its own), 'bump' (own array) or 'copy' (no allocator). */
  allocator: string;
  id: number;
  warmupOps: number;
  ops: number;
  ctl: SharedArrayBuffer;
  times: SharedArrayBuffer;
  ring?: SharedArrayBuffer;
  ringCap?: number;
}
