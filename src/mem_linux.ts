/**
 * mem_linux.ts — releasing memory to the OS for real (Go: sysUnusedOS in mem_linux.go,
 * which calls madvise(MADV_DONTNEED) on released heap pages).
 *
 * JavaScript cannot give part of a buffer back: a SharedArrayBuffer (and the buffer of a
 * shared WebAssembly.Memory) never shrinks, and N-API cannot reach a SharedArrayBuffer's
 * memory. goheap therefore ships a small optional native addon (native/release.cc, built
 * by node-gyp when the package is installed) whose one function calls madvise on a
 * page-aligned range of the buffer's backing store. This file loads it when it can:
 *
 *   - Node, addon built: every sysUnused madvises its range; RSS falls, and the pages read
 *     back as zero (private anonymous memory), so a span made only of released pages needs
 *     no zeroing (see MHeap.allocSpanLocked). releaseMode 'madvise'.
 *   - resizable ArrayBuffer ('rab'): the buffer itself shrinks when its top is released
 *     (mem.ts); pages released below the top stay resident. releaseMode 'shrink'.
 *   - anywhere else (a browser, Deno, Node without the addon, GOHEAP_NO_NATIVE=1, or
 *     Heap.create({ native: false })): release is bookkeeping only, as before. releaseMode
 *     'none'.
 *
 * No static import of a Node module, so the core still bundles for browsers: the addon is
 * loaded through process.getBuiltinModule (Node ≥ 20.16) when it exists.
 *
 * @module
 */

/** How released pages go back to the OS: see the module comment. */
export type ReleaseMode = 'madvise' | 'shrink' | 'none';

/** The addon's interface (native/release.cc). */
interface ReleaseAddon {
  /** madvise(MADV_DONTNEED) on [offset, offset+length) of buffer's memory; 0 or an errno. */
  madvise(buffer: ArrayBufferLike, offset: number, length: number): number;
}

let addon: ReleaseAddon | null | undefined;
/** Why the addon is not loaded (for {@link nativeReleaseUnavailableReason}). */
let whyNot = '';

/**
 * The native release addon, or null when it cannot be loaded here (loaded once per
 * thread). GOHEAP_NO_NATIVE=1 in the environment disables it.
 */
export function releaseAddon(): ReleaseAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined>; getBuiltinModule?: (id: string) => unknown } }).process;
  if (proc === undefined || typeof proc.getBuiltinModule !== 'function') {
    whyNot = 'not running on Node (or Node older than 20.16)';
    return null;
  }
  if (proc.env?.GOHEAP_NO_NATIVE === '1') {
    whyNot = 'GOHEAP_NO_NATIVE=1';
    return null;
  }
  const mod = proc.getBuiltinModule('node:module') as { createRequire(url: string): (id: string) => unknown };
  const req = mod.createRequire(import.meta.url);
  // src/mem_linux.ts (tsx) and dist/src/mem_linux.js (compiled) sit at different depths.
  for (const rel of ['../native/build/Release/goheap_release.node', '../../native/build/Release/goheap_release.node']) {
    try {
      const a = req(rel) as ReleaseAddon;
      if (typeof a.madvise === 'function') return (addon = a);
    } catch (e) {
      whyNot = `native/build/Release/goheap_release.node could not be loaded (${(e as Error).message.split('\n')[0]}); build it with npm rebuild goheap or node native/build.mjs`;
    }
  }
  return null;
}

/** Why {@link releaseAddon} returned null ('' when it did not, or was not asked yet). */
export function nativeReleaseUnavailableReason(): string {
  return whyNot;
}

/**
 * Release [v, v+n) of `buffer` to the OS (Go: sysUnusedOS). Returns false when the addon
 * refused (the caller then falls back to bookkeeping for good).
 */
export function sysUnusedOS(a: ReleaseAddon, buffer: ArrayBufferLike, v: number, n: number): boolean {
  return a.madvise(buffer, v, n) === 0;
}
