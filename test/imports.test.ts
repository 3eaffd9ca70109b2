/**
 * src/ has no import cycle (type-only imports included): each runtime file sits on a layer
 * and imports only files below it (docs/architecture.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));

function importGraph(): Map<string, string[]> {
  const g = new Map<string, string[]>();
  for (const f of readdirSync(srcDir).filter((n) => n.endsWith('.ts'))) {
    const text = readFileSync(srcDir + f, 'utf8');
    const deps = [...text.matchAll(/^(?:import|export)\b[^;]*?from '\.\/([\w-]+)\.js'/gms)].map((m) => `${m[1]}.ts`);
    g.set(f, [...new Set(deps)]);
  }
  return g;
}

/** The first cycle found, as a path a -> b -> ... -> a, or null. */
function findCycle(g: Map<string, string[]>): string[] | null {
  const state = new Map<string, 1 | 2>(); // 1 = on the path, 2 = done
  const path: string[] = [];
  const visit = (n: string): string[] | null => {
    if (state.get(n) === 2) return null;
    if (state.get(n) === 1) return [...path.slice(path.indexOf(n)), n];
    state.set(n, 1);
    path.push(n);
    for (const d of g.get(n) ?? []) {
      const c = visit(d);
      if (c !== null) return c;
    }
    path.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of g.keys()) {
    const c = visit(n);
    if (c !== null) return c;
  }
  return null;
}

test('src/ has no import cycle', () => {
  const g = importGraph();
  assert.ok(g.size > 20, 'read the src/ files');
  assert.ok(g.get('malloc.ts')!.includes('mcache.ts'), 'imports are parsed');
  assert.equal(findCycle(g)?.join(' -> ') ?? null, null);
});

test('the cycle finder finds a cycle', () => {
  const g = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', []]]);
  assert.deepEqual(findCycle(g), ['a.ts', 'b.ts', 'c.ts', 'a.ts']);
});
