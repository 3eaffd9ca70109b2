/**
 * build.ts — bundles the visualiser page with esbuild: vis/app.ts (with uPlot and its CSS)
 * and vis/worker.ts become app.js, app.css and worker.js, next to vis/index.html.
 *
 *   tsx vis/build.ts [OUTDIR]     writes the page to OUTDIR (default dist/vis/page; npm run build)
 *
 * {@link bundleVisualiser} does the same in memory: the server (server.ts) uses it when
 * no built page is there (running from the sources), and so do the tests.
 *
 * @module
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** One file of the page. */
export interface Asset {
  body: string;
  type: string;
}

/** The files of the page, by URL path ("/index.html", "/app.js", ...). */
export type PageAssets = Map<string, Asset>;

/** The repository root: this file is vis/build.ts, or dist/vis/build.js when built. */
const root = fileURLToPath(new URL(/\/dist\/vis\/[^/]+$/.test(import.meta.url) ? '../../' : '../', import.meta.url));

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8',
};

/** The Content-Type of a page file, by its extension. */
export function contentType(file: string): string {
  return types[file.split('.').pop()!] ?? 'application/octet-stream';
}

/** Bundle the page in memory (needs esbuild, a devDependency). */
export async function bundleVisualiser(): Promise<PageAssets> {
  const { build } = await import('esbuild');
  const r = await build({
    absWorkingDir: root,
    entryPoints: { app: 'vis/app.ts', worker: 'vis/worker.ts' },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outdir: 'out',
    write: false,
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const assets: PageAssets = new Map();
  for (const f of r.outputFiles) {
    const name = f.path.slice(f.path.lastIndexOf('/') + 1);
    assets.set(`/${name}`, { body: f.text, type: contentType(name) });
  }
  assets.set('/index.html', { body: readFileSync(join(root, 'vis', 'index.html'), 'utf8'), type: contentType('index.html') });
  return assets;
}

/** Write the bundled page to `outdir`. */
export async function writeVisualiser(outdir: string): Promise<string[]> {
  const assets = await bundleVisualiser();
  mkdirSync(outdir, { recursive: true });
  for (const [path, a] of assets) writeFileSync(join(outdir, path.slice(1)), a.body);
  return [...assets.keys()];
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const out = process.argv[2] ?? join(root, 'dist', 'vis', 'page');
  const files = await writeVisualiser(out);
  process.stdout.write(`visualiser: ${files.join(' ')} -> ${out}\n`);
}
