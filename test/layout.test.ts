/**
 * The generated struct layouts (src/layout.ts) are current, and the sizes their tables
 * assume match the constants the runtime uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generate, layoutPath } from '../scripts/gen-layout.js';
import * as L from '../src/layout.js';
import { NUM_SIZE_CLASSES, numSpanClasses } from '../src/sizeclasses.js';
import { maxProcs, mspanCacheCap } from '../src/mheap.js';

test('src/layout.ts is what scripts/gen-layout.ts writes (run `npx tsx scripts/gen-layout.ts` after changing a table)', () => {
  assert.equal(readFileSync(layoutPath, 'utf8'), generate());
});

test('the sizes the layout tables assume are the runtime\'s', () => {
  assert.equal(L.MSPAN_SIZE, 144); // Go 1.19's mspan on 64-bit platforms (MSpanInuse per span)
  assert.equal(L.MCW_ALLOC * 4, L.MC_ALLOC);
  assert.equal(L.MCACHE_SIZE - L.MC_ALLOC >= 4 * numSpanClasses, true);
  assert.equal(L.P_MSPANCACHE_BUF + 4 * mspanCacheCap, L.P_SWEEP_PHASE);
  assert.equal(L.P_STATS + 8 * L.P_STATS_SLOTS, L.P_MSPANCACHE_LEN);
  assert.equal(L.ST_SMALL_FREE + NUM_SIZE_CLASSES, L.P_STATS_SLOTS);
  assert.equal(L.H_STATS - L.H_CENTRAL, numSpanClasses * L.MCENTRAL_SIZE);
  assert.equal(L.H_ALLP - L.H_STATS, 8 * L.HEAP_STATS_SLOTS);
  assert.equal(L.H_SWEEP_CURSOR - L.H_ALLP, 4 * maxProcs);
  assert.equal(L.C_SETS + 4 * L.SPAN_LIST_SIZE <= L.MCENTRAL_SIZE, true);
  // Every offset is a multiple of its field's size, and word constants agree with offsets.
  for (const [name, v] of Object.entries(L)) {
    const m = /^([A-Z]+)W_(\w+)$/.exec(name);
    if (!m || typeof v !== 'number') continue;
    const off = (L as Record<string, unknown>)[`${m[1]}_${m[2]}`];
    assert.equal(typeof off, 'number', `${name} has no byte offset ${m[1]}_${m[2]}`);
    assert.ok(v * 4 === off || v * 8 === off, `${name} = ${v} does not match ${m[1]}_${m[2]} = ${String(off)}`);
  }
});

test('the layout facts the fast paths rely on without reading them', () => {
  // freeFast: an arena's first field is its page -> span table, and the arena table has
  // an entry for every 64 MiB of the 32-bit address space, so any u32 indexes it.
  assert.equal(L.A_SPANS, 0);
  assert.equal(((L.H_SPANALLOC - L.H_ARENAS) / 4) * 2 ** 26, 2 ** 32); // arenas[] (u32), 64 MiB each: p >>> 26
  // nextFreeFast: allocCache is one 64-bit field, low word first.
  assert.equal(L.SW_CACHE_HI, L.SW_CACHE_LO + 1);
  // A span's bitmaps: alloc, freed and local freed words of a slot in one 16-byte group.
  assert.deepEqual([L.GW_ALLOC, L.GW_FREED, L.GW_LOCALFREED, L.GCBITS_GROUP_SIZE], [0, 1, 2, 16]);
});

test('the span fields a free reads come first in the mspan struct, and the free list link is not one of its tests', () => {
  // freeFast / freeShared / freeTiny read these of a span no mcache holds, usually a cold
  // one (NELEMS is the GC's recount's, read beside them): kept in the first 44 bytes, they span one cache line or two (structs are 144 bytes
  // apart from 64-byte aligned chunks, so they start 0, 16, 32 or 48 bytes into a line).
  const read = [L.S_START, L.S_LIST, L.S_SPANCLASS, L.S_STATE, L.S_DIVMUL20, L.S_ELEMSIZE, L.S_LIMIT, L.S_GCBITS, L.S_FREEINDEX, L.S_NELEMS, L.S_TINYMASKS];
  assert.ok(Math.max(...read) + 4 <= 44, `the free path's span fields end at byte ${Math.max(...read) + 4}`);
  // A struct on the span fixalloc's free list keeps the list link in its first word; a
  // racing free that reads a dead struct must not take that link for a list or state.
  assert.equal(L.S_START, 0);
});
