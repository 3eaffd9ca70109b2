// The visualiser (vis/), in headless Chromium (test/helpers/chromium.ts; no network): the
// page bundled here by esbuild, served by `goheap serve`'s server; the standalone heap in
// the page's Web Workers (isolation, workers attached, charts filled, the map's Ready and
// Prepared pages, hovering a span shows what inspect() says, P outlines, GOGC and the
// memory limit from the page, the limit as a line on the heap chart), replay against
// `goheap replay`'s deltas and Go's, and the attached mode showing a Node program's heap
// (`goheap run --serve`). Plus, without a browser: serveVisualiser samples only while a
// page is connected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Page } from 'playwright-core';
import { Heap, InvalidArgumentError, decodeSnapshot } from '../src/index.js';
import { main } from '../cli/goheap.js';
import { serveVisualiser } from '../src/node.js';
import { serveStandalone } from '../vis/server.js';
import { bundleVisualiser, type PageAssets } from '../vis/build.js';
import type { CellInfo } from '../vis/heapmap.js';
import { runScenario, deltaFields } from '../cli/replay.js';
import { launchChromium } from './helpers/chromium.js';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Poll `f` in the page until it returns a truthy value (or fail after `ms`). */
async function until<T>(page: Page, what: string, f: () => T | null | false | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await page.evaluate(f);
    if (v) return v as T;
    if (Date.now() > end) {
      const errors = await page.evaluate(() => (globalThis as any).goheapVis?.errors);
      assert.fail(`timed out waiting for ${what}; page errors: ${JSON.stringify(errors)}`);
    }
    await sleep(100);
  }
}

test('serveVisualiser samples only while a page is connected, and streams decodable snapshots', async () => {
  const heap = Heap.create({ reserve: 64 << 20 });
  for (let i = 0; i < 1000; i++) heap.malloc(100);
  const vis = await serveVisualiser(heap, { port: 0, intervalMs: 20, assets: new Map() });
  try {
    await sleep(200);
    assert.equal(vis.snapshots, 0, 'no page, no sampling');
    const ac = new AbortController();
    const res = await fetch(`${vis.url}events`, { signal: ac.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const reader = res.body!.getReader();
    let text = '';
    while (!/data: [^\n]+\n\n[\s\S]*data: [^\n]+\n\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    assert.equal(vis.clients, 1);
    const first = /data: ([^\n]+)\n\n/.exec(text)![1]!;
    const snap = decodeSnapshot(new Uint8Array(Buffer.from(first, 'base64')));
    assert.equal(snap.memstats.HeapAlloc, heap.inspect().memstats.HeapAlloc);
    assert.equal(snap.spans.count, heap.inspect().spans.count);
    ac.abort();
    await sleep(100);
    assert.equal(vis.clients, 0);
    const n = vis.snapshots;
    await sleep(200);
    assert.equal(vis.snapshots, n, 'the page left: sampling stopped');
  } finally {
    await vis.close();
  }
});

test('serve and run --serve: bad ports are usage errors; serveVisualiser rejects them with InvalidArgumentError', async () => {
  const io = () => { let out = ''; return { stdout: { write: (s: string) => { out += s; } }, stderr: { write: (s: string) => { out += s; } }, get text() { return out; } }; };
  for (const argv of [['serve', '--port', 'x'], ['serve', '--port', '70000'], ['run', 'churn', '--serve', '--port', '-1'], ['run', 'churn', '--port', '8019'], ['serve', 'extra']]) {
    const o = io();
    assert.equal(await main(argv, o), 2, argv.join(' '));
    assert.match(o.text, /fix:/);
  }
  const o = io();
  assert.equal(await main(['serve', '--help'], o), 0);
  assert.match(o.text, /goheap serve \[--port N\] \[--open\]/);
  const heap = Heap.create({ reserve: 16 << 20 });
  await assert.rejects(serveVisualiser(heap, { port: 1.5, assets: new Map() }), InvalidArgumentError);
  await assert.rejects(serveVisualiser(heap, { intervalMs: 1, assets: new Map() }), InvalidArgumentError);
});

test('in headless Chromium: the visualiser page, standalone, replay and attached', { timeout: 90_000 }, async (t) => {
  const assets: PageAssets = await bundleVisualiser();
  for (const f of ['/index.html', '/app.js', '/app.css', '/worker.js']) assert.ok(assets.has(f), f);
  const srv = await serveStandalone({ port: 0, assets });
  const { server, browser } = await launchChromium();
  let child: ReturnType<typeof spawn> | undefined;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, locale: 'en-US' });
    const log: string[] = [];
    page.on('pageerror', (e) => log.push(`pageerror: ${e.message}`));
    page.on('console', (m) => log.push(m.text()));

    // ----- standalone: the heap in the page's workers ----------------------------------
    await page.goto(`${srv.url}?workload=churn&workers=2&duration=20&reserve=256`);
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    const pids = await until(page, 'two workers attached', () => { const v = (globalThis as any).goheapVis; return v?.workerPids.length === 2 && v.workerPids; });
    assert.deepEqual([...pids].sort(), [1, 2], 'each worker has its own P (the page holds P0)');
    await until(page, 'charts filled', () => {
      const f = (globalThis as any).goheapVis.charts.filled();
      return f.heap > 10 && f.sys > 10 && f.objects > 10 && f.sizes > 10 && f.pauses > 0 && f;
    });
    const before = await page.evaluate(() => (globalThis as any).goheapVis.map.counts as Record<string, number>);
    t.diagnostic(`map while running: ${JSON.stringify(before)}`);
    assert.ok(before.small! > 100, 'pages of small-object spans');

    // GOGC from the page: off, then back.
    await page.fill('#gogc', 'off');
    await page.dispatchEvent('#gogc', 'change');
    await until(page, 'GOGC off', () => (globalThis as any).goheapVis.last.memstats.EnableGC === false);
    await page.fill('#gogc', '100');
    await page.dispatchEvent('#gogc', 'change');
    await until(page, 'GOGC 100', () => (globalThis as any).goheapVis.last.memstats.EnableGC === true);

    // The memory limit from the page: in the heap, the snapshot, the status line and as a
    // line on the heap chart; 'off' removes it (the line's newest point is empty).
    await page.fill('#memlimit', '64m');
    await page.dispatchEvent('#memlimit', 'change');
    await until(page, 'memory limit 64 MiB', () => {
      const v = (globalThis as any).goheapVis;
      return v.heap.memoryLimit === 64 * 2 ** 20 && v.last.metrics['/gc/gomemlimit:bytes'] === 64 * 2 ** 20 && v.charts.filled().memoryLimit > 0;
    });
    assert.match((await page.textContent('#status'))!, /memory limit 64\.0 MiB/);
    const limitLine = (): Promise<unknown> => page.evaluate(() => { const d = (globalThis as any).goheapVis.charts.heap.plot.data; return d[d.length - 1].at(-1); });
    assert.equal(await limitLine(), 64 * 2 ** 20, 'the heap chart\'s last series is the limit');
    await page.fill('#memlimit', 'off');
    await page.dispatchEvent('#memlimit', 'change');
    await until(page, 'memory limit off', () => {
      const v = (globalThis as any).goheapVis;
      return v.heap.memoryLimit === Infinity && v.last.metrics['/gc/gomemlimit:bytes'] === 2 ** 63;
    });
    assert.equal(await limitLine(), null, 'no limit, no line');
    assert.match((await page.textContent('#status'))!, /memory limit off/);

    // Pause: the heap stops changing; a step runs one batch on each worker.
    await page.click('#pause');
    await sleep(300); // a batch in progress ends
    const ops0 = await page.evaluate(() => (globalThis as any).goheapVis.ops());
    await sleep(300);
    assert.equal(await page.evaluate(() => (globalThis as any).goheapVis.ops()), ops0, 'paused');
    const stepOps = await page.evaluate(() => (globalThis as any).goheapVis.stepOps);
    await page.click('#step');
    let ops2 = ops0;
    for (let k = 0; k < 100 && ops2 < ops0 + 2 * stepOps; k++) { await sleep(100); ops2 = await page.evaluate(() => (globalThis as any).goheapVis.ops()); }
    await sleep(300);
    assert.equal(await page.evaluate(() => (globalThis as any).goheapVis.ops()), ops2, 'one batch per step');
    assert.ok(ops2 - ops0 >= 2 * stepOps && ops2 - ops0 <= 2 * stepOps + 2, `a step: ${ops0} -> ${ops2} ops (${stepOps} per worker)`);
    // gc() and freeOSMemory() from the page.
    await page.click('#gc');
    await page.click('#free');
    const after = await until(page, 'every free page released', () => {
      const v = (globalThis as any).goheapVis;
      return v.map.counts.idle === undefined && v.map.counts.released > 0 && v.map.counts;
    });
    t.diagnostic(`map after freeOSMemory(): ${JSON.stringify(after)}`);
    const cells = await page.evaluate(() => {
      const v = (globalThis as any).goheapVis, s = v.last, out: Record<string, unknown> = {};
      for (let p = 0; p < s.pages.length; p++) {
        const info = v.map.info(p);
        if (info.role === 'released' && out.released === undefined) out.released = info;
        if (info.span !== undefined && info.span.sizeclass > 0 && out.small === undefined) out.small = info;
      }
      return out as { released: CellInfo; small: CellInfo };
    });
    assert.equal(cells.released.os, 'Prepared');
    assert.equal(cells.small.os, 'Ready');

    // Hover a small span's cell: the tooltip shows the span as inspect() gives it now.
    const target = await page.evaluate(() => {
      const v = (globalThis as any).goheapVis, s = v.heap.inspect();
      for (let i = 0; i < s.spans.count; i++) {
        if (s.spans.state[i] !== 1 || s.spans.spanclass[i] < 2 || s.spans.allocCount[i] === 0) continue;
        const page = s.spans.start[i] / 8192 + (s.spans.npages[i] > 1 ? 1 : 0);
        const pos = v.map.cellCenter(page);
        if (pos !== null) return { page, pos };
      }
      return null;
    });
    assert.ok(target !== null);
    await page.evaluate((y) => { window.scrollBy(0, document.getElementById('map')!.getBoundingClientRect().top + y - 300); }, target.pos.y);
    const box = (await page.locator('#map').boundingBox())!;
    await page.mouse.move(box.x + target.pos.x, box.y + target.pos.y);
    await page.waitForSelector('#tip:not([hidden])');
    const shown = JSON.parse((await page.getAttribute('#tip', 'data-info'))!) as CellInfo;
    const text = await page.textContent('#tip');
    const truth = await page.evaluate((pg) => {
      const s = (globalThis as any).goheapVis.heap.inspect(), sp = s.spans;
      for (let i = 0; i < sp.count; i++) {
        if (pg >= sp.start[i] / 8192 && pg < sp.start[i] / 8192 + sp.npages[i]) {
          return { start: sp.start[i], npages: sp.npages[i], spanclass: sp.spanclass[i], elemsize: sp.elemsize[i], nelems: sp.nelems[i], allocCount: sp.allocCount[i], freed: sp.freed[i], cachedBy: sp.cachedBy[i] };
        }
      }
      return null;
    }, target.page);
    assert.equal(shown.page, target.page);
    const { start, npages, spanclass, elemsize, nelems, allocCount, freed, cachedBy } = shown.span!;
    assert.deepEqual({ start, npages, spanclass, elemsize, nelems, allocCount, freed, cachedBy }, truth);
    assert.match(text!, new RegExp(`allocCount ${truth!.allocCount} `));
    assert.match(text!, new RegExp(`elemsize ${truth!.elemsize} `));

    // Spans held by a P's mcache are outlined in the P's colour.
    await page.click('#step'); // the workers allocate a little: their mcaches hold spans again
    const outline = await until(page, 'a cached span outlined', () => {
      const v = (globalThis as any).goheapVis, s = v.last, sp = s.spans;
      const ctx = (document.getElementById('map') as HTMLCanvasElement).getContext('2d')!;
      const dpr = devicePixelRatio;
      for (let i = 0; i < sp.count; i++) {
        if (sp.cachedBy[i] < 1) continue;
        const pos = v.map.cellCenter(sp.start[i] / 8192);
        if (pos === null) continue;
        const px = ctx.getImageData(Math.floor((pos.x - 2) * dpr), Math.floor((pos.y - 2) * dpr), 1, 1).data;
        return { pid: sp.cachedBy[i], rgb: [px[0], px[1], px[2]] };
      }
      return null;
    });
    const want = ['#e31a1c', '#1f78b4', '#33a02c', '#ff7f00'][outline.pid]!;
    assert.deepEqual(outline.rgb, [1, 3, 5].map((k) => parseInt(want.slice(k, k + 2), 16)), `P${outline.pid}'s colour`);
    assert.deepEqual(await page.evaluate(() => (globalThis as any).goheapVis.errors), []);
    // A bad memory limit: a clear error on the page, the heap's limit unchanged.
    await page.fill('#memlimit', 'lots');
    await page.dispatchEvent('#memlimit', 'change');
    assert.deepEqual(await page.evaluate(() => (globalThis as any).goheapVis.errors), ["memory limit: the limit must be a byte count such as 1g, 256m, 512k or 1073741824, got 'lots'"]);
    assert.equal(await page.evaluate(() => (globalThis as any).goheapVis.heap.memoryLimit), Infinity);

    // ----- replay: the same deltas as `goheap replay`, Go's beside them ------------------
    await page.goto(`${srv.url}?workload=replay&scenario=mixed-workload`);
    await until(page, 'the scenario loaded', () => (globalThis as any).goheapVis?.replay?.name === 'mixed-workload');
    const nops = JSON.parse(readFileSync(`${root}/scenarios/mixed-workload.json`, 'utf8')).ops.length as number;
    await page.click('#rstep');
    assert.equal(await page.evaluate(() => (globalThis as any).goheapVis.replay.next), 1, 'one op per step');
    for (let k = 0; k < nops; k++) {
      if (await page.evaluate(() => (globalThis as any).goheapVis.replay.next) >= nops) break;
      await page.click('#rcheck');
    }
    const replay = await page.evaluate(() => (globalThis as any).goheapVis.replay);
    const cli = runScenario(JSON.parse(readFileSync(`${root}/scenarios/mixed-workload.json`, 'utf8')));
    assert.deepEqual(replay.deltas, cli.deltas, 'the page replays exactly as goheap replay does');
    const go = JSON.parse(readFileSync(`${root}/scenarios/expected/mixed-workload.go.json`, 'utf8'));
    const classes = await page.$$eval('#deltas tbody td', (tds) => tds.map((td) => td.className));
    assert.equal(classes.length, cli.deltas.length * deltaFields.length);
    let same = 0;
    cli.deltas.forEach((d, i) => deltaFields.forEach((f, j) => {
      const cls = classes[i * deltaFields.length + j];
      if (d.fields[f] === go.deltas[i].fields[f]) { assert.equal(cls, 'same', `${d.to} ${f}`); same++; } else assert.notEqual(cls, 'same', `${d.to} ${f}`);
    }));
    assert.ok(same > cli.deltas.length * 6, `${same} fields equal to Go's`);

    // A scenario dropped on the page is replayed too.
    const dropped = { name: 'dropped', ops: [{ op: 'checkpoint', label: 'a' }, { op: 'alloc', size: 24, count: 700, keep: 'x' }, { op: 'checkpoint', label: 'b' }, { op: 'free', set: 'x' }, { op: 'gc' }, { op: 'checkpoint', label: 'c' }] };
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
      document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, JSON.stringify(dropped));
    await until(page, 'the dropped scenario loaded', () => (globalThis as any).goheapVis.replay.name === 'dropped');
    for (let k = 0; k < dropped.ops.length; k++) await page.click('#rstep');
    assert.deepEqual(await page.evaluate(() => (globalThis as any).goheapVis.replay.deltas), runScenario(dropped).deltas);

    // ----- attached: a Node program's heap (goheap run --serve) ------------------------
    child = spawn(process.execPath, ['cli/bin.mjs', 'run', 'churn', '--duration', '60', '--memlimit', '1g', '--serve', '--port', '0', '--quiet'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const url = await new Promise<string>((resolve, reject) => {
      child!.stderr!.on('data', (b: Buffer) => { err += b.toString(); const m = /the heap is at (\S+)/.exec(err); if (m) resolve(m[1]!); });
      child!.on('exit', (code) => reject(new Error(`goheap run --serve exited (${code}): ${err}`)));
    });
    await page.goto(url);
    const attached = await until(page, 'snapshots from the program', () => {
      const v = (globalThis as any).goheapVis;
      return v?.mode === 'attached' && v.snapshots >= 3 && v.last.memstats.HeapAlloc > 0 && v.map.counts.small > 0 && { snaps: v.snapshots, alloc: v.last.memstats.HeapAlloc, mallocs: v.last.memstats.Mallocs, counts: v.map.counts };
    });
    t.diagnostic(`attached: ${JSON.stringify(attached)}`);
    const later = await until(page, 'the program allocating on', () => { const v = (globalThis as any).goheapVis; return v.last.memstats.Mallocs; }, 5000);
    await sleep(600);
    assert.ok(await page.evaluate(() => (globalThis as any).goheapVis.last.memstats.Mallocs) > later, 'the page follows the running program');
    assert.ok(await page.evaluate(() => (globalThis as any).goheapVis.charts.filled().heap) > 3);
    assert.ok(await page.evaluate(() => (globalThis as any).goheapVis.charts.filled().memoryLimit) > 3, 'the program\'s memory limit (--memlimit 1g) as a line');
    assert.equal(await page.evaluate(() => (globalThis as any).goheapVis.last.metrics['/gc/gomemlimit:bytes']), 2 ** 30);
    assert.deepEqual(log.filter((l) => l.startsWith('pageerror')), []);
  } finally {
    child?.kill('SIGKILL');
    await browser.close().catch(() => undefined);
    await server.kill();
    await srv.close();
  }
});
