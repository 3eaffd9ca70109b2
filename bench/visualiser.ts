/**
 * visualiser.ts — what watching a heap costs: `npx tsx bench/visualiser.ts [--runs N]`.
 *
 *   1. heap.inspect() on a 1 GiB reservation — empty, and holding ~600 MiB of small and
 *      large objects: time per call (median), and the size of the snapshot encoded
 *      (encodeSnapshot, what serveVisualiser streams; base64 adds a third on the wire).
 *   2. How much sampling slows a program: `goheap run`'s engine runs the churn workload
 *      on the main thread for 3 s with no visualiser (A), then with serveVisualiser and
 *      one page connected (an SSE reader in this process) at 250 ms (B) and 100 ms (C).
 *      Runs are interleaved A B C A B C ... after a warm-up run; printed: ops/s, the ratio
 *      to A of the same round (median and all), and the share of the run the server spent
 *      sampling (busyMs: inspect, encode, send), which does not depend on the machine's
 *      other load the way the A/B ratio does.
 *
 * Not a test: numbers only, for BENCHMARKS.md.
 *
 * @module
 */
import { Heap, encodeSnapshot } from '../src/index.js';
import { serveVisualiser, type VisualiserServer } from '../src/node.js';
import { runWorkload } from '../cli/run.js';
import { mulberry32 } from '../cli/workloads.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] ?? 5) || 5;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const MiB = 1 << 20;

function measureInspect(label: string, heap: Heap): void {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 21; i++) {
    const t0 = performance.now();
    const s = heap.inspect();
    times.push(performance.now() - t0);
    if (i === 0) bytes = encodeSnapshot(s).length;
  }
  const s = heap.inspect();
  const te = performance.now();
  encodeSnapshot(s);
  const enc = performance.now() - te;
  console.log(`${label}: ${s.spans.count} spans, HeapInuse ${(s.memstats.HeapInuse / MiB).toFixed(0)} MiB; inspect() ${median(times).toFixed(2)} ms (median of 21), encodeSnapshot ${enc.toFixed(2)} ms; snapshot ${(bytes / 1024).toFixed(0)} KiB encoded (pages ${(s.pages.byteLength / 1024).toFixed(0)} KiB)`);
}

// ----- 1. inspect() on 1 GiB ------------------------------------------------------------
{
  const heap = Heap.create({ reserve: 1 << 30 });
  measureInspect('1 GiB reservation, empty heap', heap);
  const rand = mulberry32(1);
  let bytes = 0;
  while (bytes < 600 * MiB) {
    const size = rand() < 0.995 ? 16 + Math.floor(rand() * 2000) : 40_000 + Math.floor(rand() * 400_000);
    heap.malloc(size);
    bytes += size;
  }
  measureInspect('1 GiB reservation, ~600 MiB of objects', heap);
}

// ----- 2. A/B: sampling's cost to a running program -------------------------------------
/** One run of churn; returns ops/s and, when sampled, the share of the run spent sampling. */
async function churn(intervalMs: number | null): Promise<{ rate: number; busy: number; snaps: number }> {
  let vis: Awaited<ReturnType<typeof serveVisualiser>> | null = null;
  let ac: AbortController | null = null;
  const r = await runWorkload({ workload: 'churn', ops: 0, duration: 3, seed: 1, reserve: 1 << 30, gogc: 100 }, {
    onHeap: intervalMs === null ? undefined : async (heap) => {
      vis = await serveVisualiser(heap, { port: 0, intervalMs, assets: new Map() });
      ac = new AbortController();
      const res = await fetch(`${vis.url}events`, { signal: ac.signal });
      const reader = res.body!.getReader();
      void (async () => { try { for (;;) if ((await reader.read()).done) break; } catch { /* aborted */ } })();
    },
  });
  const v = vis as VisualiserServer | null;
  const out = { rate: r.opsDone / r.elapsed, busy: v === null ? 0 : v.busyMs / 1000 / r.elapsed, snaps: v?.snapshots ?? 0 };
  (ac as AbortController | null)?.abort();
  await v?.close();
  if (intervalMs !== null && out.snaps === 0) throw new Error('no snapshot was taken');
  return out;
}

const cases: Array<[string, number | null]> = [['A none', null], ['B 250 ms', 250], ['C 100 ms', 100]];
const res: Array<Array<{ rate: number; busy: number; snaps: number }>> = cases.map(() => []);
await churn(null); // warm-up round, not counted
for (let i = 0; i < runs; i++) {
  for (let c = 0; c < cases.length; c++) res[c]!.push(await churn(cases[c]![1]));
}
for (let c = 0; c < cases.length; c++) {
  const ratios = res[c]!.map((x, i) => x.rate / res[0]![i]!.rate);
  console.log(`churn 3 s, ${cases[c]![0]}: ${(median(res[c]!.map((x) => x.rate)) / 1e6).toFixed(2)}M ops/s (median of ${runs}); ` +
    `ratio to A in the same round: median ${median(ratios).toFixed(3)} (${ratios.map((x) => x.toFixed(2)).join(' ')})` +
    (c === 0 ? '' : `; sampling took ${(100 * median(res[c]!.map((x) => x.busy))).toFixed(2)}% of the run (${median(res[c]!.map((x) => x.snaps))} snapshots)`));
}
