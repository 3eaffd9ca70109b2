/**
 * node.ts — Node.js helpers for sharing a heap with worker_threads (entry point
 * `goheap/node`; the core itself uses no Node API).
 *
 * serveVisualiser shows a heap in the browser visualiser while the program runs (vis/server.ts).
 *
 * spawnHeapWorker starts a worker with a P set aside for it and reclaims that P when the
 * worker exits, however it exits (returns, throws, or is terminated), and however many
 * exit at once, in any order: the spans its mcache held go back to their mcentrals, so a
 * dead worker loses no memory.
 *
 * @module
 */
import { Worker, workerData, type WorkerOptions } from 'node:worker_threads';
import { Heap, type HeapDescriptor } from './heap.js';
import { DetachedHeapError, InvalidArgumentError } from './errors.js';

export { serveVisualiser, type VisualiserOptions, type VisualiserServer } from '../vis/server.js';

/** The key under which spawnHeapWorker puts the descriptor in workerData. */
export const WORKER_DATA_KEY = 'goheap';

/**
 * Start `file` in a worker thread attached to `heap`. The worker calls
 * {@link attachFromWorkerData} to get its Heap. `options.workerData` is passed through as
 * `workerData.data`.
 */
export function spawnHeapWorker(heap: Heap, file: string | URL, options: WorkerOptions = {}): Worker {
  const desc = heap.share(true);
  const worker = new Worker(file, { ...options, workerData: { [WORKER_DATA_KEY]: desc, data: options.workerData } });
  worker.once('exit', () => {
    if (heap.markDead(desc.pid, desc.epoch)) reclaimSoon(heap);
  });
  return worker;
}

/** Heaps with a reclaim retry scheduled. */
const retrying = new WeakSet<Heap>();

/**
 * Reclaim the heap's dead Ps now, and again shortly while some are left: a P whose repair
 * needs a lock held by a live worker, or by a worker that died too but whose exit has not
 * been seen yet, is reclaimed on a later turn of the event loop (never waited for here:
 * the exit of the other worker could not be seen while this thread waits).
 */
function reclaimSoon(heap: Heap): void {
  let left: number;
  try {
    left = heap.reclaimDead();
  } catch (e) {
    if (e instanceof DetachedHeapError) return; // the spawning handle is gone: nobody to reclaim with
    throw e;
  }
  if (left === 0 || retrying.has(heap)) return;
  retrying.add(heap);
  setTimeout(() => { retrying.delete(heap); reclaimSoon(heap); }, 1);
}

/** In a worker started by spawnHeapWorker: attach to the heap (own P and mcache). */
export function attachFromWorkerData(): Heap {
  const d = workerData as { [WORKER_DATA_KEY]?: HeapDescriptor } | null;
  if (d === null || typeof d !== 'object' || d[WORKER_DATA_KEY] === undefined) {
    throw new InvalidArgumentError('attachFromWorkerData: this worker was not started by spawnHeapWorker');
  }
  return Heap.attach(d[WORKER_DATA_KEY]);
}

/** The workerData that was passed to spawnHeapWorker's options. */
export function userWorkerData<T = unknown>(): T {
  return (workerData as { data: T }).data;
}
