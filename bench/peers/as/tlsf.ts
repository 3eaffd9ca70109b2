// @ts-nocheck -- AssemblyScript source (compiled by bench/peers/as-build.ts with asc), not for tsc.
//
// A tiny wrapper around AssemblyScript's own allocator: the `heap` namespace calls
// __alloc / __free, which with `--runtime minimal` (and `incremental`) are the TLSF
// memory manager of std/assembly/rt/tlsf.ts. The stub runtime would be a bump allocator,
// so the build must not use `--runtime stub`.
//
// Two ways to drive it:
//   malloc / free             one JS -> wasm call per operation (the "as-tlsf" peer)
//   runPairs / runWindow*     the whole timed loop runs inside wasm ("as-tlsf-wasm"),
//                             the same algorithms as bench/workloads.ts, with the
//                             pre-generated size / victim arrays copied into wasm memory.

export function malloc(size: usize): usize {
  return heap.alloc(size);
}

export function free(ptr: usize): void {
  heap.free(ptr);
}

/** Bytes of linear memory (64 KiB wasm pages): what the TLSF heap has grown to. */
export function memoryBytes(): usize {
  return (<usize>memory.size()) << 16;
}

/** n malloc+free pairs; sizes is a u32 array of mask+1 entries. Returns a checksum. */
export function runPairs(sizes: usize, mask: u32, start: u32, n: u32): u32 {
  let acc: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const p = heap.alloc(<usize>load<u32>(sizes + ((<usize>((start + i) & mask)) << 2)));
    heap.free(p);
    acc ^= <u32>p;
  }
  return acc;
}

/** Fill the w slots of a window (slots: u32 array) with new objects. */
export function fillWindow(slots: usize, w: u32, sizes: usize, mask: u32): void {
  for (let k: u32 = 0; k < w; k++) {
    store<u32>(slots + ((<usize>k) << 2), <u32>heap.alloc(<usize>load<u32>(sizes + ((<usize>(k & mask)) << 2))));
  }
}

/** Free every object of a window. */
export function drainWindow(slots: usize, w: u32): void {
  for (let k: u32 = 0; k < w; k++) heap.free(<usize>load<u32>(slots + ((<usize>k) << 2)));
}

/** Sliding window, oldest first: free slot pos, put a new object there, pos++. Returns the new pos. */
export function runWindowFifo(slots: usize, w: u32, sizes: usize, mask: u32, start: u32, n: u32, pos: u32): u32 {
  let j = pos;
  for (let i: u32 = 0; i < n; i++) {
    const at = slots + ((<usize>j) << 2);
    heap.free(<usize>load<u32>(at));
    store<u32>(at, <u32>heap.alloc(<usize>load<u32>(sizes + ((<usize>((start + i) & mask)) << 2))));
    j++;
    if (j === w) j = 0;
  }
  return j;
}

/** Sliding window, random order: victims holds pre-drawn slot indices in [0, w). */
export function runWindowRandom(slots: usize, sizes: usize, victims: usize, mask: u32, start: u32, n: u32): void {
  for (let i: u32 = 0; i < n; i++) {
    const k = (<usize>((start + i) & mask)) << 2;
    const at = slots + ((<usize>load<u32>(victims + k)) << 2);
    heap.free(<usize>load<u32>(at));
    store<u32>(at, <u32>heap.alloc(<usize>load<u32>(sizes + k)));
  }
}
