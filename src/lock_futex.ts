/**
 * lock_futex.ts — mutexes on a word of shared memory (Go: src/runtime/lock_futex.go).
 *
 * A lock is one i32 in the buffer: 0 unlocked, 1 locked, 2 locked with sleepers. lock()
 * tries a compare-and-swap, spins a little, then sleeps with Atomics.wait where the
 * context may block (workers; not a browser's main thread, where it keeps spinning).
 * unlock() wakes one sleeper. These protect mheap and each mcentral; the per-P fast path
 * never takes one.
 *
 * @module
 */

const MUTEX_UNLOCKED = 0;
const MUTEX_LOCKED = 1;
const MUTEX_SLEEPING = 2;
const ACTIVE_SPIN = 64;

/** Whether Atomics.wait may block in this context (false on a browser's main thread). */
let canWait: boolean | undefined;
function waitAllowed(i32: Int32Array): boolean {
  if (canWait === undefined) {
    try {
      Atomics.wait(i32, 0, i32[0] + 1 | 0, 0);
      canWait = true;
    } catch {
      canWait = false;
    }
  }
  return canWait;
}

/** Acquire the lock whose word is at byte offset `off` of the shared i32 view. */
export function lock(i32: Int32Array, off: number): void {
  const i = off >>> 2;
  if (Atomics.compareExchange(i32, i, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED) return;
  lockSlow(i32, i);
}

function lockSlow(i32: Int32Array, i: number): void {
  for (;;) {
    for (let spin = 0; spin < ACTIVE_SPIN; spin++) {
      if (Atomics.load(i32, i) === MUTEX_UNLOCKED &&
          Atomics.compareExchange(i32, i, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED) return;
    }
    // Announce a sleeper, then sleep until unlock() wakes us.
    if (Atomics.exchange(i32, i, MUTEX_SLEEPING) === MUTEX_UNLOCKED) return;
    if (waitAllowed(i32)) Atomics.wait(i32, i, MUTEX_SLEEPING, 10);
  }
}

/** Release the lock at byte offset `off`. */
export function unlock(i32: Int32Array, off: number): void {
  const i = off >>> 2;
  if (Atomics.exchange(i32, i, MUTEX_UNLOCKED) === MUTEX_SLEEPING) Atomics.notify(i32, i, 1);
}
