/**
 * node-worker.ts — a Node worker thread of the wasm example: {@link workerMain} over
 * worker_threads' parentPort.
 *
 * @module
 */
import { parentPort } from 'node:worker_threads';
import { workerMain } from './threads.js';

const port = parentPort!;
workerMain({ post: (m) => port.postMessage(m), onMessage: (cb) => port.on('message', cb) });
