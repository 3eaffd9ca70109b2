// Stacks: the stack pool (orders 2-16 KiB in 32 KiB spans), large stacks, StackInuse /
// StackSys accounting (whole spans, as Go counts), and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Heap, InvalidSizeError, InvalidPointerError, DoubleFreeError } from '../src/index.js';

const MiB = 1 << 20;

test('small stacks share 32 KiB pool spans; StackInuse counts whole spans and leaves HeapSys', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const before = heap.readMemStats();
  const a = heap.stackAlloc(2048);
  let ms = heap.readMemStats();
  assert.equal(ms.StackInuse - before.StackInuse, 32768, 'one pool span');
  assert.equal(ms.StackSys - before.StackSys, 32768);
  assert.equal(ms.HeapSys + ms.StackInuse - before.HeapSys - before.StackInuse, 4 * MiB, 'one chunk grown ...');
  assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys, '... of which 32 KiB are lent to stacks, outside HeapSys');
  const more: number[] = [a];
  for (let i = 1; i < 16; i++) more.push(heap.stackAlloc(2048));
  assert.equal(new Set(more).size, 16);
  for (const p of more) assert.equal(p % 2048, 0);
  assert.equal(heap.readMemStats().StackInuse - before.StackInuse, 32768, '16 x 2 KiB fill one span');
  const b = heap.stackAlloc(2048);
  assert.equal(heap.readMemStats().StackInuse - before.StackInuse, 65536, 'the 17th needs a second span');
  heap.check();
  for (const p of more) heap.stackFree(p, 2048);
  heap.stackFree(b, 2048);
  ms = heap.readMemStats();
  assert.equal(ms.StackInuse, before.StackInuse, 'empty pool spans go back to the heap');
  assert.equal(ms.HeapSys, before.HeapSys + 4 * MiB, 'the pages are back in the heap');
  heap.check();
});

test('each order has its own pool; large stacks get their own span', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const ptrs = [2048, 4096, 8192, 16384].map((n) => [heap.stackAlloc(n), n] as const);
  assert.equal(heap.readMemStats().StackInuse, 4 * 32768);
  const big = heap.stackAlloc(65536);
  assert.equal(heap.readMemStats().StackInuse, 4 * 32768 + 65536);
  heap.u8.fill(7, big, big + 65536);
  heap.check();
  heap.stackFree(big, 65536);
  for (const [p, n] of ptrs) heap.stackFree(p, n);
  assert.equal(heap.readMemStats().StackInuse, 0);
  heap.check();
});

test('bad stack sizes and pointers: typed errors, heap unchanged', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const p = heap.stackAlloc(4096);
  for (const n of [0, 1000, 3000, 2048.5, -2048, NaN]) assert.throws(() => heap.stackAlloc(n), InvalidSizeError);
  assert.throws(() => heap.stackFree(p, 2048), InvalidSizeError, 'wrong size');
  assert.throws(() => heap.stackFree(p + 8, 4096), InvalidPointerError, 'inside a stack');
  const obj = heap.malloc(100);
  assert.throws(() => heap.stackFree(obj, 4096), InvalidPointerError, 'a heap object is not a stack');
  const q = heap.stackAlloc(4096);
  heap.stackFree(p, 4096);
  assert.throws(() => heap.stackFree(p, 4096), DoubleFreeError);
  heap.check();
  heap.stackFree(q, 4096);
  heap.free(obj);
  heap.check();
});
