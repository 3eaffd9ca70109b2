/**
 * replay.ts — the scenario engine of `goheap replay`: validate an allocation scenario,
 * run it on a fresh heap with GC off (as the Go runner in goref/replay runs with
 * GOGC=off), read MemStats at each checkpoint, and compute the deltas between
 * consecutive checkpoints.
 *
 * Scenario format (the same file is replayed on the real Go runtime by goref/replay):
 *
 *   {"name": string, "description"?: string, "ops": [op, ...]}
 *
 *   {"op":"checkpoint","label":L}            readMemStats (flushes the mcache, as Go's
 *                                            ReadMemStats does); labels unique, >= 1 checkpoint
 *   {"op":"alloc","size":S,"count":N,"pointers":bool,"keep":SET}
 *                                            N (default 1) mallocs of S bytes (1 <= S <= 2^32),
 *                                            noscan unless pointers is true (then S must be a
 *                                            multiple of 8, as for a Go type holding pointers);
 *                                            appended to SET in order; without keep each object
 *                                            is freed right after it is allocated (garbage)
 *   {"op":"free","set":SET}                  free every object of SET and empty it
 *   {"op":"free","set":SET,"freeEvery":k}    free the objects at positions 0, k, 2k, ... of SET.
 *                                            Like the Go runner (which sets those slots to nil)
 *                                            the positions stay, as holes: a later freeEvery
 *                                            counts the same positions, a later alloc appends
 *                                            after them. freeEvery 1 = free all
 *   {"op":"gc"}                              heap.gc() (runtime.GC)
 *   {"op":"releaseOS"}                       heap.freeOSMemory() (debug.FreeOSMemory)
 *   {"op":"stack","goroutines":N,"depth":D}    N stacks of D bytes (heap.stackAlloc), as N
 *                                            goroutines whose stacks grew to D bytes. N is
 *                                            not limited to 60 here: that limit is the Go
 *                                            runner's (it keeps Go's numbers deterministic)
 *   {"op":"stackRelease"}                    free every stack
 *   {"op":"memoryLimit","bytes":B}           heap.setMemoryLimit(B) (debug.SetMemoryLimit);
 *                                            no bytes, or -1: no limit
 *   {"op":"wait","ms":T}                     let the background scavenger run for T ms
 *                                            (Go: time.Sleep). Replayed synchronously on a
 *                                            simulated clock: rounds of the scavenger run one
 *                                            after the other, each advancing the clock by its
 *                                            work time plus the sleep it asks for (so that
 *                                            its work is 1 % of the machine's CPUs, see
 *                                            scavengeSleepMs; or the 1 s poll when it has
 *                                            nothing to do).
 *                                            How much a round releases depends on the machine
 *                                            (1 ms of work), as in Go. goheap's scavenger runs
 *                                            an idle GC cycle when frees are pending (Go does
 *                                            not): run a gc op before waiting to compare.
 *
 * Every op may carry a "note" string. A SET freed must have been kept into by an earlier
 * alloc. Unknown keys are errors (the Go runner rejects unknown fields too).
 *
 * Before the first op the heap is warmed up like the Go runner's (which runs GCs and
 * debug.FreeOSMemory before it starts): one object is allocated and freed, then
 * freeOSMemory(), so the scenario starts on a heap that has grown once with all its idle
 * memory released, and its first allocations take released pages (HeapReleased falls,
 * HeapSys stays) as they do in Go. `warmup: false` starts from a fresh, empty heap.
 *
 * Output ({@link ReplayResult}): the checkpoints with every MemStats field except the
 * PauseNs and PauseEnd rings (timings, 2 × 256 numbers; the Go runner leaves them out
 * too), BySize as [{Size, Mallocs, Frees}] (61 entries, class 0..60); and one delta per
 * pair of consecutive checkpoints: 13 fields, and the BySize classes whose Mallocs or
 * Frees changed.
 *
 * @module
 */
import { GoHeapError, Heap, OutOfMemoryError, memStatsFields, type MemStats, type MemStatsBySize } from '../src/index.js';

/** One op of a scenario (see the module comment). */
export type ScenarioOp =
  | { op: 'checkpoint'; label: string; note?: string }
  | { op: 'alloc'; size: number; count?: number; pointers?: boolean; keep?: string; note?: string }
  | { op: 'free'; set: string; freeEvery?: number; note?: string }
  | { op: 'gc'; note?: string }
  | { op: 'releaseOS'; note?: string }
  | { op: 'stack'; goroutines: number; depth: number; note?: string }
  | { op: 'stackRelease'; note?: string }
  | { op: 'memoryLimit'; bytes?: number; note?: string }
  | { op: 'wait'; ms: number; note?: string };

/** An allocation scenario. */
export interface Scenario {
  name: string;
  description?: string;
  ops: ScenarioOp[];
}

/** MemStats as written in replay output: every field but PauseNs and PauseEnd. */
export type ReplayMemStats = Omit<MemStats, 'PauseNs' | 'PauseEnd'>;

/** The fields of a delta, in this order. */
export const deltaFields = [
  'HeapAlloc', 'HeapInuse', 'HeapIdle', 'HeapReleased', 'HeapSys', 'HeapObjects', 'Mallocs',
  'Frees', 'TotalAlloc', 'StackInuse', 'StackSys', 'MSpanInuse', 'Sys',
] as const;

export type DeltaField = (typeof deltaFields)[number];

/** Change of one BySize class between two checkpoints. */
export interface BySizeDelta { class: number; size: number; Mallocs: number; Frees: number }

/** What changed between two consecutive checkpoints. */
export interface ReplayDelta {
  from: string;
  to: string;
  fields: Record<DeltaField, number>;
  bySize: BySizeDelta[];
}

/** The output of a replay. */
export interface ReplayResult {
  name: string;
  checkpoints: { label: string; memstats: ReplayMemStats }[];
  deltas: ReplayDelta[];
}

/** A scenario that is malformed, or uses something goheap cannot do yet. */
export class ScenarioError extends Error {
  override name = 'ScenarioError';
  /** Index of the op at fault, or -1 for the scenario as a whole. */
  readonly opIndex: number;
  /** How to fix it (every ScenarioError has one: `goheap replay` prints it as the fix: line). */
  readonly fix: string;
  constructor(message: string, opIndex: number, fix: string) {
    super(message);
    this.opIndex = opIndex;
    this.fix = fix;
  }
}

/** Options of {@link runScenario}. */
export interface ReplayOptions {
  /** Bytes of address space to reserve for the heap (default 1 GiB). */
  reserve?: number;
  /** Run heap.check() after the last op (default true). */
  check?: boolean;
  /**
   * Warm the heap up before the first op, as the Go runner does (default true): one
   * object is allocated and freed, then freeOSMemory(), so the scenario starts on a heap
   * that has grown once (HeapSys > 0) with all of its idle memory released
   * (HeapIdle == HeapReleased), like the Go heap after its warm-up.
   */
  warmup?: boolean;
}

const pageBytes = 8192;

const MAX_SIZE = 2 ** 32;
const MAX_COUNT = 2 ** 30;
const KEYS: Record<string, readonly string[]> = {
  checkpoint: ['label'],
  alloc: ['size', 'count', 'pointers', 'keep'],
  free: ['set', 'freeEvery'],
  gc: [],
  releaseOS: [],
  stack: ['goroutines', 'depth'],
  stackRelease: [],
  memoryLimit: ['bytes'],
  wait: ['ms'],
};

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 40 ? s.slice(0, 37) + '...' : s;
}

/**
 * Check that `x` is a well-formed scenario and return it typed. Errors name the op by
 * index (0-based, in the ops array) and say what to write instead.
 * @throws ScenarioError
 */
export function validateScenario(x: unknown): Scenario {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) {
    throw new ScenarioError(`a scenario must be a JSON object {"name": ..., "ops": [...]}, got ${describe(x)}`, -1, 'write {"name": "my-scenario", "ops": [...]} (see goheap replay --help)');
  }
  const sc = x as Record<string, unknown>;
  for (const k of Object.keys(sc)) {
    if (k !== 'name' && k !== 'description' && k !== 'ops') throw new ScenarioError(`unknown key "${k}" in the scenario`, -1, 'a scenario has only the keys name, description and ops');
  }
  if (typeof sc.name !== 'string' || sc.name === '') throw new ScenarioError(`the scenario needs a "name" (a non-empty string), got ${describe(sc.name)}`, -1, 'add "name": "my-scenario"');
  if (sc.description !== undefined && typeof sc.description !== 'string') throw new ScenarioError(`"description" must be a string, got ${describe(sc.description)}`, -1, 'make "description" a string, or remove it');
  if (!Array.isArray(sc.ops)) throw new ScenarioError(`the scenario needs "ops", an array of operations, got ${describe(sc.ops)}`, -1, 'add "ops": [...], the list of operations (see goheap replay --help)');
  const labels = new Set<string>();
  const sets = new Set<string>();
  sc.ops.forEach((raw: unknown, i: number) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError(`op ${i}: an op must be an object like {"op": "alloc", ...}, got ${describe(raw)}`, i, 'write each op as an object, e.g. {"op": "checkpoint", "label": "start"}');
    const o = raw as Record<string, unknown>;
    const kind = o.op;
    if (typeof kind !== 'string' || !(kind in KEYS)) {
      throw new ScenarioError(`op ${i}: unknown op ${describe(kind)}`, i, `"op" is one of ${Object.keys(KEYS).join(', ')}`);
    }
    const where = `op ${i} ("${kind}")`;
    for (const k of Object.keys(o)) {
      if (k !== 'op' && k !== 'note' && !KEYS[kind]!.includes(k)) {
        const allowed = KEYS[kind]!.length > 0 ? `its keys are ${KEYS[kind]!.join(', ')} (and note)` : 'it takes no arguments (only note)';
        throw new ScenarioError(`${where}: unknown key "${k}"`, i, `${kind}: ${allowed}`);
      }
    }
    if (o.note !== undefined && typeof o.note !== 'string') throw new ScenarioError(`${where}: "note" must be a string`, i, 'make "note" a string, or remove it');
    const int = (key: string, lo: number, hi: number, dflt?: number): number => {
      const v = o[key] ?? dflt;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) {
        throw new ScenarioError(`${where}: "${key}" must be an integer in [${lo}, ${hi}], got ${describe(o[key])}`, i, `write "${key}": ${Math.max(lo, Math.min(hi, 16))}, an integer from ${lo} to ${hi}`);
      }
      return v;
    };
    const str = (key: string, what: string): string => {
      const v = o[key];
      if (typeof v !== 'string' || v === '') throw new ScenarioError(`${where}: "${key}" must be a non-empty string (${what}), got ${describe(v)}`, i, `write "${key}": "a" (${what})`);
      return v;
    };
    switch (kind) {
      case 'checkpoint': {
        const label = str('label', 'the checkpoint label');
        if (labels.has(label)) throw new ScenarioError(`${where}: duplicate checkpoint label "${label}"`, i, 'give every checkpoint its own label');
        labels.add(label);
        break;
      }
      case 'alloc': {
        const size = int('size', 1, MAX_SIZE);
        int('count', 1, MAX_COUNT, 1);
        if (o.pointers !== undefined && typeof o.pointers !== 'boolean') throw new ScenarioError(`${where}: "pointers" must be true or false, got ${describe(o.pointers)}`, i, 'write "pointers": true or "pointers": false (or leave it out: false)');
        if (o.pointers === true && size % 8 !== 0) {
          throw new ScenarioError(`${where}: size ${size} with pointers:true: a Go type holding pointers is 8-byte aligned, so its size is a multiple of 8`, i, 'use a multiple of 8, or pointers:false');
        }
        if (o.keep !== undefined) sets.add(str('keep', 'the name of the set that keeps the objects'));
        break;
      }
      case 'free': {
        const set = str('set', 'the name of a set kept into by an earlier alloc');
        if (!sets.has(set)) throw new ScenarioError(`${where}: set "${set}" was never kept into by an earlier alloc`, i, `add "keep": "${set}" to an alloc before this op`);
        if (o.freeEvery !== undefined) int('freeEvery', 1, Number.MAX_SAFE_INTEGER);
        break;
      }
      case 'stack':
        // goref/replay parks at most 60 goroutines at once, to keep Go's numbers
        // deterministic (goref/README.md); goheap has no such limit.
        int('goroutines', 1, MAX_COUNT);
        {
          const d = int('depth', 2048, 1 << 24);
          if ((d & (d - 1)) !== 0) throw new ScenarioError(`${where}: "depth" must be a power of two in [2048, 16777216], got ${d}`, i, `write "depth": ${2 ** Math.max(11, Math.min(24, Math.round(Math.log2(d))))}`);
        }
        break;
      case 'stackRelease':
        break;
      case 'memoryLimit':
        if (o.bytes !== undefined) int('bytes', -1, Number.MAX_SAFE_INTEGER);
        break;
      case 'wait':
        int('ms', 1, 600000);
        break;
      default:
    }
  });
  if (labels.size === 0) throw new ScenarioError('the scenario has no checkpoint', -1, 'add {"op": "checkpoint", "label": "..."} ops; deltas are taken between consecutive checkpoints');
  return sc as unknown as Scenario;
}

function replayMemStats(ms: MemStats): ReplayMemStats {
  const out: Record<string, unknown> = {};
  for (const f of memStatsFields) {
    if (f === 'PauseNs' || f === 'PauseEnd') continue;
    out[f] = f === 'BySize' ? ms.BySize.map((e: MemStatsBySize) => ({ Size: e.Size, Mallocs: e.Mallocs, Frees: e.Frees })) : ms[f];
  }
  return out as ReplayMemStats;
}

/**
 * After gc / releaseOS: the round of the background scavenger that the cycle woke, as it
 * would run at once in a real program (the Go runner's settle() yields so that Go's runs
 * too). With no goal to meet it releases nothing and parks.
 */
function settle(heap: Heap): void {
  heap.scavenger?.runRound();
}

/** Deltas between consecutive checkpoints. */
export function checkpointDeltas(checkpoints: ReplayResult['checkpoints']): ReplayDelta[] {
  const deltas: ReplayDelta[] = [];
  for (let i = 1; i < checkpoints.length; i++) {
    const a = checkpoints[i - 1]!, b = checkpoints[i]!;
    const fields = {} as Record<DeltaField, number>;
    for (const f of deltaFields) fields[f] = b.memstats[f] - a.memstats[f];
    const bySize: BySizeDelta[] = [];
    b.memstats.BySize.forEach((e, c) => {
      const p = a.memstats.BySize[c]!;
      const dm = e.Mallocs - p.Mallocs, df = e.Frees - p.Frees;
      if (dm !== 0 || df !== 0) bySize.push({ class: c, size: e.Size, Mallocs: dm, Frees: df });
    });
    deltas.push({ from: a.label, to: b.label, fields, bySize });
  }
  return deltas;
}

/**
 * Validate and run a scenario on a new heap (GC off), returning MemStats at each
 * checkpoint and the deltas between consecutive ones.
 * @throws ScenarioError for a malformed scenario, one that uses stacks, or one the heap
 *   cannot run (out of memory: the error names the op and suggests a larger reserve)
 */
export function runScenario(scenario: unknown, opts: ReplayOptions = {}): ReplayResult {
  const run = new ScenarioRun(scenario, opts);
  while (!run.done) run.step();
  if (opts.check !== false) run.heap.check();
  return run.result();
}

/**
 * A scenario being replayed one op at a time (runScenario runs one to the end; the
 * visualiser's replay mode steps through one, showing the heap after each op).
 */
export class ScenarioRun {
  /** The validated scenario. */
  readonly scenario: Scenario;
  /** The heap it runs on (GC off; warmed up unless opts.warmup is false). */
  readonly heap: Heap;
  /** Index of the next op to run. */
  next = 0;
  /** The checkpoints read so far. */
  readonly checkpoints: ReplayResult['checkpoints'] = [];
  private readonly sets = new Map<string, number[]>();
  private readonly stacks: Array<[number, number]> = [];
  private readonly reserve: number;

  /** Validate `scenario` and create its heap. @throws ScenarioError */
  constructor(scenario: unknown, opts: ReplayOptions = {}) {
    this.scenario = validateScenario(scenario);
    this.reserve = opts.reserve ?? 1 << 30;
    const heap = this.heap = Heap.create({ reserve: this.reserve, gcPercent: -1 });
    if (opts.warmup !== false) {
      // Like the Go runner's warm-up (goref/replay: GCs, then debug.FreeOSMemory, before the
      // first op): the heap has grown once and every idle page is released, so the
      // scenario's first allocations take released pages instead of growing the heap.
      heap.free(heap.malloc(pageBytes));
      heap.freeOSMemory();
    }
  }

  /** Whether every op has run. */
  get done(): boolean {
    return this.next >= this.scenario.ops.length;
  }

  /** The result so far: the checkpoints read and their deltas. */
  result(): ReplayResult {
    return { name: this.scenario.name, checkpoints: this.checkpoints, deltas: checkpointDeltas(this.checkpoints) };
  }

  /**
   * Run the next op; returns the delta it completed when it is a checkpoint after
   * another one, else null.
   * @throws ScenarioError naming the op (out of memory, an error from the heap)
   */
  step(): ReplayDelta | null {
    const i = this.next++;
    const op = this.scenario.ops[i]!;
    const heap = this.heap, sets = this.sets, stacks = this.stacks, checkpoints = this.checkpoints;
    try {
      switch (op.op) {
        case 'checkpoint':
          checkpoints.push({ label: op.label, memstats: replayMemStats(heap.readMemStats()) });
          return checkpoints.length > 1 ? checkpointDeltas(checkpoints.slice(-2))[0]! : null;
        case 'alloc': {
          const count = op.count ?? 1;
          const mopts = { noscan: op.pointers !== true };
          if (op.keep !== undefined) {
            let set = sets.get(op.keep);
            if (set === undefined) sets.set(op.keep, set = []);
            for (let k = 0; k < count; k++) set.push(heap.malloc(op.size, mopts));
          } else {
            for (let k = 0; k < count; k++) heap.free(heap.malloc(op.size, mopts));
          }
          break;
        }
        case 'free': {
          const set = sets.get(op.set)!;
          const every = op.freeEvery ?? 1;
          if (every === 1) {
            for (const p of set) if (p !== 0) heap.free(p);
            set.length = 0;
          } else {
            for (let k = 0; k < set.length; k += every) {
              if (set[k] !== 0) { heap.free(set[k]!); set[k] = 0; }
            }
          }
          break;
        }
        case 'gc':
          heap.gc();
          settle(heap);
          break;
        case 'releaseOS':
          heap.freeOSMemory();
          settle(heap);
          break;
        case 'stack':
          for (let g = 0; g < op.goroutines; g++) stacks.push([heap.stackAlloc(op.depth), op.depth]);
          break;
        case 'stackRelease':
          for (const [p, n] of stacks) heap.stackFree(p, n);
          stacks.length = 0;
          break;
        case 'memoryLimit':
          heap.setMemoryLimit(op.bytes === undefined || op.bytes < 0 ? Infinity : op.bytes);
          break;
        case 'wait':
          for (let t = 0; t < op.ms && heap.scavenger !== null;) t += heap.scavenger.runRound() + heap.scavenger.lastWorkedMs;
          break;
        default:
          throw new ScenarioError(`op ${i} ("${(op as { op: string }).op}"): not supported`, i, 'use one of the ops in goheap replay --help');
      }
    } catch (e) {
      if (e instanceof OutOfMemoryError) {
        throw new ScenarioError(`op ${i} ("${op.op}"): out of memory in a ${Math.round(this.reserve / (1 << 20))} MiB reservation: ${e.message}`, i, 'replay with a larger --reserve (at most 4g)');
      }
      if (e instanceof GoHeapError && !(e instanceof ScenarioError)) {
        throw new ScenarioError(`op ${i} ("${op.op}"): ${e.name}: ${e.message}`, i, 'this is a goheap bug if the scenario is valid: please report it with the scenario');
      }
      throw e;
    }
    return null;
  }
}
