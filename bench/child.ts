/**
 * child.ts — one benchmark run: one allocator, one workload, in a fresh process.
 *
 *   node --expose-gc --import tsx bench/child.ts '{"allocator":"goheap","workload":"pairs","run":1,...}'
 *
 * Steps: generate the inputs (not timed); take the RSS baseline; create the allocator;
 * prefill the live window (timed separately, reported as fillMs); warm up (same loop, not
 * part of the result: at least the workload's warmupOps and at least warmupMs, so that the
 * loop and the allocator — its rarely run slow paths too — are optimised by TurboFan
 * before timing; the mean over the first warmupOps is kept as coldNsPerOp); then the
 * measured phase: batches of ops, each timed with process.hrtime.bigint() around the whole
 * batch. Statistics (memory) are read only between batches. The result is one line on
 * stdout: `RESULT {json}`.
 *
 * @module
 */
import {
  BumpAllocator, GoHeapAllocator, ThingAllocator, TlsfAllocator, Uint8ArrayAllocator, type AllocatorName,
} from './allocators.js';
import { readRss, type Allocator, type AllocatorStats, type RunResult } from './common.js';
import { runMultiWorker } from './mw.js';
import {
  INPUT_MASK, allWorkloads, fillWindow, liveBytes, makeInputs, runPairs, runWindowFifo, runWindowRandom,
  type WorkloadInputs, type WorkloadSpec,
} from './workloads.js';

/** What run.ts passes to a child. */
export interface ChildArgs {
  /** An allocator, or (e) only: 'copy' (the producer/consumer baseline without allocator). */
  allocator: AllocatorName | 'copy' | 'goheap-private' | 'goheap-proc';
  workload: string;
  run: number;
  /** Divide the op counts by this (--quick). */
  scale: number;
  /** Warm up for at least this long (and at least the workload's warmupOps)... */
  warmupMs: number;
  /** ...but never longer than this (times the workload's warmupCapScale). */
  warmupCapMs: number;
  measureCapMs: number;
  wasmPath: string;
}

/** One way of driving a workload: the JS loops over an Allocator, or the loops inside wasm. */
interface Driver {
  fill(): void;
  /** Run n ops, op numbers [start, start + n). */
  run(start: number, n: number): void;
  stats(): AllocatorStats;
}

function jsDriver(a: Allocator, spec: WorkloadSpec, inp: WorkloadInputs): Driver {
  const { sizes, victims } = inp;
  const w = spec.window;
  const slots = new Uint32Array(Math.max(w, 1));
  let pos = 0;
  const stats = () => a.stats();
  switch (spec.kind) {
    case 'pairs':
      return { fill() { /* nothing live */ }, run(start, n) { runPairs(a, sizes, start, n); }, stats };
    case 'window-fifo':
      return {
        fill() { fillWindow(a, slots, w, sizes); },
        run(start, n) { pos = runWindowFifo(a, slots, w, sizes, w + start, n, pos); },
        stats,
      };
    case 'window-random':
      return {
        fill() { fillWindow(a, slots, w, sizes); },
        run(start, n) { runWindowRandom(a, slots, sizes, victims, w + start, n); },
        stats,
      };
    default:
      throw new Error(`${spec.kind}: not a single-thread workload`);
  }
}

/** The as-tlsf-wasm peer: inputs copied into wasm memory, the loops of tlsf.ts. */
function wasmDriver(t: TlsfAllocator, spec: WorkloadSpec, inp: WorkloadInputs): Driver {
  const x = t.x;
  const place = (arr: Uint32Array): number => {
    const p = x.malloc(arr.byteLength) >>> 0;
    new Uint32Array(x.memory.buffer, p, arr.length).set(arr);
    t.harnessBytes += arr.byteLength;
    return p;
  };
  const sizes = place(inp.sizes);
  const victims = spec.kind === 'window-random' ? place(inp.victims) : 0;
  const w = spec.window;
  const slots = w > 0 ? place(new Uint32Array(w)) : 0;
  let pos = 0;
  const stats = () => t.stats();
  switch (spec.kind) {
    case 'pairs':
      return { fill() { /* nothing live */ }, run(start, n) { x.runPairs(sizes, INPUT_MASK, start, n); }, stats };
    case 'window-fifo':
      return {
        fill() { x.fillWindow(slots, w, sizes, INPUT_MASK); },
        run(start, n) { pos = x.runWindowFifo(slots, w, sizes, INPUT_MASK, w + start, n, pos); },
        stats,
      };
    case 'window-random':
      return {
        fill() { x.fillWindow(slots, w, sizes, INPUT_MASK); },
        run(start, n) { x.runWindowRandom(slots, sizes, victims, INPUT_MASK, w + start, n); },
        stats,
      };
    default:
      throw new Error(`${spec.kind}: not a single-thread workload`);
  }
}

function makeAllocator(args: ChildArgs, spec: WorkloadSpec): Allocator {
  switch (args.allocator) {
    case 'goheap': return new GoHeapAllocator();
    case 'thing-mempool': return new ThingAllocator(spec.capacity);
    case 'as-tlsf': return new TlsfAllocator(args.wasmPath);
    case 'as-tlsf-wasm': return new TlsfAllocator(args.wasmPath, 'as-tlsf-wasm');
    // A small ring for small objects, so the wrap-around branch is taken during warm-up.
    case 'bump': return new BumpAllocator(spec.sizes === 'large64k-4m' ? 256 << 20 : 16 << 20);
    case 'uint8array': return new Uint8ArrayAllocator(Math.max(spec.window, 1));
    case 'copy': throw new Error('copy: only for e-prodcons');
    case 'goheap-private': case 'goheap-proc': throw new Error(`${args.allocator}: only for e-churn`);
  }
}

interface PhaseResult {
  ops: number; ns: number; batches: number; best: number; batchSize: number; capped: boolean;
  /** Mean ns per op over the first maxOps ops (all of them if the cap came first). */
  coldNsPerOp: number;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const args = JSON.parse(process.argv[2]) as ChildArgs;
  const spec = allWorkloads.find((w) => w.id === args.workload);
  if (spec === undefined) throw new Error(`unknown workload ${args.workload}`);
  const result: RunResult = {
    allocator: args.allocator, workload: spec.id, run: args.run, ok: false,
    ops: 0, batches: 0, ns: 0, nsPerOp: NaN, bestBatchNsPerOp: NaN, warmupOps: 0, capped: false,
    fillMs: 0, peakLive: 0, endLive: 0, peakReserved: 0, peakCommitted: 0, peakRssDelta: 0, wallMs: 0,
  };
  try {
    if (spec.group === 'e') {
      await runMultiWorker(args.allocator, spec, args.scale, result);
      result.ok = true;
      result.wallMs = performance.now() - t0;
      process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
      return;
    }
    const inp = makeInputs(spec);
    const g = globalThis as { gc?: () => void };
    if (g.gc) g.gc();
    const base = readRss();
    let peakRss = base.rss;
    const a = makeAllocator(args, spec);
    const driver = args.allocator === 'as-tlsf-wasm' ? wasmDriver(a as TlsfAllocator, spec, inp) : jsDriver(a, spec, inp);
    const sample = (): void => {
      const s = driver.stats();
      if (s.reserved > result.peakReserved) result.peakReserved = s.reserved;
      if (s.committed > result.peakCommitted) result.peakCommitted = s.committed;
      const r = readRss().rss;
      if (r > peakRss) peakRss = r;
    };

    const f0 = process.hrtime.bigint();
    driver.fill();
    result.fillMs = Number(process.hrtime.bigint() - f0) / 1e6;
    sample();

    const warmupOps = Math.max(1, Math.floor(spec.warmupOps / args.scale));
    const measureOps = Math.max(1, Math.floor(spec.measureOps / args.scale));
    // A batch is never more than 1/16 of the measured ops, so there are >= 16 timed batches.
    const maxBatch = Math.max(1, measureOps >> 4);

    // maxOps: the ops to run (measure), or at least (warm-up, which also runs minMs).
    const phase = (start: number, maxOps: number, minMs: number, capMs: number, firstBatch: number, measure: boolean): PhaseResult => {
      const capNs = capMs * 1e6, minNs = minMs * 1e6;
      const targetNs = (measure ? capNs : Math.min(capNs, Math.max(minNs, 1))) / 24;
      let batch = Math.min(firstBatch, maxBatch), done = 0, ns = 0, batches = 0, best = Infinity, coldNs = NaN;
      while ((done < maxOps || ns < minNs) && ns < capNs) {
        const n = done < maxOps ? Math.min(batch, maxOps - done) : batch; // past maxOps: warm-up running out minMs
        const b0 = process.hrtime.bigint();
        driver.run(start + done, n);
        const el = Number(process.hrtime.bigint() - b0);
        done += n; ns += el; batches++;
        if (el / n < best) best = el / n;
        if (Number.isNaN(coldNs) && done >= maxOps) coldNs = ns / done;
        // Statistics are read between measured batches; between warm-up batches too, so that
        // the measured phase runs no code the warm-up has not (goheap's readMemStats flushes
        // the mcache, and the first refills after it used to deopt in the first measured batches).
        if (measure) sample(); else driver.stats();
        // Grow (never shrink below 16) the batch towards targetNs per batch.
        const want = Math.floor(n * targetNs / Math.max(el, 1));
        batch = Math.max(16, Math.min(maxBatch, want, batch * 4));
      }
      return { ops: done, ns, batches, best, batchSize: batch, capped: done < maxOps, coldNsPerOp: Number.isNaN(coldNs) ? ns / done : coldNs };
    };

    const warmScale = spec.warmupCapScale ?? 1;
    const warm = phase(0, warmupOps, args.warmupMs * warmScale, Math.max(args.warmupMs, args.warmupCapMs) * warmScale, 16, false);
    result.warmupOps = warm.ops;
    result.coldNsPerOp = warm.coldNsPerOp;
    sample();
    const m = phase(warm.ops, measureOps, 0, args.measureCapMs, warm.batchSize, true);
    result.ops = m.ops;
    result.ns = m.ns;
    result.batches = m.batches;
    result.nsPerOp = m.ns / m.ops;
    result.bestBatchNsPerOp = m.best;
    result.capped = m.capped;
    const live = liveBytes(spec, inp, warm.ops + m.ops);
    result.peakLive = live.peak;
    result.endLive = live.end;
    const end = readRss();
    result.peakRssDelta = Math.max(peakRss, end.hwm > base.hwm ? end.hwm : 0) - base.rss;
    if (a instanceof GoHeapAllocator) result.goheap = a.endStats();
    result.ok = true;
  } catch (e) {
    const err = e as Error;
    result.error = `${err.name}: ${err.message}${err.stack ? '\n' + err.stack.split('\n').slice(1, 6).join('\n') : ''}`;
  }
  result.wallMs = performance.now() - t0;
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

await main();
