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
import type { HeapViews } from './mem.js';
import type { MHeap } from './mheap.js';
import type { BackgroundScavenger, ScavTraceInfo } from './mgcscavenge.js';
import {
  type MCachePtr, type SpanPtr,
} from './layout.js';

// The P struct: P_* offsets and p*/setP* accessors in layout.ts (generated).

/** Free: any context may take it. */
export const P_IDLE = 0;
/** Owned by an attached context. */
export const P_RUNNING = 1;
/** Set aside for a worker that is being started (spawnHeapWorker). */
export const P_RESERVED = 2;
/** Its context is gone (Heap.markDead / reclaimP): waiting to be reclaimed (proc.ts). */
export const P_DEAD = 3;
/** A reclaim of this dead P is in progress (back to P_DEAD if it must wait for a lock). */
export const P_RECLAIMING = 4;

/** What the allocation paths need from the calling P: its heap handle and mcache. */
export interface MallocContext {
  /** The heap. */
  readonly h: MHeap;
  /** The heap's views (h.views, one load nearer for the fast paths). */
  readonly views: HeapViews;
  /** Address of this P's mcache. */
  readonly mcache: MCachePtr;
  /** Address of the heap's emptymspan. */
  readonly emptymspan: SpanPtr;
  /** The list id of a span in this P's mcache (LIST_MCACHE + pid; see freeObject). */
  readonly cacheTag: number;
  /**
   * cacheTag | LIST_RETAINED: a span's list id ORed with LIST_RETAINED equals this when the
   * span is in this P's mcache, in a slot or on its retained list (freeFast's one test).
   */
  readonly heldTag: number;
  /** Word index of this P's mcache alloc array, (mcache >>> 2) + MCW_ALLOC (mallocgc). */
  readonly allocWords: number;
  /**
   * Word index of the heap's arena table (MHeap.arenas >>> 2): freeFast's first step from a
   * pointer to its span. The table has an entry for every 64 MiB of the 32-bit address
   * space (0 where there is no arena), so any u32 indexes it.
   */
  readonly arenaWords: number;
  /** h.solo, one load nearer for the free and tiny paths: no other thread runs a P of this heap. */
  readonly solo: boolean;
  /** Called after every GC cycle this context runs (gctrace), or null. */
  onGC: ((info: GCCycleInfo) => void) | null;
  /** Called with a scavtrace line after every GC cycle this context runs, or null. */
  onScavenge: ((t: ScavTraceInfo) => void) | null;
  /** This context's background scavenger (woken after its GC cycles), or null. */
  readonly scavenger: BackgroundScavenger | null;
}


/** What one GC cycle did (for gctrace-style reporting). */
export interface GCCycleInfo {
  /** Cycle number (1-based, like gctrace's gc N). */
  cycle: number;
  /** True for gc() / freeOSMemory(), false for a cycle the pacer started. */
  forced: boolean;
  /** HeapAlloc when the cycle started. */
  heapBefore: number;
  /** Live bytes (HeapAlloc without the freed, unswept objects) at the end of the cycle. */
  heapMarked: number;
  /** HeapAlloc after the cycle (equal to heapMarked when the cycle swept everything). */
  heapAfter: number;
  /** The next heap goal (NextGC). */
  goal: number;
  /** Wall time of the cycle in nanoseconds. */
  pauseNs: number;
}
