/**
 * worker.ts — a Web Worker of the standalone visualiser: attaches to the page's heap (its
 * own P and mcache), and runs its instance of a built-in workload (cli/workloads.ts, the
 * same code `goheap run` runs) as the page's control block says: paced at `rate`
 * operations per second while running, one batch of `stepOps` per step while paused.
 * Progress through the workload's story is its operations over `ops`; at the end it stays
 * attached, holding its live objects, until the page stops it (then it detaches).
 *
 * @module
 */
import { Heap } from '../src/heap.js';
import { mulberry32, workloads } from '../cli/workloads.js';
import {
  CTL_MODE, CTL_OPS, CTL_STATE, CTL_STEP, MODE_RUNNING, MODE_STOP, WORKER_ATTACHED, WORKER_DETACHED, WORKER_DONE,
  WORKER_FAILED, type StartMessage, type WorkerReport,
} from './protocol.js';

const scope = self as unknown as { onmessage: ((e: MessageEvent<StartMessage>) => void) | null; postMessage(m: WorkerReport): void };

/** Operations per batch while running: small, so that pausing is prompt. */
const BATCH = 512;

function run(m: StartMessage): void {
  const ctl = new Int32Array(m.ctl);
  const heap = Heap.attach(m.desc);
  const w = workloads.get(m.workload)!;
  const wl = w.start(heap, mulberry32(m.seed));
  Atomics.store(ctl, CTL_STATE + m.id, WORKER_ATTACHED);
  scope.postMessage({ type: 'attached', id: m.id, pid: heap.pid });
  let ops = 0, steps = Atomics.load(ctl, CTL_STEP);
  let credit = 0, last = performance.now();
  const batch = (budget: number): void => {
    ops += wl.step(Math.min(ops / m.ops, 0.999999), Math.max(1, Math.min(budget, m.ops - ops)));
    Atomics.store(ctl, CTL_OPS + m.id, ops);
  };
  for (;;) {
    const mode = Atomics.load(ctl, CTL_MODE);
    if (mode === MODE_STOP) break;
    const now = performance.now();
    if (ops >= m.ops) {
      if (Atomics.load(ctl, CTL_STATE + m.id) !== WORKER_DONE) {
        Atomics.store(ctl, CTL_STATE + m.id, WORKER_DONE);
        scope.postMessage({ type: 'done', id: m.id, ops });
      }
      Atomics.wait(ctl, CTL_MODE, mode, 100);
      continue;
    }
    if (mode === MODE_RUNNING) {
      credit = Math.min(credit + (now - last) * m.rate / 1000, 4 * BATCH);
      last = now;
      if (credit >= BATCH) { batch(BATCH); credit -= BATCH; }
      else Atomics.wait(ctl, CTL_MODE, mode, Math.max(1, (BATCH - credit) * 1000 / m.rate));
      continue;
    }
    last = now;
    const s = Atomics.load(ctl, CTL_STEP);
    if (s !== steps) { steps = s; batch(m.stepOps); continue; }
    Atomics.wait(ctl, CTL_MODE, mode, 50);
  }
  heap.detach();
  Atomics.store(ctl, CTL_STATE + m.id, WORKER_DETACHED);
}

scope.onmessage = (e) => {
  try {
    run(e.data);
  } catch (err) {
    const x = err instanceof Error ? err : new Error(String(err));
    Atomics.store(new Int32Array(e.data.ctl), CTL_STATE + e.data.id, WORKER_FAILED);
    scope.postMessage({ type: 'error', id: e.data.id, name: x.name, message: x.message });
  }
};
