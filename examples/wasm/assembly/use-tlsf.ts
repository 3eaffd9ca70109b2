// The allocator of the baseline build: AssemblyScript's own TLSF (runtime "minimal"), inside
// the module, over the module's own (unshared) memory. Same workload, same call sites.

// @ts-ignore: decorator
@global @inline function malloc(size: usize): usize { return heap.alloc(size); }
// @ts-ignore: decorator
@global @inline function free(p: usize): void { heap.free(p); }
// @ts-ignore: decorator
@global @inline function calloc(n: usize, size: usize): usize {
  const p = heap.alloc(n * size);
  memory.fill(p, 0, n * size);
  return p;
}
// @ts-ignore: decorator
@global @inline function realloc(p: usize, size: usize): usize { return p == 0 ? heap.alloc(size) : heap.realloc(p, size); }

/** The shadow stack of this build: from TLSF, in the module's own memory. */
export function stackAlloc(size: usize): usize { return heap.alloc(size); }
