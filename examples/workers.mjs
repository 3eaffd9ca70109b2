// examples/workers.mjs — run it: node examples/workers.mjs
import { Heap } from 'goheap';
import { spawnHeapWorker } from 'goheap/node';

const heap = Heap.create();
const p = heap.malloc(64);                        // allocated here, freed by the worker
const worker = spawnHeapWorker(heap, new URL('./worker.mjs', import.meta.url), { workerData: p });
worker.on('exit', () => {                         // its P is back (spawnHeapWorker reclaims it)
  heap.gc();
  console.log('worker freed its object; live objects after:', heap.readMemStats().HeapObjects);
});
