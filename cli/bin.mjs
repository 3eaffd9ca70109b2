#!/usr/bin/env node
// The `goheap` executable (package.json "bin"). It runs the compiled CLI,
// dist/cli/goheap.js (built by `npm run build`, which `npm install` and `npm pack` run
// through the "prepare" script; an installed package ships it). Only inside a checkout
// whose dist/ is missing or older than a source file in src/, cli/ or vis/ does it run the
// TypeScript sources, through tsx (a devDependency), so an edit shows at once.
// See cli/goheap.ts for the command itself.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const built = join(root, 'dist', 'cli', 'goheap.js');
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

/** Newest modification time (ms) of the .ts files in src/, cli/ and vis/, or 0 outside a checkout. */
function newestSource() {
  let newest = 0;
  for (const dir of ['src', 'cli', 'vis']) {
    let names;
    try { names = readdirSync(join(root, dir)); } catch { continue; }
    for (const n of names) if (n.endsWith('.ts')) newest = Math.max(newest, statSync(join(root, dir, n)).mtimeMs);
  }
  return newest;
}

const builtTime = existsSync(built) ? statSync(built).mtimeMs : -1;
let entry = builtTime >= 0 ? built : undefined;
if (existsSync(join(here, 'goheap.ts')) && (builtTime < 0 || newestSource() > builtTime)) {
  try {
    const { register } = await import('tsx/esm/api');
    register();
    entry = join(here, 'goheap.ts');
  } catch { /* no tsx: use dist/ if it is there */ }
}
if (entry === undefined) {
  process.stderr.write(
    'goheap: cannot start: dist/cli/goheap.js is not built and tsx (to run the TypeScript sources) is not installed\n' +
    '  fix: run `npm install` in the goheap directory (it builds dist/), or `npm run build`\n');
  process.exit(1);
}
const cli = await import(pathToFileURL(entry).href);
process.exitCode = await cli.main(process.argv.slice(2));
