/**
 * app.ts — the visualiser page. Three ways to get a heap to show:
 *
 *   - standalone (`goheap serve`): the page creates a heap over a SharedArrayBuffer and
 *     starts 1–8 Web Workers (worker.ts) that attach to it and run a built-in workload;
 *     the page takes heap.inspect() snapshots every 250 ms. Controls: workload, workers,
 *     GOGC, memory limit, start/pause/step/reset, gc(), freeOSMemory().
 *   - replay (standalone, workload "replay"): a scenario from scenarios/ (or dropped on
 *     the page) runs op by op on its own heap (cli/replay.ts's ScenarioRun, as `goheap
 *     replay` runs it); at each checkpoint the MemStats deltas are shown next to real Go
 *     1.19's (scenarios/expected/), differences highlighted.
 *   - attached (serveVisualiser in a Node program): snapshots arrive as Server-Sent Events.
 *
 * `window.goheapVis` exposes the page's state to the browser test.
 *
 * @module
 */
import { Heap, decodeSnapshot, type HeapSnapshot } from '../src/index.js';
import { workloads } from '../cli/workloads.js';
import { ScenarioRun, deltaFields, type ReplayDelta } from '../cli/replay.js';
import { parseMemLimit } from '../cli/args.js';
import { Charts, bytes } from './charts.js';
import { HeapMap, classColor, colors, pColor } from './heapmap.js';
import {
  CTL_MODE, CTL_OPS, CTL_STATE, CTL_STEP, CTL_WORDS, MAX_PAGE_WORKERS, MODE_PAUSED, MODE_RUNNING, MODE_STOP,
  WORKER_ATTACHED, type StartMessage, type WorkerReport,
} from './protocol.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const reserve = Number(params.get('reserve') ?? 1024) * 2 ** 20;
const duration = Number(params.get('duration') ?? 60);
const interval = Number(params.get('interval') ?? 250);

const charts = new Charts($('charts'));
const map = new HeapMap($<HTMLCanvasElement>('map'), $('tip'), $<HTMLTableElement>('central'));
const status = $('status');

/** A scenarios/expected/*.go.json fixture: Go's deltas, the ranges Go itself varied over, and variance known in steps. */
interface GoFixture {
  deltas: ReplayDelta[];
  variance?: { deltas?: Array<{ from: string; to: string; field: string; min: number; max: number }> };
  knownVariance?: Array<{ from: string; to: string; field: string; step: number; reason: string }>;
}

/** State for the browser test. */
const vis = {
  mode: '',
  snapshots: 0,
  last: null as HeapSnapshot | null,
  heap: null as Heap | null,
  workerPids: [] as number[],
  errors: [] as string[],
  map,
  charts,
  replay: { name: '', next: 0, deltas: [] as ReplayDelta[], go: null as GoFixture | null },
  /** Operations the workers have done (standalone). */
  ops: (): number => { let n = 0; for (let i = 0; i < workers.length; i++) n += Atomics.load(ctl, CTL_OPS + i); return n; },
  /** Operations per worker per step. */
  stepOps: 0,
};
(globalThis as unknown as { goheapVis: typeof vis }).goheapVis = vis;

function fail(msg: string): void {
  vis.errors.push(msg);
  status.textContent = msg;
  status.className = 'error';
}

function show(s: HeapSnapshot): void {
  vis.snapshots++;
  vis.last = s;
  charts.push(s);
  map.render(s);
  if (status.className !== 'error') {
    const ms = s.memstats, limit = s.metrics['/gc/gomemlimit:bytes'] ?? 2 ** 63;
    status.textContent = `HeapAlloc ${bytes(ms.HeapAlloc)}  HeapInuse ${bytes(ms.HeapInuse)}  HeapIdle ${bytes(ms.HeapIdle)}  ` +
      `HeapReleased ${bytes(ms.HeapReleased)}  Sys ${bytes(ms.Sys)}  NextGC ${bytes(ms.NextGC)}  memory limit ${limit >= 2 ** 63 ? 'off' : bytes(limit)}  NumGC ${ms.NumGC}  ` +
      `spans ${s.spans.count}  Ps ${s.ps.filter((p) => p.status === 1).length}` + extraStatus();
  }
}

let extraStatus = (): string => '';

function legend(): void {
  const items: Array<[string, string]> = [
    ['None', colors.none], ['Reserved', colors.reserved], ['metadata (Ready)', colors.metadata], ['idle (Ready, free)', colors.idle],
    ['released (Prepared)', colors.released], ['large', colors.large], ['stack', colors.stack],
    ['small: by size class, filled by occupancy', classColor(5)],
  ];
  $('legend').innerHTML = items.map(([n, c]) => `<span><span class="swatch" style="background:${c}"></span>${n}</span>`).join('') +
    `<span>mcache of P0, P1, …: ${[0, 1, 2, 3].map((p) => `<span class="swatch" style="background:#fff;border:2px solid ${pColor(p)}"></span>`).join('')}</span>`;
}

// ----- standalone: the heap in this page and its workers --------------------------------

let heap: Heap | null = null;
let ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
let workers: Worker[] = [];

function setMode(m: number): void {
  Atomics.store(ctl, CTL_MODE, m);
  Atomics.notify(ctl, CTL_MODE);
}

function gogc(): number {
  const v = $<HTMLInputElement>('gogc').value.trim();
  const n = v === 'off' ? -1 : Number(v);
  if (!Number.isInteger(n) || n < -1) throw new Error(`GOGC must be an integer >= -1 or "off", got "${v}"`);
  return n;
}

/** The memory limit input: a byte count (64m, 1g, 512MiB) or off (Infinity). */
function memlimit(): number {
  return parseMemLimit('memory limit', 'the limit', $<HTMLInputElement>('memlimit').value);
}

function stopWorkers(): void {
  setMode(MODE_STOP);
  for (const w of workers) w.terminate();
  workers = [];
}

function resetStandalone(): void {
  stopWorkers();
  ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const n = Number($<HTMLSelectElement>('workers').value);
  const name = $<HTMLSelectElement>('workload').value;
  const w = workloads.get(name)!;
  heap = Heap.create({ reserve, gcPercent: gogc(), memoryLimit: memlimit(), maxProcs: MAX_PAGE_WORKERS + 1 });
  vis.heap = heap;
  vis.workerPids = [];
  charts.reset();
  vis.stepOps = Math.max(1, Math.ceil(w.defaultOps / n / 200));
  for (let id = 0; id < n; id++) {
    const wk = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    wk.onmessage = (e: MessageEvent<WorkerReport>) => {
      const r = e.data;
      if (r.type === 'attached') vis.workerPids.push(r.pid);
      if (r.type === 'error') fail(`worker ${r.id}: ${r.name}: ${r.message}`);
    };
    wk.onerror = (e) => fail(`worker ${id}: ${e.message}`);
    const msg: StartMessage = {
      desc: heap.share(true), ctl: ctl.buffer as SharedArrayBuffer, id, workload: name, seed: 1 + id,
      ops: Math.ceil(w.defaultOps / n), rate: w.defaultOps / n / duration, stepOps: vis.stepOps,
    };
    wk.postMessage(msg);
    workers.push(wk);
  }
  extraStatus = () => {
    let ops = 0, attached = 0;
    for (let i = 0; i < workers.length; i++) { ops += Atomics.load(ctl, CTL_OPS + i); if (Atomics.load(ctl, CTL_STATE + i) >= WORKER_ATTACHED) attached++; }
    return `\n${name} on ${attached}/${workers.length} workers: ${ops.toLocaleString('en')} ops; ${Atomics.load(ctl, CTL_MODE) === MODE_RUNNING ? 'running' : 'paused'}`;
  };
  sample();
}

function sample(): void {
  const h = replayRun?.heap ?? heap;
  if (h === null) return;
  try {
    show(h.inspect());
  } catch (e) {
    fail(`inspect: ${(e as Error).message}`);
  }
}

function guard(f: () => void): () => void {
  return () => { try { f(); } catch (e) { fail((e as Error).message); } };
}

// ----- replay -----------------------------------------------------------------------------

let replayRun: ScenarioRun | null = null;
let replaySource: unknown = null;

async function loadScenario(name: string): Promise<void> {
  const sc = await (await fetch(`scenarios/${name}.json`)).json() as unknown;
  const r = await fetch(`scenarios/expected/${name}.go.json`);
  startReplay(sc, r.ok ? await r.json() as GoFixture : null);
}

function startReplay(sc: unknown, go: GoFixture | null): void {
  stopWorkers();
  heap = null;
  replaySource = sc;
  replayRun = new ScenarioRun(sc, { reserve: Math.min(reserve, 1 << 30) });
  vis.heap = replayRun.heap;
  vis.replay = { name: replayRun.scenario.name, next: 0, deltas: [], go };
  $('gofix').textContent = go === null ? 'no Go fixture for this scenario' : `scenarios/expected/${replayRun.scenario.name}.go.json`;
  $<HTMLTableElement>('deltas').tBodies[0]!.innerHTML = '';
  $<HTMLTableElement>('deltas').tHead!.innerHTML = `<tr><th>from → to</th>${deltaFields.map((f) => `<th>${f}</th>`).join('')}</tr>`;
  charts.reset();
  renderOps();
  extraStatus = () => `\nreplay ${vis.replay.name}: op ${replayRun!.next} of ${replayRun!.scenario.ops.length}`;
  sample();
}

function renderOps(): void {
  const run = replayRun!;
  $('ops').innerHTML = run.scenario.ops.map((op, i) =>
    `<div class="${i < run.next ? 'done' : i === run.next ? 'next' : ''}">${i}: ${JSON.stringify(op).replace(/</g, '&lt;')}</div>`).join('');
  $('ops').querySelector('.next')?.scrollIntoView({ block: 'nearest' });
}

function replayStep(): ReplayDelta | null {
  const run = replayRun;
  if (run === null || run.done) return null;
  const d = run.step();
  vis.replay.next = run.next;
  if (d !== null) { vis.replay.deltas.push(d); addDeltaRow(d); }
  renderOps();
  sample();
  return d;
}

function addDeltaRow(d: ReplayDelta): void {
  const go = vis.replay.go?.deltas.find((g) => g.from === d.from && g.to === d.to);
  const cells = deltaFields.map((f) => {
    const mine = d.fields[f];
    if (go === undefined) return `<td data-field="${f}">${mine.toLocaleString('en')}</td>`;
    const want = go.fields[f];
    const fx = vis.replay.go!;
    const v = fx.variance?.deltas?.find((x) => x.from === d.from && x.to === d.to && x.field === f);
    const k = fx.knownVariance?.find((x) => x.from === d.from && x.to === d.to && x.field === f);
    const inRange = v !== undefined && mine >= v.min && mine <= v.max;
    const inSteps = k !== undefined && (mine - want) % k.step === 0;
    const cls = mine === want ? 'same' : inRange || inSteps ? 'var' : 'diff';
    const why = inRange ? ` (Go's own runs varied ${v.min}..${v.max})` : inSteps ? ` (Go varies in steps of ${k.step}: ${k.reason})` : '';
    return `<td data-field="${f}" class="${cls}" title="goheap ${mine}, Go ${want}${why.replace(/"/g, '&quot;')}">${mine.toLocaleString('en')}<br><small>${want.toLocaleString('en')}</small></td>`;
  });
  const tr = document.createElement('tr');
  tr.innerHTML = `<th>${d.from} → ${d.to}</th>${cells.join('')}`;
  $<HTMLTableElement>('deltas').tBodies[0]!.append(tr);
}

// ----- start ------------------------------------------------------------------------------

async function main(): Promise<void> {
  legend();
  const config = await (await fetch('config.json')).json() as { mode: 'standalone' | 'attached'; intervalMs: number };
  vis.mode = config.mode;
  $('mode').textContent = config.mode === 'attached' ? 'attached to a Node program' : 'in this page, on Web Workers';
  if (config.mode === 'attached') {
    const es = new EventSource('events');
    es.onmessage = (e: MessageEvent<string>) => {
      const bin = atob(e.data);
      const u8 = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) u8[i] = bin.charCodeAt(i);
      show(decodeSnapshot(u8));
    };
    es.onerror = () => { status.textContent = 'disconnected from the program (it ended, or the server closed); retrying…'; };
    return;
  }
  if (!crossOriginIsolated) { fail('this page is not cross-origin isolated: SharedArrayBuffer is unavailable (serve it with goheap serve)'); return; }
  $('controls').hidden = false;
  const wsel = $<HTMLSelectElement>('workload');
  for (const w of workloads.values()) wsel.add(new Option(`${w.name} — ${w.summary}`, w.name));
  wsel.add(new Option('replay a scenario, op by op, against Go 1.19', 'replay'));
  wsel.value = params.get('workload') ?? 'mix';
  const nsel = $<HTMLSelectElement>('workers');
  for (let i = 1; i <= MAX_PAGE_WORKERS; i++) nsel.add(new Option(String(i), String(i)));
  nsel.value = params.get('workers') ?? '2';
  if (params.has('gogc')) $<HTMLInputElement>('gogc').value = params.get('gogc')!;
  if (params.has('memlimit')) $<HTMLInputElement>('memlimit').value = params.get('memlimit')!;
  const names = await (await fetch('scenarios/index.json')).json().catch(() => []) as string[];
  const ssel = $<HTMLSelectElement>('scenario');
  for (const n of names) ssel.add(new Option(n, n));
  ssel.value = params.get('scenario') ?? (names.includes('mixed-workload') ? 'mixed-workload' : names[0] ?? '');

  const applyWorkload = async (): Promise<void> => {
    const replay = wsel.value === 'replay';
    $('replay').hidden = !replay;
    for (const id of ['start', 'pause', 'step', 'workers', 'gogc', 'memlimit']) ($(id) as HTMLButtonElement).disabled = replay;
    if (replay) { if (ssel.value !== '') await loadScenario(ssel.value); } else { replayRun = null; resetStandalone(); }
  };
  wsel.onchange = () => { applyWorkload().catch((e: Error) => fail(e.message)); };
  nsel.onchange = guard(resetStandalone);
  ssel.onchange = () => { loadScenario(ssel.value).catch((e: Error) => fail(e.message)); };
  $('gogc').onchange = guard(() => { const h = replayRun === null ? heap : null; h?.setGCPercent(gogc()); });
  $('memlimit').onchange = guard(() => { if (replayRun === null && heap !== null) { heap.setMemoryLimit(memlimit()); sample(); } });
  $('start').onclick = () => setMode(MODE_RUNNING);
  $('pause').onclick = () => setMode(MODE_PAUSED);
  $('step').onclick = () => { setMode(MODE_PAUSED); Atomics.add(ctl, CTL_STEP, 1); Atomics.notify(ctl, CTL_MODE); };
  $('reset').onclick = () => { applyWorkload().catch((e: Error) => fail(e.message)); };
  $('gc').onclick = guard(() => { (replayRun?.heap ?? heap)?.gc(); sample(); });
  $('free').onclick = guard(() => { (replayRun?.heap ?? heap)?.freeOSMemory(); sample(); });
  $('rstep').onclick = guard(() => { replayStep(); });
  $('rcheck').onclick = guard(() => { while (replayRun !== null && !replayRun.done && replayStep() === null && replayRun.scenario.ops[replayRun.next - 1]?.op !== 'checkpoint'); });
  $('rreset').onclick = guard(() => { startReplay(replaySource, vis.replay.go); });
  document.addEventListener('dragover', (e) => e.preventDefault());
  document.addEventListener('drop', (e) => {
    e.preventDefault();
    const f = e.dataTransfer?.files[0];
    if (f === undefined) return;
    f.text().then(async (text) => {
      const sc = JSON.parse(text) as { name?: string };
      wsel.value = 'replay';
      $('replay').hidden = false;
      const r = typeof sc.name === 'string' ? await fetch(`scenarios/expected/${encodeURIComponent(sc.name)}.go.json`) : null;
      startReplay(sc, r !== null && r.ok ? await r.json() as GoFixture : null);
    }).catch((err: Error) => fail(`${f.name}: ${err.message}`));
  });
  await applyWorkload();
  if (params.get('autostart') !== '0' && wsel.value !== 'replay') setMode(MODE_RUNNING);
  setInterval(sample, interval);
}

main().catch((e: Error) => fail(e.stack ?? e.message));
