/**
 * lock_futex.ts — mutexes on a word of shared memory (Go: src/runtime/lock_futex.go).
 *
 * A lock is one i32 in the buffer:
 *
 *   0                  unlocked
 *   token << 1         locked by the context whose token (P id + 1) is `token`
 *   token << 1 | 1     locked, and some context sleeps waiting for it
 *
 * lock() tries a compare-and-swap, spins a little, then sleeps with Atomics.wait where the
 * context may block (workers; a browser's main thread cannot, so it keeps spinning).
 * unlock() wakes a sleeper. Recording the holder lets a worker that died holding a lock be
 * detected (see forceUnlockHeldBy). These protect mheap and each mcentral; the per-P fast
 * path never takes one.
 *
 * The locks and their order (a context holding one may take only those after it):
 *
 *   1. GC lock (mheap.gcLock; Go: work.startSema): one GC cycle at a time.
 *   2. mcentral locks (one per span class; Go: spanSet needs none): held only around a
 *      span set push or pop, never while taking another lock, except by gcStart, which
 *      takes all of them in ascending span class order to advance sweepgen.
 *   3. heap lock (mheap.lock; Go: mheap_.lock): span allocation and free, heap growth,
 *      the stack pools, P allocation. Never held while taking another lock; taken with the
 *      GC lock held (a GC's sweeps free spans), never with an mcentral lock held.
 *
 * The sweepers word (mheap.sweepers, Go: sweep.active) is not a lock: a sweep registers
 * in it without holding anything, and a GC holding the GC lock waits for it to drain.
 * reclaimP takes over or releases the locks of a dead context (proc.ts).
 *
 * @module
 */

/**
 * Spins (an atomic load each, then a CAS when the lock looks free) before sleeping: about
 * 5-10 µs, the order of Go's lock spin (4 rounds of 30 PAUSEs plus an osyield). A heap
 * lock is held for a few µs, while waking a sleeper costs a futex wake and, in a VM, can
 * cost tens of µs more when the sleeper's vCPU has gone idle. Measured on the 2-worker
 * churn benchmark: 64 spins slept on most contended acquisitions; 4096 rarely do.
 */
const ACTIVE_SPIN = 4096;

/** Whether Atomics.wait may block in this context (false on a browser's main thread). */
let canWait: boolean | undefined;
function waitAllowed(i32: Int32Array): boolean {
  if (canWait === undefined) {
    try {
      Atomics.wait(i32, 0, (i32[0] + 1) | 0, 0);
      canWait = true;
    } catch {
      canWait = false;
    }
  }
  return canWait;
}

/**
 * Token of the context on this thread that holds every heap and mcentral lock for a
 * reclaim (0: none; proc.ts reclaimDeadP). While it is set, lock() of a lock that token
 * holds returns at once and unlock() of it does nothing, so that the repair can run the
 * ordinary allocator paths (uncacheSpan, freeSpan, ...) inside the locks it holds. JS-side
 * and per thread: only the reclaiming context's own calls see it.
 */
let worldToken = 0;

/** Enter (token > 0) or leave (0) the "every lock held" mode of this thread (see worldToken). */
export function setWorldHeld(token: number): void {
  worldToken = token;
}

/** Whether this thread holds every heap and mcentral lock for a reclaim. */
export function worldHeld(): boolean {
  return worldToken !== 0;
}

/** Acquire the lock at byte offset `off` of the i32 view, as the context with `token` (> 0). */
export function lock(i32: Int32Array, off: number, token: number): void {
  const i = off >>> 2;
  if (Atomics.compareExchange(i32, i, 0, token << 1) === 0) return;
  lockSlow(i32, i, token);
}

/** Acquire the lock at `off` only if it is free right now; true if acquired. */
export function tryLock(i32: Int32Array, off: number, token: number): boolean {
  return Atomics.compareExchange(i32, off >>> 2, 0, token << 1) === 0;
}

/**
 * Acquire the lock at `off`, waiting at most `ms` milliseconds; true if acquired. For a
 * wait that must not last forever when the holder may be a worker that died and whose
 * exit this thread sees only from its event loop (src/proc.ts).
 */
export function lockWithin(i32: Int32Array, off: number, token: number, ms: number): boolean {
  const i = off >>> 2;
  return Atomics.compareExchange(i32, i, 0, token << 1) === 0 || lockSlow(i32, i, token, Date.now() + ms);
}

function lockSlow(i32: Int32Array, i: number, token: number, deadline = Infinity): boolean {
  if (worldToken !== 0 && (Atomics.load(i32, i) >>> 1) === worldToken) return true;
  const shared = i32.buffer instanceof SharedArrayBuffer;
  for (;;) {
    for (let spin = 0; spin < ACTIVE_SPIN; spin++) {
      if (Atomics.load(i32, i) === 0 && Atomics.compareExchange(i32, i, 0, token << 1) === 0) return true;
    }
    const v = Atomics.load(i32, i);
    if (v === 0) continue;
    if (deadline !== Infinity && Date.now() >= deadline) return false;
    // Announce a sleeper, then sleep until unlock() wakes us (or 10 ms pass).
    if ((v & 1) === 0 && Atomics.compareExchange(i32, i, v, v | 1) !== v) continue;
    if (shared && waitAllowed(i32)) Atomics.wait(i32, i, v | 1, deadline === Infinity ? 10 : Math.max(0, Math.min(10, deadline - Date.now())));
  }
}

/** Release the lock at byte offset `off`. */
export function unlock(i32: Int32Array, off: number): void {
  const i = off >>> 2;
  if (worldToken !== 0 && (Atomics.load(i32, i) >>> 1) === worldToken) return;
  if ((Atomics.exchange(i32, i, 0) & 1) !== 0) Atomics.notify(i32, i);
}

/** Token of the context holding the lock at `off` (0 if unlocked). */
export function lockHolder(i32: Int32Array, off: number): number {
  return Atomics.load(i32, off >>> 2) >>> 1;
}

/**
 * Take over the lock at `off` if the context with `deadToken` holds it (it died holding
 * it): the caller, `token`, holds it afterwards (waiters stay recorded, so its unlock wakes
 * them) and can repair what the dead context left half done. Returns true if it did.
 */
export function takeOverLockHeldBy(i32: Int32Array, off: number, deadToken: number, token: number): boolean {
  const i = off >>> 2;
  const v = Atomics.load(i32, i);
  if (v === 0 || (v >>> 1) !== deadToken) return false;
  return Atomics.compareExchange(i32, i, v, (token << 1) | (v & 1)) === v;
}

/**
 * Try to acquire the lock at `off` for a reclaim: spin a while if another context holds it
 * (a live one lets go within microseconds), never sleep. Returns 0 when acquired, else the
 * token of the holder.
 */
export function tryLockSpin(i32: Int32Array, off: number, token: number, spins: number): number {
  const i = off >>> 2;
  for (let n = 0; ; n++) {
    const v = Atomics.load(i32, i);
    if (v === 0 && Atomics.compareExchange(i32, i, 0, token << 1) === 0) return 0;
    if (n >= spins && v !== 0) return v >>> 1;
  }
}

/**
 * Release the lock at `off` if the context with `token` holds it (it died holding it).
 * Returns true if it did.
 */
export function forceUnlockHeldBy(i32: Int32Array, off: number, token: number): boolean {
  const i = off >>> 2;
  const v = Atomics.load(i32, i);
  if (v === 0 || (v >>> 1) !== token) return false;
  if (Atomics.compareExchange(i32, i, v, 0) !== v) return false;
  Atomics.notify(i32, i);
  return true;
}
