/**
 * worker.ts — a Web Worker of the wasm example: {@link workerMain} over postMessage.
 *
 * @module
 */
import { workerMain } from '../threads.js';

workerMain({
  post: (m) => self.postMessage(m),
  onMessage: (cb) => self.addEventListener('message', (e) => cb((e as MessageEvent).data)),
});
