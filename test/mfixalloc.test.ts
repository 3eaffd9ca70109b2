// fixalloc and persistentalloc: free lists, inuse, and the sys accounting they charge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OSMemory, STAT_MSPAN_SYS, STAT_OTHER_SYS, STAT_GC_MISC_SYS } from '../src/mem.js';
import { FixAlloc, PersistentAlloc, fixAllocChunk, persistentChunkSize } from '../src/mfixalloc.js';
import { OutOfMemoryError } from '../src/errors.js';
import {
  FIXALLOC_SIZE, PERSISTENT_SIZE,
} from '../src/layout.js';

function setup(reserve = 16 << 20) {
  const mem = OSMemory.create({ reserve });
  const meta = mem.sysAlloc(PERSISTENT_SIZE + FIXALLOC_SIZE, STAT_OTHER_SYS);
  const pa = new PersistentAlloc(mem, meta);
  FixAlloc.init(mem, meta + PERSISTENT_SIZE, 96, STAT_MSPAN_SYS, false);
  const fa = new FixAlloc(mem, pa, meta + PERSISTENT_SIZE);
  return { mem, pa, fa };
}

test('persistentalloc: bump allocation in 256 KiB chunks; bytes move from other_sys to the caller\'s stat', () => {
  const { mem, pa } = setup();
  const other0 = mem.stat(STAT_OTHER_SYS), sys0 = mem.mapped;
  const a = pa.alloc(100, 8, STAT_GC_MISC_SYS);
  const b = pa.alloc(100, 64, STAT_GC_MISC_SYS);
  assert.equal(b % 64, 0);
  assert.ok(b >= a + 100);
  assert.equal(mem.stat(STAT_GC_MISC_SYS), 200);
  assert.equal(mem.stat(STAT_OTHER_SYS), other0 + persistentChunkSize - 200);
  assert.equal(mem.mapped, sys0 + persistentChunkSize, 'one chunk mapped');
  const big = pa.alloc(100 << 10, 8, STAT_GC_MISC_SYS);
  assert.equal(big % 8192, 0, '>= 64 KiB goes straight to sysAlloc');
  assert.equal(mem.stat(STAT_GC_MISC_SYS), 200 + 13 * 8192, 'charged in whole 8 KiB pages');
  mem.check();
});

test('fixalloc: carves whole objects from 16 KiB chunks, LIFO free list, inuse accounting', () => {
  const { mem, fa } = setup();
  const perChunk = Math.floor(fixAllocChunk / 96);
  const objs: number[] = [];
  for (let i = 0; i < perChunk + 1; i++) objs.push(fa.alloc());
  assert.equal(objs[1] - objs[0], 96);
  assert.equal(fa.inuse, 96 * (perChunk + 1));
  assert.equal(mem.stat(STAT_MSPAN_SYS), 2 * perChunk * 96, 'two chunks charged to the fixalloc\'s stat');
  fa.free(objs[3]);
  fa.free(objs[7]);
  assert.equal(fa.freeListLength(), 2);
  assert.equal(fa.inuse, 96 * (perChunk - 1));
  assert.equal(fa.alloc(), objs[7], 'LIFO');
  assert.equal(fa.alloc(), objs[3]);
  assert.equal(fa.freeListLength(), 0);
  mem.check();
});

test('persistentalloc: exhaustion is an OutOfMemoryError', () => {
  const { pa } = setup(1 << 20);
  assert.throws(() => { for (let i = 0; i < 100; i++) pa.alloc(60 << 10, 8, STAT_GC_MISC_SYS); }, OutOfMemoryError);
});
