// The page of the browser test (main thread). It creates a heap, shares it with two stress
// workers and a "killer" worker that it terminates mid-run (then reclaims its P and lets a
// replacement worker use that P), allocates and frees on the main thread meanwhile, and
// finally checks the heap and publishes what it saw in `window.goheapResult`.
import { Heap, sizeclasses } from './goheap.js';
import { fill, mixedSize, nonTinySize, verify, xorshift } from './pattern.js';
import { drainRings, newRings } from './ring.js';

const MiB = 1 << 20;
const params = Object.fromEntries(new URLSearchParams(location.search));
const OPS = Number(params.ops ?? 200000);
const REPLACEMENT_OPS = Number(params.replacementOps ?? 30000);
const KILL_AFTER = Number(params.killAfter ?? 5000);
const PAGE_OBJS_PER_WORKER = 2000;
const KEEP = 100;
const RING_CAP = 1024;
const CTX_PAGE = 1, CTX_W0 = 2, CTX_W1 = 3, CTX_KILLER = 4, CTX_REPLACEMENT = 5;
const K_HEARTBEAT = 0, K_OPKIND = 1, K_OPSIZE = 2, K_OPPTR = 3, K_MISMATCHES = 4, K_OPID = 5, K_REG = 8, REG_SLOTS = 256;
const OP_NAMES = ['none', 'malloc', 'free'];

// Where the page is, for the watchdog's report.
const W_IDLE = 0, W_PAGE_OPS = 1, W_FREE_SENT_BACK = 2, W_RECLAIM = 3, W_FINAL = 4;
let pageBeat = null;
const where = (w) => { if (pageBeat !== null) Atomics.store(pageBeat, 1, w); };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = document.getElementById('out');

async function main() {
  const R = { crossOriginIsolated: self.crossOriginIsolated, userAgent: navigator.userAgent, phases: [] };
  if (!self.crossOriginIsolated) throw new Error('the page is not crossOriginIsolated: SharedArrayBuffer is not available');
  const t0 = performance.now();
  const phase = (name) => { R.phases.push([name, Math.round(performance.now() - t0)]); console.log(`[goheap page] ${name} @${R.phases.at(-1)[1]}ms`); };

  const heap = Heap.create({ reserve: 256 * MiB, maxProcs: 4 });
  R.pagePid = heap.pid;
  const rnd = xorshift(4242);
  let counter = 0;
  const newId = () => ((CTX_PAGE << 24) | counter++) >>> 0;
  let mismatches = 0, firstMismatch = null;
  const check = (p, n, id) => {
    const m = verify(heap.u8, p, n, id);
    if (m !== null) { mismatches++; if (firstMismatch === null) firstMismatch = m; }
  };
  const allocObj = (n, noscan = true) => {
    const id = newId();
    const p = heap.malloc(n, { noscan });
    fill(heap.u8, p, n, id);
    return [p, n, id];
  };

  // Objects the page holds to the end (never tiny), and objects it hands to the workers.
  const held = [];
  for (let i = 0; i < 300; i++) held.push(allocObj(nonTinySize(rnd), (i & 1) === 0));
  held.push(allocObj(100000), allocObj(1 << 20, false));
  const giveaway = (n) => Array.from({ length: n }, () => allocObj(mixedSize(rnd), (rnd() & 3) !== 0));
  phase('page objects allocated');

  // ----- workers --------------------------------------------------------------------
  const workers = [];
  const done = new Map();   // ctx -> done message
  let paused = false;       // while a dead worker is not reclaimed yet, the page keeps off the heap
  const pending = [];       // objects sent back while paused
  let freedFromWorkers = 0;
  const freeSentBack = (list) => {
    where(W_FREE_SENT_BACK);
    for (const [p, n, id] of list) { check(p, n, id); heap.free(p); freedFromWorkers++; }
    where(W_IDLE);
  };
  const errors = [];
  function start(ctx, msg) {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name: `goheap-${ctx}` });
    const info = { ctx, w, attached: null, finished: null };
    info.attached = new Promise((resolve) => {
      info.finished = new Promise((resolveDone, reject) => {
        w.onmessage = (e) => {
          const m = e.data;
          if (m.type === 'attached') resolve(m);
          else if (m.type === 'objs') { if (paused) pending.push(m.list); else freeSentBack(m.list); }
          else if (m.type === 'done') { done.set(ctx, m); phase(`worker ${ctx} done`); resolveDone(m); }
          else if (m.type === 'error') { errors.push(m.message); reject(new Error(m.message)); }
        };
        w.onerror = (e) => { const s = `worker ${ctx}: ${e.message} (${e.filename}:${e.lineno})`; errors.push(s); reject(new Error(s)); };
        w.onmessageerror = () => { errors.push(`worker ${ctx}: messageerror`); reject(new Error('messageerror')); };
      });
    });
    info.finished.catch(() => {});
    w.postMessage({ ctx, ...msg });
    workers.push(info);
    return info;
  }

  const ctl = new SharedArrayBuffer(4 * 3);
  const ctlI32 = new Int32Array(ctl);
  const rings = newRings(2, RING_CAP);
  const given = new Map();
  given.set(CTX_W0, giveaway(PAGE_OBJS_PER_WORKER));
  given.set(CTX_W1, giveaway(PAGE_OBJS_PER_WORKER));
  given.set(CTX_REPLACEMENT, giveaway(500));
  const descs = new Map();
  const stressMsg = (ctx, ops, seed, withRings, inbox, outbox) => {
    const desc = heap.share(true);
    descs.set(ctx, desc);
    return { mode: 'stress', desc, ops, seed, rings: withRings ? rings : null, ctl: withRings ? ctl : null, ringCap: RING_CAP, inbox, outbox, pageObjs: given.get(ctx), keep: KEEP };
  };
  // The watchdog (diagnostics): the page beats while its event loop turns.
  pageBeat = new Int32Array(new SharedArrayBuffer(8)); // [beats, where the page is]
  const beatTimer = setInterval(() => Atomics.add(pageBeat, 0, 1), 50);
  const watchdog = new Worker(new URL('./watchdog.js', import.meta.url), { name: 'goheap-watchdog' });
  const locks = [['heap', heap.h.lockOff], ['gc', heap.h.gcLockOff]];
  // (The mcentral lock, C_LOCK = 0, is the first word of each 64-byte mcentral: internal layout, read for diagnostics only.)
  for (let spc = 0; spc < sizeclasses.numSpanClasses; spc++) locks.push([`central${spc}`, heap.h.central + spc * 64]);
  const w0 = start(CTX_W0, stressMsg(CTX_W0, OPS, 1234, true, 0, 1));
  const w1 = start(CTX_W1, stressMsg(CTX_W1, OPS, 9876, true, 1, 0));
  const killerState = new SharedArrayBuffer(4 * (K_REG + 3 * REG_SLOTS));
  const kst = new Int32Array(killerState);
  const killerDesc = heap.share(true);
  watchdog.postMessage({ heap: heap.buffer, locks, sweepersWord: heap.h.sweepersWord, pageBeat: pageBeat.buffer, killerState, ctl, debug: !!params.debug });
  const killer = start(CTX_KILLER, { mode: 'killer', desc: killerDesc, seed: 555, state: killerState, regSlots: REG_SLOTS });
  R.workerPids = [descs.get(CTX_W0).pid, descs.get(CTX_W1).pid];
  R.killerPid = killerDesc.pid;
  R.killerEpoch = killerDesc.epoch;
  const attachedMsgs = await Promise.race([
    Promise.all([w0.attached, w1.attached, killer.attached]),
    ...workers.map((w) => w.finished.then(() => new Promise(() => {}))), // only a failure ends the race early
  ]);
  R.workersCrossOriginIsolated = attachedMsgs.map((m) => m.crossOriginIsolated);
  R.attachedPids = attachedMsgs.map((m) => m.pid);
  phase('workers attached');

  // The page works on the heap too while the workers run (its locks spin: no Atomics.wait here).
  const local = [];
  let pageOps = 0, stopPage = false;
  const pageLoop = (async () => {
    while (!stopPage) {
      if (!paused) {
        where(W_PAGE_OPS);
        for (let i = 0; i < 500; i++) {
          if (local.length < 256 && (rnd() & 1) === 0) local.push(allocObj(mixedSize(rnd), (rnd() & 3) !== 0));
          else if (local.length > 0) {
            const k = rnd() % local.length;
            const [p, n, id] = local[k];
            local[k] = local[local.length - 1]; local.pop();
            check(p, n, id); heap.free(p);
          }
          pageOps++;
        }
        where(W_IDLE);
      }
      await sleep(0);
    }
  })();

  // ----- terminate the killer mid-run -------------------------------------------------
  // Kill when the killer has done KILL_AFTER operations, or earlier if a stress worker is
  // half-way already: all three are surely mid-run then.
  const stressProgress = () => [Atomics.load(ctlI32, 1), Atomics.load(ctlI32, 2)];
  while (Atomics.load(kst, K_HEARTBEAT) < KILL_AFTER && Math.max(...stressProgress()) < OPS / 2) {
    if (errors.length > 0) throw new Error(errors.join('\n'));
    await sleep(2);
  }
  paused = true;
  const opsAtTerminate = Atomics.load(kst, K_HEARTBEAT);
  const stressOpsAtTerminate = stressProgress();
  killer.w.terminate();
  phase('killer terminated');
  // terminate() does not say when the thread has stopped, and Chromium lets a worker that is
  // busy run on for a while (up to ~2 s) before it stops it by force: wait until the
  // heartbeat has not moved for 250 ms (one operation takes microseconds).
  let last = Atomics.load(kst, K_HEARTBEAT), stableSince = performance.now();
  while (performance.now() - stableSince < 250) {
    await sleep(10);
    const hb = Atomics.load(kst, K_HEARTBEAT);
    if (hb !== last) { last = hb; stableSince = performance.now(); }
  }
  R.killer = {
    opsAtTerminate,
    stressOpsAtTerminate,
    opsBeforeKill: last,
    opInFlight: OP_NAMES[Atomics.load(kst, K_OPKIND)],
    opSize: Atomics.load(kst, K_OPSIZE),
    opPtr: Atomics.load(kst, K_OPPTR),
    mismatches: Atomics.load(kst, K_MISMATCHES),
  };
  // (No heap call before reclaimP here: the dead worker may hold the heap lock, and the
  // page would spin on it for ever.)
  where(W_RECLAIM);
  const sweepers = () => Atomics.load(heap.h.views.i32, heap.h.sweepersWord);
  R.killer.sweepersBeforeReclaim = sweepers();
  R.killer.reclaimed = heap.reclaimP(killerDesc.pid, killerDesc.epoch);
  R.killer.sweepersAfterReclaim = sweepers();
  console.log(`[goheap page] killer ${JSON.stringify(R.killer)}`);
  R.killer.reclaimedAgain = heap.reclaimP(killerDesc.pid, killerDesc.epoch);
  phase('killer terminated and reclaimed');
  where(W_IDLE);
  paused = false;
  for (const list of pending.splice(0)) freeSentBack(list);

  // A replacement worker: with maxProcs 4 and both stress workers attached, the only free P is the one reclaimed.
  const rmsg = stressMsg(CTX_REPLACEMENT, REPLACEMENT_OPS, 31337, false, 0, 0);
  R.replacementPid = rmsg.desc.pid;
  const replacement = start(CTX_REPLACEMENT, rmsg);
  Atomics.store(ctlI32, 0, 1);
  Atomics.notify(ctlI32, 0);

  const results = await Promise.all([w0.finished, w1.finished, replacement.finished]);
  stopPage = true;
  await pageLoop;
  for (const list of pending.splice(0)) freeSentBack(list);
  phase('workers done');
  where(W_FINAL);
  R.workers = results.map(({ held: h, ...rest }) => ({ ...rest, kept: h.length }));
  R.pageOps = pageOps;

  // Objects still in the rings (pushed after the other worker stopped popping).
  const ringDrained = drainRings(rings, 2, RING_CAP, (p, n, id) => { check(p, n, id); heap.free(p); });
  R.ringDrained = ringDrained;

  // What the dead killer left: its registered objects (verified, then freed by the page),
  // a free in flight (done or not), a malloc in flight (an object nobody knows: a leak of 0 or one slot).
  let killerObjs = 0;
  const op = R.killer.opInFlight;
  for (let k = 0; k < REG_SLOTS; k++) {
    const e = K_REG + 3 * k, p = kst[e];
    if (p === 0 || (op === 'free' && p === R.killer.opPtr)) continue;
    check(p, kst[e + 1], kst[e + 2] >>> 0); heap.free(p); killerObjs++;
  }
  R.killer.objectsFreedByPage = killerObjs;
  if (op === 'free') {
    // The killer may or may not have freed it, and if it did, another context may have got
    // the slot since (then the pattern is that context's): free it only if it is still the
    // killer's object, and then a double free says the killer had freed it.
    if (verify(heap.u8, R.killer.opPtr, kst[K_OPSIZE], kst[K_OPID] >>> 0) !== null) R.killer.inFlightFree = 'freed by the killer, slot reused since';
    else {
      try { heap.free(R.killer.opPtr); R.killer.inFlightFree = 'freed by the page'; } catch (e) { R.killer.inFlightFree = `already freed by the killer (${e.name})`; }
    }
  }
  R.killer.allowedLeak = op === 'malloc' ? [0, sizeclasses.roundupsize(R.killer.opSize)] : [0];

  // The page's own stress objects go.
  for (const [p, n, id] of local.splice(0)) { check(p, n, id); heap.free(p); }

  // What the page still holds: its own objects and the ones the workers kept for it.
  for (const r of results) for (const o of r.held) held.push(o);
  let heldBytes = 0;
  const tinyBlocks = new Set();
  const seen = new Set();
  let duplicates = 0;
  for (const [p, n, id] of held) {
    if (seen.has(p)) duplicates++;
    seen.add(p);
    check(p, n, id);
    const slot = heap.slotSize(p);
    if (slot === 16 && n < 16) tinyBlocks.add(p & ~15); else heldBytes += slot;
  }
  heldBytes += 16 * tinyBlocks.size;
  R.held = { objects: held.length, bytes: heldBytes, duplicates };

  const gcInfo = heap.gc();
  R.gc = gcInfo;
  R.checkAfterRun = runCheck(heap);
  const ms = heap.readMemStats();
  R.memStats = pick(ms);
  // Diagnostics only: what a second cycle changes (nothing, when the first swept everything).
  R.secondGC = heap.gc();
  phase('gc + check');

  // The heap keeps working: more traffic on the page, then everything is freed.
  const more = [];
  let moreOps = 0;
  for (let i = 0; i < 20000; i++) {
    if (more.length < 300 && (rnd() % 3) !== 0) more.push(allocObj(mixedSize(rnd), (rnd() & 1) === 0));
    else if (more.length > 0) { const [p, n, id] = more.pop(); check(p, n, id); heap.free(p); }
    moreOps++;
  }
  for (const [p, n, id] of more) { check(p, n, id); heap.free(p); }
  R.checkAfterMore = runCheck(heap);
  for (const [p, n, id] of held) { check(p, n, id); heap.free(p); }
  heap.gc();
  R.checkAtEnd = runCheck(heap);
  R.memStatsAtEnd = pick(heap.readMemStats());
  R.moreOps = moreOps;
  R.pageMismatches = mismatches;
  R.pageFirstMismatch = firstMismatch;
  R.freedFromWorkers = freedFromWorkers;
  R.errors = errors;
  R.elapsedMs = Math.round(performance.now() - t0);
  clearInterval(beatTimer);
  watchdog.terminate();
  phase('end');
  return R;
}

function runCheck(heap) {
  try { heap.check(); return 'ok'; } catch (e) { return `${e.name}: ${e.message}`; }
}

function pick(ms) {
  const o = {};
  for (const k of ['HeapAlloc', 'HeapSys', 'HeapIdle', 'HeapInuse', 'HeapReleased', 'HeapObjects', 'Mallocs', 'Frees', 'Sys', 'NumGC', 'TotalAlloc']) o[k] = ms[k];
  return o;
}

main().then(
  (r) => { window.goheapResult = r; out.textContent = JSON.stringify(r, null, 2); },
  (e) => { window.goheapResult = { error: `${e && e.stack ? e.stack : String(e)}` }; out.textContent = window.goheapResult.error; },
);
