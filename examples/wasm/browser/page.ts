/**
 * page.ts — the wasm example in a browser: binary-trees on Web Workers sharing one goheap
 * heap (a shared WebAssembly.Memory). Parameters from the query string: ?depth=D&threads=N.
 * Sets `window.wasmResult` (what the test reads) and prints the result in the page.
 *
 * @module
 */
import { formatResult, runThreads, type ThreadsResult, type WorkerHandle } from '../threads.js';

function spawnWebWorker(): WorkerHandle {
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  return {
    post: (m) => w.postMessage(m),
    onMessage: (cb) => {
      w.addEventListener('message', (e) => cb(e.data));
      w.addEventListener('error', (e) => cb({ type: 'error', error: e.message }));
    },
    terminate: () => w.terminate(),
  };
}

const q = new URLSearchParams(location.search);
const depth = Number(q.get('depth') ?? 12), threads = Number(q.get('threads') ?? 2);
const out = document.getElementById('out')!;
const w = window as unknown as { wasmResult?: ThreadsResult | { error: string } };
try {
  const wasm = new Uint8Array(await (await fetch(new URL('./binarytrees-goheap.wasm', import.meta.url))).arrayBuffer());
  const r = await runThreads(wasm, depth, threads, spawnWebWorker);
  out.textContent = formatResult(r) + `\nheap.check(): ${r.check}`;
  w.wasmResult = r;
} catch (e) {
  out.textContent = String(e);
  w.wasmResult = { error: e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e) };
}
