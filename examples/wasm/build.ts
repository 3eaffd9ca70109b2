/**
 * build.ts — compiles the AssemblyScript sources of examples/wasm/assembly/ with `asc` (the
 * `assemblyscript` npm package) into examples/wasm/build/ (not committed: rebuilt when a
 * source is newer than its output). `tsx examples/wasm/build.ts` builds everything.
 *
 * Three modules:
 *   binarytrees-goheap.wasm  the workload with goheap as its malloc: imports env.memory
 *       (shared, the heap's WebAssembly.Memory) and env.malloc/free/calloc/realloc; its
 *       data segment is compiled to live at STATIC_BASE, in the static region the heap
 *       sets aside (Heap.create({ staticData })). Runtime "stub", and nothing uses it: the
 *       module has no allocator of its own.
 *   binarytrees-tlsf.wasm    the same workload with AssemblyScript's TLSF (runtime
 *       "minimal") over the module's own unshared memory: the baseline.
 *   boundary.wasm            calls across the JS <-> wasm boundary, for the benchmark.
 *
 * @module
 */
import { mkdir, rename, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { STATIC_BASE, STATIC_SIZE } from './threads.js';


const dir = fileURLToPath(new URL('.', import.meta.url));
const src = (f: string): string => `${dir}assembly/${f}`;
/** The build directory. */
export const buildDir = `${dir}build/`;

interface Target { out: string; sources: string[]; flags: string[] }

const common = ['-O3', '--noAssert', '--enable', 'threads'];
const targets: Target[] = [
  {
    out: 'binarytrees-goheap.wasm',
    sources: ['use-goheap.ts', 'binarytrees.ts'],
    flags: [
      '--runtime', 'stub', '--importMemory', '--sharedMemory', '--noExportMemory',
      '--memoryBase', String(STATIC_BASE),
      '--initialMemory', String((STATIC_BASE + STATIC_SIZE) / 65536), '--maximumMemory', '65536',
    ],
  },
  { out: 'binarytrees-tlsf.wasm', sources: ['use-tlsf.ts', 'binarytrees.ts'], flags: ['--runtime', 'minimal'] },
  { out: 'boundary.wasm', sources: ['boundary.ts'], flags: ['--runtime', 'stub'] },
];

async function mtime(f: string): Promise<number> {
  try { return (await stat(f)).mtimeMs; } catch { return -1; }
}

/** The C version, built by c/build.sh (clang) and committed. */
export const cModules = { goheap: `${dir}c/binarytrees-goheap.wasm`, dlmalloc: `${dir}c/binarytrees-dlmalloc.wasm` };

/** Compile whatever is out of date; returns the paths of the three modules by name. */
export async function buildWasm(force = false): Promise<Record<'goheap' | 'tlsf' | 'boundary', string>> {
  await mkdir(buildDir, { recursive: true });
  const self = await mtime(fileURLToPath(import.meta.url));
  for (const t of targets) {
    const out = buildDir + t.out;
    const outTime = await mtime(out);
    const newest = Math.max(self, ...(await Promise.all(t.sources.map((s) => mtime(src(s))))));
    if (!force && outTime >= newest) continue;
    const { default: asc } = await import('assemblyscript/asc');
    // Compile to a file of this process's own, then rename: test files run in parallel
    // processes, and none may read a module another one is half-way through writing.
    const tmp = `${out}.${process.pid}.tmp`;
    const { error, stderr } = await asc.main([...t.sources.map(src), ...common, ...t.flags, '-o', tmp]);
    if (error) throw new Error(`asc failed for ${t.out}: ${error.message}\n${stderr.toString()}`);
    await rename(tmp, out);
  }
  return { goheap: buildDir + targets[0].out, tlsf: buildDir + targets[1].out, boundary: buildDir + targets[2].out };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const paths = await buildWasm(process.argv.includes('--force'));
  for (const p of Object.values(paths)) console.log(p);
}
