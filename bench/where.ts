/**
 * where.ts — where goheap's time goes in a benchmark loop: a V8 CPU profile of a goheap
 * run, each sample put in one part of the allocator by the functions on its stack.
 *
 *   npx tsx bench/where.ts FILE.cpuprofile... [--commit C] [--save bench/data/where-pairs-C.json]
 *
 * (several profiles are averaged: how bench/data/where-pairs-0e47ae1.json was made, from
 * `npm run bench -- --workload pairs --alloc goheap --runs 3 --profile` run by this
 * commit's bench/ over the src/ of 0e47ae1, so that both sides have the same 400 ms
 * warm-up: `git worktree add W HEAD && git -C W checkout 0e47ae1 -- src`).
 *
 * `npm run bench` profiles three extra goheap pairs runs and keeps their shares in the results
 * (BENCHMARKS.md shows them next to a saved earlier profile, bench/data/where-pairs-*.json).
 *
 * Parts, first match from the top of the list wins:
 *
 *   GC cycles        a frame of gcStart (finishing the last sweep, flushing, pacing)
 *   sweeping         a sweep outside a GC cycle (sweepSpan, sweepone, reclaim)
 *   page heap        MHeap's span allocation and free, the page allocator, fixalloc, the
 *                    OS layer (not MHeap's getters, which every part calls)
 *   refill           the rest of the small-object slow path (mallocSlow: mcache refill,
 *                    mcentral cacheSpan/uncacheSpan, settling the local frees)
 *   malloc fast path Heap.malloc / mallocgc / nextFreeFast / the tiny allocator
 *   free             Heap.free / freeObject / freeFast / freeTiny
 *   the loop         the benchmark loop and its allocator adapter (bench/)
 *   other            anything else in the measured process (start-up, tsx, V8's GC)
 *
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface CpuNode { id: number; callFrame: { functionName: string; url: string }; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }

/** The parts, in the order they are tested. */
export const whereParts = ['GC cycles', 'sweeping', 'page heap', 'refill', 'malloc fast path', 'free', 'the loop', 'other'] as const;
export type WherePart = (typeof whereParts)[number];

/** Share of the samples in the measured loop per part (sums to 1 over the parts but 'other'). */
export interface WhereShares {
  /** Commit the profile was taken at. */
  commit: string;
  /** Workload profiled. */
  workload: string;
  /** Milliseconds of samples inside the benchmark loop. */
  loopMs: number;
  /** Fraction of loopMs per part (without 'other'). */
  shares: Partial<Record<WherePart, number>>;
}

const gcFns = new Set(['gcStart']);
const sweepFns = new Set(['sweepSpan', 'sweepSpanCommitted', 'sweepone', 'sweeponeLocked', 'reclaim', 'finishSweep']);
/** The page heap's files, and MHeap's span allocation and free (not its getters, which every part calls). */
const heapFiles = ['/src/mpagealloc.ts', '/src/mpallocbits.ts', '/src/mem.ts', '/src/mem_linux.ts', '/src/mgcscavenge.ts', '/src/mfixalloc.ts'];
const heapFns = new Set(['alloc', 'allocManual', 'allocSpanLocked', 'allocPages', 'allocMSpanLocked', 'allocNeedsZero', 'freeSpan', 'freeSpanLocked', 'setSpans', 'setPageInUse', 'grow', 'sysAllocArena', 'mapAndGrow']);
const refillFns = new Set(['mallocSlow', 'nextFreeOrGC', 'nextFree']);
const mallocFns = new Set(['malloc', 'mallocgc', 'nextFreeFast', 'mallocTiny', 'startTinyBlock', 'mallocLarge', 'allocLarge']);
const freeFns = new Set(['free', 'freeObject', 'freeFast', 'freeTiny']);
const loopFns = new Set(['runPairs', 'runWindowFifo', 'runWindowRandom', 'fillWindow', 'runGoMix']);

/** Which part the sample with this stack (innermost frame first) belongs to. */
function partOf(stack: CpuNode['callFrame'][]): WherePart | null {
  const inSrc = (f: CpuNode['callFrame']) => f.url.includes('/src/');
  const inLoop = stack.some((f) => f.url.includes('/bench/') && loopFns.has(f.functionName));
  if (!inLoop) return null;
  if (stack.some((f) => inSrc(f) && gcFns.has(f.functionName))) return 'GC cycles';
  if (stack.some((f) => inSrc(f) && sweepFns.has(f.functionName))) return 'sweeping';
  if (stack.some((f) => heapFiles.some((h) => f.url.endsWith(h)) || (f.url.endsWith('/src/mheap.ts') && heapFns.has(f.functionName)))) return 'page heap';
  if (stack.some((f) => inSrc(f) && refillFns.has(f.functionName))) return 'refill';
  if (stack.some((f) => inSrc(f) && freeFns.has(f.functionName))) return 'free';
  if (stack.some((f) => inSrc(f) && mallocFns.has(f.functionName))) return 'malloc fast path';
  return 'the loop';
}

/** Shares of a goheap .cpuprofile's loop samples per part. */
export function whereTimeGoes(path: string, commit: string, workload: string): WhereShares {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuNode>();
  const parent = new Map<number, number>();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const ms = new Map<WherePart, number>();
  let loop = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const stack: CpuNode['callFrame'][] = [];
    for (let id: number | undefined = p.samples[i]; id !== undefined; id = parent.get(id)) stack.push(byId.get(id)!.callFrame);
    const part = partOf(stack);
    if (part === null) continue;
    const dt = (p.timeDeltas[i] ?? 0) / 1000;
    ms.set(part, (ms.get(part) ?? 0) + dt);
    loop += dt;
  }
  const shares: Partial<Record<WherePart, number>> = {};
  for (const part of whereParts) if (ms.has(part)) shares[part] = ms.get(part)! / loop;
  return { commit, workload, loopMs: loop, shares };
}

/** The shares of several profiles of one commit and workload, averaged (loopMs summed). */
export function averageWhere(all: WhereShares[]): WhereShares {
  const shares: WhereShares['shares'] = {};
  for (const w of all) for (const part of whereParts) if (w.shares[part] !== undefined) shares[part] = (shares[part] ?? 0) + w.shares[part]! / all.length;
  return { commit: all[0]!.commit, workload: all[0]!.workload, loopMs: all.reduce((a, w) => a + w.loopMs, 0), shares };
}

if (process.argv[2] !== undefined && process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const opt = (name: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
  const files = args.filter((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1]!.startsWith('--')));
  const w = averageWhere(files.map((f) => whereTimeGoes(f, opt('--commit') ?? '?', opt('--workload') ?? 'pairs')));
  for (const part of whereParts) if (w.shares[part] !== undefined) console.log(`${(100 * w.shares[part]!).toFixed(1).padStart(5)} %  ${part}`);
  console.log(`(${w.loopMs.toFixed(0)} ms of samples in the loop, ${files.length} profile(s))`);
  const save = opt('--save');
  if (save !== undefined) writeFileSync(save, JSON.stringify(w, null, 2) + '\n');
}
