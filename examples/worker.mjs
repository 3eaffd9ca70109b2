// examples/worker.mjs — started by examples/workers.mjs
import { attachFromWorkerData, userWorkerData } from 'goheap/node';

const h = attachFromWorkerData();                 // its own P and mcache in shared memory
h.malloc(32);                                     // an object that stays live
h.free(userWorkerData());                         // free the main thread's object
h.detach();                                       // flush the mcache, give the P back
