/**
 * args.ts — the CLI's argument parser, its two error kinds, and the value parsers
 * (byte sizes with suffixes, counts, GOGC).
 *
 * Exit codes: 0 ok, 1 failure ({@link CliError}: the command ran and something went
 * wrong), 2 usage ({@link UsageError}: the command line itself is wrong; nothing ran).
 * Every error carries its cause and, where there is one, the fix; both go to stderr.
 *
 * @module
 */

/** A failure while running a command (exit 1). */
export class CliError extends Error {
  override name = 'CliError';
  /** How to fix it, one sentence (printed after the cause). */
  readonly fix: string | undefined;
  constructor(message: string, fix?: string) {
    super(message);
    this.fix = fix;
  }
}

/** A wrong command line (exit 2). */
export class UsageError extends CliError {
  override name = 'UsageError';
}

/** One option a command accepts. */
export interface OptionSpec {
  /** 'string' options take a value (`--ops 1000` or `--ops=1000`), 'boolean' ones do not. */
  type: 'string' | 'boolean';
  /** One-letter alias, without the dash. */
  short?: string;
}

/** What {@link parseArgs} returns. */
export interface ParsedArgs {
  options: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * Parse `argv` against `spec`. Long options: `--name value`, `--name=value`; short ones:
 * `-x value`; `--` ends the options. Unknown options, missing values and values given to
 * boolean options are usage errors naming the command (`cmd`) and its --help.
 */
export function parseArgs(cmd: string, argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const options: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  const byShort = new Map<string, string>();
  for (const [name, s] of Object.entries(spec)) if (s.short !== undefined) byShort.set(s.short, name);
  const help = `run '${cmd} --help' for the options`;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') { positionals.push(...argv.slice(i + 1)); break; }
    let name: string | undefined, inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq < 0 ? undefined : arg.slice(eq + 1);
      if (!(name in spec)) throw new UsageError(`${cmd}: unknown option '--${name}'`, suggest(name, Object.keys(spec), '--') ?? help);
    } else if (arg.length > 1 && arg.startsWith('-') && !/^-\d/.test(arg)) {
      const letter = arg.slice(1, 2);
      name = byShort.get(letter);
      if (name === undefined) throw new UsageError(`${cmd}: unknown option '-${letter}'`, help);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    const s = spec[name]!;
    if (s.type === 'boolean') {
      if (inline !== undefined) throw new UsageError(`${cmd}: option '--${name}' takes no value (got '${inline}')`, `write just --${name}`);
      options[name] = true;
    } else {
      let value = inline;
      if (value === undefined) {
        const next = argv[i + 1];
        if (next === undefined || (next.startsWith('--') && next.length > 2)) {
          throw new UsageError(`${cmd}: option '--${name}' needs a value`, `write --${name} VALUE; ${help}`);
        }
        value = next;
        i++;
      }
      options[name] = value;
    }
  }
  return { options, positionals };
}

/** "did you mean --x?" for a misspelt name, by edit distance. */
export function suggest(name: string, names: readonly string[], prefix = ''): string | undefined {
  let best: string | undefined, bestD = Infinity;
  for (const n of names) {
    const d = editDistance(name, n);
    if (d < bestD) { bestD = d; best = n; }
  }
  if (best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3))) return `did you mean '${prefix}${best}'?`;
  return undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

const SUFFIX: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/**
 * A byte count: a plain integer, or a number with a binary suffix k, m, g (optionally
 * followed by "b" or "ib", any case): `1g`, `256m`, `512KiB`, `1.5g`, `1073741824`.
 */
export function parseBytes(cmd: string, opt: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?$/i.exec(text.trim());
  const bytes = m === null ? NaN : Number(m[1]) * SUFFIX[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) {
    throw new UsageError(`${cmd}: ${opt} must be a byte count such as 1g, 256m, 512k or 1073741824, got '${text}'`, `write e.g. ${opt} 1g`);
  }
  return bytes;
}

/**
 * A memory limit: a byte count as for --reserve (Go's GOMEMLIMIT spellings 64MiB, 1GiB
 * included), or 'off' (no limit: Infinity).
 */
export function parseMemLimit(cmd: string, opt: string, text: string): number {
  if (text.trim().toLowerCase() === 'off') return Infinity;
  return parseBytes(cmd, opt, text);
}

/** A positive integer (underscores and commas allowed as digit separators: 1_000_000). */
export function parseCount(cmd: string, opt: string, text: string, min = 1): number {
  const clean = text.replace(/[_,]/g, '');
  const m = /^(\d+(?:\.\d+)?)([km]?)$/i.exec(clean);
  const n = m === null ? NaN : Number(m[1]) * (m[2]!.toLowerCase() === 'k' ? 1e3 : m[2]!.toLowerCase() === 'm' ? 1e6 : 1);
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UsageError(`${cmd}: ${opt} must be an integer >= ${min} (suffixes k and m allowed: 500k, 2m), got '${text}'`, `write e.g. ${opt} ${Math.max(min, 100000)}`);
  }
  return n;
}

/** A positive number of seconds (fractions allowed; an "s" suffix too). */
export function parseSeconds(cmd: string, opt: string, text: string): number {
  const m = /^(\d+(?:\.\d+)?|\.\d+)s?$/.exec(text.trim());
  const n = m === null ? NaN : Number(m[1]);
  if (!Number.isFinite(n) || n <= 0 || n > 86400) {
    throw new UsageError(`${cmd}: ${opt} must be a number of seconds > 0 such as 5 or 0.5, got '${text}'`, `write e.g. ${opt} 5`);
  }
  return n;
}

/**
 * GOGC: an integer >= 0, or "off" (= -1, no automatic cycles), as Go's GOGC accepts.
 * `opt` is the option (`--gogc`) or, for the environment variable, `GOGC`.
 */
export function parseGOGC(cmd: string, opt: string, text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'off' || t === '-1') return -1;
  if (/^\d+$/.test(t) && Number.isSafeInteger(Number(t))) return Number(t);
  const env = !opt.startsWith('-');
  throw new UsageError(
    `${cmd}: ${env ? `the environment variable ${opt}=${text}` : opt} must be a percentage (an integer >= 0, like GOGC=100) or 'off'${env ? '' : `, got '${text}'`}`,
    env ? `set ${opt}=100 or ${opt}=off, or unset ${opt} (or give --gogc, which overrides it)` : `write e.g. ${opt} 100 or ${opt} off`);
}

/** A seed: an integer from 0 to 2^32 - 1 (the PRNG's state is 32 bits). */
export function parseSeed(cmd: string, opt: string, text: string): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!(n >= 0 && n <= 0xffffffff)) throw new UsageError(`${cmd}: ${opt} must be an integer from 0 to 4294967295, got '${text}'`, `write e.g. ${opt} 42`);
  return n;
}

/**
 * The gctrace setting of GODEBUG (a comma-separated list of name=value, as in Go):
 * false if it has gctrace=0, true otherwise (goheap prints gctrace lines by default).
 */
export function gctraceEnabled(godebug: string | undefined): boolean {
  let on = true;
  for (const kv of (godebug ?? '').split(',')) {
    const [k, v] = kv.split('=');
    if (k?.trim() === 'gctrace') on = v?.trim() !== '0';
  }
  return on;
}

/** An output stream as the CLI uses it (process.stdout, or a collector in tests). */
export interface Out {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Where output goes (replaceable for tests). */
export interface Streams {
  stdout: Out;
  stderr: Out;
}
