// Entry of the worker threads of `goheap run --workers N` when goheap runs from its
// TypeScript sources: Node 20 does not apply the main thread's loader hooks (tsx) to a
// worker, so register tsx here first, then load the worker module named in
// workerData.data.entry (cli/run-worker.ts). The compiled build (dist/cli/run.js) starts
// dist/cli/run-worker.js directly and does not use this file.
import { workerData } from 'node:worker_threads';

const entry = workerData.data.entry;
if (/\.[cm]?ts$/.test(new URL(entry).pathname)) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
