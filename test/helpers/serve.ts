// A local HTTP server for browser tests: serves the given files (path -> body) with the
// headers that make a page crossOriginIsolated (COOP/COEP), so it has SharedArrayBuffer and
// shared WebAssembly.Memory.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

const types: Record<string, string> = {
  html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', wasm: 'application/wasm',
};

/** Serve `files` on 127.0.0.1 (a random port); '/' is '/index.html'. */
export async function serveIsolated(files: Map<string, string | Uint8Array>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
    const body = files.get(path === '/' ? '/index.html' : path);
    const headers = {
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
      'Cross-Origin-Resource-Policy': 'same-origin',
      'Cache-Control': 'no-store',
    };
    if (body === undefined) { res.writeHead(404, headers).end('not found'); return; }
    const ext = (path === '/' ? 'index.html' : path).split('.').pop()!;
    res.writeHead(200, { ...headers, 'Content-Type': types[ext] ?? 'application/octet-stream' }).end(body);
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve); });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
