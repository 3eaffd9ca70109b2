/**
 * mw-proc.ts — one process of the 'goheap-proc' run of e-churn (started by bench/mw.ts).
 *
 * The machine's own ceiling for goheap's code: the same churn as an e-churn worker, on a
 * heap of its own, in a process of its own — nothing shared with the other copy, not even
 * a V8 process. Protocol over the IPC channel: warm up, send { ready }, wait for { go },
 * run the measured ops between two process.hrtime.bigint() readings (CLOCK_MONOTONIC, the
 * same clock in every process) and send { done, t0, t1, ops, check }.
 *
 * @module
 */
import { GoHeapAllocator } from './allocators.js';
import { fillWindow, makeInputs, runWindowFifo, workloads } from './workloads.js';

interface ProcArgs { warmupOps: number; ops: number }

const args = JSON.parse(process.argv[2]) as ProcArgs;
const spec = workloads.find((w) => w.id === 'window-1k-fifo')!;
const { sizes } = makeInputs(spec);
const a = new GoHeapAllocator();
const w = spec.window;
const slots = new Uint32Array(w);
fillWindow(a, slots, w, sizes);
let pos = 0, i = w;
function run(total: number, chunk: number): void {
  for (let done = 0; done < total;) {
    const n = Math.min(chunk, total - done);
    pos = runWindowFifo(a, slots, w, sizes, i, n, pos);
    i += n; done += n;
  }
}
run(args.warmupOps, 1 << 14);
await new Promise<void>((resolve) => {
  process.once('message', () => resolve());
  process.send!({ ready: true });
});
const t0 = process.hrtime.bigint();
run(args.ops, 1 << 16);
const t1 = process.hrtime.bigint();
process.send!({ done: true, t0: String(t0), t1: String(t1), ops: args.ops, check: pos }, () => process.exit(0));
