/**
 * as-build.ts — compile bench/peers/as/tlsf.ts with the `assemblyscript` package's asc
 * into bench/.build/tlsf.wasm (skipped when the .wasm is newer than the source).
 *
 * Flags: -O3 (speed), --runtime minimal (TLSF memory manager + the manual TCMS collector,
 * which heap.alloc / heap.free never involve). Assertions stay on, as in asc's default.
 *
 * @module
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const benchDir = dirname(here);
export const buildDir = join(benchDir, '.build');
export const wasmPath = join(buildDir, 'tlsf.wasm');
const source = join(here, 'as', 'tlsf.ts');
export const ascFlags = ['-O3', '--runtime', 'minimal'];

/** Installed version of a package, read from its package.json. */
export function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  try {
    const pj = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(pj, 'utf8')) as { version: string }).version;
  } catch {
    // packages whose "exports" hide package.json: look it up in node_modules directly
    let d = benchDir;
    for (;;) {
      const p = join(d, 'node_modules', name, 'package.json');
      if (existsSync(p)) return (JSON.parse(readFileSync(p, 'utf8')) as { version: string }).version;
      const up = dirname(d);
      if (up === d) return 'unknown';
      d = up;
    }
  }
}

/** Build the wasm if needed; returns its path. */
export function buildTlsf(force = false): string {
  mkdirSync(buildDir, { recursive: true });
  if (!force && existsSync(wasmPath) && statSync(wasmPath).mtimeMs > statSync(source).mtimeMs) return wasmPath;
  const require = createRequire(import.meta.url);
  const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  execFileSync(process.execPath, [asc, source, ...ascFlags, '--outFile', wasmPath], { stdio: 'inherit' });
  return wasmPath;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(buildTlsf(true));
}
