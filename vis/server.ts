/**
 * server.ts — the visualiser's HTTP server, in two modes:
 *
 *   - standalone (`goheap serve`): serves the page; the heap lives in the page, in its Web
 *     Workers. The server only sends files (and the repository's scenarios for replay).
 *   - attached ({@link serveVisualiser}, exported by `goheap/node`): a Node program's heap
 *     is shown by the same page: the server streams heap.inspect() snapshots to it as
 *     Server-Sent Events (encodeSnapshot, base64), every `intervalMs` while at least one
 *     page is connected. With no page connected nothing is sampled; a page that cannot
 *     keep up is skipped (never buffered for).
 *
 * Every response carries Cross-Origin-Opener-Policy: same-origin and
 * Cross-Origin-Embedder-Policy: require-corp, which make the page crossOriginIsolated,
 * so it may use SharedArrayBuffer (the standalone heap needs it). It listens on 127.0.0.1.
 *
 * @module
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSnapshot } from '../src/inspect.js';
import { InvalidArgumentError } from '../src/errors.js';
import type { Heap } from '../src/heap.js';
import { bundleVisualiser, contentType, type PageAssets } from './build.js';

/** Options of {@link serveVisualiser} and of `goheap serve` (serveStandalone). */
export interface VisualiserOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 0. */
  port?: number;
  /** Milliseconds between snapshots sent to a connected page (attached mode). Default 250. */
  intervalMs?: number;
  /** The page's files; default: the built page (dist/vis/page), else bundled now with esbuild. */
  assets?: PageAssets;
}

/** A running visualiser server. */
export interface VisualiserServer {
  /** The page's URL, e.g. http://127.0.0.1:8019/. */
  readonly url: string;
  readonly port: number;
  /** Pages connected now (attached mode). */
  readonly clients: number;
  /** Snapshots taken so far (attached mode). */
  readonly snapshots: number;
  /** Milliseconds spent taking, encoding and sending them (on the program's thread). */
  readonly busyMs: number;
  /** Stop the server (and the sampling); resolves when it is closed. */
  close(): Promise<void>;
}

const repo = fileURLToPath(new URL(/\/dist\/vis\/[^/]+$/.test(import.meta.url) ? '../../' : '../', import.meta.url));

/** The built page if there is one next to this module (dist/vis/page), else one bundled now. */
export async function loadVisualiserAssets(): Promise<PageAssets> {
  const dir = fileURLToPath(new URL('./page/', import.meta.url));
  if (!existsSync(join(dir, 'index.html'))) return bundleVisualiser();
  const assets: PageAssets = new Map();
  for (const f of readdirSync(dir)) assets.set(`/${f}`, { body: readFileSync(join(dir, f), 'utf8'), type: contentType(f) });
  return assets;
}

/** The repository's scenarios (name -> scenario JSON, and the Go fixture when there is one). */
function scenarioFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const dir = join(repo, 'scenarios');
  if (!existsSync(dir)) return files;
  const names: string[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!f.endsWith('.json')) continue;
    const name = f.slice(0, -5);
    names.push(name);
    files.set(`/scenarios/${name}.json`, readFileSync(join(dir, f), 'utf8'));
    const go = join(dir, 'expected', `${name}.go.json`);
    if (existsSync(go)) files.set(`/scenarios/expected/${name}.go.json`, readFileSync(go, 'utf8'));
  }
  files.set('/scenarios/index.json', JSON.stringify(names));
  return files;
}

const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cache-Control': 'no-store',
};

async function start(heap: Heap | null, opts: VisualiserOptions): Promise<VisualiserServer> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError(`port must be an integer in 0..65535, got ${port}`);
  const intervalMs = opts.intervalMs ?? 250;
  if (!(intervalMs >= 10)) throw new InvalidArgumentError(`intervalMs must be at least 10, got ${intervalMs}`);
  const assets = opts.assets ?? await loadVisualiserAssets();
  const scenarios = heap === null ? scenarioFiles() : new Map<string, string>();
  const config = JSON.stringify({ mode: heap === null ? 'standalone' : 'attached', intervalMs });
  const clients = new Set<ServerResponse>();
  let timer: NodeJS.Timeout | null = null;
  let snapshots = 0, busyMs = 0;

  const sample = (): void => {
    const ready = [...clients].filter((res) => !res.writableNeedDrain);
    if (ready.length === 0 || heap === null) return;
    const t0 = performance.now();
    const data = `data: ${Buffer.from(encodeSnapshot(heap.inspect())).toString('base64')}\n\n`;
    snapshots++;
    for (const res of ready) res.write(data);
    busyMs += performance.now() - t0;
  };
  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { ...isolation, 'Content-Type': 'text/event-stream', Connection: 'keep-alive' });
    res.write(': goheap\n\n');
    clients.add(res);
    if (timer === null) {
      timer = setInterval(sample, intervalMs);
      timer.unref();
    }
    sample();
    req.on('close', () => {
      clients.delete(res);
      if (clients.size === 0 && timer !== null) { clearInterval(timer); timer = null; }
    });
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    if (path === '/events' && heap !== null) { events(req, res); return; }
    if (path === '/config.json') { res.writeHead(200, { ...isolation, 'Content-Type': 'application/json' }).end(config); return; }
    const a = assets.get(path === '/' ? '/index.html' : path);
    if (a !== undefined) { res.writeHead(200, { ...isolation, 'Content-Type': a.type }).end(a.body); return; }
    const sc = scenarios.get(path);
    if (sc !== undefined) { res.writeHead(200, { ...isolation, 'Content-Type': 'application/json' }).end(sc); return; }
    res.writeHead(404, isolation).end('not found');
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', resolve); });
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}/`,
    port: actual,
    get clients() { return clients.size; },
    get snapshots() { return snapshots; },
    get busyMs() { return busyMs; },
    close: () => new Promise<void>((resolve) => {
      if (timer !== null) { clearInterval(timer); timer = null; }
      for (const res of clients) res.end();
      clients.clear();
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/**
 * Show `heap` in the visualiser, the way statsviz is added to a Go program: serves the
 * page on 127.0.0.1 and streams heap.inspect() snapshots to every page that opens it
 * (every `intervalMs`, 250 by default; nothing is sampled while no page is open). The
 * snapshots are taken on this thread, between the program's own tasks (a timer): a
 * program that never yields to the event loop shows no updates until it does.
 *
 * ```ts
 * import { serveVisualiser } from 'goheap/node';
 * const vis = await serveVisualiser(heap, { port: 8019 });
 * console.log(`heap: ${vis.url}`);
 * ```
 * @throws InvalidArgumentError for a bad port or interval
 */
export function serveVisualiser(heap: Heap, opts: VisualiserOptions = {}): Promise<VisualiserServer> {
  return start(heap, opts);
}

/** The `goheap serve` server: the page, which runs its own heap in Web Workers. */
export function serveStandalone(opts: VisualiserOptions = {}): Promise<VisualiserServer> {
  return start(null, opts);
}
