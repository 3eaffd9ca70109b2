// The wasm example in headless Chromium: examples/wasm/browser/page.ts and worker.ts
// bundled by esbuild, binarytrees-goheap.wasm served next to them (crossOriginIsolated), and
// binary-trees run on 2 Web Workers sharing one goheap heap over a shared
// WebAssembly.Memory; the page reports the result (window.wasmResult).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { BrowserServer } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { serveIsolated } from './helpers/serve.js';
import { buildWasm } from '../examples/wasm/build.js';
import { STACK_SIZE, nodes, type ThreadsResult } from '../examples/wasm/threads.js';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('..', import.meta.url));

test('in headless Chromium: binary-trees in wasm on 2 Web Workers over one goheap heap', { timeout: 60_000 }, async (t) => {
  const wasm = new Uint8Array(await readFile((await buildWasm()).goheap));
  const files = new Map<string, string | Uint8Array>([
    ['/index.html', await readFile(new URL('../examples/wasm/browser/index.html', import.meta.url), 'utf8')],
    ['/binarytrees-goheap.wasm', wasm],
  ]);
  for (const f of ['page', 'worker']) {
    const r = await build({
      absWorkingDir: root, entryPoints: [`examples/wasm/browser/${f}.ts`], bundle: true, format: 'esm',
      platform: 'browser', target: 'es2022', write: false, logLevel: 'silent',
    });
    files.set(`/${f}.js`, r.outputFiles[0].text);
  }
  const { server, url } = await serveIsolated(files);
  let browserServer: BrowserServer | undefined;
  const log: string[] = [];
  try {
    const launched = await launchChromium();
    browserServer = launched.server;
    const page = await launched.browser.newPage();
    page.on('console', (m) => log.push(m.text()));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.stack ?? e.message}`));
    const depth = 10, threads = 2;
    await page.goto(`${url}?depth=${depth}&threads=${threads}`);
    let r: (ThreadsResult & { error?: string }) | undefined;
    const started = Date.now();
    while (r === undefined) {
      r = await page.evaluate(() => (window as unknown as { wasmResult?: ThreadsResult & { error?: string } }).wasmResult);
      if (r !== undefined) break;
      if (Date.now() - started > 40_000) assert.fail(`the page did not finish in 40 s; it logged:\n${log.join('\n')}`);
      await sleep(100);
    }
    assert.equal(r.error, undefined, `the page failed: ${r.error}\n${log.join('\n')}`);
    t.diagnostic(`${r.mallocs} objects in ${r.elapsedMs.toFixed(0)} ms on ${threads} Web Workers`);
    assert.equal(r.stretchCheck, nodes(depth + 1));
    assert.equal(r.longLivedCheck, nodes(depth));
    assert.equal(r.longLivedCheckJS, nodes(depth));
    assert.equal(r.jsTreeCheck, nodes(r.jsTreeDepth));
    for (const d of r.depths) assert.equal(d.check, d.iterations * nodes(d.depth), `depth ${d.depth}`);
    assert.equal(new Set(r.reports.map((w) => w.pid)).size, threads);
    for (const w of r.reports) assert.ok(w.stackLow >= w.stack && w.stackLow < w.stack + STACK_SIZE);
    assert.equal(r.during.StackInuse, (threads + 1) * STACK_SIZE);
    assert.equal(r.check, 'ok');
    assert.equal(r.after.HeapObjects, 0);
    assert.equal(r.after.Mallocs, r.after.Frees);
  } finally {
    await browserServer?.kill();
    server.close();
  }
});
