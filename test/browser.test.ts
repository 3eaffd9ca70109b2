// goheap in a real browser: src/index.ts bundled for the browser by esbuild (which fails on
// any Node built-in: the core is isomorphic), served with COOP/COEP so the page is
// crossOriginIsolated, and driven in a headless Chromium by playwright-core. The page
// (test/browser/page.js) shares one heap with module Workers that allocate, free and verify
// objects concurrently, terminates one worker mid-run and reclaims its P, then checks the
// heap and reports back here. The browser comes from npm (test/helpers/chromium.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build, transform, type BuildOptions } from 'esbuild';
import type { BrowserServer } from 'playwright-core';
import { launchChromium } from './helpers/chromium.js';
import { serveIsolated } from './helpers/serve.js';
import { setTimeout as sleep } from 'node:timers/promises';

const root = fileURLToPath(new URL('..', import.meta.url));
const staticDir = new URL('./browser/', import.meta.url);

const bundleOptions: BuildOptions = {
  absWorkingDir: root,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  write: false,
  metafile: true,
  logLevel: 'silent',
};

/** src/index.ts as one browser ES module (in memory). */
async function bundleCore(): Promise<{ code: string; inputs: string[] }> {
  const r = await build({ ...bundleOptions, entryPoints: ['src/index.ts'] });
  assert.equal(r.errors.length, 0);
  assert.equal(r.outputFiles!.length, 1);
  return { code: r.outputFiles![0].text, inputs: Object.keys(r.metafile!.inputs) };
}

test('the core (src/index.ts) bundles for the browser: no Node built-ins, nothing external', async () => {
  const { code, inputs } = await bundleCore();
  assert.ok(inputs.length > 10, `inputs: ${inputs.join(', ')}`);
  for (const f of inputs) assert.match(f, /^src\/[a-z0-9_]+\.ts$/, `unexpected input ${f}`);
  assert.ok(!inputs.includes('src/node.ts'));
  assert.doesNotMatch(code, /\bfrom\s*["']node:|\brequire\(/);
  // The check has teeth: the Node helpers (src/node.ts) do not bundle for the browser.
  await assert.rejects(build({ ...bundleOptions, entryPoints: ['src/node.ts'] }),
    (e: { errors?: Array<{ text: string }> }) => e.errors !== undefined && e.errors.some((m) => /node:worker_threads/.test(m.text)));
});

/** Serves the bundle and test/browser/, crossOriginIsolated. */
async function serve(bundle: string): Promise<{ server: Server; url: string }> {
  const files = new Map<string, string>([['/goheap.js', bundle]]);
  for (const f of ['index.html', 'page.js', 'worker.js', 'pattern.js', 'watchdog.js']) files.set(`/${f}`, await readFile(new URL(f, staticDir), 'utf8'));
  // The rings shared with the Node stress test, as JavaScript.
  files.set('/ring.js', (await transform(await readFile(new URL('./helpers/ring.ts', import.meta.url), 'utf8'), { loader: 'ts', format: 'esm' })).code);
  return serveIsolated(files);
}

interface WorkerReport {
  ctx: number; pid: number; ops: number; mallocs: number; frees: number; ringFrees: number; ringSent: number;
  pageObjsFreed: number; sentBack: number; mismatches: number; firstMismatch: string | null; kept: number;
}
type Stats = Record<'HeapAlloc' | 'HeapSys' | 'HeapIdle' | 'HeapInuse' | 'HeapReleased' | 'HeapObjects' | 'Mallocs' | 'Frees' | 'Sys' | 'NumGC' | 'TotalAlloc', number>;
interface PageReport {
  error?: string;
  crossOriginIsolated: boolean; userAgent: string; phases: Array<[string, number]>;
  pagePid: number; workerPids: number[]; attachedPids: number[]; workersCrossOriginIsolated: boolean[];
  killerPid: number; killerEpoch: number; replacementPid: number;
  killer: {
    opsAtTerminate: number; stressOpsAtTerminate: number[]; opsBeforeKill: number;
    opInFlight: 'none' | 'malloc' | 'free'; opSize: number; opPtr: number; mismatches: number;
    reclaimed: boolean; reclaimedAgain: boolean; objectsFreedByPage: number;
    inFlightFree?: string; allowedLeak: number[];
  };
  workers: WorkerReport[]; pageOps: number; ringDrained: number; freedFromWorkers: number; moreOps: number;
  held: { objects: number; bytes: number; duplicates: number };
  checkAfterRun: string; checkAfterMore: string; checkAtEnd: string;
  memStats: Stats; memStatsAtEnd: Stats; gc: unknown; secondGC: unknown;
  pageMismatches: number; pageFirstMismatch: string | null; errors: string[]; elapsedMs: number;
}

const OPS = 200_000;

test('in headless Chromium: a page and module Workers share one heap; a worker terminated mid-run is reclaimed', { timeout: 90_000 }, async (t) => {
  const { code } = await bundleCore();
  const { server, url } = await serve(code);
  let browserServer: BrowserServer | undefined;
  const log: string[] = [];
  try {
    const launched = await launchChromium();
    browserServer = launched.server;
    const browser = launched.browser;
    t.diagnostic(`browser: ${launched.source}`);
    const page = await browser.newPage();
    page.on('console', (m) => log.push(m.text()));
    page.on('pageerror', (e) => log.push(`pageerror: ${e.stack ?? e.message}`));
    await page.goto(`${url}?ops=${OPS}`);
    // Poll for the result. A page whose main thread is blocked (spinning on a lock that is
    // never released) answers no evaluate: the watchdog worker's reports tell, and fail the test.
    const started = Date.now();
    let r: PageReport | undefined;
    while (r === undefined) {
      r = await Promise.race([
        page.evaluate(() => (window as unknown as { goheapResult?: PageReport }).goheapResult),
        sleep(1000).then(() => undefined),
      ]);
      if (r !== undefined) break;
      const stuck = log.filter((l) => /STUCK for (\d+)/.exec(l) !== null && Number(/STUCK for (\d+)/.exec(l)![1]) >= 8000);
      if (stuck.length > 0 || Date.now() - started > 75_000) {
        assert.fail(`the page ${stuck.length > 0 ? 'is stuck (its main thread has been blocked for 8 s: a deadlock)' : 'did not finish in 75 s'}; what it logged:\n${log.join('\n')}`);
      }
      await sleep(200);
    }
    t.diagnostic(`${r.userAgent ?? ''}`);
    assert.equal(r.error, undefined, `the page failed: ${r.error}\nwhat it logged:\n${log.join('\n')}`);
    t.diagnostic(`phases (ms): ${r.phases.map(([n, ms]) => `${n} @${ms}`).join(', ')}`);
    t.diagnostic(`workers: ${JSON.stringify(r.workers)}`);
    t.diagnostic(`killer: ${JSON.stringify(r.killer)}`);
    t.diagnostic(`page ops ${r.pageOps}, freed from workers ${r.freedFromWorkers}, ring drained ${r.ringDrained}; held ${JSON.stringify(r.held)}`);
    t.diagnostic(`MemStats after gc: ${JSON.stringify(r.memStats)}; at end: ${JSON.stringify(r.memStatsAtEnd)}`);
    t.diagnostic(`gc: ${JSON.stringify(r.gc)}; a second gc: ${JSON.stringify(r.secondGC)}`);

    // Shared memory works in the page and the workers.
    assert.equal(r.crossOriginIsolated, true);
    assert.deepEqual(r.workersCrossOriginIsolated, [true, true, true]);
    assert.deepEqual(r.errors, []);
    // Each context had its own P.
    assert.deepEqual(r.attachedPids, [...r.workerPids, r.killerPid]);
    assert.equal(new Set([r.pagePid, ...r.workerPids, r.killerPid]).size, 4);

    // The stress workers did all their operations and the object traffic really happened.
    assert.equal(r.workers.length, 3);
    const [w0, w1, w3] = r.workers;
    for (const w of [w0, w1]) {
      assert.ok(w.ops >= OPS && w.ops <= OPS + 1, `ops ${w.ops}`);
      assert.equal(w.pageObjsFreed, 2000, 'every object the page gave the worker was verified and freed there');
      assert.ok(w.ringFrees > 1000, `frees of the other worker's objects: ${w.ringFrees}`);
      assert.ok(w.sentBack > 1000, `objects sent back to the page: ${w.sentBack}`);
      assert.ok(w.mallocs > 0.4 * OPS && w.frees > 0.3 * OPS, `mallocs ${w.mallocs}, frees ${w.frees}`);
      assert.equal(w.kept, 100);
    }
    assert.ok(w3.ops >= 30_000 && w3.ops <= 30_001);
    assert.equal(w3.pageObjsFreed, 500);
    assert.equal(r.freedFromWorkers, w0.sentBack + w1.sentBack + w3.sentBack, 'the page verified and freed every object sent back');
    assert.ok(r.pageOps >= 1000, `the page allocated and freed while the workers ran: ${r.pageOps} ops`);
    // No object's bytes were ever disturbed: nothing handed out twice.
    for (const w of r.workers) assert.equal(w.mismatches, 0, `worker ${w.ctx}: ${w.firstMismatch}`);
    assert.equal(r.killer.mismatches, 0);
    assert.equal(r.pageMismatches, 0, `${r.pageFirstMismatch}`);
    assert.equal(r.held.duplicates, 0);

    // The killer was terminated mid-run, while the stress workers ran; its P was reclaimed
    // once, and the replacement worker got that very P (maxProcs 4, and the stress workers
    // stay attached until the page releases them: no other P was free).
    assert.ok(r.killer.opsAtTerminate >= 1000, `killer ops at terminate(): ${r.killer.opsAtTerminate}`);
    assert.ok(r.killer.opsBeforeKill >= r.killer.opsAtTerminate);
    for (const n of r.killer.stressOpsAtTerminate) assert.ok(n > 0 && n < OPS, `stress worker ops at the killer's terminate(): ${n}`);
    assert.equal(r.killer.reclaimed, true);
    assert.equal(r.killer.reclaimedAgain, false);
    assert.equal(r.replacementPid, r.killerPid);
    assert.equal(w3.pid, r.killerPid);
    assert.ok(r.killer.objectsFreedByPage > 50, `the killer's live objects, verified and freed by the page: ${r.killer.objectsFreedByPage}`);

    // After the run: consistent metadata and exact accounting.
    assert.equal(r.checkAfterRun, 'ok');
    const ms = r.memStats;
    const leak = r.memStatsAtEnd.HeapAlloc;
    assert.ok(r.killer.allowedLeak.includes(leak), `HeapAlloc with every known object freed is ${leak}; the killer's malloc in flight allows ${r.killer.allowedLeak.join(' or ')}`);
    assert.equal(ms.HeapAlloc, r.held.bytes + leak, 'HeapAlloc after gc == the bytes the page still holds');
    assert.equal(ms.HeapIdle + ms.HeapInuse, ms.HeapSys);
    assert.ok(ms.Mallocs - ms.Frees === ms.HeapObjects);
    // The heap kept working afterwards.
    assert.equal(r.moreOps, 20_000);
    assert.equal(r.checkAfterMore, 'ok');
    assert.equal(r.checkAtEnd, 'ok');
    const end = r.memStatsAtEnd;
    assert.equal(end.HeapIdle + end.HeapInuse, end.HeapSys);
    assert.ok(r.elapsedMs < 60_000);
  } finally {
    await browserServer?.kill();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
