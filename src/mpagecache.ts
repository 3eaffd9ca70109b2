/**
 * mpagecache.ts — a P's page cache (Go: src/runtime/mpagecache.go).
 *
 * Most spans are small (1-4 pages). Taking their pages from the page allocator means a
 * bitmap search and a summary update for every span, and the same again when the span is
 * freed. Go gives each P a cache of up to 64 free pages: one 64-page aligned block whose
 * free pages the page allocator has handed over at once (allocToCache). A span of fewer
 * than 16 pages takes its pages from the cache with a bit scan; only an empty cache goes
 * back to the page allocator. Freed spans return their pages to the page allocator, not
 * to the cache, as in Go.
 *
 * The cache lives in the P struct, so that reclaimP can give a dead context's cached
 * pages back:
 *
 *   P struct (layout.ts), words 6..10
 *   ┌─────────────┬────────────┬────────────┬────────────────┬────────────────┐
 *   │ PCACHE_BASE │ PCACHE_LO  │ PCACHE_HI  │ PCACHE_SCAV_LO │ PCACHE_SCAV_HI │
 *   │ the block   │ free pages │ free pages │ scavenged      │ scavenged      │
 *   │ (64 pages,  │ 0..31      │ 32..63     │ pages 0..31    │ pages 32..63   │
 *   │  aligned)   │            │            │                │                │
 *   └─────────────┴────────────┴────────────┴────────────────┴────────────────┘
 *   bit i = page base + i·8 KiB, 1 = free and this P's (or: released to the OS).
 *   Go keeps each bitmap as one uint64; the cache is empty when both free halves are 0.
 *
 * Cached pages are in use for the page allocator and free for the statistics (HeapIdle,
 * and HeapReleased for the scavenged ones), as in Go: a page is counted as used only when
 * a span takes it. check() counts them so (check.ts).
 *
 * Crash safety: every change of the cache words is one straight run of stores with no
 * call between them (V8 stops a terminated worker only at calls and loop back-edges). A
 * worker cut short after the page allocator handed over a block and before the cache
 * recorded it, or after the cache gave pages and before a span holds them, was inside the
 * heap lock: reclaimP's page repair frees every allocated page that neither a span nor a
 * live P's cache holds (proc.ts repairPagesLocked). A dead P whose cache is whole is
 * flushed.
 *
 * Differences from Go: the cache is used under the heap lock (Go takes the heap lock only
 * to refill it): allocSpanLocked's other steps need the lock here. An empty cache is told
 * by its bitmaps, never by its base, as in Go.
 *
 * @module
 */
import type { PageAlloc } from './mpagealloc.js';
import { PAGE_CACHE_PAGES, cacheOut } from './mpagealloc.js';
import { pageSize } from './sizeclasses.js';
import { findBitRange64, popcnt32, wordMask } from './mpallocbits.js';
import * as layout from './layout.js';
import type { PPtr } from './layout.js';

const { PW_PCACHE_BASE, PW_PCACHE_HI, PW_PCACHE_LO, PW_PCACHE_SCAV_HI, PW_PCACHE_SCAV_LO } = layout;

export { PAGE_CACHE_PAGES };

/** Spans of fewer pages than this take them from the P's cache (Go: pageCachePages/4). */
export const pageCacheMaxPages = PAGE_CACHE_PAGES / 4;

/** Second result of pageCacheAlloc: the bytes among the pages taken that were scavenged. */
export let pageCacheScav = 0;

/**
 * Take npages (1 ≤ npages < pageCacheMaxPages) contiguous pages from the page cache of
 * the P struct at pp, refilling it from the page allocator when it is empty (Go: the
 * pcache part of mheap.allocSpan). Returns their address, or 0 when the cache has no such
 * run or the page allocator no free page (nothing taken then; the caller asks the page
 * allocator, which may grow the heap). The scavenged bytes taken go to pageCacheScav.
 * Heap lock held.
 */
export function pageCacheAlloc(pages: PageAlloc, u32: Uint32Array, pp: PPtr, npages: number): number {
  const pw = pp >>> 2;
  if ((u32[pw + PW_PCACHE_LO] | u32[pw + PW_PCACHE_HI]) === 0) {
    const base = pages.allocToCache();
    if (base === 0) return 0;
    // One straight run: the block is this P's from here (see the module comment).
    u32[pw + PW_PCACHE_BASE] = base;
    u32[pw + PW_PCACHE_LO] = cacheOut[0];
    u32[pw + PW_PCACHE_HI] = cacheOut[1];
    u32[pw + PW_PCACHE_SCAV_LO] = cacheOut[2];
    u32[pw + PW_PCACHE_SCAV_HI] = cacheOut[3];
  }
  return pageCacheTake(u32, pp, npages);
}

/**
 * Take the first run of npages (1..64) free pages from the cache of the P struct at pp
 * (Go: pageCache.alloc and allocN): their address, or 0 if there is none. The scavenged
 * bytes among them go to pageCacheScav.
 */
export function pageCacheTake(u32: Uint32Array, pp: PPtr, npages: number): number {
  const pw = pp >>> 2;
  const lo = u32[pw + PW_PCACHE_LO], hi = u32[pw + PW_PCACHE_HI];
  const i = findBitRange64(lo, hi, npages);
  if (i === PAGE_CACHE_PAGES) {
    pageCacheScav = 0;
    return 0;
  }
  // The run [i, i + npages) as a mask in each half.
  const end = i + npages;
  const mlo = i < 32 ? wordMask(i, Math.min(end, 32) - 1) : 0;
  const mhi = end > 32 ? wordMask(Math.max(i, 32) - 32, end - 33) : 0;
  const slo = u32[pw + PW_PCACHE_SCAV_LO], shi = u32[pw + PW_PCACHE_SCAV_HI];
  pageCacheScav = (popcnt32(slo & mlo) + popcnt32(shi & mhi)) * pageSize;
  // One straight run (see the module comment).
  u32[pw + PW_PCACHE_LO] = lo & ~mlo;
  u32[pw + PW_PCACHE_HI] = hi & ~mhi;
  u32[pw + PW_PCACHE_SCAV_LO] = slo & ~mlo;
  u32[pw + PW_PCACHE_SCAV_HI] = shi & ~mhi;
  return u32[pw + PW_PCACHE_BASE] + i * pageSize;
}

/**
 * Give every page of the cache of the P struct at pp back to the page allocator and
 * empty it (Go: pageCache.flush, when a P goes away). Heap lock held.
 */
export function pageCacheFlush(pages: PageAlloc, u32: Uint32Array, pp: PPtr): void {
  const pw = pp >>> 2;
  const lo = u32[pw + PW_PCACHE_LO], hi = u32[pw + PW_PCACHE_HI];
  if ((lo | hi) === 0) return;
  // Empty first: a flush cut short leaves pages that no cache holds, which the page
  // repair frees, never pages that two places hold.
  u32[pw + PW_PCACHE_LO] = 0;
  u32[pw + PW_PCACHE_HI] = 0;
  pages.freeCache(u32[pw + PW_PCACHE_BASE], lo, hi, u32[pw + PW_PCACHE_SCAV_LO], u32[pw + PW_PCACHE_SCAV_HI]);
  emptyPageCache(u32, pp);
}

/**
 * Empty the cache of the P struct at pp without giving its pages back: for reclaimP, whose
 * page repair then frees them (see the module comment).
 */
export function emptyPageCache(u32: Uint32Array, pp: PPtr): void {
  const pw = pp >>> 2;
  u32[pw + PW_PCACHE_LO] = 0;
  u32[pw + PW_PCACHE_HI] = 0;
  u32[pw + PW_PCACHE_SCAV_LO] = 0;
  u32[pw + PW_PCACHE_SCAV_HI] = 0;
  u32[pw + PW_PCACHE_BASE] = 0;
}

/** Add the pages the cache of the P struct at pp holds to `out`: 1, or 2 if scavenged. */
export function addCachedPages(u32: Uint32Array, pp: PPtr, out: Map<number, 1 | 2>): void {
  const pw = pp >>> 2, base = u32[pw + PW_PCACHE_BASE];
  for (let i = 0; i < PAGE_CACHE_PAGES; i++) {
    const bit = 1 << (i & 31);
    if ((u32[pw + (i < 32 ? PW_PCACHE_LO : PW_PCACHE_HI)] & bit) === 0) continue;
    out.set(base + i * pageSize, (u32[pw + (i < 32 ? PW_PCACHE_SCAV_LO : PW_PCACHE_SCAV_HI)] & bit) !== 0 ? 2 : 1);
  }
}

/** Pages in the cache of the P struct at pp. */
export function pageCacheCount(u32: Uint32Array, pp: PPtr): number {
  return popcnt32(u32[(pp >>> 2) + PW_PCACHE_LO]) + popcnt32(u32[(pp >>> 2) + PW_PCACHE_HI]);
}
