// The kill campaign's driver: runs a coordinator (test/fixtures/kill-coordinator.ts) in a
// worker thread and watches it. The coordinator bumps a tick at every step; when the tick
// stands still for `hangMs`, the campaign is declared hung, the state of the heap's locks
// and Ps is read from the shared buffer (the coordinator is stuck, not the driver), and the
// coordinator (with its heap workers) is terminated.
import { Worker } from 'node:worker_threads';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { OSMemory } from '../../src/mem.js';
import { MHeap } from '../../src/mheap.js';
import { lockHolder } from '../../src/lock_futex.js';
import { centralOf } from '../../src/mspanset.js';
import { numSpanClasses } from '../../src/sizeclasses.js';
import { C_LOCK, H_GCLOCK, H_LOCK, P_EPOCH, P_INHAND, P_STATUS, P_SWEEPING, P_SWEEPSPAN } from '../../src/layout.js';
import type { HeapDescriptor } from '../../src/heap.js';
import type { CoordinatorParams, CoordinatorResult } from '../fixtures/kill-coordinator.js';
import {
  CTL_BEAT, CTL_OP, CTL_PHASE, CTL_ROUND, CTL_TICK, CTL_VICTIMS, CTL_WORDS, PH_SPAWN, PH_START, opNames, phaseNames,
} from './kill-protocol.js';

export interface CampaignOptions {
  backend: 'sab' | 'wasm';
  rounds: number;
  workers?: number;
  maxKills?: number;
  reserve?: number;
  seed?: number;
  gcEvery?: number;
  /** Milliseconds without progress after which the campaign counts as hung. */
  hangMs?: number;
}

export interface CampaignResult extends CoordinatorResult {
  hung: boolean;
  /** On a hang: the phase, the heap's lock holders and the Ps' state. */
  hangState: string | null;
}

let bundleDir: Promise<string> | null = null;
/**
 * The coordinator and the heap worker bundled into plain .mjs files (esbuild, once per
 * process): workers start in milliseconds, with no TypeScript loader in each thread. The
 * visualiser server that goheap/node re-exports is left out (it is not used here, and its
 * build step would run in the bundle).
 */
function bundle(): Promise<string> {
  bundleDir ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'goheap-kill-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    await build({
      entryPoints: [fileURLToPath(new URL('../fixtures/kill-coordinator.ts', import.meta.url)), fileURLToPath(new URL('../fixtures/kill-worker.ts', import.meta.url))],
      bundle: true, format: 'esm', platform: 'node', target: 'node20', outdir: dir, outExtension: { '.js': '.mjs' }, logLevel: 'error',
      plugins: [{
        name: 'no-visualiser',
        setup(b) {
          b.onResolve({ filter: /\/vis\/server\.js$/ }, () => ({ path: 'vis', namespace: 'no-visualiser' }));
          b.onLoad({ filter: /.*/, namespace: 'no-visualiser' }, () => ({ contents: 'export const serveVisualiser = undefined;' }));
        },
      }],
    });
    return dir;
  })();
  return bundleDir;
}

/** Run one campaign on a fresh heap; resolves when it finished, failed or hung. */
export async function runKillCampaign(opts: CampaignOptions): Promise<CampaignResult> {
  const ctl = new SharedArrayBuffer(4 * CTL_WORDS);
  const i32 = new Int32Array(ctl);
  const workers = opts.workers ?? 4;
  const params: CoordinatorParams = {
    backend: opts.backend, reserve: opts.reserve ?? 512 << 20, workers,
    maxKills: opts.maxKills ?? 4, rounds: opts.rounds, seed: opts.seed ?? 1, gcEvery: opts.gcEvery ?? 5, ctl, workerUrl: '',
  };
  const hangMs = opts.hangMs ?? 30_000;
  const dir = await bundle();
  params.workerUrl = pathToFileURL(join(dir, 'kill-worker.mjs')).href;
  const coord = new Worker(join(dir, 'kill-coordinator.mjs'), { execArgv: [], workerData: { data: params } });
  let desc: HeapDescriptor | null = null;
  return new Promise((resolve) => {
    // Hung: the coordinator's event loop stopped (no heartbeat: blocked in a reclaim), or a
    // step that takes milliseconds has not ended (a worker or a deferred reclaim is stuck).
    // Starting workers may take long on a loaded machine: four times the limit.
    let lastTick = -1, lastChange = Date.now(), lastBeat = -1, lastBeatChange = Date.now(), done = false;
    const finish = (r: CampaignResult) => {
      if (done) return;
      done = true;
      clearInterval(timer);
      resolve(r);
    };
    const timer = setInterval(() => {
      const tick = Atomics.load(i32, CTL_TICK), beat = Atomics.load(i32, CTL_BEAT), now = Date.now();
      if (tick !== lastTick) { lastTick = tick; lastChange = now; }
      if (beat !== lastBeat) { lastBeat = beat; lastBeatChange = now; }
      const ph = Atomics.load(i32, CTL_PHASE);
      const limit = ph === PH_START || ph === PH_SPAWN ? 4 * hangMs : hangMs;
      if (now - lastBeatChange < hangMs && now - lastChange < limit) return;
      const hangState = describeStuck(desc, i32, workers);
      void coord.terminate();
      finish({
        rounds: Atomics.load(i32, CTL_ROUND), kills: 0, multiKillRounds: 0, killsByOp: [],
        deaths: { heapLock: 0, gcLock: 0, centralLock: 0, sweeping: 0, spanInHand: 0 },
        objectsChecked: 0, failure: null, hung: true, hangState,
      });
    }, 250);
    coord.on('message', (m: { type: string; desc?: HeapDescriptor; result?: CoordinatorResult }) => {
      if (m.type === 'heap') desc = m.desc!;
      else if (m.type === 'result') { finish({ ...m.result!, hung: false, hangState: null }); void coord.terminate(); }
    });
    coord.on('error', (e) => finish({
      rounds: Atomics.load(i32, CTL_ROUND), kills: 0, multiKillRounds: 0, killsByOp: [],
      deaths: { heapLock: 0, gcLock: 0, centralLock: 0, sweeping: 0, spanInHand: 0 },
      objectsChecked: 0, failure: `coordinator: ${(e as Error).stack ?? e}`, hung: false, hangState: null,
    }));
  });
}

/** Who holds what in a stuck heap (read straight from the shared buffer). */
function describeStuck(desc: HeapDescriptor | null, ctl: Int32Array, nworkers: number): string {
  const lines = [`phase ${phaseNames[Atomics.load(ctl, CTL_PHASE)]} in round ${Atomics.load(ctl, CTL_ROUND)}`];
  const ops: string[] = [];
  for (let w = 0; w < nworkers; w++) { const op = Atomics.load(ctl, CTL_OP + w); ops.push(op < 0 ? 'parked' : opNames[op]); }
  lines.push(`workers in: ${ops.join(', ')}`);
  const victims: string[] = [];
  for (let i = 0; i < 8; i++) { const v = Atomics.load(ctl, CTL_VICTIMS + i); if (v !== 0) victims.push(`P${v - 1}`); }
  lines.push(`killed this round: ${victims.join(', ')} (coordinator heartbeat ${Atomics.load(ctl, CTL_BEAT)})`);
  if (desc === null) return lines.join('\n');
  const buffer = desc.memory ? desc.memory.buffer : desc.buffer!;
  const h = MHeap.attach(OSMemory.attach(buffer as SharedArrayBuffer, desc.memory), desc.heapBase);
  const i32 = h.views.i32, u32 = h.views.u32;
  const holder = (off: number) => { const t = lockHolder(i32, off); return t === 0 ? 'free' : `P${t - 1}${(Atomics.load(i32, off >>> 2) & 1) !== 0 ? ' + waiters' : ''}`; };
  lines.push(`heap lock ${holder(h.base + H_LOCK)}, GC lock ${holder(h.base + H_GCLOCK)}, sweepers word ${(Atomics.load(i32, h.sweepersWord) >>> 0).toString(16)}, sweepgen ${h.sweepgen}`);
  for (let spc = 0; spc < numSpanClasses; spc++) {
    const off = centralOf(h.central, spc) + C_LOCK;
    if (lockHolder(i32, off) !== 0) lines.push(`mcentral[${spc}] lock ${holder(off)}`);
  }
  for (let pid = 0; pid < h.nprocs; pid++) {
    const p = h.pOf(pid);
    if (p === 0) continue;
    lines.push(`P${pid}: status ${Atomics.load(i32, (p + P_STATUS) >>> 2)} epoch ${u32[(p + P_EPOCH) >>> 2]} sweeping ${Atomics.load(i32, (p + P_SWEEPING) >>> 2)} sweepSpan ${u32[(p + P_SWEEPSPAN) >>> 2]} inHand ${u32[(p + P_INHAND) >>> 2]}`);
  }
  return lines.join('\n');
}
