/**
 * profile.ts — summarise a V8 .cpuprofile (from `npm run bench -- --profile` or
 * `node --cpu-prof`): self time per function, hottest first.
 *
 *   npx tsx bench/profile.ts bench/.build/profiles/goheap--pairs--1.cpuprofile [top=25]
 *
 * @module
 */
import { readFileSync } from 'node:fs';

interface CpuNode { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }
interface CpuProfile { nodes: CpuNode[]; samples: number[]; timeDeltas: number[] }

export function summarizeProfile(path: string, top = 25): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map<number, CpuNode>();
  for (const n of p.nodes) byId.set(n.id, n);
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]);
    const dt = p.timeDeltas[i] ?? 0;
    if (n === undefined) continue;
    const f = n.callFrame;
    const file = f.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/');
    const key = `${f.functionName || '(anonymous)'}  ${file}${f.url ? ':' + (f.lineNumber + 1) : ''}`;
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return rows.map(([k, v]) => `${(100 * v / total).toFixed(1).padStart(5)} %  ${(v / 1000).toFixed(0).padStart(7)} ms  ${k}`).join('\n');
}

if (process.argv[2] !== undefined) {
  console.log(summarizeProfile(process.argv[2], Number(process.argv[3] ?? 25)));
}
