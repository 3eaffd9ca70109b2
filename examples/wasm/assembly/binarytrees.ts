// binary-trees (the Computer Language Benchmarks Game workload) over unmanaged memory, for
// several threads: every tree node is a malloc'd 8-byte object {left, right}, every tree
// is freed node by node. The allocator is whatever the build links in as the globals
// malloc / free / calloc / realloc: goheap (use-goheap.ts: imports from JavaScript, over the
// heap's shared memory) or AssemblyScript's TLSF (use-tlsf.ts: inside the module).
//
// Threads hand trees to each other through rings (single producer, single consumer) that
// live in the same memory: thread k builds trees and pushes them into the ring of thread
// k+1, and checks and frees the trees thread k-1 pushed into its own ring. So every tree is
// allocated in one thread and freed in another (with one thread, the ring is its own).
//
// Memory the module uses, and where it is:
//   - the data segment (NODES below) at the address the module was compiled for
//     (--memoryBase), inside the static region goheap set aside for it;
//   - the shadow stack (__stack_pointer, exported): itemCheck and freeTree keep their
//     explicit DFS stack there, as a C compiler keeps a local array. The host points
//     __stack_pointer at the top of a stack from heap.stackAlloc and __stack_limit at its
//     bottom, per thread (wasm globals are per instance, so per thread);
//   - everything else from malloc.

/** Nodes in a full tree of depth d: 2^(d+1) - 1 (static data: the module's data segment). */
const NODES = memory.data<u32>([
  1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095, 8191, 16383, 32767, 65535,
  131071, 262143, 524287, 1048575, 2097151, 4194303, 8388607, 16777215, 33554431,
]);
const MAX_DEPTH: i32 = 24;

/** Lowest address of this thread's shadow stack: pushing below it traps (Go: stackguard0). */
export let __stack_limit: usize = 0;
export { __stack_pointer };
/** The lowest __stack_pointer this thread reached (for the tests). */
export let stackLow: usize = <usize>-1;

// ----- the shadow stack ---------------------------------------------------------------

// @ts-ignore: decorator
@inline function stackPush(bytes: usize): usize {
  const sp = __stack_pointer - bytes;
  if (sp < __stack_limit || sp > __stack_pointer) unreachable(); // overflow: trap, write nothing
  __stack_pointer = sp;
  if (sp < stackLow) stackLow = sp;
  return sp;
}

// @ts-ignore: decorator
@inline function stackPop(bytes: usize): void {
  __stack_pointer += bytes;
}

// ----- trees --------------------------------------------------------------------------

/** A full binary tree of the given depth: 2^(depth+1) - 1 nodes of 8 bytes. */
export function bottomUpTree(depth: i32): usize {
  const node = malloc(8);
  if (node == 0) unreachable(); // out of memory
  if (depth > 0) {
    store<u32>(node, bottomUpTree(depth - 1), 0);
    store<u32>(node, bottomUpTree(depth - 1), 4);
  } else {
    store<u64>(node, 0);
  }
  return node;
}

/** Number of nodes of the tree (a depth-first walk with an explicit stack on the shadow stack). */
export function itemCheck(tree: usize, depth: i32): u32 {
  if (depth > MAX_DEPTH) unreachable();
  const frame = <usize>(depth + 2) << 2;
  const base = stackPush(frame);
  let top = base, n: u32 = 0;
  store<u32>(top, tree); top += 4;
  while (top > base) {
    top -= 4;
    const node = load<u32>(top);
    n++;
    const l = load<u32>(node, 0);
    if (l != 0) {
      store<u32>(top, load<u32>(node, 4)); top += 4;
      store<u32>(top, l); top += 4;
    }
  }
  stackPop(frame);
  return n;
}

/** Free every node of the tree (the same walk). */
export function freeTree(tree: usize, depth: i32): void {
  if (depth > MAX_DEPTH) unreachable();
  const frame = <usize>(depth + 2) << 2;
  const base = stackPush(frame);
  let top = base;
  store<u32>(top, tree); top += 4;
  while (top > base) {
    top -= 4;
    const node = load<u32>(top);
    const l = load<u32>(node, 0);
    if (l != 0) {
      store<u32>(top, load<u32>(node, 4)); top += 4;
      store<u32>(top, l); top += 4;
    }
    free(node);
  }
  stackPop(frame);
}

// ----- rings: single producer, single consumer ----------------------------------------
//
//   offset  field
//        0  head   (consumer's count of trees taken)
//       64  tail   (producer's count of trees put)
//      128  cap    (a power of two)
//      192  slots  u32[cap]
// The host may make a ring itself (calloc + store cap), or call ringNew.

const R_HEAD: usize = 0;
const R_TAIL: usize = 64;
const R_CAP: usize = 128;
const R_SLOTS: usize = 192;

/** A new empty ring of cap slots (cap a power of two), from calloc. */
export function ringNew(cap: u32): usize {
  const r = calloc(1, R_SLOTS + (<usize>cap << 2));
  if (r == 0) unreachable();
  store<u32>(r + R_CAP, cap);
  return r;
}

/** Free a ring. */
export function ringFree(r: usize): void {
  free(r);
}

function ringPush(r: usize, tree: usize): bool {
  const tail = load<u32>(r + R_TAIL), cap = load<u32>(r + R_CAP);
  if (tail - atomic.load<u32>(r + R_HEAD) == cap) return false;
  store<u32>(r + R_SLOTS + ((<usize>(tail & (cap - 1))) << 2), <u32>tree);
  atomic.store<u32>(r + R_TAIL, tail + 1);
  return true;
}

/** The next tree of the ring, or 0 if it is empty. */
function ringPop(r: usize): usize {
  const head = load<u32>(r + R_HEAD), cap = load<u32>(r + R_CAP);
  if (atomic.load<u32>(r + R_TAIL) == head) return 0;
  const tree = load<u32>(r + R_SLOTS + ((<usize>(head & (cap - 1))) << 2));
  atomic.store<u32>(r + R_HEAD, head + 1);
  return tree;
}

// ----- one round of the benchmark -----------------------------------------------------

// The consumer's batch: trees taken from the ring wait in a vector grown by realloc, and
// are checked and freed a batch at a time.
const BATCH: i32 = 64;
let batch: usize = 0;
let batchCap: i32 = 0;
let batchLen: i32 = 0;

/** Checks and frees the batch; returns the sum of the checks, or traps if a tree is damaged. */
function drainBatch(depth: i32): u32 {
  let sum: u32 = 0;
  const want = load<u32>(NODES + (<usize>depth << 2));
  for (let i = 0; i < batchLen; i++) {
    const t = load<u32>(batch + (<usize>i << 2));
    const c = itemCheck(t, depth);
    if (c != want) unreachable(); // a tree lost or gained nodes: memory was corrupted
    sum += c;
    freeTree(t, depth);
  }
  batchLen = 0;
  return sum;
}

function take(t: usize, depth: i32): u32 {
  if (batchLen == batchCap) {
    batchCap = batchCap == 0 ? 4 : batchCap << 1;
    batch = realloc(batch, <usize>batchCap << 2);
    if (batch == 0) unreachable();
  }
  store<u32>(batch + (<usize>batchLen << 2), <u32>t);
  batchLen++;
  return batchLen >= BATCH ? drainBatch(depth) : 0;
}

/**
 * One depth of binary-trees on this thread: build `iterations` trees of `depth` and push
 * them into `outRing`; take `expectIn` trees from `inRing`, check and free them. Returns the
 * sum of the checks of the trees it took (each one 2^(depth+1) - 1). Waits (Atomics.wait,
 * with a timeout) when its out ring is full and its in ring is empty: never on the main
 * thread of a browser, since a thread whose out ring is its in ring never waits.
 */
export function runDepth(depth: i32, iterations: i32, outRing: usize, inRing: usize, expectIn: i32): u32 {
  let sum: u32 = 0, got: i32 = 0;
  for (let i = 0; i < iterations; i++) {
    const t = bottomUpTree(depth);
    let spins = 0;
    while (!ringPush(outRing, t)) {
      const u = got < expectIn ? ringPop(inRing) : 0;
      if (u != 0) { got++; sum += take(u, depth); continue; }
      if (++spins > 1000) atomic.wait<i32>(outRing + R_HEAD, atomic.load<i32>(outRing + R_HEAD), 50_000);
    }
    // Take what has come, but no more than this depth's trees: the thread before may be
    // ahead, and its next depth's trees follow these in the ring.
    for (let u = got < expectIn ? ringPop(inRing) : 0; u != 0; u = got < expectIn ? ringPop(inRing) : 0) {
      got++; sum += take(u, depth);
    }
  }
  let spins = 0;
  while (got < expectIn) {
    const u = ringPop(inRing);
    if (u != 0) { got++; sum += take(u, depth); spins = 0; continue; }
    if (++spins > 1000) atomic.wait<i32>(inRing + R_TAIL, atomic.load<i32>(inRing + R_TAIL), 50_000);
  }
  sum += drainBatch(depth);
  return sum;
}

/** Free the batch vector (at the end of a thread's run). */
export function finish(): void {
  if (batch != 0) free(batch);
  batch = 0; batchCap = 0; batchLen = 0;
}

/** n times malloc(size) then free (for the benchmark: the cost of one call pair). */
export function churn(n: i32, size: usize): void {
  for (let i = 0; i < n; i++) {
    const p = malloc(size);
    if (p == 0) unreachable();
    store<u32>(p, i);
    free(p);
  }
}
