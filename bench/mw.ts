/**
 * mw.ts — the child-process side of the (e) multi-worker workloads (called by child.ts).
 *
 * Creates the shared heap (goheap) in the child's main thread, starts the workers
 * (bench/mw-worker.ts through bench/mw-bootstrap.mjs; goheap workers with
 * spawnHeapWorker, so each has its own P and mcache), waits until every worker has warmed
 * up, records t0 and releases them all at once through an Atomics barrier, and takes the
 * wall time as (latest worker finish − t0), both read from process.hrtime.bigint() (one
 * monotonic clock for every thread). The main thread sleeps in the event loop meanwhile,
 * so the workers have the 2 cores to themselves.
 *
 *   churn:    ops = total ops of all workers; nsPerOp = wall ÷ ops (aggregate ops/s = 1e9 ÷ nsPerOp)
 *   prodcons: ops = objects moved;            nsPerOp = wall ÷ objects
 *
 * @module
 */
import { fork } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { spawnHeapWorker } from '../src/node.js';
import { GoHeapAllocator } from './allocators.js';
import { readRss, type RunResult } from './common.js';
import { CTL_START, RING_BASE, RING_CAP, type MwParams } from './mw-protocol.js';
import type { WorkloadSpec } from './workloads.js';

/** The bump allocator's churn runs this many times more ops (it is ~50–100× faster; keeps its runs ≥ 100 ms, so the barrier latency does not dominate). */
export const BUMP_OPS_FACTOR = 32;

interface Msg { ready?: boolean; done?: boolean; ns?: number; ops?: number; check?: number }

export async function runMultiWorker(allocator: string, spec: WorkloadSpec, scale: number, result: RunResult): Promise<void> {
  const g = globalThis as { gc?: () => void };
  if (g.gc) g.gc();
  const base = readRss();
  const n = spec.workers ?? 1;
  const factor = allocator === 'bump' ? BUMP_OPS_FACTOR : 1;
  const warmupOps = Math.max(1, Math.floor(spec.warmupOps * factor / scale));
  const ops = Math.max(1, Math.floor(spec.measureOps * factor / scale));
  result.warmupOps = warmupOps;
  result.workers = n;
  result.bestBatchNsPerOp = NaN;
  result.batches = 1;
  if (allocator === 'goheap-proc') {
    await runProcesses(n, warmupOps, ops, result);
    return;
  }
  const ctl = new SharedArrayBuffer(64);
  const times = new SharedArrayBuffer(8 * (1 + n));
  const ring = spec.kind === 'mw-prodcons' ? new SharedArrayBuffer(4 * (RING_BASE + RING_CAP)) : undefined;
  const goheap = allocator === 'goheap' ? new GoHeapAllocator() : null;
  const entry = new URL('./mw-worker.ts', import.meta.url).href;
  const boot = new URL('./mw-bootstrap.mjs', import.meta.url);

  const workers: Worker[] = [];
  for (let id = 0; id < n; id++) {
    const role: MwParams['role'] = spec.kind === 'mw-churn' ? 'churn' : id === 0 ? 'producer' : 'consumer';
    const data: MwParams = { entry, role, allocator, id, warmupOps, ops, ctl, times, ring, ringCap: RING_CAP };
    // 'goheap-private': each worker gets a heap of its own, so nothing is shared — the
    // machine's own scaling for code that touches as much memory as goheap does.
    const own = allocator === 'goheap-private' ? new GoHeapAllocator().heap : null;
    workers.push(goheap !== null || own !== null
      ? spawnHeapWorker((goheap?.heap ?? own)!, boot, { workerData: data, execArgv: [] })
      : new Worker(boot, { workerData: { data }, execArgv: [] }));
  }

  const ctlI32 = new Int32Array(ctl);
  const tArr = new BigInt64Array(times);
  const done: Required<Pick<Msg, 'ns' | 'ops' | 'check'>>[] = [];
  let ready = 0;
  await new Promise<void>((resolve, reject) => {
    let exited = 0;
    for (const w of workers) {
      w.on('message', (m: Msg) => {
        if (m.ready === true && ++ready === n) {
          tArr[0] = process.hrtime.bigint();
          Atomics.store(ctlI32, CTL_START, 1);
          Atomics.notify(ctlI32, CTL_START);
        } else if (m.done === true) done.push({ ns: m.ns!, ops: m.ops!, check: m.check! });
      });
      w.on('error', (e) => {
        for (const o of workers) void o.terminate();
        reject(e);
      });
      w.on('exit', (code) => {
        if (code !== 0) { reject(new Error(`worker exited with code ${code}`)); return; }
        if (++exited === n) resolve();
      });
    }
  });
  if (done.length !== n) throw new Error(`${done.length} of ${n} workers reported`);
  let tEnd = 0n;
  for (let id = 0; id < n; id++) if (tArr[1 + id] > tEnd) tEnd = tArr[1 + id];
  const wall = Number(tEnd - tArr[0]);
  const total = spec.kind === 'mw-churn' ? ops * n : ops;
  result.ops = total;
  result.ns = wall;
  result.nsPerOp = wall / total;
  result.perWorkerNsPerOp = done.map((d) => d.ns / d.ops);
  const end = readRss();
  result.peakRssDelta = Math.max(end.rss, end.hwm) - base.rss; // includes the workers' own isolates
  if (goheap !== null) {
    const st = goheap.stats();
    result.peakReserved = st.reserved;
    result.peakCommitted = st.committed;
    result.goheap = goheap.endStats();
  }
}

/**
 * 'goheap-proc': the churn in n separate processes, each with a heap of its own (see
 * bench/mw-proc.ts). Started together by one { go } message each; wall = latest end -
 * earliest start, both on CLOCK_MONOTONIC.
 */
async function runProcesses(n: number, warmupOps: number, ops: number, result: RunResult): Promise<void> {
  const file = new URL('./mw-proc.ts', import.meta.url).pathname;
  const procs = Array.from({ length: n }, () => fork(file, [JSON.stringify({ warmupOps, ops })], { execArgv: ['--import', 'tsx'] }));
  const done: { t0: bigint; t1: bigint; ops: number }[] = [];
  await new Promise<void>((resolve, reject) => {
    let ready = 0, exited = 0;
    for (const p of procs) {
      p.on('message', (m: { ready?: boolean; done?: boolean; t0?: string; t1?: string; ops?: number }) => {
        if (m.ready === true && ++ready === n) for (const q of procs) q.send({ go: true });
        else if (m.done === true) done.push({ t0: BigInt(m.t0!), t1: BigInt(m.t1!), ops: m.ops! });
      });
      p.on('error', reject);
      p.on('exit', (code) => {
        if (code !== 0) { for (const q of procs) q.kill(); reject(new Error(`churn process exited with code ${code}`)); return; }
        if (++exited === n) resolve();
      });
    }
  });
  if (done.length !== n) throw new Error(`${done.length} of ${n} processes reported`);
  let t0 = done[0].t0, t1 = done[0].t1;
  for (const d of done) { if (d.t0 < t0) t0 = d.t0; if (d.t1 > t1) t1 = d.t1; }
  const wall = Number(t1 - t0);
  result.ops = ops * n;
  result.ns = wall;
  result.nsPerOp = wall / result.ops;
  result.perWorkerNsPerOp = done.map((d) => Number(d.t1 - d.t0) / d.ops);
  result.peakRssDelta = NaN; // the processes' memory is not this process's
}
