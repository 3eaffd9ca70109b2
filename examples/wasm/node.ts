/**
 * node.ts — runs the wasm example on Node worker_threads (used by main.ts, the test and
 * the benchmark).
 *
 * @module
 */
import { Worker } from 'node:worker_threads';
import { readFile } from 'node:fs/promises';
import { buildWasm, cModules } from './build.js';
import { runThreads, type RunOptions, type ThreadsResult, type WorkerHandle } from './threads.js';

/** A Node worker thread running node-worker.ts. */
export function spawnNodeWorker(): WorkerHandle {
  const w = new Worker(new URL('./node-worker.mjs', import.meta.url));
  return {
    post: (m) => w.postMessage(m),
    onMessage: (cb) => {
      w.on('message', cb);
      w.on('error', (e) => cb({ type: 'error', error: String(e) }));
    },
    terminate: () => { void w.terminate(); },
  };
}

/**
 * Build the module if needed and run binary-trees at maxDepth on n Node worker threads;
 * `c`: the C version (c/binarytrees-goheap.wasm) instead of the AssemblyScript one.
 */
export async function runOnNode(maxDepth: number, n: number, opts: RunOptions & { c?: boolean } = {}): Promise<ThreadsResult> {
  const path = opts.c === true ? cModules.goheap : (await buildWasm()).goheap;
  const wasm = new Uint8Array(await readFile(path));
  return runThreads(wasm, maxDepth, n, spawnNodeWorker, opts);
}
