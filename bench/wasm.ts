/**
 * wasm.ts — goheap as the malloc of a WebAssembly module (examples/wasm), against the same
 * module with AssemblyScript's own allocator: `npx tsx bench/wasm.ts [--depth D]
 * [--threads N] [--runs R] [--json]`.
 *
 * Cases (binary-trees at depth D: every node a malloc'd 8-byte object, every tree walked
 * and freed node by node), for the AssemblyScript module (AS) and the C one (C, clang):
 *   + goheap, 1 thread        the goheap build on the main thread; malloc/free are goheap's,
 *                             imported from JS; its trees go to its own ring.
 *   AS + TLSF, 1 thread       binarytrees-tlsf.wasm: AssemblyScript's TLSF (runtime
 *                             "minimal") inside the module, its own unshared memory.
 *   C + dlmalloc, 1 thread    binarytrees-dlmalloc.wasm: wasi-libc's malloc (dlmalloc).
 *   + goheap, N threads, freed by the next thread
 *                             N workers over one heap; each tree is checked and freed by
 *                             the next worker (frees from another thread).
 *   + goheap, N threads, each frees its own   (AS only)
 *   + TLSF / dlmalloc, N threads
 *                             N workers, each with its own module, memory and allocator
 *                             (neither is thread-safe, so they cannot share): the
 *                             private-heap ceiling.
 * and the JS <-> wasm boundary: a call from wasm to an imported JS function, a call from JS
 * to a wasm export, and one malloc+free pair of goheap made from wasm vs from JS.
 *
 * Runs are interleaved (run 1 of every case, then run 2 ...); medians are reported.
 * Timings on a shared machine vary: compare the cases of one run, as ratios.
 *
 * @module
 */
import { readFile } from 'node:fs/promises';
import { Heap, instantiateOnHeap } from '../src/index.js';
import { buildWasm, cModules } from '../examples/wasm/build.js';
import { spawnNodeWorker } from '../examples/wasm/node.js';
import {
  STACK_SIZE, STATIC_BASE, STATIC_SIZE, instantiatePrivate, plan, runPrivate, runThreads, type BinaryTrees,
} from '../examples/wasm/threads.js';
import { median } from './common.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? def : Number(process.argv[i + 1]);
}
const depth = arg('depth', 16), threads = arg('threads', 2), runs = arg('runs', 3);
const json = process.argv.includes('--json');

const paths = await buildWasm();
const goheapWasm = new Uint8Array(await readFile(paths.goheap));
const tlsfWasm = new Uint8Array(await readFile(paths.tlsf));
const boundaryWasm = new Uint8Array(await readFile(paths.boundary));
const cGoheapWasm = new Uint8Array(await readFile(cModules.goheap));
const cDlmallocWasm = new Uint8Array(await readFile(cModules.dlmalloc));

/** Nodes allocated by one binary-trees run at depth d (stretch and long-lived trees excluded). */
const nodesPerRun = plan(depth, 1).reduce((s, d) => s + d.iterations * (2 ** (d.depth + 1) - 1), 0);

/** One thread, on this thread: the plan at `depth` with a self ring; returns ms. */
function runOne(ex: BinaryTrees): number {
  const ring = ex.ringNew(256);
  const t0 = performance.now();
  for (const d of plan(depth, 1)) {
    const c = ex.runDepth(d.depth, d.iterations, ring, ring, d.iterations) >>> 0;
    if (c !== d.iterations * (2 ** (d.depth + 1) - 1)) throw new Error(`wrong check at depth ${d.depth}: ${c}`);
  }
  const ms = performance.now() - t0;
  ex.finish();
  ex.ringFree(ring);
  return ms;
}

/** One thread on a fresh goheap heap (module bytes of a goheap build). */
async function goheapOne(wasm: Uint8Array<ArrayBuffer>): Promise<number> {
  const heap = Heap.create({ backend: 'wasm', reserve: 512 << 20, staticData: { base: STATIC_BASE, size: STATIC_SIZE } });
  const t = await instantiateOnHeap(heap, wasm, { stackSize: STACK_SIZE });
  return runOne(t.exports as unknown as BinaryTrees);
}

const n = threads;
const cases: Record<string, () => Promise<number>> = {
  'AS + goheap, 1 thread': () => goheapOne(goheapWasm),
  'AS + TLSF, 1 thread': async () => runOne((await instantiatePrivate(tlsfWasm)).exports as unknown as BinaryTrees),
  'C + goheap, 1 thread': () => goheapOne(cGoheapWasm),
  'C + dlmalloc, 1 thread': async () => runOne((await instantiatePrivate(cDlmallocWasm)).exports as unknown as BinaryTrees),
  [`AS + goheap, ${n} threads, freed by the next thread`]: async () => (await runThreads(goheapWasm, depth, n, spawnNodeWorker)).elapsedMs,
  [`AS + goheap, ${n} threads, each frees its own`]: async () => (await runThreads(goheapWasm, depth, n, spawnNodeWorker, { cross: false })).elapsedMs,
  [`AS + TLSF, ${n} threads (a module and memory each)`]: async () => (await runPrivate(tlsfWasm, depth, n, spawnNodeWorker)).elapsedMs,
  [`C + goheap, ${n} threads, freed by the next thread`]: async () => (await runThreads(cGoheapWasm, depth, n, spawnNodeWorker)).elapsedMs,
  [`C + dlmalloc, ${n} threads (a module and memory each)`]: async () => (await runPrivate(cDlmallocWasm, depth, n, spawnNodeWorker)).elapsedMs,
};

const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let r = 0; r < runs; r++) {
  for (const [name, run] of Object.entries(cases)) times[name].push(await run());
}

// ----- the boundary -----------------------------------------------------------------------
const CALLS = 5_000_000;
function perCall(f: () => void, n: number): number {
  f(); // warm up
  const ts: number[] = [];
  for (let r = 0; r < 5; r++) { const t0 = performance.now(); f(); ts.push(performance.now() - t0); }
  return (median(ts) * 1e6) / n;
}
let sink = 0;
const jsNop = (x: number): number => x & 1;
const b = (await WebAssembly.instantiate(boundaryWasm, { env: { nop: jsNop } })).instance.exports as {
  callImport(n: number): number; callNone(n: number): number; id(x: number): number;
};
const wasmToJs = perCall(() => { sink += b.callImport(CALLS); }, CALLS) - perCall(() => { sink += b.callNone(CALLS); }, CALLS);
const jsToWasm = perCall(() => { for (let i = 0; i < CALLS; i++) sink += b.id(i); }, CALLS)
  - perCall(() => { for (let i = 0; i < CALLS; i++) sink += i & 1; }, CALLS);
const heap = Heap.create({ backend: 'wasm', reserve: 256 << 20, staticData: { base: STATIC_BASE, size: STATIC_SIZE } });
const bt = (await instantiateOnHeap(heap, goheapWasm)).exports as unknown as BinaryTrees;
const PAIRS = 2_000_000;
const pairFromWasm = perCall(() => bt.churn(PAIRS, 16), PAIRS);
const pairFromJs = perCall(() => { for (let i = 0; i < PAIRS; i++) heap.free(heap.malloc(16)); }, PAIRS);
const tlsf = (await instantiatePrivate(tlsfWasm)).exports as unknown as BinaryTrees;
const pairTlsf = perCall(() => tlsf.churn(PAIRS, 16), PAIRS);
const dl = (await instantiatePrivate(cDlmallocWasm)).exports as unknown as BinaryTrees;
const pairDlmalloc = perCall(() => dl.churn(PAIRS, 16), PAIRS);

const result = {
  depth, threads, runs, nodesPerRun,
  binaryTrees: Object.fromEntries(Object.entries(times).map(([k, ts]) => [k, { medianMs: median(ts), ms: ts, nsPerNode: (median(ts) * 1e6) / nodesPerRun }])),
  boundaryNs: { wasmToJsCall: wasmToJs, jsToWasmCall: jsToWasm, goheapPairFromWasm: pairFromWasm, goheapPairFromJs: pairFromJs, tlsfPairInWasm: pairTlsf, dlmallocPairInWasm: pairDlmalloc },
};
if (json) {
  console.log(JSON.stringify(result, null, 2));
} else {
  const base = median(times['AS + goheap, 1 thread']);
  console.log(`binary-trees, depth ${depth}: ${nodesPerRun.toLocaleString('en-US')} nodes allocated, walked and freed per run; median of ${runs} runs\n`);
  console.log('| case | time (ms) | ns per node | speed vs AS + goheap, 1 thread |');
  console.log('|---|---:|---:|---:|');
  for (const [k, v] of Object.entries(result.binaryTrees)) {
    console.log(`| ${k} | ${v.medianMs.toFixed(0)} | ${v.nsPerNode.toFixed(1)} | ${(base / v.medianMs).toFixed(2)}x |`);
  }
  console.log('\n| the JS <-> wasm boundary | ns per call |');
  console.log('|---|---:|');
  console.log(`| wasm calls an imported JS function (minus the loop) | ${wasmToJs.toFixed(1)} |`);
  console.log(`| JS calls a wasm export (minus the loop) | ${jsToWasm.toFixed(1)} |`);
  console.log(`| goheap malloc(16) + free, called from wasm | ${pairFromWasm.toFixed(1)} |`);
  console.log(`| goheap malloc(16) + free, called from JS | ${pairFromJs.toFixed(1)} |`);
  console.log(`| AssemblyScript TLSF malloc(16) + free inside wasm | ${pairTlsf.toFixed(1)} |`);
  console.log(`| dlmalloc (wasi-libc) malloc(16) + free inside wasm | ${pairDlmalloc.toFixed(1)} |`);
}
if (sink === 0.5) console.log(sink);
