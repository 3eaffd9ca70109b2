// Shared-memory protocol between the kill campaign's driver, its coordinator and its heap
// workers (test/helpers/kill-campaign.ts, test/fixtures/kill-coordinator.ts,
// test/fixtures/kill-worker.ts).

/** Operation kinds a worker runs (and is killed in). */
export const OP_SMALL = 0;
export const OP_TINY = 1;
export const OP_LARGE = 2;
export const OP_STACK = 3;
export const OP_GC = 4;
export const OP_FREEOS = 5;
export const OP_GROWTH = 6;
export const NUM_OPS = 7;
export const opNames = ['small', 'tiny', 'large', 'stack', 'gc', 'freeOSMemory', 'growth'] as const;

/** Control words (i32 indices of the ctl buffer). */
export const CTL_PAUSE = 0;    // 1: workers park between operations
export const CTL_PARKED = 32;  // + wid: 1 while worker wid is parked (set and cleared by the worker)
export const CTL_PHASE = 2;    // coordinator phase (PH_*)
export const CTL_ROUND = 3;    // coordinator round
export const CTL_TICK = 4;     // bumped at every coordinator step (the driver's watchdog)
export const CTL_BEAT = 5;     // bumped every 50 ms by the coordinator's event loop
export const CTL_OP = 8;       // + wid: the operation worker wid is in (-1 parked)
export const CTL_VICTIMS = 16; // + i: P id + 1 of the workers killed this round (0: none)
export const CTL_WORDS = 32 + 16;

export const PH_START = 0;
export const PH_RUN = 1;
export const PH_KILL = 2;
export const PH_RECLAIM = 3;
export const PH_PAUSE = 4;
export const PH_CHECK = 5;
export const PH_SPAWN = 6;
export const PH_DONE = 7;
export const phaseNames = ['start', 'run', 'kill', 'reclaim', 'pause', 'check', 'spawn', 'done'] as const;

/** Objects a worker can hold at once (registry entries: ptr, size, id; size < 0: a stack). */
export const REG_CAP = 256;
/** Most workers in one campaign. */
export const MAX_WORKERS = 8;
export const REGISTRY_WORDS = MAX_WORKERS * REG_CAP * 3;

/** i32 index of worker wid's first registry entry. */
export function registryBase(wid: number): number {
  return wid * REG_CAP * 3;
}

/** Bytes of an object of `size` (stacks: -size) that carry the pattern: up to 64 at each end. */
function patternByte(id: number, i: number): number {
  return (Math.imul(id, 31) + i * 7 + 1) & 255;
}

/** Write the pattern of object `id` into its first and last (up to) 64 bytes. */
export function fillObject(u8: Uint8Array, p: number, size: number, id: number): void {
  const n = size < 0 ? -size : size;
  const head = Math.min(n, 64);
  for (let i = 0; i < head; i++) u8[p + i] = patternByte(id, i);
  for (let i = Math.max(head, n - 64); i < n; i++) u8[p + i] = patternByte(id, i);
}

/** Check the pattern of object `id`; throws an Error naming the first wrong byte. */
export function verifyObject(u8: Uint8Array, p: number, size: number, id: number): void {
  const n = size < 0 ? -size : size;
  const head = Math.min(n, 64);
  for (let i = 0; i < head; i++) {
    if (u8[p + i] !== patternByte(id, i)) throw new Error(`object ${p} (${size < 0 ? 'stack of ' + n : n} bytes, id ${id}): byte ${i} is ${u8[p + i]}, expected ${patternByte(id, i)}`);
  }
  for (let i = Math.max(head, n - 64); i < n; i++) {
    if (u8[p + i] !== patternByte(id, i)) throw new Error(`object ${p} (${size < 0 ? 'stack of ' + n : n} bytes, id ${id}): byte ${i} is ${u8[p + i]}, expected ${patternByte(id, i)}`);
  }
}
