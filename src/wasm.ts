/**
 * wasm.ts — goheap as the malloc of a WebAssembly module: the imports such a module needs,
 * and the instantiation of one module per thread over the heap's shared WebAssembly.Memory,
 * each with its own shadow stack from {@link Heap.stackAlloc} (Go gives each goroutine its
 * stack from the same heap: stackalloc).
 *
 * What the module must look like (AssemblyScript and clang both produce it; see
 * examples/wasm/):
 *   - it imports its memory as `env.memory` (shared, maximum ≥ the heap's reservation in
 *     64 KiB pages) and `env.malloc`, `env.free` (and `env.calloc`, `env.realloc` if it
 *     uses them) — {@link wasmImports};
 *   - its data lies inside the heap's static region: compile it for that address
 *     (AssemblyScript `--memoryBase B`, clang `-Wl,--global-base=B`) and create the heap
 *     with `staticData: { base: B, size }`. {@link wasmDataSegments} reads where the data
 *     goes (active segments; or, for wasm-ld's passive ones, the exported range
 *     [__global_base, __data_end)), and {@link instantiateOnHeap} refuses a module whose
 *     data goes anywhere else: outside that region it would land on goheap's metadata or
 *     objects;
 *   - if it has a shadow stack it exports the mutable global `__stack_pointer`
 *     (AssemblyScript: `export { __stack_pointer }`; clang: `-Wl,--export=__stack_pointer`),
 *     and optionally `__stack_limit`, which is set to the stack's lowest address;
 *   - it must not grow the memory itself (`memory.grow`): the pages above the heap's
 *     are goheap's to map.
 *
 * JS forces one thing Go does not have: an instance's globals (`__stack_pointer` among
 * them) are per instance, so a thread is an instance, and the stack is set from outside.
 *
 * @module
 */
import { InvalidArgumentError, OutOfMemoryError } from './errors.js';
import type { Heap } from './heap.js';

/** The `env` imports of a module that uses goheap as its allocator. */
export interface WasmHeapImports {
  /** The heap's shared memory. */
  memory: WebAssembly.Memory;
  /** C's malloc: a pointer to `size` bytes, or 0 when the reservation is full. */
  malloc(size: number): number;
  /** C's free: free(0) does nothing; a pointer that is not a live object throws InvalidPointerError. */
  free(p: number): void;
  /** C's calloc: zeroed memory for n × size bytes, or 0 when the reservation is full. */
  calloc(n: number, size: number): number;
  /** C's realloc, or 0 (p untouched) when the reservation is full. */
  realloc(p: number, size: number): number;
  /** AssemblyScript's abort(message, file, line, column): throws an Error naming the place. */
  abort(message: number, file: number, line: number, column: number): never;
}

/**
 * The C allocation functions over `heap`, in this context (its P), and its memory: the
 * `env` imports of a module that allocates from goheap. Go: none — a Go program's
 * allocation sites call mallocgc directly; here they are wasm call sites of JS functions.
 */
export function wasmImports(heap: Heap): WasmHeapImports {
  const memory = heap.h.views.memory;
  if (memory === null) throw new InvalidArgumentError('wasmImports: the heap must be created with backend "wasm" (a shared WebAssembly.Memory)');
  // wasm passes i32s: pointers and sizes arrive signed, hence >>> 0. Out of memory is C's
  // NULL; any other error (a bad pointer, a double free) is thrown through the wasm frames.
  const orNull = (e: unknown): number => { if (e instanceof OutOfMemoryError) return 0; throw e; };
  return {
    memory,
    malloc: (size) => { try { return heap.malloc(size >>> 0); } catch (e) { return orNull(e); } },
    free: (p) => { heap.free(p >>> 0); },
    calloc: (n, size) => { try { return heap.calloc(n >>> 0, size >>> 0); } catch (e) { return orNull(e); } },
    realloc: (p, size) => { try { return heap.realloc(p >>> 0, size >>> 0); } catch (e) { return orNull(e); } },
    abort: (message, file, line, column) => { throw new Error(`wasm module aborted at line ${line}, column ${column} (message at ${message >>> 0}, file at ${file >>> 0})`); },
  };
}

/** A range a module's data is written to when it is instantiated: `size` bytes at `offset`. */
export interface WasmDataSegment {
  readonly offset: number;
  readonly size: number;
}

/**
 * Where a module's data goes when it is instantiated (Go: none — these are the data a
 * linker places, see sysAllocStatic in mem.ts), from its binary:
 *   - each active data segment: `size` bytes written at `offset` by every instantiation
 *     (AssemblyScript's segments);
 *   - if it has passive segments, which its own start code copies (wasm-ld with
 *     `--shared-memory`: `__wasm_init_memory` copies them once, and zeroes the bss, at the
 *     addresses it linked them for): one range [__global_base, __data_end), read from the
 *     globals the module must then export (`-Wl,--export=__global_base,--export=__data_end`).
 * @throws InvalidArgumentError when the bytes are not a wasm module, a segment's offset is
 *   not a constant (a relocatable module: its data address is chosen at load time), or a
 *   module with passive segments does not export where they go
 */
export function wasmDataSegments(bytes: BufferSource): WasmDataSegment[] {
  const b = ArrayBuffer.isView(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : new Uint8Array(bytes);
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new InvalidArgumentError('not a WebAssembly module (bad magic)');
  let pos = 8;
  const uleb = (): number => {
    let v = 0, shift = 0, byte: number;
    do {
      if (pos >= b.length) throw new InvalidArgumentError('truncated WebAssembly module');
      byte = b[pos++];
      v += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return v;
  };
  const sleb32 = (): number => {
    let v = 0, shift = 0, byte: number;
    do {
      if (pos >= b.length) throw new InvalidArgumentError('truncated WebAssembly module');
      byte = b[pos++];
      v |= (byte & 0x7f) << shift;
      shift += 7;
    } while (byte & 0x80);
    return shift < 32 && (byte & 0x40) !== 0 ? v | (-1 << shift) : v;
  };
  /** An i32.const constant expression, or null for any other. */
  const constExpr = (): number | null => {
    if (b[pos] !== 0x41) { while (pos < b.length && b[pos] !== 0x0b) pos++; pos++; return null; }
    pos++;
    const v = sleb32() >>> 0;
    if (b[pos++] !== 0x0b) throw new InvalidArgumentError('a constant expression longer than one i32.const');
    return v;
  };
  const skipName = (): void => { pos += uleb(); };
  const active: WasmDataSegment[] = [];
  const globals: Array<number | null> = []; // init values, imported globals first (unknown: null)
  const exported = new Map<string, number>(); // exported global name -> global index
  let passive = 0;
  while (pos < b.length) {
    const id = b[pos++];
    const size = uleb();
    const end = pos + size;
    if (id === 2) { // imports: count the imported globals
      for (let n = uleb(); n > 0; n--) {
        skipName(); skipName();
        const kind = b[pos++];
        if (kind === 0) uleb();
        else if (kind === 1) { pos++; const f = uleb(); uleb(); if (f & 1) uleb(); }
        else if (kind === 2) { const f = uleb(); uleb(); if (f & 1) uleb(); }
        else if (kind === 3) { pos += 2; globals.push(null); }
        else { pos = end; break; }
      }
    } else if (id === 6) { // globals
      for (let n = uleb(); n > 0; n--) { pos += 2; globals.push(constExpr()); }
    } else if (id === 7) { // exports
      for (let n = uleb(); n > 0; n--) {
        const len = uleb();
        const name = String.fromCharCode(...b.subarray(pos, pos + len));
        pos += len;
        const kind = b[pos++], index = uleb();
        if (kind === 3) exported.set(name, index);
      }
    } else if (id === 11) { // data
      for (let n = uleb(); n > 0; n--) {
        const flags = uleb();
        if (flags === 1) { passive++; pos += uleb(); continue; }
        if (flags === 2 && uleb() !== 0) throw new InvalidArgumentError('a data segment for a second memory');
        if (flags !== 0 && flags !== 2) throw new InvalidArgumentError(`unknown data segment kind ${flags}`);
        const offset = constExpr();
        if (offset === null) throw new InvalidArgumentError('a data segment whose offset is not an i32.const (a relocatable module): compile it for a fixed address inside the heap\'s static region');
        const len = uleb();
        active.push({ offset, size: len });
        pos += len;
      }
    }
    pos = end;
  }
  if (passive === 0) return active;
  const at = (name: string): number => {
    const i = exported.get(name);
    const v = i === undefined ? null : globals[i] ?? null;
    if (v === null) throw new InvalidArgumentError(`the module has passive data segments, copied by its own code: it must export the constant global ${name} (wasm-ld: -Wl,--export=${name}) so that their range can be checked`);
    return v;
  };
  const base = at('__global_base'), end = at('__data_end');
  return [...active, { offset: base, size: Math.max(0, end - base) }];
}

/** Options of {@link instantiateOnHeap}. */
export interface WasmThreadOptions {
  /** Bytes of shadow stack: a power of two, at least 2048. Default 64 KiB. */
  stackSize?: number;
  /** More imports (merged over goheap's; `env` entries are added to goheap's `env`). */
  imports?: WebAssembly.Imports;
}

/** One instance of a module on a heap: a wasm thread with its own stack. */
export interface WasmThread {
  /** The instance. */
  readonly instance: WebAssembly.Instance;
  /** Its exports. */
  readonly exports: WebAssembly.Exports;
  /** Lowest address of its shadow stack (from heap.stackAlloc), 0 if the module has none. */
  readonly stack: number;
  /** Size of its shadow stack, 0 if none. */
  readonly stackSize: number;
  /** Free its stack. Call no export afterwards. */
  release(): void;
}

/**
 * Instantiate a module over the heap's memory, as one thread of this context (Go: a new
 * goroutine, whose stack comes from stackalloc — here the module's shadow stack): its
 * allocations go through this context's P. Checks that every active data segment is
 * inside the heap's static region (throws InvalidArgumentError before anything is
 * written otherwise); gives it a shadow stack from {@link Heap.stackAlloc} if it exports
 * `__stack_pointer`; then calls its `_initialize` export, if any (a reactor's start).
 * Call it once per worker, after `Heap.attach`.
 */
export async function instantiateOnHeap(heap: Heap, bytes: BufferSource, opts: WasmThreadOptions = {}): Promise<WasmThread> {
  const env = wasmImports(heap);
  const region = heap.staticData;
  for (const s of wasmDataSegments(bytes)) {
    if (s.size === 0) continue;
    if (region === null || s.offset < region.base || s.offset + s.size > region.base + region.size) {
      const where = region === null ? 'the heap has no static region (Heap.create({ staticData }))' : `the heap's static region is [${region.base}, ${region.base + region.size})`;
      throw new InvalidArgumentError(`the module writes a data segment at [${s.offset}, ${s.offset + s.size}) but ${where}: compile it for an address inside the region (AssemblyScript --memoryBase, clang --global-base)`);
    }
  }
  const module = await WebAssembly.compile(bytes);
  if (!WebAssembly.Module.imports(module).some((i) => i.kind === 'memory' && i.module === 'env' && i.name === 'memory')) {
    throw new InvalidArgumentError('the module does not import env.memory: it has a memory of its own, where goheap\'s pointers mean nothing');
  }
  const hasStack = WebAssembly.Module.exports(module).some((e) => e.kind === 'global' && e.name === '__stack_pointer');
  const stackSize = hasStack ? opts.stackSize ?? 64 << 10 : 0;
  const stack = hasStack ? heap.stackAlloc(stackSize) : 0;
  try {
    const extra = opts.imports ?? {};
    const instance = await WebAssembly.instantiate(module, { ...extra, env: { ...env, ...(extra.env ?? {}) } });
    const ex = instance.exports;
    if (hasStack) {
      (ex.__stack_pointer as WebAssembly.Global).value = stack + stackSize;
      if (ex.__stack_limit instanceof WebAssembly.Global) ex.__stack_limit.value = stack;
    }
    if (typeof ex._initialize === 'function') (ex._initialize as () => void)();
    let released = false;
    return {
      instance, exports: ex, stack, stackSize,
      release(): void {
        if (released || !hasStack) return;
        released = true;
        heap.stackFree(stack, stackSize);
      },
    };
  } catch (e) {
    if (hasStack) heap.stackFree(stack, stackSize);
    throw e;
  }
}
