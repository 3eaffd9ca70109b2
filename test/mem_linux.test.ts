// Release that lowers RSS (issue 12, item 1): the native addon's madvise on the 'sab' and
// 'wasm' backends, the 'shrink' and 'none' fallbacks, and that released-then-reused memory
// is correct (calloc zero, live objects intact). Every test names the release mode it ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Heap, type BackendKind } from '../src/index.js';
import { nativeReleaseUnavailableReason, releaseAddon } from '../src/mem_linux.js';
import { spanNeedzero, type SpanPtr } from '../src/layout.js';

const MiB = 1 << 20;
const addon = releaseAddon();

/** Resident set size of this process in bytes, from /proc/self/status (VmRSS). */
function rss(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : process.memoryUsage().rss;
}

/** 128 × 1 MiB objects, every byte written, then all freed and released with freeOSMemory. */
function fillFreeRelease(heap: Heap): { before: number; after: number; releasedDelta: number } {
  const ps: number[] = [];
  for (let i = 0; i < 128; i++) {
    const p = heap.malloc(MiB);
    heap.u8.fill(0xa5, p, p + MiB);
    ps.push(p);
  }
  const rel0 = heap.readMemStats().HeapReleased;
  const before = rss();
  for (const p of ps) heap.free(p);
  heap.freeOSMemory();
  const after = rss();
  return { before, after, releasedDelta: heap.readMemStats().HeapReleased - rel0 };
}

for (const backend of ['sab', 'wasm'] as const) {
  test(`${backend}: freeOSMemory lowers RSS by at least 90 % of the HeapReleased increase (mode madvise)`, (t) => {
    if (addon === null) {
      t.skip(`native addon not available (${nativeReleaseUnavailableReason()}): mode 'none'`);
      return;
    }
    const heap = Heap.create({ backend, reserve: 512 * MiB, scavenger: false });
    assert.equal(heap.releaseMode, 'madvise');
    const { before, after, releasedDelta } = fillFreeRelease(heap);
    t.diagnostic(`mode madvise: RSS ${(before / MiB).toFixed(1)} -> ${(after / MiB).toFixed(1)} MiB, HeapReleased +${(releasedDelta / MiB).toFixed(1)} MiB`);
    assert.ok(releasedDelta >= 128 * MiB, `HeapReleased rose by ${releasedDelta}`);
    assert.ok(before - after >= 0.9 * releasedDelta, `RSS fell by ${before - after} bytes, HeapReleased rose by ${releasedDelta}`);
    assert.equal(heap.readMetrics()['/goheap/release/mode:enum'], 2);
    heap.check();
  });
}

test("sab with native: false: bookkeeping only (mode 'none'), RSS stays", (t) => {
  const heap = Heap.create({ reserve: 512 * MiB, scavenger: false, native: false });
  assert.equal(heap.releaseMode, 'none');
  const { before, after, releasedDelta } = fillFreeRelease(heap);
  t.diagnostic(`mode none: RSS ${(before / MiB).toFixed(1)} -> ${(after / MiB).toFixed(1)} MiB, HeapReleased +${(releasedDelta / MiB).toFixed(1)} MiB`);
  assert.ok(releasedDelta >= 128 * MiB);
  // The released pages are still resident: RSS cannot have fallen by the 128 MiB.
  assert.ok(before - after < 64 * MiB, `RSS fell by ${before - after} bytes without the addon`);
  assert.equal(heap.readMetrics()['/goheap/release/mode:enum'], 0);
  heap.check();
});

test("rab: the buffer shrinks (mode 'shrink')", () => {
  const heap = Heap.create({ backend: 'rab', reserve: 512 * MiB, scavenger: false });
  assert.equal(heap.releaseMode, 'shrink');
  const len0 = heap.buffer.byteLength;
  fillFreeRelease(heap);
  assert.ok(heap.buffer.byteLength < len0 + 8 * MiB, `buffer ${heap.buffer.byteLength} after release`);
  heap.check();
});

test('GOHEAP_NO_NATIVE=1 turns the addon off for every heap of the process', () => {
  const code = "import { Heap } from './src/index.ts'; console.log(Heap.create({ reserve: 1 << 26 }).releaseMode, Heap.create({ backend: 'wasm', reserve: 1 << 26 }).releaseMode);";
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: new URL('..', import.meta.url), env: { ...process.env, GOHEAP_NO_NATIVE: '1' }, encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'none none');
});

/**
 * Live objects of many classes hold a pattern; the rest are freed and everything free is
 * released; then new objects (calloc and malloc) reuse the released pages. calloc must read
 * zero, live objects must keep their bytes, and a span made only of released pages needs
 * no zeroing exactly when released pages read back as zero (mode madvise).
 */
function reuseAfterRelease(backend: BackendKind, native: boolean): string {
  const heap = Heap.create({ backend, reserve: 256 * MiB, scavenger: false, native });
  const sizes = [8, 16, 24, 48, 128, 1024, 4000, 9000, 32768, 40000, 300000];
  const live: Array<[number, number, number]> = [];
  const dead: number[] = [];
  let k = 0;
  for (let round = 0; round < 40; round++) {
    for (const size of sizes) {
      const p = heap.malloc(size);
      heap.u8.fill(0xff, p, p + size);
      if (k++ % 3 === 0) live.push([p, size, k & 0xff]); else dead.push(p);
    }
  }
  for (const [p, size, v] of live) heap.u8.fill(v, p, p + size);
  for (const p of dead) heap.free(p);
  heap.freeOSMemory();
  // Large objects: each takes a span of released pages.
  const u32 = () => heap.u32;
  for (let i = 0; i < 20; i++) {
    const p = heap.calloc(1, 100000 + i * 8192);
    const needzero = spanNeedzero(u32(), heap.h.spanOf(p) as SpanPtr);
    assert.equal(needzero, heap.releaseMode === 'madvise' ? 0 : 1, `needzero of a span of released pages in mode ${heap.releaseMode}`);
    const u8 = heap.u8;
    for (let j = p; j < p + 100000 + i * 8192; j++) if (u8[j] !== 0) assert.fail(`calloc byte ${j - p} is ${u8[j]} (mode ${heap.releaseMode})`);
    heap.u8.fill(0x77, p, p + 100000);
  }
  for (const size of sizes) {
    for (let i = 0; i < 30; i++) {
      const p = heap.calloc(1, size);
      const u8 = heap.u8;
      for (let j = p; j < p + size; j++) if (u8[j] !== 0) assert.fail(`calloc(${size}) byte ${j - p} is ${u8[j]} (mode ${heap.releaseMode})`);
      heap.u8.fill(0x33, p, p + size);
    }
  }
  const u8 = heap.u8;
  for (const [p, size, v] of live) {
    for (let j = p; j < p + size; j++) if (u8[j] !== v) assert.fail(`live object at ${p} (size ${size}) byte ${j - p} is ${u8[j]}, want ${v} (mode ${heap.releaseMode})`);
  }
  heap.check();
  return heap.releaseMode;
}

for (const backend of ['sab', 'wasm', 'rab'] as const) {
  for (const native of [true, false]) {
    test(`${backend}${native ? '' : ' (native: false)'}: released-then-reused memory: calloc zero, live objects intact`, (t) => {
      t.diagnostic(`mode ${reuseAfterRelease(backend, native)}`);
    });
  }
}
