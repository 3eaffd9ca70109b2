// The views of a Heap handle never throw while another worker grows the memory (issue 16
// item 5: the wasm backend's heap.view read the buffer and the length in two steps, and a
// growth in between gave "RangeError: Invalid DataView length").
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap } from '../src/index.js';
import { spawnHeapWorker } from '../src/node.js';

const MiB = 1 << 20;
const workerFile = new URL('./fixtures/ts-worker.mjs', import.meta.url);
const entry = new URL('./fixtures/grow-worker.ts', import.meta.url).href;

for (const backend of ['wasm', 'sab'] as const) {
  test(`${backend}: every view getter keeps working while a worker grows the memory`, { timeout: 120_000 }, async () => {
    const heap = Heap.create({ reserve: 512 * MiB, backend });
    const flag = new Int32Array(new SharedArrayBuffer(12));
    const w = spawnHeapWorker(heap, workerFile, { execArgv: [], workerData: { entry, count: 150, flag: flag.buffer } });
    const exited = new Promise((r) => w.once('exit', r));
    while (Atomics.load(flag, 1) === 0) await new Promise((r) => setTimeout(r, 5));
    const start = heap.u8.length;
    let reads = 0, grewSeen = 0, last = start;
    // Synchronous loop: the worker grows the memory meanwhile (it starts on flag[2]).
    Atomics.store(flag, 2, 1);
    Atomics.notify(flag, 2);
    while (Atomics.load(flag, 0) === 0) {
      // Each getter syncs on its own, so two of them may see different lengths; the buffer,
      // read last, is at least as long as every view.
      const v = heap.view, u8 = heap.u8, f64 = heap.f64, u32 = heap.u32, i32 = heap.i32, u16 = heap.u16, buf = heap.buffer;
      assert.ok(v.byteLength >= last, 'the DataView never shrinks');
      for (const len of [v.byteLength, u8.length, f64.length * 8, u32.length * 4, i32.length * 4, u16.length * 2]) assert.ok(len <= buf.byteLength);
      if (v.byteLength > last) { grewSeen++; last = v.byteLength; }
      reads++;
    }
    await exited;
    assert.ok(heap.view.byteLength > start, 'the memory grew');
    assert.ok(reads > 100, `${reads} reads while it grew`);
    assert.ok(grewSeen > 0, 'a growth was seen between two reads');
    heap.check();
  });
}
