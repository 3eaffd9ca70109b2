// goheap as the malloc of a WebAssembly module (examples/wasm, src/wasm.ts): the module's
// data segment in the static region goheap set aside, its shadow stacks from stackAlloc,
// binary-trees on worker threads over one memory with trees freed by another thread, and
// the guards that keep the module off goheap's metadata.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  Heap, InvalidArgumentError, IllegalTransitionError, InvalidPointerError, DoubleFreeError, MEM_NONE, MEM_READY, instantiateOnHeap, wasmDataSegments,
} from '../src/index.js';
import { OSMemory } from '../src/mem.js';
import { mSpanManual } from '../src/mspan.js';
import { spanState } from '../src/layout.js';
import { buildWasm, cModules } from '../examples/wasm/build.js';
import { runOnNode } from '../examples/wasm/node.js';
import { STACK_SIZE, STATIC_BASE, STATIC_SIZE, nodes, type BinaryTrees } from '../examples/wasm/threads.js';

const MiB = 1 << 20;
const wasmBytes = (async () => new Uint8Array(await readFile((await buildWasm()).goheap)))();

function newHeap(): Heap {
  return Heap.create({ backend: 'wasm', reserve: 64 * MiB, staticData: { base: STATIC_BASE, size: STATIC_SIZE } });
}

/** True if p is inside a span goheap lent out as a stack (mSpanManual). */
function inStackSpan(heap: Heap, p: number): boolean {
  const s = heap.h.spanOf(p);
  return s !== 0 && spanState(heap.u32, s) === mSpanManual;
}

test('the static region: set aside before the heap takes memory, Ready, in no span, counted in OtherSys, seen by attached contexts', () => {
  const plain = Heap.create({ backend: 'wasm', reserve: 64 * MiB });
  const heap = newHeap();
  assert.deepEqual(heap.staticData, { base: STATIC_BASE, size: STATIC_SIZE });
  assert.equal(plain.staticData, null);
  assert.equal(heap.readMemStats().OtherSys - plain.readMemStats().OtherSys, STATIC_SIZE, 'the region is counted in OtherSys');
  for (let p = STATIC_BASE; p < STATIC_BASE + STATIC_SIZE; p += 8192) {
    assert.equal(heap.h.mem.stateOf(p), MEM_READY);
    assert.equal(heap.h.spanOf(p), 0, 'no span covers the static region');
  }
  // Allocate a lot: nothing lands in the region.
  const ptrs: number[] = [];
  for (let i = 0; i < 20000; i++) ptrs.push(heap.malloc(8 + (i % 64) * 24));
  for (const p of ptrs) assert.ok(p + 8 <= STATIC_BASE || p >= STATIC_BASE + STATIC_SIZE, `object at ${p} inside the static region`);
  const attached = Heap.attach(heap.share());
  assert.deepEqual(attached.staticData, heap.staticData);
  attached.detach();
  heap.check();
});

test('the static region: bad placements are refused and change nothing', () => {
  // Over the OS header and page table (which start at 0).
  assert.throws(() => Heap.create({ backend: 'wasm', reserve: 64 * MiB, staticData: { base: 0, size: 65536 } }), InvalidArgumentError);
  assert.throws(() => Heap.create({ backend: 'wasm', reserve: 64 * MiB, staticData: { base: STATIC_BASE + 100, size: 65536 } }), InvalidArgumentError);
  assert.throws(() => Heap.create({ backend: 'wasm', reserve: 64 * MiB, staticData: { base: 63 * MiB, size: 2 * MiB } }), IllegalTransitionError);
  const mem = OSMemory.create({ reserve: 64 * MiB, backend: 'sab' });
  const ready = mem.bytesInState(MEM_READY);
  assert.throws(() => mem.sysAllocStatic(0, 8192, 8), /overlaps memory goheap uses already/);
  assert.equal(mem.bytesInState(MEM_READY), ready);
  assert.deepEqual(mem.staticRegion, [0, 0]);
  mem.sysAllocStatic(STATIC_BASE, 8192, 8);
  assert.throws(() => mem.sysAllocStatic(2 * STATIC_BASE, 8192, 8), /has a static region already/);
  assert.equal(mem.stateOf(2 * STATIC_BASE), MEM_NONE);
});

test('the module: its data segment lies in the static region; instantiateOnHeap refuses one that does not', async () => {
  const bytes = await wasmBytes;
  const segs = wasmDataSegments(bytes);
  assert.equal(segs.length, 1);
  assert.equal(segs[0].offset, STATIC_BASE);
  assert.equal(segs[0].size, 25 * 4, 'the NODES table: 25 u32');
  // The table was written there by the instantiation, and the heap is intact.
  const heap = newHeap();
  const t = await instantiateOnHeap(heap, bytes);
  for (let d = 0; d < 25; d++) assert.equal(heap.u32[(STATIC_BASE >>> 2) + d], nodes(d));
  heap.check();
  t.release();
  // A heap without the region, and a module compiled for address 8 (over goheap's header).
  await assert.rejects(instantiateOnHeap(Heap.create({ backend: 'wasm', reserve: 64 * MiB }), bytes), /has no static region/);
  const heap2 = newHeap();
  const magic = heap2.u32[0];
  await assert.rejects(instantiateOnHeap(heap2, moduleWithDataAt(8)), (e) => e instanceof InvalidArgumentError && /\[8, 10\)/.test(e.message));
  assert.equal(heap2.u32[0], magic, 'goheap\'s header was not written');
  heap2.check();
  // The baseline module has a memory of its own (and a data segment outside the region).
  await assert.rejects(instantiateOnHeap(heap2, new Uint8Array(await readFile((await buildWasm()).tlsf))), InvalidArgumentError);
  assert.throws(() => wasmDataSegments(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])), InvalidArgumentError);
});

test('a wasm thread: shadow stack from stackAlloc (StackInuse), used by the module, guarded at its bottom', async () => {
  const heap = newHeap();
  const before = heap.readMemStats().StackInuse;
  const t = await instantiateOnHeap(heap, await wasmBytes, { stackSize: 2048 });
  const ex = t.exports as unknown as BinaryTrees;
  assert.ok(inStackSpan(heap, t.stack) && inStackSpan(heap, t.stack + 2047), 'the stack is in a stack span');
  assert.equal((ex.__stack_pointer.value as number) >>> 0, t.stack + 2048);
  assert.equal(heap.readMemStats().StackInuse - before, 32768, 'a stack pool span');
  const tree = ex.bottomUpTree(10);
  assert.equal(ex.itemCheck(tree, 10), nodes(10));
  const low = (ex.stackLow!.value as number) >>> 0;
  assert.ok(low >= t.stack && low < t.stack + 2048, `stackLow ${low}`);
  // Leave 32 bytes of stack: itemCheck needs 48 at depth 10 and must trap, writing nothing below.
  const below = heap.malloc(64);
  ex.__stack_pointer.value = t.stack + 32;
  const saved = heap.u8.slice(t.stack - 64, t.stack);
  assert.throws(() => ex.itemCheck(tree, 10), WebAssembly.RuntimeError);
  assert.deepEqual(heap.u8.slice(t.stack - 64, t.stack), saved);
  ex.__stack_pointer.value = t.stack + 2048;
  ex.freeTree(tree, 10);
  heap.free(below);
  t.release();
  heap.gc();
  const ms = heap.readMemStats();
  assert.equal(ms.StackInuse, before);
  assert.equal(ms.HeapObjects, 0);
  heap.check();
});

test('wasm malloc errors: out of memory is NULL; a bad free throws through the wasm frames and the heap stays consistent', async () => {
  const heap = Heap.create({ backend: 'wasm', reserve: 16 * MiB, staticData: { base: STATIC_BASE, size: STATIC_SIZE } });
  const t = await instantiateOnHeap(heap, await wasmBytes);
  const ex = t.exports as unknown as BinaryTrees;
  assert.throws(() => ex.freeTree(STATIC_BASE, 0), InvalidPointerError, 'free of a static address');
  const p = ex.bottomUpTree(0);
  ex.freeTree(p, 0);
  assert.throws(() => ex.freeTree(p, 0), DoubleFreeError);
  heap.check();
  // A depth-20 tree needs 16 MiB of nodes: malloc returns NULL and the module traps on it.
  assert.throws(() => ex.bottomUpTree(20), WebAssembly.RuntimeError);
  heap.check();
});

test('binary-trees on 3 worker threads over one memory: trees freed by the next thread, checks right, stacks in StackInuse, check() passes', { timeout: 120_000 }, async () => {
  const depth = 10, n = 3;
  const r = await runOnNode(depth, n);
  assert.equal(r.stretchCheck, nodes(depth + 1));
  assert.equal(r.longLivedCheck, nodes(depth));
  assert.equal(r.longLivedCheckJS, nodes(depth), 'JS read the wasm-built tree through heap.u32');
  assert.equal(r.jsTreeCheck, nodes(r.jsTreeDepth), 'wasm read the JS-built tree');
  for (const d of r.depths) assert.equal(d.check, d.iterations * nodes(d.depth), `depth ${d.depth}`);
  assert.ok(r.mallocs >= r.depths.reduce((s, d) => s + d.iterations * nodes(d.depth), 0));
  // Each worker: its own P, its own stack from a stack span, used down to its frames.
  assert.equal(new Set(r.reports.map((w) => w.pid)).size, n);
  for (const w of r.reports) {
    assert.equal(w.stackSize, STACK_SIZE);
    assert.ok(w.stackLow >= w.stack && w.stackLow < w.stack + w.stackSize, `worker ${w.id}: stackLow ${w.stackLow} outside [${w.stack}, +${w.stackSize})`);
  }
  const stacks = [r.mainStack.stack, ...r.reports.map((w) => w.stack)];
  assert.equal(new Set(stacks).size, n + 1);
  for (const s of stacks) assert.ok(s >= r.staticData.base + r.staticData.size || s + STACK_SIZE <= r.staticData.base);
  assert.equal(r.during.StackInuse, (n + 1) * STACK_SIZE, 'the wasm threads\' stacks (64 KiB each, a span of their own)');
  assert.equal(r.check, 'ok');
  assert.equal(r.after.HeapObjects, 0);
  assert.equal(r.after.StackInuse, 0);
  assert.equal(r.after.Mallocs, r.after.Frees);
});

test('the C version (clang, committed): passive data copied once into the static region, the C stack on a stack from stackAlloc, 2 threads', { timeout: 120_000 }, async () => {
  const bytes = new Uint8Array(await readFile(cModules.goheap));
  const segs = wasmDataSegments(bytes);
  assert.equal(segs.length, 1, 'passive segments: one range [__global_base, __data_end)');
  assert.equal(segs[0].offset, STATIC_BASE);
  assert.ok(segs[0].size >= 25 * 4 && segs[0].size <= STATIC_SIZE);
  // Without the exported range the module cannot be checked, and is refused.
  const renamed = bytes.slice();
  const at = Buffer.from(renamed).indexOf('__global_base');
  renamed[at + 12] = 0x5f; // __global_bas_
  assert.throws(() => wasmDataSegments(renamed), /must export the constant global __global_base/);
  const heap = newHeap();
  await assert.rejects(instantiateOnHeap(heap, renamed), InvalidArgumentError);
  const t = await instantiateOnHeap(heap, bytes);
  for (let d = 0; d < 25; d++) assert.equal(heap.u32[(STATIC_BASE >>> 2) + d], nodes(d), 'NODES copied by __wasm_init_memory');
  // A second instance (another thread) does not copy them again: wasm-ld's init runs once.
  heap.u32[STATIC_BASE >>> 2] = 99;
  const t2 = await instantiateOnHeap(heap, bytes);
  assert.equal(heap.u32[STATIC_BASE >>> 2], 99);
  heap.u32[STATIC_BASE >>> 2] = 1;
  t2.release();
  // The C stack (its local arrays) is the stack goheap gave it: paint it, run, look.
  const ex = t.exports as unknown as BinaryTrees;
  assert.ok(inStackSpan(heap, t.stack));
  heap.u8.fill(0xaa, t.stack, t.stack + t.stackSize);
  const ring = ex.ringNew(256);
  assert.equal(ex.runDepth(8, 16, ring, ring, 16), 16 * nodes(8));
  const u8 = heap.u8;
  let low = t.stack;
  while (low < t.stack + t.stackSize && u8[low] === 0xaa) low++;
  assert.ok(low > t.stack && low < t.stack + t.stackSize, `the C code wrote its frames at ${low}, inside its stack [${t.stack}, +${t.stackSize})`);
  ex.ringFree(ring);
  t.release();
  heap.gc();
  assert.equal(heap.readMemStats().HeapObjects, 0);
  heap.check();
  // Threads.
  const r = await runOnNode(10, 2, { c: true });
  for (const d of r.depths) assert.equal(d.check, d.iterations * nodes(d.depth), `depth ${d.depth}`);
  assert.equal(r.longLivedCheckJS, nodes(10));
  assert.equal(r.jsTreeCheck, nodes(r.jsTreeDepth));
  assert.equal(r.during.StackInuse, 3 * STACK_SIZE);
  assert.equal(r.check, 'ok');
  assert.equal(r.after.HeapObjects, 0);
});

/** A minimal module that imports env.memory (shared) and has a 2-byte data segment at `offset`. */
function moduleWithDataAt(offset: number): Uint8Array<ArrayBuffer> {
  const uleb = (v: number): number[] => { const out: number[] = []; do { let b = v & 0x7f; v >>>= 7; if (v) b |= 0x80; out.push(b); } while (v); return out; };
  const sleb = (v: number): number[] => { const out: number[] = []; for (;;) { const b = v & 0x7f; v >>= 7; if ((v === 0 && !(b & 0x40)) || (v === -1 && (b & 0x40))) { out.push(b); return out; } out.push(b | 0x80); } };
  const name = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
  const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, 0x03, ...uleb(1), ...uleb(65536)];
  const data = [1, 0x00, 0x41, ...sleb(offset), 0x0b, 2, 0x68, 0x69];
  return new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...section(2, imports), ...section(11, data)]);
}
