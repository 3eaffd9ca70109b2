// The allocator of the goheap build: malloc, free, calloc and realloc are goheap's, imported
// from JavaScript (src/wasm.ts wasmImports). Nothing in this module manages memory itself.

// @ts-ignore: decorator
@global @external("env", "malloc") declare function malloc(size: usize): usize;
// @ts-ignore: decorator
@global @external("env", "free") declare function free(p: usize): void;
// @ts-ignore: decorator
@global @external("env", "calloc") declare function calloc(n: usize, size: usize): usize;
// @ts-ignore: decorator
@global @external("env", "realloc") declare function realloc(p: usize, size: usize): usize;
