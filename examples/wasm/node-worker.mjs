// Entry of the example's Node worker threads: Node 20 does not pass the main thread's
// loader hooks (tsx) to a worker, so register tsx here, then run node-worker.ts.
import { register } from 'tsx/esm/api';

register();
await import('./node-worker.ts');
