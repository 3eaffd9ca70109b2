// A headless Chromium that needs nothing but npm: @sparticuz/chromium ships the browser inside
// its package (unpacked to /tmp on first use), and playwright-core drives it. Set
// CHROMIUM_PATH to use another Chromium (Debian's /usr/bin/chromium, say) instead.
import { chromium, type BrowserServer, type Browser } from 'playwright-core';

/** Flags that keep a headless Chromium off the network (this machine has none) and quiet. */
const QUIET = ['--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Where the browser comes from: the CHROMIUM_PATH one, or the one inside @sparticuz/chromium. */
export async function chromiumLaunchOptions(): Promise<{ executablePath: string; args: string[]; source: string }> {
  const path = process.env.CHROMIUM_PATH;
  if (path !== undefined && path !== '') {
    return { executablePath: path, args: ['--no-sandbox', '--disable-gpu', ...QUIET], source: `CHROMIUM_PATH=${path}` };
  }
  const sparticuz = (await import('@sparticuz/chromium')).default;
  // Not sparticuz.args: they are made for serverless sandboxes and include
  // --disable-web-security and --single-process, with which no page is crossOriginIsolated
  // (no SharedArrayBuffer). Its shell build needs only what a root container needs.
  return { executablePath: await sparticuz.executablePath(), args: ['--no-sandbox', '--disable-gpu', '--no-zygote', ...QUIET], source: '@sparticuz/chromium' };
}

/**
 * Starts Chromium as a server and connects to it. launchServer rather than launch: if a page
 * hangs, `server.kill()` ends Chromium for sure.
 */
export async function launchChromium(): Promise<{ server: BrowserServer; browser: Browser; source: string }> {
  const { executablePath, args, source } = await chromiumLaunchOptions();
  const server = await chromium.launchServer({ executablePath, args, headless: true });
  const browser = await chromium.connect(server.wsEndpoint());
  return { server, browser, source };
}
