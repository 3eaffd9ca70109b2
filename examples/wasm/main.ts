/**
 * main.ts — `npm run example:wasm [-- --depth D --threads N --c]`: binary-trees compiled
 * from AssemblyScript (or, with --c, from C: c/binarytrees.c) to WebAssembly, with goheap as its malloc, on N worker threads over one
 * shared WebAssembly.Memory; prints the benchmark's output and the heap's MemStats (taken
 * while the threads are still attached: StackInuse holds their shadow stacks).
 *
 * @module
 */
import { memStatsReport } from '../../cli/report.js';
import { formatResult } from './threads.js';
import { runOnNode } from './node.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) { console.error(`--${name} must be a positive integer`); process.exit(2); }
  return v;
}

const depth = arg('depth', 16), threads = arg('threads', 2);
if (depth < 4 || depth > 20) { console.error('--depth must be from 4 to 20'); process.exit(2); }
const c = process.argv.includes('--c');
const r = await runOnNode(depth, threads, { c });
console.log(`${c ? 'C (clang)' : 'AssemblyScript'}: ${formatResult(r)}`);
const expected = r.depths.every((d) => d.check === d.iterations * (2 ** (d.depth + 1) - 1));
console.log(`checks ${expected ? 'as expected' : 'WRONG'}; heap.check(): ${r.check}`);
console.log('');
console.log(memStatsReport(r.during, { heading: `MemStats with the ${threads} wasm threads attached (the module's data in OtherSys, their stacks in StackInuse):` }));
console.log(`At the end (threads detached, every tree freed, gc()): HeapAlloc ${r.after.HeapAlloc}, HeapObjects ${r.after.HeapObjects}, StackInuse ${r.after.StackInuse}, Mallocs ${r.after.Mallocs}, Frees ${r.after.Frees}`);
if (!expected || r.check !== 'ok') process.exit(1);
