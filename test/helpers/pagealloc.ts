// Test helpers shared by the page-allocator tests: Go's export_test.go NewPageAlloc & co.,
// re-expressed for the 32-bit geometry (BaseChunkIdx = 0x100, address 1 GiB).
import assert from 'node:assert/strict';
import { PageAlloc, PALLOC_CHUNK_PAGES as P, PALLOC_CHUNK_BYTES, chunkBase, type PageAllocOS } from '../../src/mpagealloc.js';
import { pageSize } from '../../src/sizeclasses.js';
import { pallocDataFindScavengeCandidate } from '../../src/mgcscavenge.js';
import {
  pageBitsClearRange, pageBitsSetRange, pallocDataAllocRange, PD_SCAV_W, PAGE_BITS_WORDS,
} from '../../src/mpallocbits.js';

/** BaseChunkIdx on 32-bit platforms. */
export const B = 0x100;
/** [first page, npages]. */
export type Range = [number, number];
/** [chunk index, ranges] pairs. */
export type ChunkMap = Array<[number, Range[]]>;
/** Where the test page allocator starts in its buffer. */
export const PA_BASE = 64;

/** An OS layer that records the sysUnused calls. */
export class StubOS implements PageAllocOS {
  calls: Array<[number, number]> = [];
  sysUnused(v: number, n: number): void {
    this.calls.push([v, n]);
  }
}

/**
 * Go's NewPageAlloc: grow each chunk of `chunks`, clear its scavenged bits, set the `scav`
 * ranges, then allocate the chunk's ranges (which clears scavenged bits under them), mark
 * the scavenge index where a free unscavenged page exists, and recompute the summaries.
 * The buffer has room for one page-cache struct after the allocator (see cacheOf).
 */
export function newPageAlloc(chunks: ChunkMap, scav?: ChunkMap, os: PageAllocOS = new StubOS()): PageAlloc {
  const views = { u32: new Uint32Array((PA_BASE + PageAlloc.layoutSize(1024) + 64) / 4) };
  const pa = PageAlloc.init(views, PA_BASE, 1024, os);
  const scavOf = new Map(scav ?? []);
  for (const [ci, alloc] of chunks) {
    const addr = chunkBase(ci);
    pa.grow(addr, PALLOC_CHUNK_BYTES);
    const u32 = views.u32;
    const cw = pa.chunkWord(ci);
    pageBitsClearRange(u32, cw + PD_SCAV_W, 0, P);
    for (const [i, n] of scavOf.get(ci) ?? []) if (n > 0) pageBitsSetRange(u32, cw + PD_SCAV_W, i, n);
    for (const [i, n] of alloc) if (n > 0) pallocDataAllocRange(u32, cw, i, n);
    if (pallocDataFindScavengeCandidate(u32, cw, P - 1, 1, 1) !== 0) pa.scavIndexMark(addr, addr + PALLOC_CHUNK_BYTES);
    pa.update(addr, P, false, false);
  }
  return pa;
}

/** Byte offset of the page-cache struct placed right after the test PageAlloc. */
export function cacheOf(_pa: PageAlloc): number {
  return PA_BASE + PageAlloc.layoutSize(1024);
}

/** Go's PageBase(c, i). */
export function PB(ci: number, i: number): number {
  return chunkBase(ci) + i * pageSize;
}

/** The 16 u32 words of a chunk's alloc (or scavenged) bitmap. */
export function chunkWords(pa: PageAlloc, ci: number, scav: boolean): number[] {
  const w = pa.chunkWord(ci) + (scav ? PD_SCAV_W : 0);
  return [...pa.views.u32.subarray(w, w + PAGE_BITS_WORDS)];
}

/** Both allocators have the same chunks with the same bits, and both pass check(). */
export function checkPageAlloc(got: PageAlloc, want: PageAlloc, label = ''): void {
  assert.equal(got.start, want.start, `${label}: start`);
  assert.equal(got.end, want.end, `${label}: end`);
  for (let ci = got.start; ci < got.end; ci++) {
    assert.deepEqual(chunkWords(got, ci, false), chunkWords(want, ci, false), `${label}: chunk ${ci} alloc bits`);
    assert.deepEqual(chunkWords(got, ci, true), chunkWords(want, ci, true), `${label}: chunk ${ci} scavenged bits`);
  }
  got.check();
  want.check();
}
