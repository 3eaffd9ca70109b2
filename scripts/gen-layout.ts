/**
 * gen-layout.ts — the one definition of every struct goheap keeps in the shared buffer.
 *
 * Each table below lists a struct's fields in order (name, type, count, meaning); this
 * script derives the byte offsets, the struct size, the layout diagram and one-line
 * accessors from it, and writes them to src/layout.ts. Change a struct here, then run
 *
 *   npx tsx scripts/gen-layout.ts          (rewrite src/layout.ts)
 *   npx tsx scripts/gen-layout.ts --check  (exit 1 if src/layout.ts is stale)
 *
 * test/layout.test.ts fails when src/layout.ts is not what this script writes.
 *
 * Field types: u32 / i32 (4 bytes), u16 (2), f64 (8, 8-aligned), bytes (an opaque block:
 * a nested struct or bitmap, offset only), pad (filler, no name). A u32 field may name
 * a branded pointer type (SpanPtr, MCachePtr, PPtr) that its accessors use. Atomic
 * operations are written out at their call sites on the word index
 * (Atomics.load(i32, (p >>> 2) + PW_STATUS)): V8 does not inline a function around them.
 *
 * Accessors: `<acc><Field>(u32, base)` reads, `set<Acc><Field>(u32, base, v)` writes;
 * array fields take an index after the base. Every u32/i32 field also gets a word-index
 * constant (`SW_FREEINDEX` for S_FREEINDEX: u32[(s >>> 2) + SW_FREEINDEX]) for code that
 * must not make a call (an accessor call is a point where V8 may stop a terminated
 * worker; see mgcsweep.ts and MHeap.inHandWord) and for structs read through a
 * pre-shifted base (the OS header, the page allocator). Slot structs (the statistics
 * blocks) are arrays of f64 whose constants are slot indices.
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

type FieldType = 'u32' | 'i32' | 'u16' | 'f64' | 'bytes' | 'pad';
interface Field {
  /** Constant name without the struct prefix ('' for pad). */
  c: string;
  /** Field name in the diagram and (capitalised) in the accessor name; '' = no accessor. */
  f: string;
  t: FieldType;
  /** Elements (arrays), or bytes for bytes/pad. */
  n?: number;
  /** Branded pointer type of a u32 field. */
  ptr?: string;
  /** Bytes per element of an array of nested records (default: the type's size). */
  stride?: number;
  m: string;
}
interface Struct {
  /** Go name and where its definition lives in Go. */
  go: string;
  /** What the struct is, first line of its doc. */
  doc: string;
  /** Constant prefix, e.g. 'S_' for S_FREEINDEX. */
  prefix: string;
  /** Accessor prefix, e.g. 'span' for spanFreeIndex; '' = constants only. */
  acc: string;
  /** Name of the size constant. */
  sizeName: string;
  /** Size to pad to (bytes), or alignment to round up to. */
  size?: number;
  align?: number;
  /** Base pointer type of the accessors. */
  base: string;
  /** Also word-index constants (<prefix>W_<NAME>). */
  words?: boolean;
  /** Slot struct: an array of f64 slots; constants are slot indices. */
  slots?: boolean;
  fields: Field[];
}

// Sizes the tables depend on (they are checked against src/ by test/layout.test.ts).
/** Go: _NumSizeClasses. */
const NUM_SIZE_CLASSES = 68;
const numSpanClasses = NUM_SIZE_CLASSES * 2;
/** Capacity of a P's mspan cache (Go: 128). */
const mspanCacheCap = 128;
/** Most Ps per heap. */
const maxProcs = 64;
/** Arenas: 64 MiB each over the 4 GiB address space. */
const maxArenas = 64;
/** Pages per arena. */
const pagesPerArena = 8192;

const structs: Struct[] = [
  {
    go: 'mspan (runtime/mheap.go)', prefix: 'S_', acc: 'span', sizeName: 'MSPAN_SIZE', base: 'SpanPtr',
    doc: 'A span: a run of pages holding objects of one size class (mspan.ts). Padded to 144 bytes, the size Go 1.19\'s mspan has on 64-bit platforms (MSpanInuse grows by 144 per span on the real runtime), so that MSpanInuse and MSpanSys report Go\'s numbers. The fields a free reads come first, with NELEMS, which the GC\'s recount reads beside them (START to TINYMASKS, 44 bytes): a free into a span no mcache holds finds them in one cache line or two, not two or three (goheap order; Go orders mspan\'s fields otherwise).',
    size: 144,
    fields: [
      { c: 'START', f: 'startAddr', t: 'u32', m: 'address of the first page' },
      { c: 'LIST', f: 'list', t: 'u32', m: 'id of the list the span is on (0 = none; LIST_MCACHE + pid: cached by that P, whose frees into it go to localFreedBits; + LIST_RETAINED: on the retained list of that P)' },
      { c: 'SPANCLASS', f: 'spanclass', t: 'u32', m: 'sizeclass << 1 | noscan' },
      { c: 'STATE', f: 'state', t: 'u32', m: 'mSpanDead / mSpanInUse / mSpanManual' },
      { c: 'DIVMUL20', f: 'divMul20', t: 'u32', m: 'ceil(2^20 / elemsize), 0 for a large span: the free path\'s offset -> slot index (objIndex20; goheap only)' },
      { c: 'ELEMSIZE', f: 'elemsize', t: 'u32', m: 'slot size (npages * 8192 for a large span)' },
      { c: 'LIMIT', f: 'limit', t: 'u32', m: 'end of the usable part' },
      { c: 'GCBITS', f: 'gcBits', t: 'u32', m: 'address of the span\'s bitmaps (allocBits, freedBits, localFreedBits), interleaved in groups of 32 slots (G_*): ceil(nelems/64)*32 bytes' },
      { c: 'FREEINDEX', f: 'freeIndex', t: 'u32', m: 'slots below it are all allocated' },
      { c: 'NELEMS', f: 'nelems', t: 'u32', m: 'number of slots' },
      { c: 'TINYMASKS', f: 'tinyMasks', t: 'u32', m: 'tiny span only: address of one u16 per 16-byte block, bits = offsets where live tiny objects start' },
      { c: 'CACHE_LO', f: 'allocCacheLo', t: 'u32', m: 'allocCache bits 0..31 (1 = free)' },
      { c: 'CACHE_HI', f: 'allocCacheHi', t: 'u32', m: 'allocCache bits 32..63' },
      { c: 'ALLOCCOUNT', f: 'allocCount', t: 'u32', m: 'allocated slots (freed-but-unswept ones included)' },
      { c: 'SWEEPGEN', f: 'sweepgen', t: 'u32', m: 'see mgcsweep.ts' },
      { c: 'NEXT', f: 'next', t: 'u32', ptr: 'SpanPtr', m: 'list link (mcentral span sets, stack pools)' },
      { c: 'PREV', f: 'prev', t: 'u32', ptr: 'SpanPtr', m: 'list link' },
      { c: 'NPAGES', f: 'npages', t: 'u32', m: 'length in 8 KiB pages' },
      { c: 'MANUAL_FREE', f: 'manualFreeList', t: 'u32', m: 'free slot list of a stack span' },
      { c: 'DIVMUL', f: 'divMul', t: 'u32', m: 'magic for offset -> slot index (class_to_divmagic)' },
      { c: 'NEEDZERO', f: 'needzero', t: 'u32', m: '1: free slots may be dirty' },
      { c: 'ACBC', f: 'allocCountBeforeCache', t: 'u32', m: 'allocCount when the span entered an mcache' },
    ],
  },
  {
    go: 'gcBits (runtime/mheap.go: mspan.allocBits, gcmarkBits)', prefix: 'G_', acc: '', sizeName: 'GCBITS_GROUP_SIZE', base: 'number', words: true,
    doc: 'One group of a span\'s bitmaps (mspan.gcBits): bit i & 31 of each word is slot i of the group\'s 32 slots; group i >>> 5 holds slot i (mspan.ts). The three words a free reads are in one 16-byte group, never split across cache lines. goheap difference: Go keeps allocBits and gcmarkBits as separate bitmaps.',
    fields: [
      { c: 'ALLOC', f: 'alloc', t: 'u32', m: 'allocBits: 1 = allocated when the span was last swept (slots below freeindex are allocated whatever it says)' },
      { c: 'FREED', f: 'freed', t: 'u32', m: 'freedBits: freed by a P that does not cache the span (atomic OR), taken by the sweep' },
      { c: 'LOCALFREED', f: 'localFreed', t: 'u32', m: 'localFreedBits: freed by the P that caches the span (plain stores), taken by the sweep (goheap only)' },
      { c: '', f: '', t: 'pad', n: 4, m: '' },
    ],
  },
  {
    go: 'mcache (runtime/mcache.go)', prefix: 'MC_', acc: 'mcache', sizeName: 'MCACHE_SIZE', base: 'MCachePtr',
    doc: 'A P\'s cache of spans (mcache.ts), from the heap\'s cachealloc fixalloc (MCacheSys).',
    size: 640,
    fields: [
      { c: 'TINY', f: 'tiny', t: 'u32', m: 'address of the current tiny block (0 = none)' },
      { c: 'TINYOFFSET', f: 'tinyOffset', t: 'u32', m: 'next free byte offset in it' },
      { c: 'TINYMASK', f: 'tinyMask', t: 'u32', m: 'address of the block\'s u16 mask of object starts' },
      { c: 'TINYALLOCS', f: 'tinyAllocs', t: 'u32', m: 'tiny allocations combined since the last flush' },
      { c: 'FLUSHGEN', f: 'flushGen', t: 'u32', m: 'sweepgen when this cache was last flushed' },
      { c: 'PID', f: 'pid', t: 'u32', m: 'id of the owning P' },
      { c: '', f: '', t: 'pad', n: 8, m: '' },
      { c: 'ALLOC', f: 'alloc', t: 'u32', n: numSpanClasses, ptr: 'SpanPtr', m: 'span per span class (emptymspan when none)' },
      { c: 'RETAINED', f: '', t: 'bytes', n: 8, m: 'span list (SL_*) of the full spans this mcache keeps until the next cycle (shared heaps only; mcache.ts)' },
      { c: 'NRETAINED', f: 'nretained', t: 'u32', m: 'spans on that list (a bound, not an invariant)' },
    ],
  },
  {
    go: 'p (runtime/runtime2.go)', prefix: 'P_', acc: 'p', sizeName: 'P_SIZE', base: 'PPtr',
    doc: 'A P: what an allocating context owns (proc.ts); persistentalloc\'d (other_sys), reused by later contexts once its owner detaches or is reclaimed.',
    align: 64,
    fields: [
      { c: 'STATUS', f: 'status', t: 'i32', m: 'P_IDLE / P_RUNNING / P_RESERVED' },
      { c: 'MCACHE', f: 'mcache', t: 'u32', ptr: 'MCachePtr', m: 'address of this P\'s mcache' },
      { c: 'EPOCH', f: 'epoch', t: 'i32', m: 'bumped each time the P is handed to a new context' },
      { c: 'SWEEPING', f: 'sweeping', t: 'i32', m: 'sweeps this P has in progress (Go: sweep.active, per P so that a dead worker\'s share can be taken back)' },
      { c: 'SWEEPSPAN', f: 'sweepSpan', t: 'u32', ptr: 'SpanPtr', m: 'the span this P is sweeping (0 = none), for reclaimP' },
      { c: 'INHAND', f: 'spanInHand', t: 'u32', ptr: 'SpanPtr', m: 'a span this P has taken out of every place (its mcache, an mcentral set, the page heap) and not yet put in another (0 = none), so that reclaimP can put back the one a dead context was holding' },
      { c: 'PCACHE_BASE', f: 'pcacheBase', t: 'u32', m: 'page cache: base of its 64-page aligned block (Go: p.pcache.base; 0 = empty)' },
      { c: 'PCACHE_LO', f: 'pcacheLo', t: 'u32', m: 'page cache: free pages 0..31 of the block, 1 = free and this P\'s (Go: pcache.cache)' },
      { c: 'PCACHE_HI', f: 'pcacheHi', t: 'u32', m: 'page cache: free pages 32..63' },
      { c: 'PCACHE_SCAV_LO', f: 'pcacheScavLo', t: 'u32', m: 'page cache: which of pages 0..31 are scavenged (released; Go: pcache.scav)' },
      { c: 'PCACHE_SCAV_HI', f: 'pcacheScavHi', t: 'u32', m: 'page cache: which of pages 32..63 are scavenged' },
      { c: '', f: '', t: 'pad', n: 20, m: '' },
      { c: 'STATS', f: '', t: 'bytes', n: 144 * 8, m: 'this P\'s statistics block (PSTAT_* slots below)' },
      { c: 'MSPANCACHE_LEN', f: 'mspancacheLen', t: 'u32', m: 'mspan structs cached (Go: p.mspancache.len)' },
      { c: 'MSPANCACHE_BUF', f: 'mspancacheBuf', t: 'u32', n: mspanCacheCap, ptr: 'SpanPtr', m: 'cached mspan struct addresses (Go: p.mspancache.buf)' },
      { c: 'SWEEP_PHASE', f: 'sweepPhase', t: 'u32', m: '0, or SWEEP_COMMITTED once the sweep of sweepSpan has changed the span\'s counts and statistics' },
      { c: 'SWEEP_FREEINDEX', f: 'sweepFreeIndex', t: 'u32', m: 'the span\'s freeindex when the sweep began' },
      { c: 'SWEEP_TAKEN', f: 'sweepTaken', t: 'u32', n: 32, m: 'the freed-bit words the sweep took (2 per 64 slots of the largest span), so that reclaimP can finish a sweep its context died in' },
    ],
  },
  {
    go: 'heapStatsDelta + mcache counters (runtime/mstats.go)', prefix: 'ST_', acc: '', sizeName: 'P_STATS_SLOTS', base: '', slots: true,
    doc: 'Per-P statistics block (f64 slots, inside each P struct). Only the P\'s own context writes it, so no update needs an atomic (Go\'s consistentHeapStats keeps per-P deltas for the same reason); readers sum the blocks of every P.',
    fields: [
      { c: 'LARGE_ALLOC', f: 'largeAlloc', t: 'f64', m: 'bytes of large objects allocated (heapStatsDelta.largeAlloc)' },
      { c: 'LARGE_ALLOC_COUNT', f: 'largeAllocCount', t: 'f64', m: 'number of large objects allocated' },
      { c: 'LARGE_FREE', f: 'largeFree', t: 'f64', m: 'bytes of large objects freed (at sweep)' },
      { c: 'LARGE_FREE_COUNT', f: 'largeFreeCount', t: 'f64', m: 'number of large objects freed' },
      { c: 'TINY_ALLOC_COUNT', f: 'tinyAllocCount', t: 'f64', m: 'tiny allocations combined into existing blocks' },
      { c: 'HEAP_LIVE', f: 'heapLive', t: 'f64', m: 'this P\'s contribution to gcController.heapLive' },
      { c: '', f: '', t: 'pad', n: 8, m: '' },
      { c: 'HEAP_ALLOC', f: 'heapAlloc', t: 'f64', m: 'bytes of objects this P\'s mcache settled and large objects it allocated, minus bytes it swept free (gcController.totalAlloc - totalFree, per P; the memory-limit goal reads it on the slow path)' },
      { c: 'SMALL_ALLOC', f: 'smallAllocCount', t: 'f64', n: NUM_SIZE_CLASSES, m: 'objects allocated per size class (settled at refill)' },
      { c: 'SMALL_FREE', f: 'smallFreeCount', t: 'f64', n: NUM_SIZE_CLASSES, m: 'objects freed per size class (at sweep)' },
    ],
  },
  {
    go: 'memstats / gcController (runtime/mstats.go, mgcpacer.go)', prefix: 'ST_', acc: '', sizeName: 'HEAP_STATS_SLOTS', base: '', slots: true,
    doc: 'Global statistics block (f64 slots, in the heap header; written under the GC lock).',
    fields: [
      { c: 'HEAP_MARKED', f: 'heapMarked', t: 'f64', m: 'live bytes at the end of the last GC (gcController.heapMarked)' },
      { c: 'LIVE_BASIS', f: 'liveBasis', t: 'f64', m: 'sum of the P heapLive slots at the last GC' },
      { c: 'NUM_GC', f: 'numGC', t: 'f64', m: 'completed GC cycles' },
      { c: 'NUM_FORCED_GC', f: 'numForcedGC', t: 'f64', m: 'cycles forced by gc() / freeOSMemory()' },
      { c: 'LAST_GC', f: 'lastGC', t: 'f64', m: 'end of the last GC, ns since the Unix epoch' },
      { c: 'PAUSE_TOTAL', f: 'pauseTotalNs', t: 'f64', m: 'total time spent in GC cycles' },
      { c: 'GC_PERCENT', f: 'gcPercent', t: 'f64', m: 'GOGC (-1 = off)' },
      { c: 'HEAP_GOAL', f: 'heapGoal', t: 'f64', m: 'the GOGC heap goal (gcController.gcPercentHeapGoal); NextGC is the smaller of it and the memory-limit goal (mgcpacer.ts)' },
      { c: 'MEMORY_LIMIT', f: 'memoryLimit', t: 'f64', m: 'gcController.memoryLimit (Infinity: none)' },
      { c: 'LAST_HEAP_GOAL', f: 'lastHeapGoal', t: 'f64', m: 'heap goal of the previous cycle (gcController.lastHeapGoal)' },
      { c: 'LAST_HEAP_INUSE', f: 'lastHeapInUse', t: 'f64', m: 'HeapInuse when the last cycle started (memstats.lastHeapInUse)' },
      { c: 'SCAV_GCPERCENT_GOAL', f: 'scavGCPercentGoal', t: 'f64', m: 'scavenge.gcPercentGoal: retained bytes to scavenge down to (Infinity: none)' },
      { c: 'SCAV_MEMLIMIT_GOAL', f: 'scavMemLimitGoal', t: 'f64', m: 'scavenge.memoryLimitGoal: mappedReady to scavenge down to (Infinity: none)' },
      { c: 'SCAV_RELEASED', f: 'scavReleased', t: 'f64', m: 'bytes the background scavenger released since the last scavtrace line (scav.released)' },
      { c: 'SCAV_RELEASED_BG', f: 'scavReleasedBg', t: 'f64', m: 'bytes the background scavenger released in all (goheap metric)' },
      { c: 'SCAV_WORDS', f: 'scavWords', t: 'f64', m: 'two i32 words: the scavenger lock, flags (bit 0: background scavenger off) (mgcscavenge.ts)' },
      { c: 'PAUSE_NS', f: 'pauseNs', t: 'f64', n: 256, m: 'circular buffer of cycle durations' },
      { c: 'PAUSE_END', f: 'pauseEnd', t: 'f64', n: 256, m: 'circular buffer of cycle end times' },
      { c: 'LIMITER_FILL', f: 'limiterFill', t: 'f64', m: 'GC CPU limiter bucket fill, ns (gcCPULimiter.bucket.fill)' },
      { c: 'LIMITER_LAST', f: 'limiterLastUpdate', t: 'f64', m: 'when the limiter was last updated, ms since the epoch' },
      { c: 'SCAV_RELEASED_ASSIST', f: 'scavReleasedAssist', t: 'f64', m: 'bytes released on the allocation path (heap growth, memory limit)' },
      { c: '', f: '', t: 'pad', n: 40, m: '' },
    ],
  },
  {
    go: 'mcentral (runtime/mcentral.go)', prefix: 'C_', acc: 'central', sizeName: 'MCENTRAL_SIZE', base: 'number',
    doc: 'The central free lists of one span class (mcentral.ts): one cache line each, as Go pads them. Each set is a doubly linked list of spans {head, tail} (mspanset.ts).',
    size: 64,
    fields: [
      { c: 'LOCK', f: '', t: 'i32', m: 'lock word (lock_futex.ts: 0 free, else the holder\'s token)' },
      { c: 'SETS', f: 'sets', t: 'bytes', n: 32, m: 'span sets partial[0], partial[1], full[0], full[1] (SL_*)' },
    ],
  },
  {
    go: 'mSpanList (runtime/mheap.go)', prefix: 'SL_', acc: 'mSpanList', sizeName: 'SPAN_LIST_SIZE', base: 'number',
    doc: 'A doubly linked list of spans through their next/prev fields (mspanset.ts): the mcentral span sets and the stack pools.',
    fields: [
      { c: 'FIRST', f: 'first', t: 'u32', ptr: 'SpanPtr', m: 'first span (0 = empty)' },
      { c: 'LAST', f: 'last', t: 'u32', ptr: 'SpanPtr', m: 'last span (0 = empty)' },
    ],
  },
  {
    go: 'heapArena (runtime/mheap.go)', prefix: 'A_', acc: 'arena', sizeName: 'HEAP_ARENA_SIZE', base: 'number',
    doc: 'Metadata of one 64 MiB arena (mheap.ts); persistentalloc\'d (gcMiscSys).',
    size: 33800,
    fields: [
      { c: 'SPANS', f: 'spans', t: 'u32', n: pagesPerArena, ptr: 'SpanPtr', m: 'span address per page (0 = none)' },
      { c: 'PAGE_IN_USE', f: '', t: 'bytes', n: pagesPerArena / 8, m: '1 bit per page: set at the first page of each InUse span' },
      { c: 'ZEROED_BASE', f: 'zeroedBase', t: 'u32', m: 'bytes from the arena start that have been handed out before' },
    ],
  },
  {
    go: 'mheap (runtime/mheap.go)', prefix: 'H_', acc: 'mheap', sizeName: 'MHEAP_HEADER_SIZE', base: 'number',
    doc: 'The mheap header (mheap.ts): one per heap, sysAlloc\'d at creation (other_sys).',
    fields: [
      { c: 'SWEEPGEN', f: 'sweepgen', t: 'u32', m: 'bumped by 2 each GC' },
      { c: 'ARENA_HINT', f: 'arenaHint', t: 'u32', m: 'where the next arena reservation is tried' },
      { c: 'CUR_BASE', f: 'curArenaBase', t: 'u32', m: 'reserved, not yet grown part of the current arena' },
      { c: 'CUR_END', f: 'curArenaEnd', t: 'u32', m: 'its end' },
      { c: 'PAGEALLOC', f: 'pageAlloc', t: 'u32', m: 'address of the page allocator\'s state' },
      { c: 'MAXCHUNKS', f: 'maxChunks', t: 'u32', m: 'chunks the page allocator covers' },
      { c: 'SWEEP_DONE', f: 'sweepDone', t: 'u32', m: '1 when no span is left unswept this cycle' },
      { c: 'NPROCS', f: 'nprocs', t: 'u32', m: 'P slots ever used (allp[0..nprocs) may be non-zero)' },
      { c: 'PERSISTENT', f: '', t: 'bytes', n: 8, m: 'persistentalloc state (PER_*)' },
      { c: 'EMPTYSPAN', f: 'emptymspan', t: 'u32', ptr: 'SpanPtr', m: 'the empty span (nelems 0) of empty mcache slots' },
      { c: 'ZEROBASE', f: '', t: 'u32', m: 'the address every zero-size allocation returns is this word\'s (Go: zerobase)' },
      { c: 'MAXPROCS', f: 'maxprocs', t: 'u32', m: 'most Ps this heap allows (<= 64)' },
      { c: 'SHARED', f: 'shared', t: 'u32', m: '1 once share made a descriptor: Ps may run in other threads; see MHeap.solo' },
      { c: '', f: '', t: 'pad', n: 8, m: '' },
      { c: 'ARENAS', f: 'arenas', t: 'u32', n: maxArenas, m: 'heapArena address per 64 MiB of address space (read on every free)' },
      { c: 'SPANALLOC', f: '', t: 'bytes', n: 32, m: 'fixalloc of mspan structs (mspan_sys)' },
      { c: 'CACHEALLOC', f: '', t: 'bytes', n: 32, m: 'fixalloc of mcache structs (mcache_sys)' },
      { c: 'GCBITSALLOC', f: '', t: 'bytes', n: 96, m: 'fixallocs of span bitmaps, 64/256/512 bytes (gcMiscSys)' },
      { c: 'TINYMASKALLOC', f: '', t: 'bytes', n: 32, m: 'fixalloc of tiny-block masks (gcMiscSys)' },
      { c: 'LOCK', f: '', t: 'i32', m: 'heap lock word: the words every worker writes share one cache line, away from the read-mostly words' },
      { c: 'GCLOCK', f: '', t: 'i32', m: 'GC lock word: serialises GC cycles' },
      { c: 'SWEEPERS', f: '', t: 'i32', m: 'sweeps in progress; bit 31: a GC is advancing sweepgen (Go: sweep.active)' },
      { c: '', f: '', t: 'pad', n: 52, m: '' },
      { c: 'CENTRAL', f: '', t: 'bytes', n: 64 * numSpanClasses, m: 'mcentral per span class (C_*), one cache line each' },
      { c: 'STATS', f: '', t: 'bytes', n: 536 * 8, m: 'global statistics block (ST_* heap slots)' },
      { c: 'ALLP', f: 'allp', t: 'u32', n: maxProcs, ptr: 'PPtr', m: 'P struct address per P id (0 = free slot)' },
      { c: 'SWEEP_CURSOR', f: 'sweepCursor', t: 'i32', m: 'first span class that may still have unswept spans' },
      { c: '', f: '', t: 'pad', n: 12, m: '' },
      { c: 'STACKPOOL', f: '', t: 'bytes', n: 32, m: 'stack pool span list (SL_*) per stack order (stack.ts)' },
    ],
  },
  {
    go: 'pageAlloc (runtime/mpagealloc.go)', prefix: 'PA_', acc: '', sizeName: 'PA_HEADER_SIZE', base: 'number', words: true,
    doc: 'Header of the page allocator (mpagealloc.ts); the summaries, scavenge index, inUse ranges and chunks follow it (see mpagealloc.ts).',
    fields: [
      { c: 'MAGIC', f: 'magic', t: 'u32', m: '\'PgAl\' tag' },
      { c: 'MAX_CHUNKS', f: 'maxChunks', t: 'u32', m: 'chunks laid out after the header' },
      { c: 'SEARCH_ADDR', f: 'searchAddr', t: 'u32', m: 'offAddr; MAX_SEARCH_ADDR = none' },
      { c: 'START', f: 'start', t: 'u32', m: 'first chunk known' },
      { c: 'END', f: 'end', t: 'u32', m: 'one past the last chunk' },
      { c: 'IN_USE_LEN', f: 'inUseLen', t: 'u32', m: 'ranges in inUse' },
      { c: 'SI_SEARCH_ADDR', f: 'siSearchAddr', t: 'u32', m: 'scavenge index search address' },
      { c: 'SI_STATE', f: 'siState', t: 'u32', m: '0 cleared / 1 set / 2 marked' },
    ],
  },
  {
    go: 'fixalloc (runtime/mfixalloc.go)', prefix: 'F_', acc: 'fixalloc', sizeName: 'FIXALLOC_SIZE', base: 'number',
    doc: 'A fixed-size object allocator (mfixalloc.ts).',
    fields: [
      { c: 'SIZE', f: 'size', t: 'u32', m: 'object size in bytes' },
      { c: 'LIST', f: 'list', t: 'u32', m: 'head of the free list (0 = empty); link in the object\'s first word' },
      { c: 'CHUNK', f: 'chunk', t: 'u32', m: 'next byte to carve in the current chunk' },
      { c: 'NCHUNK', f: 'nchunk', t: 'u32', m: 'bytes left in the current chunk' },
      { c: 'NALLOC', f: 'nalloc', t: 'u32', m: 'chunk size: floor(16 KiB / size) * size' },
      { c: 'INUSE', f: 'inuse', t: 'u32', m: 'bytes handed out and not freed' },
      { c: 'STAT', f: 'stat', t: 'u32', m: 'sysMemStat id charged for chunks' },
      { c: 'ZERO', f: 'zero', t: 'u32', m: '1: zero objects taken from the free list' },
    ],
  },
  {
    go: 'persistentAlloc (runtime/malloc.go)', prefix: 'PER_', acc: 'persistent', sizeName: 'PERSISTENT_SIZE', base: 'number',
    doc: 'persistentalloc\'s state (mfixalloc.ts).',
    fields: [
      { c: 'CHUNK', f: 'chunk', t: 'u32', m: 'base address of the current 256 KiB chunk (0 = none)' },
      { c: 'OFF', f: 'off', t: 'u32', m: 'bytes of it already handed out' },
    ],
  },
  {
    go: '(none: the OS layer of mem_*.go keeps its state in the kernel)', prefix: 'OS_', acc: '', sizeName: 'OS_HEADER_SIZE', base: 'number', words: true,
    doc: 'The OS layer\'s header (mem.ts), at byte 0 of the buffer; the page state table follows it.',
    size: 256,
    fields: [
      { c: 'MAGIC', f: 'magic', t: 'u32', m: '\'GOHP\' (0x50484f47)' },
      { c: 'VERSION', f: 'version', t: 'u32', m: 'layout version' },
      { c: 'NPAGES', f: 'npages', t: 'u32', m: 'pages in the reservation (reserve / 8192)' },
      { c: 'TABLE_OFF', f: 'tableOff', t: 'u32', m: 'byte offset of the state table (1 byte per page)' },
      { c: 'NONE_HINT', f: 'noneHint', t: 'u32', m: 'lowest page index that may be None (sysAlloc search start)' },
      { c: 'STATIC_BASE', f: 'staticBase', t: 'u32', m: 'start of the static region (sysAllocStatic), 0 if none' },
      { c: 'BACKEND', f: 'backendKind', t: 'u32', m: 'BACKEND_* id' },
      { c: 'STATIC_SIZE', f: 'staticSize', t: 'u32', m: 'bytes of the static region' },
      { c: 'STATE_BYTES', f: 'stateBytes', t: 'f64', n: 4, m: 'bytes per state None, Reserved, Prepared, Ready' },
      { c: 'MAPPED_READY', f: 'mappedReady', t: 'f64', m: 'bytes in the Ready state' },
      { c: 'SYS_STATS', f: 'sysStats', t: 'f64', n: 10, m: 'sysMemStat counters (STAT_*)' },
      { c: 'RELEASE_ZERO', f: 'releaseZero', t: 'i32', m: '1: sysUnused madvises, released pages read back as zero (mem_linux.ts)' },
      { c: '', f: '', t: 'pad', n: 36, m: '' },
      { c: 'LENGTH_PAGES', f: 'lengthPages', t: 'i32', m: 'the buffer\'s current byteLength / 8192 (read on every free; alone in its cache line, written only when the buffer grows)' },
    ],
  },
];

const typeSize: Record<FieldType, number> = { u32: 4, i32: 4, u16: 2, f64: 8, bytes: 1, pad: 1 };
const view: Record<FieldType, string> = { u32: 'u32', i32: 'i32', u16: 'u16', f64: 'f64', bytes: '', pad: '' };
const viewType: Record<string, string> = { u32: 'Uint32Array', i32: 'Int32Array', u16: 'Uint16Array', f64: 'Float64Array' };
const shift: Record<string, number> = { u32: 2, i32: 2, u16: 1, f64: 3 };
const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

interface Laid { f: Field; off: number; bytes: number }

function layOut(st: Struct): { laid: Laid[]; size: number } {
  const unit = st.slots ? 8 : 1;
  let off = 0;
  const laid: Laid[] = [];
  for (const f of st.fields) {
    const el = f.t === 'bytes' || f.t === 'pad' ? 1 : typeSize[f.t];
    const bytes = (f.n ?? 1) * el;
    if (off % Math.min(el, 8) !== 0) throw new Error(`${st.go}.${f.f}: offset ${off} is not ${el}-aligned`);
    laid.push({ f, off: off / unit, bytes });
    off += bytes;
  }
  let size = off;
  if (st.size !== undefined) {
    if (size > st.size) throw new Error(`${st.go}: fields need ${size} bytes, more than ${st.size}`);
    size = st.size;
  }
  if (st.align !== undefined) size = Math.ceil(size / st.align) * st.align;
  return { laid, size: size / unit };
}

function diagram(st: Struct, laid: Laid[], size: number): string[] {
  const rows: string[][] = [[st.slots ? 'slot' : 'offset', st.slots ? 'slots' : 'bytes', 'constant', 'field', 'meaning']];
  const n = (bytes: number): string => String(st.slots ? bytes / 8 : bytes);
  for (const { f, off, bytes } of laid) {
    if (f.t === 'pad') { rows.push([String(off), n(bytes), '', '(pad)', '']); continue; }
    const arr = f.n !== undefined && f.t !== 'bytes' ? `[${f.n}]` : '';
    const type = f.t === 'bytes' ? '' : ` ${f.ptr ?? f.t}`;
    rows.push([String(off), n(bytes), `${st.prefix}${f.c}`, `${f.f || f.c.toLowerCase()}${arr}${type}`, f.m]);
  }
  const last = laid[laid.length - 1];
  const end = last.off + (st.slots ? last.bytes / 8 : last.bytes);
  if (end < size) rows.push([String(end), String(size - end), '', '(pad)', '']);
  rows.push([String(size), '', st.sizeName, 'end', '']);
  const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => ` *   ${r[0].padStart(w[0])}  ${r[1].padStart(w[1])}  ${r[2].padEnd(w[2])}  ${r[3].padEnd(w[3])}  ${r[4]}`.trimEnd());
}

function accessors(st: Struct, laid: Laid[]): string[] {
  const out: string[] = [];
  if (st.acc === '') return out;
  for (const { f } of laid) {
    if (f.f === '' || f.t === 'bytes' || f.t === 'pad') continue;
    const C = `${st.prefix}${f.c}`, v = view[f.t], V = viewType[v], sh = shift[v];
    const get = `${st.acc}${cap(f.f)}`, set = `set${cap(st.acc)}${cap(f.f)}`;
    const ret = f.ptr ?? 'number';
    const cast = f.ptr !== undefined ? ` as ${f.ptr}` : '';
    const idx = f.n !== undefined ? `((b + ${C}) >>> ${sh}) + i` : `(b + ${C}) >>> ${sh}`;
    const ip = f.n !== undefined ? ', i: number' : '';
    out.push(`/** ${st.go.split(' ')[0]}.${f.f}${f.n !== undefined ? '[i]' : ''}: ${f.m.split('(')[0].trim()}. */`);
    out.push(`export function ${get}(${v}: ${V}, b: ${st.base}${ip}): ${ret} { return ${v}[${idx}]${cast}; }`);
    out.push(`export function ${set}(${v}: ${V}, b: ${st.base}${ip}, v: ${ret}${f.ptr !== undefined ? ' | 0' : ''}): void { ${v}[${idx}] = v; }`);
  }
  return out;
}

/** The text of src/layout.ts. */
export function generate(): string {
  const out: string[] = [];
  out.push('// GENERATED by scripts/gen-layout.ts from its struct tables: do not edit; change the tables');
  out.push('// and run `npx tsx scripts/gen-layout.ts` (test/layout.test.ts checks this file is current).');
  out.push('/**');
  out.push(' * layout.ts — the layout of every struct goheap keeps in the shared buffer: byte offsets');
  out.push(' * (<PREFIX>_<FIELD>), sizes, and one-line accessors V8 inlines. A struct "pointer" is its');
  out.push(' * byte address in the buffer; spans, mcaches and Ps have branded types so that a function');
  out.push(' * taking one cannot be handed another.');
  out.push(' *');
  out.push(' * @module');
  out.push(' */');
  out.push('');
  out.push('/** Address of an mspan struct (Go: *mspan). */');
  out.push('export type SpanPtr = number & { readonly __span: true };');
  out.push('/** Address of an mcache struct (Go: *mcache). */');
  out.push('export type MCachePtr = number & { readonly __mcache: true };');
  out.push('/** Address of a P struct (Go: *p). */');
  out.push('export type PPtr = number & { readonly __p: true };');
  for (const st of structs) {
    const { laid, size } = layOut(st);
    out.push('');
    out.push('// ' + '-'.repeat(88));
    out.push(`// ${st.go}`);
    out.push('// ' + '-'.repeat(88));
    out.push('/**');
    for (const line of wrap(st.doc, 88)) out.push(` * ${line}`);
    out.push(' *');
    out.push(...diagram(st, laid, size));
    out.push(' */');
    out.push(`export const ${st.sizeName} = ${size};`);
    for (const { f, off } of laid) {
      if (f.t === 'pad') continue;
      out.push(`export const ${st.prefix}${f.c} = ${off};`);
    }
    if (!st.slots) {
      // Word indices (u32/i32 fields; f64 fields of fixed-place structs: f64 indices), for
      // a pre-shifted base: u32[(p >>> 2) + SW_X]. Used where a call is not allowed (a
      // straight run of stores that a terminated worker must not stop inside: V8 stops a
      // worker at calls and loop back-edges) or where the accessor is too big to inline.
      const wp = st.prefix.replace(/_$/, 'W_');
      for (const { f, off } of laid) {
        if (f.t === 'pad' || f.t === 'bytes' || f.t === 'u16' || (f.t === 'f64' && !st.words)) continue;
        out.push(`export const ${wp}${f.c} = ${f.t === 'f64' ? off / 8 : off / 4};`);
      }
    }
    out.push(...accessors(st, laid));
  }
  out.push('');
  return out.join('\n');
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let cur = '';
  for (const w of text.split(' ')) {
    if (cur !== '' && cur.length + 1 + w.length > width) { lines.push(cur); cur = w; } else cur = cur === '' ? w : `${cur} ${w}`;
  }
  if (cur !== '') lines.push(cur);
  return lines;
}

/** Path of the generated file. */
export const layoutPath = fileURLToPath(new URL('../src/layout.ts', import.meta.url));

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = generate();
  if (process.argv.includes('--check')) {
    if (readFileSync(layoutPath, 'utf8') !== text) {
      console.error('src/layout.ts is stale: run `npx tsx scripts/gen-layout.ts`');
      process.exit(1);
    }
  } else writeFileSync(layoutPath, text);
}
