/**
 * goheap — Go's memory allocator in TypeScript, over a growable SharedArrayBuffer.
 *
 * The public API is the {@link Heap} facade; the runtime concepts it is built from are
 * exported too, under Go's names, for tools (the CLI) and the curious.
 *
 * @module
 */
export {
  Heap, defaultReserve, type HeapOptions, type HeapDescriptor, type MallocOptions, type StaticRegion, type TypedArray,
  type TypedArrayConstructor,
} from './heap.js';
export {
  wasmImports, wasmDataSegments, instantiateOnHeap,
  type WasmHeapImports, type WasmDataSegment, type WasmThread, type WasmThreadOptions,
} from './wasm.js';
export {
  GoHeapError, InvalidSizeError, InvalidPointerError, DoubleFreeError, OutOfMemoryError,
  IllegalTransitionError, InvalidArgumentError, NoFreePError, HeapCorruptionError, DetachedHeapError,
} from './errors.js';
export { type MemStats, type MemStatsBySize, memStatsFields } from './mstats.js';
export { type GCCycleInfo } from './runtime2.js';
export {
  OSMemory, MEM_NONE, MEM_RESERVED, MEM_PREPARED, MEM_READY, memStateNames, type BackendKind, type BackendOptions,
  type HeapViews,
} from './mem.js';
export * as sizeclasses from './sizeclasses.js';
export {
  type HeapSnapshot, type SpanTable, type PSnapshot, encodeSnapshot, decodeSnapshot, placeNames, sweepStateNames,
  PLACE_NONE, PLACE_PARTIAL_SWEPT, PLACE_PARTIAL_UNSWEPT, PLACE_FULL_SWEPT, PLACE_FULL_UNSWEPT, PLACE_MCACHE,
  PLACE_STACKPOOL, SWEEP_NA,
} from './inspect.js';
export { type HeapRecount } from './check.js';
export { formatScavTrace, type ScavTraceInfo, type BackgroundScavenger } from './mgcscavenge.js';
export { type ReleaseMode } from './mem_linux.js';
