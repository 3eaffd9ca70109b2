// Worker bootstrap for the (e) multi-worker workloads: load the TypeScript worker named in
// workerData.data.entry through tsx (Node 20 does not apply --import hooks to a worker's
// entry file). Same as test/fixtures/ts-worker.mjs.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.data.entry);
