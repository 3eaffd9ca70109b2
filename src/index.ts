/**
 * goheap — Go's memory allocator in TypeScript, over a growable SharedArrayBuffer.
 *
 * The public API is the {@link Heap} facade; the runtime concepts it is built from are
 * exported too, under Go's names, for tools (the CLI) and the curious.
 *
 * @module
 */
export { Heap, defaultReserve, type HeapOptions, type HeapDescriptor, type MallocOptions, type StaticRegion } from './heap.js';
export {
  wasmImports, wasmDataSegments, instantiateOnHeap,
  type WasmHeapImports, type WasmDataSegment, type WasmThread, type WasmThreadOptions,
} from './wasm.js';
export {
  GoHeapError, InvalidSizeError, InvalidPointerError, DoubleFreeError, OutOfMemoryError,
  IllegalTransitionError, InvalidArgumentError, NoFreePError, HeapCorruptionError,
} from './errors.js';
export { type MemStats, type MemStatsBySize, memStatsFields } from './mstats.js';
export { type GCCycleInfo } from './runtime2.js';
export {
  OSMemory, MEM_NONE, MEM_RESERVED, MEM_PREPARED, MEM_READY, memStateNames, type BackendKind,
} from './mem.js';
export * as sizeclasses from './sizeclasses.js';
