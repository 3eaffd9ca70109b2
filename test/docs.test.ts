// Issue 13: the API reference. `npm run docs` builds it with TypeDoc from the TSDoc of
// the public entry points (src/index.ts, src/node.ts) into docs/api (not committed: it is
// generated on demand). This builds it into a temporary directory with every warning an
// error (a broken {@link}, a public type that is referenced but not exported, an exported
// class, interface, function, method, accessor, variable or type without TSDoc: see
// typedoc.json), and checks that the pages are there.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

test('TypeDoc builds the API reference with no warnings', { timeout: 120_000 }, async (t) => {
  const out = mkdtempSync(join(tmpdir(), 'goheap-api-'));
  t.after(() => rmSync(out, { recursive: true, force: true }));
  const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
  const r = await promisify(execFile)(process.execPath, [typedoc, '--treatWarningsAsErrors', '--out', out], { cwd: root })
    .catch((e: { stdout: string; stderr: string; code: number }) => e);
  assert.doesNotMatch(r.stdout + r.stderr, /warning|error/i, r.stdout + r.stderr);
  const heap = readFileSync(join(out, 'classes', 'index.Heap.html'), 'utf8');
  for (const name of ['mallocAs', 'callocAs', 'reallocAs', 'readMemStats', 'Alignment, as in Go']) assert.ok(heap.includes(name), `Heap page documents ${name}`);
  assert.ok(existsSync(join(out, 'functions', 'node.spawnHeapWorker.html')), 'goheap/node is documented');
});

test('the README links the API reference and says how to build it', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  assert.match(readme, /\[API reference\]\(docs\/api\/index\.html\)/);
  assert.match(readme, /npm run docs/);
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(pkg.scripts.docs, 'typedoc');
});
