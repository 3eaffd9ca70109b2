/**
 * node.ts — Node.js helpers for sharing a heap with worker_threads (entry point
 * `goheap/node`; the core itself uses no Node API).
 *
 * serveVisualiser shows a heap in the browser visualiser while the program runs (vis/server.ts).
 *
 * spawnHeapWorker starts a worker with a P set aside for it and reclaims that P when the
 * worker exits, however it exits (returns, throws, or is terminated): the spans its
 * mcache held go back to their mcentrals, so a dead worker loses no memory.
 *
 * @module
 */
import { Worker, workerData, type WorkerOptions } from 'node:worker_threads';
import { Heap, type HeapDescriptor } from './heap.js';
import { InvalidArgumentError } from './errors.js';

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
  worker.once('exit', () => { heap.reclaimP(desc.pid, desc.epoch); });
  return worker;
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
