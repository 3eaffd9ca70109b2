// examples/use-it.mjs — run it: node examples/use-it.mjs
import { Heap } from 'goheap';

const heap = Heap.create({ reserve: 1 << 30 });  // 1 GiB of address space, grown on demand
const p = heap.malloc(24);                        // a pointer: a byte offset into heap.buffer
heap.u32[p >>> 2] = 42;                           // read and write through the views
const q = heap.malloc(100, { noscan: false });    // "scan" span class, as for Go objects with pointers
const xs = heap.mallocAs(Float64Array, 1000);     // 1000 doubles (8-byte aligned), as a view
xs.fill(0.5);
heap.free(p);                                     // dead at once; reused after its span is swept
heap.free(xs);                                    // free takes a view from mallocAs too
heap.gc();                                        // finish sweeping: HeapAlloc == live bytes
const ms = heap.readMemStats();                   // Go's MemStats, every field
console.log('HeapAlloc', ms.HeapAlloc, 'HeapInuse', ms.HeapInuse); // HeapAlloc: q's 112-byte slot
heap.check();                                     // full metadata consistency check
