/**
 * screenshots.ts — `npm run screenshots`: the README's pictures of the visualiser, taken
 * in headless Chromium (test/helpers/chromium.ts) from the page as `goheap serve` serves
 * it: docs/visualiser-charts.png and docs/visualiser-map.png (the mix workload on two
 * workers, just after it called gc() and freeOSMemory()), docs/visualiser-replay.png
 * (the mixed-workload scenario replayed against Go 1.19).
 *
 * @module
 */
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { serveStandalone } from './server.js';
import { launchChromium } from '../test/helpers/chromium.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));
const srv = await serveStandalone({ port: 0 });
const { server, browser } = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1000 }, locale: 'en-US' });
  const vis = (): Promise<{ ops: number; progress: string }> => page.evaluate(() => ({ ops: (globalThis as any).goheapVis.last?.memstats.Mallocs ?? 0, progress: document.getElementById('status')!.textContent ?? '' }));
  await page.goto(`${srv.url}?workload=mix&workers=2&duration=16`);
  // The mix workload calls gc() and freeOSMemory() at 82% of its run, then allocates on.
  await sleep(15_000);
  process.stdout.write(`${(await vis()).progress}\n`);
  await page.locator('#charts').screenshot({ path: `${docs}visualiser-charts.png` });
  await page.click('#pause');
  await page.locator('#mapsection').screenshot({ path: `${docs}visualiser-map.png` });
  await page.goto(`${srv.url}?workload=replay&scenario=mixed-workload`);
  await sleep(500);
  for (let i = 0; i < 10; i++) await page.click('#rcheck');
  await page.locator('#replay').screenshot({ path: `${docs}visualiser-replay.png` });
  process.stdout.write(`wrote ${docs}visualiser-{charts,map,replay}.png\n`);
} finally {
  await browser.close();
  await server.kill();
  await srv.close();
}
