// A module Worker of the browser test. It attaches to the page's heap with the descriptor
// the page posts (heap.share(true)), then either:
//   mode 'stress': runs `ops` mixed malloc/free operations, verifying every object's pattern
//     before it frees it: its own objects, objects the page allocated and gave it, and
//     objects the other stress worker pushed into its ring; it also sends objects back to
//     the page (which verifies and frees them), keeps a few for the page, and detaches;
//   mode 'killer': mallocs and frees forever, recording its live objects and the operation
//     in flight in a shared Int32Array, until the page terminates it.
import { Heap } from './goheap.js';
import { fill, mixedSize, nonTinySize, verify, xorshift } from './pattern.js';
import { ringOps } from './ring.js';

self.onmessage = (e) => {
  const P = e.data;
  try {
    if (P.mode === 'killer') runKiller(P);
    else runStress(P);
  } catch (err) {
    self.postMessage({ type: 'error', message: `worker ${P.ctx}: ${err && err.stack ? err.stack : String(err)}` });
  }
};

function runStress(P) {
  const heap = Heap.attach(P.desc);
  self.postMessage({ type: 'attached', pid: heap.pid, crossOriginIsolated: self.crossOriginIsolated });
  const rnd = xorshift(P.seed);
  let mismatches = 0, firstMismatch = null;
  const check = (p, n, id) => {
    const m = verify(heap.u8, p, n, id);
    if (m !== null) { mismatches++; if (firstMismatch === null) firstMismatch = m; }
  };
  let counter = 0;
  const newId = () => ((P.ctx << 24) | counter++) >>> 0;

  // Rings between the stress workers: one SPSC ring per worker (its inbox).
  const ring = P.rings ? ringOps(P.rings, P.ringCap) : null;
  const push = ring?.push, pop = ring?.pop, popped = ring?.popped;

  const LOCAL = 512;
  const lp = new Int32Array(LOCAL), ls = new Int32Array(LOCAL), lid = new Uint32Array(LOCAL);
  let nlocal = 0;
  const freeLocal = (k) => {
    check(lp[k], ls[k], lid[k]);
    heap.free(lp[k]);
    nlocal--; lp[k] = lp[nlocal]; ls[k] = ls[nlocal]; lid[k] = lid[nlocal];
  };
  const pageObjs = P.pageObjs.slice();
  let ops = 0, mallocs = 0, frees = 0, ringFrees = 0, ringSent = 0, pageObjsFreed = 0, sentBack = 0;
  let batch = [];
  // Control words shared with the page: [release, progress of stress worker 0, of 1].
  const ctl = P.ctl ? new Int32Array(P.ctl) : null;
  while (ops < P.ops) {
    if (ctl !== null && (ops & 255) === 0) Atomics.store(ctl, 1 + P.inbox, ops);
    const r = rnd() % 100;
    if (r < 40) {
      if (nlocal === LOCAL) { freeLocal(rnd() % LOCAL); frees++; ops++; }
      const n = mixedSize(rnd), id = newId();
      const p = heap.malloc(n, { noscan: (rnd() & 3) !== 0 });
      fill(heap.u8, p, n, id);
      lp[nlocal] = p; ls[nlocal] = n; lid[nlocal] = id; nlocal++;
      mallocs++;
    } else if (r < 68) {
      if (nlocal > 0) { freeLocal(rnd() % nlocal); frees++; }
    } else if (r < 80) {
      const n = mixedSize(rnd), id = newId();
      const p = heap.malloc(n);
      mallocs++;
      fill(heap.u8, p, n, id);
      // To the other worker through the ring, or (one in four, or when the ring is full) back to the page.
      if (ring !== null && (rnd() & 3) !== 0 && push(P.outbox, p, n, id)) ringSent++;
      else { batch.push([p, n, id]); sentBack++; }
    } else if (r < 92) {
      if (ring !== null && pop(P.inbox)) { check(popped[0], popped[1], popped[2]); heap.free(popped[0]); ringFrees++; frees++; }
    } else {
      if (pageObjs.length > 0) {
        const k = rnd() % pageObjs.length;
        const [p, n, id] = pageObjs[k];
        pageObjs[k] = pageObjs[pageObjs.length - 1]; pageObjs.pop();
        check(p, n, id); heap.free(p); pageObjsFreed++; frees++;
      }
    }
    ops++;
    if (batch.length >= 64) { self.postMessage({ type: 'objs', list: batch }); batch = []; }
  }
  if (batch.length > 0) self.postMessage({ type: 'objs', list: batch });
  // The page's objects not freed yet.
  for (const [p, n, id] of pageObjs) { check(p, n, id); heap.free(p); pageObjsFreed++; frees++; }
  // Keep up to `keep` non-tiny objects for the page; free the rest.
  const held = [];
  while (nlocal > 0) {
    const k = nlocal - 1;
    if (held.length < P.keep && ls[k] >= 16) { held.push([lp[k], ls[k], lid[k]]); nlocal--; }
    else { freeLocal(k); frees++; }
  }
  if (ctl !== null) {
    Atomics.store(ctl, 1 + P.inbox, ops);
    // Stay attached (holding this P) until the page says so.
    while (Atomics.load(ctl, 0) === 0) Atomics.wait(ctl, 0, 0, 100);
  }
  heap.detach();
  self.postMessage({ type: 'done', ctx: P.ctx, pid: heap.pid, ops, mallocs, frees, ringFrees, ringSent, pageObjsFreed, sentBack, mismatches, firstMismatch, held });
}

// State words of the killer (Int32Array over P.state).
const K_HEARTBEAT = 0, K_OPKIND = 1, K_OPSIZE = 2, K_OPPTR = 3, K_MISMATCHES = 4, K_OPID = 5, K_REG = 8;
const OP_NONE = 0, OP_MALLOC = 1, OP_FREE = 2;

function runKiller(P) {
  const heap = Heap.attach(P.desc);
  const st = new Int32Array(P.state);
  self.postMessage({ type: 'attached', pid: heap.pid, crossOriginIsolated: self.crossOriginIsolated });
  const rnd = xorshift(P.seed);
  let counter = 0;
  for (;;) {
    const e = K_REG + 3 * (rnd() % P.regSlots);
    const p = st[e];
    if (p !== 0) {
      const n = st[e + 1], id = st[e + 2] >>> 0;
      if (verify(heap.u8, p, n, id) !== null) Atomics.add(st, K_MISMATCHES, 1);
      st[K_OPPTR] = p; st[K_OPSIZE] = n; st[K_OPID] = id;
      Atomics.store(st, K_OPKIND, OP_FREE);
      st[e] = 0;
      heap.free(p);
      Atomics.store(st, K_OPKIND, OP_NONE);
    } else {
      const n = nonTinySize(rnd), id = ((P.ctx << 24) | counter++) >>> 0;
      st[K_OPSIZE] = n;
      Atomics.store(st, K_OPKIND, OP_MALLOC);
      const q = heap.malloc(n, { noscan: (rnd() & 1) !== 0 });
      fill(heap.u8, q, n, id);
      st[e + 1] = n; st[e + 2] = id;
      Atomics.store(st, e, q);
      Atomics.store(st, K_OPKIND, OP_NONE);
    }
    Atomics.add(st, K_HEARTBEAT, 1);
  }
}
