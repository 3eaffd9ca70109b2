#!/usr/bin/env node
// The `goheap` executable (package.json "bin"). It runs the TypeScript sources through
// tsx when tsx is installed (a checkout after `npm install`: tsx is a devDependency), and
// the compiled dist/cli/goheap.js otherwise (an installed package built with
// `npm run build`). See cli/goheap.ts for the command itself.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
process.stdout.on('error', (e) => { if (e.code === 'EPIPE') process.exit(0); throw e; });

let cli;
let register;
try {
  ({ register } = await import('tsx/esm/api'));
} catch {
  register = undefined;
}
if (register !== undefined && existsSync(join(here, 'goheap.ts'))) {
  register();
  cli = await import(pathToFileURL(join(here, 'goheap.ts')).href);
} else {
  const built = join(here, '..', 'dist', 'cli', 'goheap.js');
  if (!existsSync(built)) {
    process.stderr.write(
      'goheap: cannot start: tsx (to run the TypeScript sources) is not installed and dist/cli/goheap.js is not built\n' +
      '  fix: run `npm install` in the goheap directory (installs tsx), or `npm run build`\n');
    process.exit(1);
  }
  cli = await import(pathToFileURL(built).href);
}
process.exitCode = await cli.main(process.argv.slice(2));
