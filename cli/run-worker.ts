/**
 * run-worker.ts — one worker thread of `goheap run --workers N` (started by runWorkers in
 * run.ts, through worker-bootstrap.mjs when running from the TypeScript sources).
 *
 * It attaches to the shared heap (its own P and mcache), starts its instance of the
 * workload with its own seed, says it is ready and waits for the start signal; then it
 * runs its share of the operations (or for the duration) in batches, publishing its
 * operation count after each batch and stopping early when the main thread asks. Each GC
 * cycle it runs is posted to the main thread as it ends. At the end it detaches (its
 * mcache is flushed) and posts what it did. Errors are posted too, with their class name.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { attachFromWorkerData, userWorkerData } from '../src/node.js';
import type { Heap } from '../src/index.js';
import { CTL_GO, CTL_OPS_BYTE, CTL_START_F64, CTL_STOP, type WorkerMessage, type WorkerParams } from './run.js';
import { mulberry32, workloads } from './workloads.js';

/** Most operations per batch (as in the single-thread runner). */
const MAX_BATCH = 4096;
/** Batches per run with --ops (the single-thread runner's 2 * SAMPLES). */
const BATCHES = 800;

const P = userWorkerData<WorkerParams>();
const port = parentPort!;
const post = (m: WorkerMessage): void => port.postMessage(m);

function run(heap: Heap): void {
  const w = workloads.get(P.workload);
  if (w === undefined) throw new Error(`unknown workload ${P.workload}`);
  const ctl = new Int32Array(P.control, 0, 2);
  const counts = new BigInt64Array(P.control, CTL_OPS_BYTE, P.nworkers);
  const run = w.start(heap, mulberry32(P.seed));
  post({ type: 'ready', id: P.id });
  Atomics.wait(ctl, CTL_GO, 0);
  const startAbs = new Float64Array(P.control, 0, 2)[CTL_START_F64]!;
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  let opsDone = 0, gcCycles = 0;
  heap.onGC = (info) => {
    gcCycles++;
    let all = opsDone;
    for (let i = 0; i < P.nworkers; i++) if (i !== P.id) all += Number(Atomics.load(counts, i));
    post({ type: 'gc', id: P.id, info, at: (performance.timeOrigin + performance.now() - startAbs) / 1000, opsDone: all });
  };
  const byTime = P.duration !== null;
  const fraction = (): number => byTime ? Math.min(1, elapsed() / P.duration!) : P.ops <= 0 ? 1 : Math.min(1, opsDone / P.ops);
  const maxBatch = byTime ? MAX_BATCH : Math.max(1, Math.min(MAX_BATCH, Math.floor(P.ops / BATCHES)));
  let batch = byTime ? 64 : maxBatch;
  while (Atomics.load(ctl, CTL_STOP) === 0) {
    const f = fraction();
    if (f >= 1) break;
    const budget = byTime ? batch : Math.min(batch, P.ops - opsDone);
    const tb = performance.now();
    opsDone += run.step(f, budget);
    Atomics.store(counts, P.id, BigInt(opsDone));
    if (byTime) {
      const dt = performance.now() - tb;
      if (dt < 1 && batch < maxBatch) batch = Math.min(maxBatch, batch * 2);
      else if (dt > 4 && batch > 1) batch = Math.max(1, batch >> 1);
    }
  }
  const end = elapsed();
  heap.onGC = null;
  heap.detach();
  post({ type: 'done', id: P.id, opsDone, elapsed: end, gcCycles });
}

try {
  run(attachFromWorkerData());
} catch (e) {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', id: P.id, name: err.name, message: err.message, stack: err.stack });
}
