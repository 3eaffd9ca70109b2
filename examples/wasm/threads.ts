/**
 * threads.ts — binary-trees on N wasm threads sharing one goheap heap, for Node
 * worker_threads and browser Web Workers alike (no Node API here: the caller supplies the
 * workers). Used by main.ts (`npm run example:wasm`), the tests and bench/wasm.ts.
 *
 * The main thread creates the heap (backend 'wasm', with the static region the module's
 * data segment is compiled for), instantiates the module itself (its P, its stack), builds
 * the benchmark's stretch tree and its long-lived tree, makes one ring per worker with
 * heap.calloc (written through heap.u32), and builds one tree in JavaScript. Each worker
 * attaches (its own P), instantiates the same module over the same memory with its own
 * shadow stack from heap.stackAlloc, and runs every depth: it builds its share of the
 * trees and pushes them to the next worker, which checks and frees them. Worker 0 also
 * checks and frees the tree JavaScript built. Finally JavaScript walks the long-lived tree
 * the wasm code built, through the heap's views, and frees it.
 *
 * @module
 */
import { Heap, instantiateOnHeap, type HeapDescriptor, type MemStats, type WasmThread } from '../../src/index.js';

/**
 * Where the module's static data goes (build.ts compiles it for this address): 1 MiB,
 * above goheap's OS header and page table for any reservation.
 */
export const STATIC_BASE = 1 << 20;
/** Size of the static region the heap sets aside for it (the data segment is ~100 bytes). */
export const STATIC_SIZE = 64 << 10;
/** Shadow stack of each wasm thread. */
export const STACK_SIZE = 64 << 10;
/** Slots of each ring. */
const RING_CAP = 256;
const R_CAP = 128;
const R_SLOTS = 192;

/** The exports of binarytrees-goheap.wasm (examples/wasm/assembly/binarytrees.ts). */
export interface BinaryTrees {
  bottomUpTree(depth: number): number;
  itemCheck(tree: number, depth: number): number;
  freeTree(tree: number, depth: number): void;
  ringNew(cap: number): number;
  churn(n: number, size: number): void;
  ringFree(ring: number): void;
  runDepth(depth: number, iterations: number, outRing: number, inRing: number, expectIn: number): number;
  finish(): void;
  /** The lowest __stack_pointer reached (the AssemblyScript module only). */
  stackLow?: WebAssembly.Global;
  __stack_pointer: WebAssembly.Global;
}

/** One depth of the plan: how many trees each worker builds. */
export interface DepthPlan {
  depth: number;
  /** Trees of this depth in the whole run: 2^(maxDepth - depth + 4). */
  iterations: number;
  /** Trees per worker (they add up to iterations). */
  shares: number[];
}

/** binary-trees' plan for maxDepth (depths 4, 6, ..., maxDepth) over n workers. */
export function plan(maxDepth: number, n: number): DepthPlan[] {
  const out: DepthPlan[] = [];
  for (let depth = 4; depth <= maxDepth; depth += 2) {
    const iterations = 2 ** (maxDepth - depth + 4);
    const shares = Array.from({ length: n }, (_, k) => Math.floor(iterations / n) + (k < iterations % n ? 1 : 0));
    out.push({ depth, iterations, shares });
  }
  return out;
}

/** Nodes of a full tree of depth d. */
export const nodes = (d: number): number => 2 ** (d + 1) - 1;

/** What the main thread posts to a worker to start it. */
export interface WorkerJob {
  /**
   * The heap to attach to; null for the baseline: a module with its own allocator
   * (binarytrees-tlsf.wasm) over its own memory, one per thread, each thread freeing its
   * own trees (its ring is its own).
   */
  desc: HeapDescriptor | null;
  wasm: Uint8Array<ArrayBuffer>;
  id: number;
  plan: DepthPlan[];
  outRing: number;
  inRing: number;
  /** A tree JavaScript built, for this worker to check and free (0: none). */
  jsTree: number;
  jsTreeDepth: number;
}

/** What a worker reports when it has run. */
export interface WorkerReport {
  id: number;
  pid: number;
  /** Sum of the checks of the trees it took, per depth. */
  checks: number[];
  /** Nodes of the JavaScript-built tree, as counted by the wasm code (0: none). */
  jsTreeCheck: number;
  stack: number;
  stackSize: number;
  /** The lowest address its shadow stack reached, -1 if the module does not say. */
  stackLow: number;
  /** Milliseconds from 'go' to the end of its last depth. */
  elapsedMs: number;
}

/** The messaging a worker needs, in Node and in browsers. */
export interface Port {
  post(msg: unknown): void;
  onMessage(cb: (msg: unknown) => void): void;
}

/**
 * The body of a worker: attach, instantiate, report 'ready'; on 'go' run the plan and
 * report; on 'exit' free the stack, detach and say 'detached'.
 */
export function workerMain(port: Port): void {
  let heap: Heap | null = null;
  let thread: WasmThread | null = null;
  let job: WorkerJob | null = null;
  port.onMessage((m) => {
    void (async () => {
      try {
        const msg = m as { type: string; job?: WorkerJob };
        if (msg.type === 'start') {
          job = msg.job!;
          if (job.desc !== null) {
            heap = Heap.attach(job.desc);
            thread = await instantiateOnHeap(heap, job.wasm, { stackSize: STACK_SIZE });
          } else {
            thread = await instantiatePrivate(job.wasm);
            const ring = (thread.exports as unknown as BinaryTrees).ringNew(RING_CAP);
            job.inRing = job.outRing = ring;
          }
          port.post({ type: 'ready', pid: heap === null ? -1 : heap.pid });
        } else if (msg.type === 'go') {
          const ex = thread!.exports as unknown as BinaryTrees, j = job!;
          const t0 = performance.now();
          const checks: number[] = [];
          // Trees come from the thread before, or from itself when its ring is its own.
          const pred = j.outRing === j.inRing ? j.id : (j.id + j.plan[0].shares.length - 1) % j.plan[0].shares.length;
          for (const d of j.plan) checks.push(ex.runDepth(d.depth, d.shares[j.id], j.outRing, j.inRing, d.shares[pred]) >>> 0);
          const elapsedMs = performance.now() - t0;
          let jsTreeCheck = 0;
          if (j.jsTree !== 0) {
            jsTreeCheck = ex.itemCheck(j.jsTree, j.jsTreeDepth) >>> 0;
            ex.freeTree(j.jsTree, j.jsTreeDepth);
          }
          ex.finish();
          const report: WorkerReport = {
            id: j.id, pid: heap === null ? -1 : heap.pid, checks, jsTreeCheck, stack: thread!.stack, stackSize: thread!.stackSize,
            stackLow: ex.stackLow instanceof WebAssembly.Global ? (ex.stackLow.value as number) >>> 0 : -1, elapsedMs,
          };
          port.post({ type: 'done', report });
        } else if (msg.type === 'exit') {
          thread!.release();
          heap?.detach();
          port.post({ type: 'detached' });
        }
      } catch (e) {
        port.post({ type: 'error', error: e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e) });
      }
    })();
  });
}

/**
 * A baseline module (its own allocator and memory: binarytrees-tlsf.wasm, or the C
 * binarytrees-dlmalloc.wasm) as a {@link WasmThread}: its shadow stack comes from its own
 * allocator (its stackAlloc export).
 */
export async function instantiatePrivate(wasm: Uint8Array<ArrayBuffer>): Promise<WasmThread> {
  const { instance } = await WebAssembly.instantiate(wasm, { env: { abort: () => { throw new Error('abort'); } } });
  const ex = instance.exports;
  if (typeof ex._initialize === 'function') (ex._initialize as () => void)();
  const stack = (ex.stackAlloc as (n: number) => number)(STACK_SIZE);
  (ex.__stack_pointer as WebAssembly.Global).value = stack + STACK_SIZE;
  if (ex.__stack_limit instanceof WebAssembly.Global) ex.__stack_limit.value = stack;
  return { instance, exports: ex, stack, stackSize: STACK_SIZE, release: () => {} };
}

/** Run binary-trees at maxDepth with the baseline module on n workers (each its own memory and trees). */
export async function runPrivate(wasm: Uint8Array<ArrayBuffer>, maxDepth: number, n: number, spawn: () => WorkerHandle): Promise<{ elapsedMs: number; checks: number[] }> {
  const p = plan(maxDepth, n);
  const workers = Array.from({ length: n }, spawn);
  try {
    await Promise.all(workers.map((w, id) => {
      const ready = expect(w, 'ready');
      const job: WorkerJob = { desc: null, wasm, id, plan: p, outRing: 0, inRing: 0, jsTree: 0, jsTreeDepth: 0 };
      w.post({ type: 'start', job });
      return ready;
    }));
    const t0 = performance.now();
    const done = workers.map((w) => expect(w, 'done'));
    for (const w of workers) w.post({ type: 'go' });
    const reports = (await Promise.all(done)).map((m) => (m as { report: WorkerReport }).report);
    return { elapsedMs: performance.now() - t0, checks: p.map((_, i) => reports.reduce((s, r) => s + r.checks[i], 0)) };
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** A worker as the main thread sees it. */
export interface WorkerHandle extends Port {
  terminate(): void;
}

/** The result of {@link runThreads}. */
export interface ThreadsResult {
  maxDepth: number;
  workers: number;
  stretchCheck: number;
  longLivedCheck: number;
  /** The long-lived tree's nodes, counted by JavaScript through heap.u32. */
  longLivedCheckJS: number;
  /** Per depth: iterations and the sum of all workers' checks. */
  depths: Array<{ depth: number; iterations: number; check: number }>;
  jsTreeDepth: number;
  jsTreeCheck: number;
  reports: WorkerReport[];
  /** Wall time of the workers' run (from 'go' to the last 'done'), ms. */
  elapsedMs: number;
  /** Objects the run allocated (Mallocs during the run). */
  mallocs: number;
  /** MemStats while every worker is still attached (their stacks allocated). */
  during: MemStats;
  /** MemStats at the end: workers detached, gc() done. */
  after: MemStats;
  /** The main thread's stack and static region, for the tests. */
  mainStack: { stack: number; stackSize: number };
  staticData: { base: number; size: number };
  /** What check() said at the end ('ok' or the error). */
  check: string;
}

function expect(w: WorkerHandle, type: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    w.onMessage((m) => {
      const msg = m as { type: string; error?: string };
      if (msg.type === type) resolve(m);
      else if (msg.type === 'error') reject(new Error(`worker: ${msg.error}`));
    });
  });
}

/** Options of {@link runThreads}. */
export interface RunOptions {
  /** The heap's reservation; default 512 MiB. */
  reserve?: number;
  /** true (default): each thread's trees are checked and freed by the next thread; false: by itself. */
  cross?: boolean;
}

/**
 * Run binary-trees at maxDepth on `spawn`ed workers (n of them) over one new heap.
 * `spawn` starts a worker that calls {@link workerMain}.
 */
export async function runThreads(wasm: Uint8Array<ArrayBuffer>, maxDepth: number, n: number, spawn: () => WorkerHandle, opts: RunOptions = {}): Promise<ThreadsResult> {
  const { reserve = 512 << 20, cross = true } = opts;
  const heap = Heap.create({ backend: 'wasm', reserve, staticData: { base: STATIC_BASE, size: STATIC_SIZE } });
  const main = await instantiateOnHeap(heap, wasm, { stackSize: STACK_SIZE });
  const ex = main.exports as unknown as BinaryTrees;
  // The benchmark's stretch tree and long-lived tree, on the main thread.
  const stretch = ex.bottomUpTree(maxDepth + 1);
  const stretchCheck = ex.itemCheck(stretch, maxDepth + 1) >>> 0;
  ex.freeTree(stretch, maxDepth + 1);
  const longLived = ex.bottomUpTree(maxDepth);
  // Rings made by JavaScript: calloc, then the capacity written through the views.
  const rings = Array.from({ length: n }, () => {
    const r = heap.calloc(1, R_SLOTS + 4 * RING_CAP);
    heap.u32[(r + R_CAP) >>> 2] = RING_CAP;
    return r;
  });
  // A tree built by JavaScript, nodes {left, right} as the wasm code lays them out.
  const jsTreeDepth = 8;
  const jsTree = buildTreeJS(heap, jsTreeDepth);

  const p = plan(maxDepth, n);
  const workers = Array.from({ length: n }, spawn);
  try {
    await Promise.all(workers.map((w, id) => {
      const ready = expect(w, 'ready');
      const job: WorkerJob = {
        desc: heap.share(), wasm, id, plan: p, outRing: rings[cross ? (id + 1) % n : id], inRing: rings[id],
        jsTree: id === 0 ? jsTree : 0, jsTreeDepth,
      };
      w.post({ type: 'start', job });
      return ready;
    }));
    const mallocs0 = heap.readMemStats().Mallocs;
    const t0 = performance.now();
    const done = workers.map((w) => expect(w, 'done'));
    for (const w of workers) w.post({ type: 'go' });
    const reports = (await Promise.all(done)).map((m) => (m as { report: WorkerReport }).report);
    const elapsedMs = performance.now() - t0;
    const during = heap.readMemStats();
    await Promise.all(workers.map((w) => { const d = expect(w, 'detached'); w.post({ type: 'exit' }); return d; }));

    const longLivedCheck = ex.itemCheck(longLived, maxDepth) >>> 0;
    const longLivedCheckJS = countAndFreeJS(heap, longLived);
    for (const r of rings) heap.free(r);
    ex.finish();
    main.release();
    heap.gc();
    let check = 'ok';
    try { heap.check(); } catch (e) { check = String(e); }
    const after = heap.readMemStats();
    return {
      maxDepth, workers: n, stretchCheck, longLivedCheck, longLivedCheckJS,
      depths: p.map((d, i) => ({ depth: d.depth, iterations: d.iterations, check: reports.reduce((s, r) => s + r.checks[i], 0) })),
      jsTreeDepth, jsTreeCheck: reports[0].jsTreeCheck, reports, elapsedMs,
      mallocs: during.Mallocs - mallocs0, during, after,
      mainStack: { stack: main.stack, stackSize: main.stackSize }, staticData: heap.staticData!, check,
    };
  } finally {
    for (const w of workers) w.terminate();
  }
}

/** A full tree built from JavaScript with heap.malloc, written through heap.u32. */
function buildTreeJS(heap: Heap, depth: number): number {
  const node = heap.malloc(8);
  const left = depth > 0 ? buildTreeJS(heap, depth - 1) : 0;
  const right = depth > 0 ? buildTreeJS(heap, depth - 1) : 0;
  const u32 = heap.u32; // read again after allocating: the views are re-made when memory grows
  u32[node >>> 2] = left;
  u32[(node + 4) >>> 2] = right;
  return node;
}

/** Count the nodes of a tree the wasm code built, reading it through heap.u32, and free them. */
function countAndFreeJS(heap: Heap, tree: number): number {
  const u32 = heap.u32;
  const todo = [tree];
  let n = 0;
  while (todo.length > 0) {
    const node = todo.pop()!;
    n++;
    const l = u32[node >>> 2], r = u32[(node + 4) >>> 2];
    if (l !== 0) todo.push(l, r);
    heap.free(node);
  }
  return n;
}

/** The report `npm run example:wasm` prints. */
export function formatResult(r: ThreadsResult): string {
  const lines = [`binary-trees, depth ${r.maxDepth}, on ${r.workers} wasm thread${r.workers === 1 ? '' : 's'} sharing one goheap heap`];
  lines.push(`stretch tree of depth ${r.maxDepth + 1}\t check: ${r.stretchCheck}`);
  for (const d of r.depths) lines.push(`${d.iterations}\t trees of depth ${d.depth}\t check: ${d.check}`);
  lines.push(`long lived tree of depth ${r.maxDepth}\t check: ${r.longLivedCheck} (counted again from JavaScript: ${r.longLivedCheckJS})`);
  lines.push(`tree built by JavaScript, depth ${r.jsTreeDepth}, checked and freed by wasm thread 0: ${r.jsTreeCheck} nodes`);
  lines.push(`${r.mallocs.toLocaleString('en-US')} objects allocated in ${(r.elapsedMs / 1000).toFixed(2)} s by the workers; every tree freed by the thread after the one that built it`);
  for (const w of r.reports) {
    const low = w.stackLow < 0 ? '' : ` reached down to ${w.stackLow}`;
    lines.push(`  thread ${w.id}: P ${w.pid}, stack [${w.stack}, ${w.stack + w.stackSize})${low}, ${w.elapsedMs.toFixed(0)} ms`);
  }
  return lines.join('\n');
}
