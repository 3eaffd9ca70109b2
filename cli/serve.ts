/**
 * serve.ts — the `goheap serve` command (the visualiser, vis/server.ts) and what
 * `goheap run --serve` shares with it: the default port, --port parsing, waiting for
 * Ctrl-C.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { CliError, UsageError, parseArgs } from './args.js';
import type { Streams } from './args.js';
import { serveStandalone, type VisualiserServer } from '../vis/server.js';

/** The visualiser's default port. */
export const DEFAULT_PORT = 8019;

/** Resolves at the next Ctrl-C (SIGINT). */
export function untilInterrupted(): Promise<void> {
  return new Promise((resolve) => process.once('SIGINT', () => resolve()));
}

/** The value of --port (default DEFAULT_PORT). @throws UsageError */
export function parsePort(cmd: string, text: string | undefined): number {
  if (text === undefined) return DEFAULT_PORT;
  const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!(n >= 0 && n <= 65535)) throw new UsageError(`${cmd}: --port must be an integer from 0 to 65535, got '${text}'`, `write e.g. --port ${DEFAULT_PORT} (0: any free port)`);
  return n;
}

/** goheap serve [--port N] [--open]: serve the standalone visualiser until Ctrl-C. */
export async function cmdServe(argv: readonly string[], io: Streams): Promise<number> {
  const cmd = 'goheap serve';
  const { options, positionals } = parseArgs(cmd, argv, { port: { type: 'string', short: 'p' }, open: { type: 'boolean' } });
  if (positionals.length > 0) throw new UsageError(`${cmd}: unexpected argument '${positionals[0]}'`, `'${cmd}' takes no arguments; see '${cmd} --help'`);
  const port = parsePort(cmd, options.port as string | undefined);
  let vis: VisualiserServer;
  try {
    vis = await serveStandalone({ port });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new CliError(`${cmd}: port ${port} is in use`, `choose another with --port (0: any free port)`);
    throw e;
  }
  io.stdout.write(`goheap visualiser: ${vis.url}  (Ctrl-C to stop)\n`);
  if (options.open === true) openBrowser(vis.url, io);
  await untilInterrupted();
  await vis.close();
  return 0;
}

/** Open url in the default browser (xdg-open, open, or start); a failure is only reported. */
function openBrowser(url: string, io: Streams): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => io.stderr.write(`goheap serve: could not open a browser (${command as string}); open ${url} yourself\n`));
  child.unref();
}
