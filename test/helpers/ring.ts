// Single-producer single-consumer rings of (ptr, size, id) entries in a SharedArrayBuffer,
// through which the stress workers (Node: test/fixtures/stress-worker.ts; browser:
// test/browser/worker.js, served transpiled as /ring.js) hand objects to each other.
// Ring r is [head, tail, cap entries of (ptr, size, id)] at i32 index r * (2 + 3 * cap).

/** A SharedArrayBuffer holding n rings of cap entries. */
export function newRings(n: number, cap: number): SharedArrayBuffer {
  return new SharedArrayBuffer(4 * n * (2 + 3 * cap));
}

/** push/pop on the rings in `sab`; pop leaves the entry in `popped` (id unsigned). */
export function ringOps(sab: SharedArrayBuffer, cap: number) {
  const ring = new Int32Array(sab);
  const stride = 2 + 3 * cap;
  const popped = [0, 0, 0];
  return {
    popped,
    /** Append (p, size, id) to ring `to`; false if it is full. */
    push(to: number, p: number, size: number, id: number): boolean {
      const b = to * stride;
      const head = Atomics.load(ring, b), tail = Atomics.load(ring, b + 1);
      if (tail - head >= cap) return false;
      const e = b + 2 + 3 * (tail % cap);
      ring[e] = p; ring[e + 1] = size; ring[e + 2] = id;
      Atomics.store(ring, b + 1, tail + 1);
      return true;
    },
    /** Take the oldest entry of ring `from` into `popped`; false if it is empty. */
    pop(from: number): boolean {
      const b = from * stride;
      const head = Atomics.load(ring, b), tail = Atomics.load(ring, b + 1);
      if (head === tail) return false;
      const e = b + 2 + 3 * (head % cap);
      popped[0] = ring[e]; popped[1] = ring[e + 1]; popped[2] = ring[e + 2] >>> 0;
      Atomics.store(ring, b, head + 1);
      return true;
    },
  };
}

/** Call fn(p, size, id) for every entry left in rings 0..n-1 (their workers have stopped); returns how many. */
export function drainRings(sab: SharedArrayBuffer, n: number, cap: number, fn: (p: number, size: number, id: number) => void): number {
  const { pop, popped } = ringOps(sab, cap);
  let k = 0;
  for (let r = 0; r < n; r++) while (pop(r)) { fn(popped[0], popped[1], popped[2]); k++; }
  return k;
}
