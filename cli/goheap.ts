/**
 * goheap.ts — the `goheap` command: run a built-in workload, replay an allocation
 * scenario, print the size class table.
 *
 *   npx tsx cli/goheap.ts run            (or: node cli/bin.mjs run, npx goheap run, npm start)
 *
 * `main(argv)` returns the exit code: 0 ok, 1 failure, 2 usage error. Errors go to stderr
 * as "goheap <command>: <cause>" followed by "  fix: <what to do>".
 *
 * @module
 */
import { accessSync, constants, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GoHeapError, InvalidArgumentError, OutOfMemoryError } from '../src/index.js';
import { sizeClassTableText } from './sizeclasses-table.js';
import { HELPS, HELP_TOP } from './help.js';
import { type Out, type Streams } from './args.js';
export type { Out, Streams } from './args.js';
import { CliError, UsageError, gctraceEnabled, parseArgs, parseBytes, parseCount, parseGOGC, parseMemLimit, parseSeconds, parseSeed, suggest } from './args.js';
import { formatScavTrace } from '../src/index.js';
import { group, human, shortCount } from './format.js';
import { plotSVG } from './plot.js';
import { runScenario, ScenarioError } from './replay.js';
import { gctraceLine, memStatsReport } from './report.js';
import { MAX_WORKERS, runWorkers, runWorkload, type RunOptions, type RunResult } from './run.js';
import { maxProcs } from '../src/mheap.js';
import { defaultWorkload, workloads } from './workloads.js';
import { loadVisualiserAssets, serveVisualiser, type VisualiserServer } from '../vis/server.js';
import { cmdServe, parsePort, untilInterrupted } from './serve.js';

/** The package version, from package.json (cli/ in a checkout, dist/cli/ when built). */
function version(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'goheap' && typeof pkg.version === 'string') return pkg.version;
    } catch { /* try the next */ }
  }
  return 'unknown';
}




/**
 * Run the goheap command with `argv` (without "node" and the script) and return the exit
 * code. Never calls process.exit.
 */
export async function main(argv: readonly string[], io: Streams = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let cmd = 'goheap';
  try {
    const [first, ...rest] = argv;
    if (first === undefined) { io.stdout.write(HELP_TOP); return 0; }
    if (first === '-h' || first === '--help') { io.stdout.write(HELP_TOP); return 0; }
    if (first === '-v' || first === '--version') {
      const from = import.meta.url.endsWith('.ts') ? 'TypeScript sources' : 'compiled';
      io.stdout.write(`goheap ${version()} (Go 1.19 allocator; Node ${process.versions.node}; ${from})\n`);
      return 0;
    }
    if (first.startsWith('-')) throw new UsageError(`goheap: unknown option '${first}' before the command`, "write the command first, e.g. 'goheap run --ops 1m'; see 'goheap --help'");
    if (!(first in HELPS)) {
      throw new UsageError(`goheap: unknown command '${first}'`, suggest(first, Object.keys(HELPS))?.replace(/\?$/, "? ('goheap --help' lists the commands)") ?? "'goheap --help' lists the commands");
    }
    cmd = `goheap ${first}`;
    if (rest.includes('-h') || rest.includes('--help')) { io.stdout.write(HELPS[first]!()); return 0; }
    switch (first) {
      case 'help': return cmdHelp(rest, io);
      case 'sizeclasses': return cmdSizeclasses(rest, io);
      case 'replay': return cmdReplay(rest, io);
      case 'run': return await cmdRun(rest, io);
      case 'serve': return await cmdServe(rest, io);
    }
    return 0;
  } catch (e) {
    return reportError(cmd, e, io);
  }
}

function reportError(cmd: string, e: unknown, io: Streams): number {
  if (e instanceof CliError) {
    io.stderr.write(`${e.message.startsWith('goheap') ? '' : cmd + ': '}${e.message}\n`);
    if (e.fix !== undefined) io.stderr.write(`  fix: ${e.fix}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
  if (e instanceof ScenarioError) {
    io.stderr.write(`${cmd}: ${e.message}\n`);
    if (e.fix !== undefined) io.stderr.write(`  fix: ${e.fix}\n`);
    return 1;
  }
  if (e instanceof OutOfMemoryError) {
    io.stderr.write(`${cmd}: out of memory: ${e.message}\n  fix: give the heap a larger reservation with --reserve (at most 4g)\n`);
    return 1;
  }
  if (e instanceof GoHeapError) {
    io.stderr.write(`${cmd}: ${e.name}: ${e.message}\n  fix: this is a goheap bug if the input was valid; please report it with the command line\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr.write(`${cmd}: internal error: ${err.stack ?? err.message}\n  fix: please report this with the command line\n`);
  return 1;
}

function noArgs(cmd: string, positionals: string[]): void {
  if (positionals.length > 0) throw new UsageError(`${cmd}: unexpected argument '${positionals[0]}'`, `'${cmd}' takes no arguments; see '${cmd} --help'`);
}

function cmdHelp(argv: readonly string[], io: Streams): number {
  const { positionals } = parseArgs('goheap help', argv, {});
  if (positionals.length === 0) { io.stdout.write(HELP_TOP); return 0; }
  if (positionals.length > 1) throw new UsageError(`goheap help: expected one command, got ${positionals.length}`, "write e.g. 'goheap help run'");
  const h = HELPS[positionals[0]!];
  if (h === undefined) throw new UsageError(`goheap help: unknown command '${positionals[0]}'`, `the commands are ${Object.keys(HELPS).join(', ')}`);
  io.stdout.write(h());
  return 0;
}

function cmdSizeclasses(argv: readonly string[], io: Streams): number {
  const { positionals } = parseArgs('goheap sizeclasses', argv, {});
  noArgs('goheap sizeclasses', positionals);
  io.stdout.write(sizeClassTableText());
  return 0;
}

// ----- replay ---------------------------------------------------------------------------

function cmdReplay(argv: readonly string[], io: Streams): number {
  const cmd = 'goheap replay';
  const { options, positionals } = parseArgs(cmd, argv, { out: { type: 'string', short: 'o' }, reserve: { type: 'string' }, 'no-warmup': { type: 'boolean' } });
  if (positionals.length === 0) throw new UsageError(`${cmd}: missing the scenario file`, `write '${cmd} SCENARIO.json' (see '${cmd} --help' for the format)`);
  if (positionals.length > 1) throw new UsageError(`${cmd}: expected one scenario file, got ${positionals.length}: ${positionals.join(' ')}`, 'replay one scenario per command');
  const file = positionals[0]!;
  const reserve = options.reserve !== undefined ? checkReserve(cmd, parseBytes(cmd, '--reserve', options.reserve as string)) : undefined;
  if (options.out !== undefined) checkWritable(cmd, '--out', options.out as string);
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CliError(`${cmd}: cannot read '${file}': ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, code === 'ENOENT' ? 'check the path; the repository has examples in scenarios/' : `give the path of a readable scenario file (see '${cmd} --help')`);
  }
  let scenario: unknown;
  try {
    scenario = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${cmd}: '${file}' is not valid JSON: ${(e as Error).message}`, 'fix the JSON syntax (see goheap replay --help for the format)');
  }
  let result;
  try {
    result = runScenario(scenario, { reserve, warmup: options['no-warmup'] !== true });
  } catch (e) {
    if (e instanceof ScenarioError) throw new ScenarioError(`${file}: ${e.message}`, e.opIndex, e.fix);
    if (e instanceof InvalidArgumentError) throw new UsageError(`${cmd}: ${e.message}`, 'choose another --reserve');
    throw e;
  }
  const json = JSON.stringify(result, null, 2) + '\n';
  if (options.out !== undefined) {
    writeOut(cmd, options.out as string, json);
    io.stderr.write(`${cmd}: wrote ${result.checkpoints.length} checkpoints and ${result.deltas.length} deltas of '${result.name}' to ${options.out}\n`);
  } else {
    io.stdout.write(json);
  }
  return 0;
}

function writeOut(cmd: string, file: string, text: string): void {
  try {
    writeFileSync(file, text);
  } catch (e) {
    throw new CliError(`${cmd}: cannot write '${file}': ${(e as Error).message}`, 'check that the directory exists and is writable');
  }
}

/**
 * Refuse, before any work is done, an output file that cannot be written: a directory, a
 * file in a directory that does not exist, or one without write permission.
 */
function checkWritable(cmd: string, opt: string, file: string): void {
  let isDir = false, exists = true;
  try { isDir = statSync(file).isDirectory(); } catch { exists = false; }
  if (isDir) throw new UsageError(`${cmd}: ${opt} '${file}' is a directory`, `give a file name, e.g. ${opt} ${file.replace(/\/$/, '')}/out${opt === '--plot' ? '.svg' : '.json'}`);
  try {
    accessSync(exists ? file : dirname(resolve(file)), constants.W_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`${cmd}: cannot write ${opt} '${file}': ${code === 'ENOENT' ? `the directory '${dirname(file)}' does not exist` : code === 'EACCES' ? 'permission denied' : (e as Error).message}`,
      code === 'ENOENT' ? `create the directory first (mkdir -p ${dirname(file)}), or write to another path` : 'write to a directory you can write to');
  }
}

function checkReserve(cmd: string, bytes: number): number {
  if (bytes > 2 ** 32) throw new UsageError(`${cmd}: --reserve ${human(bytes)} is more than 4 GiB, the most a buffer can grow to in Node`, 'write --reserve 4g or less');
  if (bytes % 65536 !== 0) throw new UsageError(`${cmd}: --reserve must be a multiple of 64 KiB, got ${bytes}`, `write e.g. --reserve ${Math.ceil(bytes / 65536) * 64}k`);
  return bytes;
}

// ----- run ------------------------------------------------------------------------------

async function cmdRun(argv: readonly string[], io: Streams): Promise<number> {
  const cmd = 'goheap run';
  const { options: o, positionals } = parseArgs(cmd, argv, {
    ops: { type: 'string', short: 'n' },
    duration: { type: 'string', short: 'd' },
    seed: { type: 'string' },
    reserve: { type: 'string' },
    gogc: { type: 'string' },
    memlimit: { type: 'string' },
    workers: { type: 'string' },
    json: { type: 'boolean' },
    plot: { type: 'string' },
    quiet: { type: 'boolean', short: 'q' },
    serve: { type: 'boolean' },
    port: { type: 'string' },
  });
  if (positionals.length > 1) throw new UsageError(`${cmd}: expected at most one workload, got ${positionals.join(' ')}`, `run one workload at a time: ${[...workloads.keys()].join(', ')}`);
  const name = positionals[0] ?? defaultWorkload;
  const w = workloads.get(name);
  if (w === undefined) {
    throw new UsageError(`${cmd}: unknown workload '${name}'`, `${suggest(name, [...workloads.keys()]) ?? ''} the workloads are ${[...workloads.keys()].join(', ')}`.trim());
  }
  if (o.ops !== undefined && o.duration !== undefined) throw new UsageError(`${cmd}: --ops and --duration both given`, 'give one of them: a number of operations or a number of seconds');
  let workers: number | undefined;
  if (o.workers !== undefined) {
    const text = o.workers as string;
    workers = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
    if (!(workers >= 1 && workers <= MAX_WORKERS)) {
      throw new UsageError(`${cmd}: --workers must be an integer from 1 to ${MAX_WORKERS}, got '${text}'`, `write e.g. --workers 2 (worker threads; leave --workers out to run on the main thread)`);
    }
    if (workers >= maxProcs) throw new UsageError(`${cmd}: --workers ${workers}: the heap has ${maxProcs} Ps and the main thread holds one`, `write --workers ${maxProcs - 1} or less`);
  }
  let gogc = 100;
  const envGOGC = process.env.GOGC;
  if (envGOGC !== undefined && envGOGC !== '' && o.gogc === undefined) gogc = parseGOGC(cmd, 'GOGC', envGOGC);
  if (o.gogc !== undefined) gogc = parseGOGC(cmd, '--gogc', o.gogc as string);
  let memlimit = Infinity;
  const envLimit = process.env.GOMEMLIMIT;
  if (envLimit !== undefined && envLimit !== '') memlimit = parseMemLimit(cmd, 'GOMEMLIMIT (environment)', envLimit);
  if (o.memlimit !== undefined) memlimit = parseMemLimit(cmd, '--memlimit', o.memlimit as string);
  const scavtrace = /(^|,)scavtrace=[1-9]/.test(process.env.GODEBUG ?? '');
  const opts: RunOptions = {
    workload: name,
    ops: o.ops !== undefined ? parseCount(cmd, '--ops', o.ops as string) : w.defaultOps,
    duration: o.duration !== undefined ? parseSeconds(cmd, '--duration', o.duration as string) : undefined,
    seed: o.seed !== undefined ? parseSeed(cmd, '--seed', o.seed as string) : 1,
    reserve: o.reserve !== undefined ? checkReserve(cmd, parseBytes(cmd, '--reserve', o.reserve as string)) : 1 << 30,
    gogc,
    memlimit,
    workers,
  };
  if (workers !== undefined && opts.duration === undefined && opts.ops < workers) {
    throw new UsageError(`${cmd}: --ops ${opts.ops} is fewer than --workers ${workers}: the operations are split between the workers`, `give at least one operation per worker, e.g. --ops ${workers * 1000}`);
  }
  const json = o.json === true, quiet = o.quiet === true;
  const plot = o.plot as string | undefined;
  if (plot !== undefined && plot === '') throw new UsageError(`${cmd}: --plot needs a file name`, 'write e.g. --plot heap.svg');
  if (plot !== undefined && !/\.svg$/i.test(plot)) {
    throw new UsageError(`${cmd}: --plot writes an SVG image; '${plot}' does not end in .svg`, `write --plot ${plot.replace(/\.[^./]*$/, '')}.svg (to get a PNG, convert it, e.g. rsvg-convert -o heap.png heap.svg)`);
  }
  if (plot !== undefined) checkWritable(cmd, '--plot', plot);
  const gctrace = gctraceEnabled(process.env.GODEBUG);

  const serve = o.serve === true;
  if (o.port !== undefined && !serve) throw new UsageError(`${cmd}: --port is the visualiser's port: it needs --serve`, 'add --serve, or leave --port out');
  const port = parsePort(cmd, o.port as string | undefined);
  const assets = serve ? await loadVisualiserAssets() : undefined;
  let vis: VisualiserServer | null = null;

  const humanOut = !json;
  const bar = humanOut && !quiet && io.stderr.isTTY === true ? new ProgressBar(io.stderr, w.name, opts) : null;
  let stop = false;
  const onSigint = (): void => {
    if (stop) process.exit(130);
    stop = true;
  };
  process.on('SIGINT', onSigint);
  let result: RunResult;
  try {
    result = await (workers !== undefined ? runWorkers : runWorkload)(opts, {
      onGC: humanOut && !quiet && gctrace ? (ev, t) => {
        bar?.clear();
        io.stdout.write(gctraceLine(ev, t.pauseTotalNs, t.elapsed, workers ?? 1) + '\n');
        bar?.redraw();
      } : undefined,
      onScavenge: humanOut && !quiet && scavtrace ? (t) => {
        bar?.clear();
        io.stdout.write(formatScavTrace(t) + '\n');
        bar?.redraw();
      } : undefined,
      onProgress: bar !== null ? (p) => bar.update(p) : undefined,
      shouldStop: () => stop,
      onHeap: serve ? async (heap) => {
        vis = await serveVisualiser(heap, { port, assets });
        io.stderr.write(`${cmd}: the heap is at ${vis.url}\n`);
      } : undefined,
    });
  } catch (e) {
    bar?.clear();
    if (e instanceof InvalidArgumentError) throw new UsageError(`${cmd}: ${e.message}`, 'choose another --reserve (a multiple of 64 KiB, at most 4g)');
    if (e instanceof OutOfMemoryError) {
      throw new CliError(`${cmd}: the heap ran out of its ${human(opts.reserve)} reservation: ${e.message}`, `run with a larger --reserve (e.g. --reserve ${opts.reserve * 2 <= 2 ** 32 ? human(opts.reserve * 2).replace(' GiB', 'g').replace(' MiB', 'm') : '4g'})`);
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
  }
  bar?.clear();

  if (plot !== undefined) {
    writeOut(cmd, plot, plotSVG({
      title: `goheap run ${result.workload} — heap over time`,
      subtitle: `${group(result.opsDone)} ops in ${result.elapsed.toFixed(2)} s${workers !== undefined ? ` on ${workers} worker${workers > 1 ? 's' : ''}` : ''} · seed ${opts.seed}${workers !== undefined && workers > 1 ? `–${opts.seed + workers - 1}` : ''} · GOGC=${opts.gogc < 0 ? 'off' : opts.gogc} · ${result.gcs.length} GC cycles (${result.gcs.filter((g) => g.forced).length} forced)${result.interrupted ? ' · interrupted' : ''}`,
      samples: result.samples,
      gcs: result.gcs,
      xAxis: opts.duration === undefined ? 'ops' : 'time',
    }));
  }
  if (json) {
    io.stdout.write(JSON.stringify(runJSON(result, plot), null, 2) + '\n');
  } else {
    if (!quiet && gctrace && result.gcs.length > 0) io.stdout.write('\n');
    const rate = result.opsDone / Math.max(result.elapsed, 1e-9);
    const on = result.workers !== undefined ? ` on ${result.workers.length} worker${result.workers.length > 1 ? 's' : ''}` : '';
    const seeds = result.workers !== undefined && result.workers.length > 1 ? `seeds ${opts.seed}–${opts.seed + result.workers.length - 1}` : `seed ${opts.seed}`;
    const report = memStatsReport(result.memstats, {
      heading: `goheap run ${result.workload}: ${group(result.opsDone)} operation${result.opsDone === 1 ? '' : 's'}${on} in ${result.elapsed.toFixed(2)} s ` +
        `(${shortCount(Math.round(rate))} ops/s), ${seeds}, GOGC=${opts.gogc < 0 ? 'off' : opts.gogc}, ` +
        `${opts.memlimit !== undefined && opts.memlimit !== Infinity ? `GOMEMLIMIT=${human(opts.memlimit)}, ` : ''}reserve ${human(opts.reserve)}${result.interrupted ? ' — INTERRUPTED' : ''}`,
      rss: result.rss,
      releaseMode: result.releaseMode,
    });
    if (result.workers === undefined) io.stdout.write(report);
    else {
      // The heading, then the workers, then the rest of the report.
      const nl = report.indexOf('\n');
      io.stdout.write(report.slice(0, nl + 1) + '\n' + workersTable(result) + report.slice(nl + 1));
    }
    if (plot !== undefined) io.stdout.write(`\nplot: ${plot} (${result.samples.length} samples)\n`);
  }
  if (vis !== null && !result.interrupted) {
    io.stderr.write(`${cmd}: the run is over; its heap stays at ${(vis as VisualiserServer).url} until Ctrl-C\n`);
    await untilInterrupted();
  }
  await (vis as VisualiserServer | null)?.close();
  return result.interrupted ? 130 : 0;
}



/** Operations per second, rounded (0 for a run too short to time). */
function opsPerSec(ops: number, sec: number): number {
  return sec > 0 ? Math.round(ops / sec) : 0;
}

/** With --workers: one line per worker (operations, time, ops/s, GC cycles it ran) and the total. */
function workersTable(r: RunResult): string {
  const ws = r.workers!;
  const rows = ws.map((w) => [`w${w.id}`, `seed ${w.seed}`, `${group(w.opsDone)} ops`, `${w.elapsed.toFixed(2)} s`, `${shortCount(opsPerSec(w.opsDone, w.elapsed))} ops/s`, `${w.gcCycles} GC cycle${w.gcCycles === 1 ? '' : 's'}`]);
  rows.push(['total', '', `${group(r.opsDone)} ops`, `${r.elapsed.toFixed(2)} s`, `${shortCount(opsPerSec(r.opsDone, r.elapsed))} ops/s`, `${r.gcs.length} GC cycle${r.gcs.length === 1 ? '' : 's'}`]);
  const width = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]): string => '  ' + row.map((cell, c) => (c === 0 || c === 1 || c === 5 ? cell.padEnd(width[c]!) : cell.padStart(width[c]!))).join('  ').trimEnd();
  const how = r.options.duration !== undefined ? `each runs for --duration ${r.options.duration} s` : `--ops ${group(r.options.ops)} split between them`;
  const out = [`Workers (${ws.length} thread${ws.length === 1 ? '' : 's'} sharing the heap; ${how})`];
  for (const row of rows) out.push(line(row));
  return out.join('\n') + '\n';
}

/** The --json document of `goheap run`. */
function runJSON(r: RunResult, plot: string | undefined): unknown {
  return {
    workload: r.workload,
    options: { ops: r.options.duration === undefined ? r.options.ops : null, duration: r.options.duration ?? null, seed: r.options.seed, reserve: r.options.reserve, gogc: r.options.gogc < 0 ? 'off' : r.options.gogc, memlimit: (r.options.memlimit ?? Infinity) === Infinity ? 'off' : r.options.memlimit, workers: r.workers?.length ?? 1 },
    rss: r.rss,
    releaseMode: r.releaseMode,
    opsDone: r.opsDone,
    elapsedSec: r.elapsed,
    opsPerSec: opsPerSec(r.opsDone, r.elapsed),
    interrupted: r.interrupted,
    plot: plot ?? null,
    workers: r.workers === undefined ? null : r.workers.map((w) => ({
      id: w.id, seed: w.seed, ops: w.ops, opsDone: w.opsDone, elapsedSec: w.elapsed,
      opsPerSec: opsPerSec(w.opsDone, w.elapsed), gcCycles: w.gcCycles,
    })),
    gcs: r.gcs.map((g) => ({
      cycle: g.cycle, forced: g.forced, atSec: g.at, opsDone: g.opsDone,
      heapBefore: g.heapBefore, heapAfter: g.heapAfter, heapMarked: g.heapMarked,
      goal: Number.isFinite(g.goal) ? g.goal : null, pauseNs: g.pauseNs,
      ...(g.worker !== undefined ? { worker: g.worker } : {}),
    })),
    samples: r.samples,
    memstats: r.memstats,
  };
}

/** A one-line progress bar on a terminal (stderr), redrawn in place. */
class ProgressBar {
  private last = '';
  private shown = false;
  constructor(private readonly out: Streams['stderr'], private readonly name: string, private readonly opts: RunOptions) {}

  update(p: { fraction: number; opsDone: number; elapsed: number; heapAlloc: number; numGC: number }): void {
    const cols = Math.max(40, (this.out.columns || 80) - 1);
    const pct = `${Math.floor(p.fraction * 100)}`.padStart(3) + '%';
    const tail = this.opts.duration !== undefined
      ? ` ${pct}  ${p.elapsed.toFixed(1)}/${this.opts.duration}s  ${shortCount(p.opsDone)} ops  heap ${human(p.heapAlloc)}  gc ${p.numGC}`
      : ` ${pct}  ${shortCount(p.opsDone)}/${shortCount(this.opts.ops)} ops  ${p.elapsed.toFixed(1)}s  heap ${human(p.heapAlloc)}  gc ${p.numGC}`;
    const head = `${this.name} `;
    const width = Math.max(10, Math.min(40, cols - head.length - 62)); // fixed: the tail varies
    const full = Math.floor(p.fraction * width);
    const line = `${head}[${'#'.repeat(full)}${'-'.repeat(width - full)}]${tail}`.slice(0, cols);
    this.last = line;
    this.redraw();
  }

  redraw(): void {
    if (this.last === '') return;
    this.out.write(`\r${this.last}\x1b[K`);
    this.shown = true;
  }

  clear(): void {
    if (!this.shown) return;
    this.out.write('\r\x1b[K');
    this.shown = false;
  }
}

// Run when executed directly (npx tsx cli/goheap.ts ...); bin.mjs imports main instead.
const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(0); throw e; });
  process.exitCode = await main(process.argv.slice(2));
}
