// Issue 13: the README says what is true. Its code examples are the files in examples/
// (which test/package.test.ts runs against the packed package), and every sample output
// it shows (`$ npx goheap ...` followed by what it printed) comes from a real run: each
// command is run here and the lines shown must appear, in order, in what it prints now
// (a "…" line marks lines left out; run times, dates and speeds are masked). Runs on
// worker threads are not deterministic and are not compared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../cli/goheap.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The fenced code blocks of the README: [info string, body]. */
function codeBlocks(md: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /^```(\w*)\n([\s\S]*?)^```$/gm;
  for (let m = re.exec(md); m !== null; m = re.exec(md)) out.push([m[1]!, m[2]!]);
  return out;
}

test('README code examples are the files examples/*.mjs, verbatim, and every one is shown', () => {
  const shown = new Map<string, string>();
  for (const [, body] of codeBlocks(readme)) {
    const m = /^\/\/ (examples\/[\w.-]+)/.exec(body);
    if (m !== null) shown.set(m[1]!, body);
  }
  const files = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.mjs')).map((f) => `examples/${f}`).sort();
  assert.deepEqual([...shown.keys()].sort(), files);
  for (const [f, body] of shown) assert.equal(body, readFileSync(join(root, f), 'utf8'), `${f} differs from its README block`);
});

/** Hide what changes from run to run: times, speeds, dates, percentages of time. */
function mask(line: string): string {
  return line
    .replace(/^(gc \d+) @[\d.]+s \d+%: [\d.]+ ms clock/, '$1 @T')
    .replace(/ in [\d.]+ s \([\d.]+[kM]? ops\/s\)/, ' in T')
    .replace(/^ {2}(LastGC|PauseTotalNs|PauseNs|PauseEnd|RSS) .*/, '  $1 T');
}

/** Run `goheap args` in-process with a clean GOGC/GODEBUG (plus env); stdout then stderr. */
async function run(args: string[], env: Record<string, string>): Promise<{ code: number; text: string }> {
  const saved = { GOGC: process.env.GOGC, GODEBUG: process.env.GODEBUG };
  delete process.env.GOGC;
  delete process.env.GODEBUG;
  Object.assign(process.env, env);
  let stdout = '', stderr = '';
  try {
    const code = await main(args, { stdout: { write: (s: string) => { stdout += s; } }, stderr: { write: (s: string) => { stderr += s; } } });
    return { code, text: stdout + stderr };
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}

/** The jq filters the README pipes replay output through, done in JS (CI has no jq). */
const jq: Record<string, (doc: { deltas: { from: string; to: string; fields: Record<string, number> }[]; checkpoints: { memstats: Record<string, unknown> }[] }) => string> = {
  "jq -c '.deltas[]'": (d) => d.deltas.map((x) => JSON.stringify(x)).join('\n'),
  "jq '.checkpoints[0].memstats | del(.BySize)' | head -16": (d) => {
    const { BySize: _, ...ms } = d.checkpoints[0]!.memstats;
    return JSON.stringify(ms, null, 2).split('\n').slice(0, 16).join('\n');
  },
  "jq -c '.deltas[] | {from, to, StackInuse: .fields.StackInuse, StackSys: .fields.StackSys, HeapSys: .fields.HeapSys}'": (d) =>
    d.deltas.map((x) => JSON.stringify({ from: x.from, to: x.to, StackInuse: x.fields.StackInuse, StackSys: x.fields.StackSys, HeapSys: x.fields.HeapSys })).join('\n'),
};

/** Every `$ command` of the README's plain code blocks, with the lines shown after it. */
function transcripts(): { cmd: string; shown: string[] }[] {
  const out: { cmd: string; shown: string[] }[] = [];
  for (const [info, body] of codeBlocks(readme)) {
    if (info !== '') continue;
    let cur: { cmd: string; shown: string[] } | null = null;
    for (const line of body.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) out.push(cur = { cmd: line.slice(2), shown: [] });
      else cur?.shown.push(line);
    }
  }
  return out;
}

test('README sample outputs match what the commands print now', { timeout: 300_000 }, async () => {
  let compared = 0;
  for (const { cmd, shown } of transcripts()) {
    if (cmd.includes('--workers')) continue; // threads interleave differently on every run
    // Under a memory limit the pacer reads the clock (goheap's GC CPU limiter, like Go's) and
    // the background scavenger runs on a timer: the cycles differ from run to run.
    if (cmd.includes('--memlimit')) continue;
    let text: string;
    const cat = /^cat (\S+)$/.exec(cmd);
    const m = /^(?:(\w+)=(\S+) )?npx goheap ([^|;]*?)(?: \| (.*?))?(; echo "exit \$\?")?$/.exec(cmd);
    if (cat !== null) text = readFileSync(join(root, cat[1]!), 'utf8');
    else if (m !== null) {
      const [, envName, envValue, args, pipe, echo] = m;
      const r = await run(args!.trim().split(/\s+/), envName !== undefined ? { [envName]: envValue! } : {});
      text = r.text;
      if (pipe !== undefined) {
        const f = jq[pipe];
        assert.ok(f !== undefined, `no JS version of '| ${pipe}'`);
        text = f(JSON.parse(text));
      }
      if (echo !== undefined) text += `exit ${r.code}\n`;
    } else {
      assert.fail(`README transcript with a command this test cannot run: ${cmd}`);
    }
    const actual = text.replace(/\n$/, '').split('\n').map(mask);
    let at = 0;
    for (const line of shown) {
      if (line.trim() === '…') continue;
      const want = mask(line);
      const found = actual.indexOf(want, at);
      assert.ok(found >= 0, `$ ${cmd}\nthe README shows a line the command does not print (or not in this order):\n${line}`);
      at = found + 1;
    }
    compared++;
  }
  assert.ok(compared >= 10, `${compared} transcripts compared`);
});
