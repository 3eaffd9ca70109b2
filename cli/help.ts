/**
 * help.ts — the help texts of the goheap command (cli/goheap.ts).
 *
 * @module
 */
import { group } from './format.js';
import { MAX_WORKERS } from './run.js';
import { defaultWorkload, workloads } from './workloads.js';
import { DEFAULT_PORT } from './serve.js';

export const HELP_TOP = `goheap — Go 1.19's memory allocator, rebuilt in TypeScript

Usage:
  goheap <command> [options]

Commands:
  run [WORKLOAD]          run a built-in workload; print gctrace lines and a MemStats report
  replay SCENARIO.json    replay an allocation scenario; print MemStats per checkpoint (JSON)
  serve                   the visualiser: watch a heap in the browser (charts, a map of every page)
  sizeclasses             print Go's size class table
  help [COMMAND]          show the help of a command

Options:
  -h, --help              show this help (every command has its own: goheap run --help)
  -v, --version           print the version

Examples:
  goheap run                                  the demo: workload 'mix', a few seconds
  goheap run churn --ops 5m --plot heap.svg   5 million operations, and a chart of the heap
  goheap run fragment --gogc off --json       GC only when the workload asks, JSON output
  goheap run churn --workers 4                4 worker threads allocating on one heap
  goheap replay scenarios/mixed-workload.json --out result.json
  goheap serve --open                         open the visualiser in the browser
  goheap sizeclasses

Exit status: 0 ok, 1 failure, 2 usage error.
`;

function helpRun(): string {
  const names = [...workloads.values()];
  const wl = names.map((w) => wrap(`${w.summary} (${w.name === defaultWorkload ? 'the default workload; ' : ''}default --ops ${group(w.defaultOps)})`, 76)
    .map((line, i) => `  ${(i === 0 ? w.name : '').padEnd(10)} ${line}`).join('\n')).join('\n');
  return `Usage:
  goheap run [WORKLOAD] [options]

Run a built-in workload on a new heap: one gctrace line per GC cycle (like Go's
GODEBUG=gctrace=1), then the final runtime.MemStats, grouped as in Go's documentation, in
KiB/MiB with the exact byte counts. On a terminal, a progress bar is drawn on stderr.

Workloads:
${wl}

Options:
  --ops N            operations to run (malloc and free calls; suffixes k, m: 500k, 2m)
  --duration SEC     run for SEC seconds instead of a number of operations
  --seed S           seed of the workload's random choices (default 1); the same seed and
                     --ops give the same numbers on every run
  --reserve BYTES    address space to reserve for the heap (default 1g; 256m, 2g, at most 4g)
  --gogc N|off       GOGC: start a cycle when the heap has grown N% over the live heap
                     (default: $GOGC if set, else 100); off = only the workload's gc() calls
  --memlimit BYTES|off  the memory limit (like GOMEMLIMIT; default: $GOMEMLIMIT if set,
                     else off): GC cycles and the scavenger keep Sys - HeapReleased under
                     it, also with --gogc off (64m, 1g, Go's 64MiB)
  --workers N        run the workload on N worker threads (1..${MAX_WORKERS}) sharing one heap, each
                     with its own instance of the workload and seed S + its index (w0 gets
                     S); --ops is the total, split between them (--duration: each runs
                     for SEC). gctrace lines name the worker that ran the cycle (w0, w1,
                     ...); the report gives each worker's operations and ops/s. Not
                     deterministic. Without --workers, the main thread runs the workload
                     (deterministic)
  --json             print one JSON document on stdout (options, gc cycles, samples,
                     final MemStats, per-worker counts) instead of the human output; no
                     progress bar
  --plot FILE.svg    write an SVG chart of HeapSys, HeapInuse, HeapAlloc, HeapIdle,
                     HeapReleased and the process's RSS over the run (x axis: operations,
                     or seconds with --duration)
  --quiet            no progress bar and no gctrace lines: print only the report
                     (GODEBUG=gctrace=0 in the environment turns off the gctrace lines only)
  --serve            show the run's heap in the visualiser (see goheap serve --help): the URL
                     is printed on stderr; after the run it stays up until Ctrl-C
  --port N           the visualiser's port with --serve (default ${DEFAULT_PORT})
  -h, --help         show this help

gctrace line:
  gc 7 @1.204s 3%: 0.41 ms clock, 23->24->12 MB, 24 MB goal, 1 P (forced)
  cycle number; seconds since the start; share of the time spent in GC cycles; wall time
  of the cycle; HeapAlloc at the start -> at the end of the cycle -> live bytes (MB =
  2^20 bytes, rounded down, as Go prints them); the next heap goal (NextGC); Ps taking
  part; "(forced)" for cycles the workload asked for (gc(), freeOSMemory()); with
  --workers, "(w1)": the worker that ran the cycle, and the share is of N × the wall time.
  (Go writes these lines to stderr; goheap writes them to stdout, with the report.)

scavtrace line (GODEBUG=scavtrace=1, without --workers), after each gctrace line and
for freeOSMemory:
  scav 1024 KiB work, 30720 KiB total, 85% util (forced)
  bytes the background scavenger released since the last line (freeOSMemory's release
  when "(forced)"); HeapReleased; HeapInuse as a share of retained memory (HeapInuse +
  HeapIdle - HeapReleased). Go 1.19's format.

Examples:
  goheap run
  goheap run churn --duration 10 --plot churn.svg
  goheap run large --gogc 50 --seed 7
  goheap run mix --ops 20000 --json > run.json
  goheap run churn --workers 2 --ops 1m
`;
}

/** Split text into lines of at most `width` characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) { lines.push(line); line = word; }
    else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

const HELP_REPLAY = `Usage:
  goheap replay SCENARIO.json [--out FILE] [--reserve BYTES] [--no-warmup]

Run an allocation scenario on a new heap with GC off (GOGC=off, like the Go runner
goref/replay) and print, as JSON, runtime.MemStats at every checkpoint and the deltas
between consecutive checkpoints. SCENARIO.json may be '-' for stdin. Like the Go runner,
the heap is warmed up first: it has grown once and all its idle memory is released
(HeapIdle == HeapReleased) when the first op runs.

Scenario:
  {"name": "demo", "ops": [
    {"op": "checkpoint", "label": "before"},
    {"op": "alloc", "size": 16, "count": 32768, "pointers": false, "keep": "a"},
    {"op": "checkpoint", "label": "after-alloc"},
    {"op": "free", "set": "a", "freeEvery": 2},
    {"op": "gc"},
    {"op": "checkpoint", "label": "after-gc"}]}

Ops:
  checkpoint  label             read MemStats; labels are unique
  alloc       size, count,      count (default 1) mallocs of size bytes; noscan unless
              pointers, keep    pointers is true; kept in set 'keep' in order, or freed at
                                once when there is no keep
  free        set, freeEvery    free every object of the set and empty it; with freeEvery k,
                                free the objects at positions 0, k, 2k, ... only
  gc                            heap.gc() (runtime.GC)
  releaseOS                     heap.freeOSMemory() (debug.FreeOSMemory)
  stack       goroutines, depth N stacks of depth bytes (heap.stackAlloc; depth a power of
                                two from 2048), as N goroutines whose stacks grew to depth
  stackRelease                  free every stack (heap.stackFree)
  Any op may have a "note". Errors name the op by its index in "ops" (from 0).

Output:
  {"name", "checkpoints": [{"label", "memstats": {every MemStats field but the PauseNs and
  PauseEnd rings; BySize: [{Size, Mallocs, Frees}]}}], "deltas": [{"from", "to", "fields":
  {HeapAlloc, HeapInuse, HeapIdle, HeapReleased, HeapSys, HeapObjects, Mallocs, Frees,
  TotalAlloc, StackInuse, StackSys, MSpanInuse, Sys}, "bySize": [{"class", "size",
  "Mallocs", "Frees"}] (classes that changed)}]}

Options:
  --out FILE         write the JSON to FILE instead of stdout
  --reserve BYTES    address space to reserve for the heap (default 1g, at most 4g)
  --no-warmup        start from a fresh heap (HeapSys 0) instead of a warmed-up one
  -h, --help         show this help

Examples:
  goheap replay scenarios/frag-16-free-every-2nd-gc.json
  goheap replay scenarios/mixed-workload.json --out mixed.json
`;

const HELP_SIZECLASSES = `Usage:
  goheap sizeclasses

Print Go 1.19's size class table, as in the comment at the top of Go's
runtime/sizeclasses.go: for each of the 67 classes, the object size, the span size, the
objects per span, the tail waste, the worst-case waste and the minimum alignment; then
the alignment summary. goheap computes the table with Go's algorithm (mksizeclasses.go).

Options:
  -h, --help         show this help
`;

const HELP_HELP = `Usage:
  goheap help [COMMAND]

Show the help of goheap, or of COMMAND (run, replay, serve, sizeclasses).
`;

export const HELPS: Record<string, () => string> = {
  run: helpRun,
  replay: () => HELP_REPLAY,
  sizeclasses: () => HELP_SIZECLASSES,
  serve: () => HELP_SERVE,
  help: () => HELP_HELP,
};

/** goheap serve --help. */
export const HELP_SERVE = `Usage:
  goheap serve [--port N] [--open]

Serve the visualiser on http://127.0.0.1:N/ (default port ${DEFAULT_PORT}) until Ctrl-C.
The page runs a heap in its own Web Workers (1 to 8, attached to one SharedArrayBuffer;
the server sends the COOP/COEP headers that allow it) and shows it live: MemStats and
/memory/classes charts over time, GC cycles and pauses, allocations per size class, and
a map of every 8 KiB page of the reservation (its OS state, the span that holds it: size
class, occupancy, sweep state, and the P whose mcache holds that span) with the mcentral
sets beside it. Controls: workload (mix, churn, large, fragment), workers, GOGC,
start/pause/step, gc(), freeOSMemory(); or replay a scenario op by op, with its MemStats
deltas next to real Go 1.19's. To watch a Node program's heap instead, call
serveVisualiser(heap) from goheap/node in it, or use 'goheap run --serve'.

Options:
  --port N           port to listen on (0: any free port)
  --open             open the page in the default browser
  -h, --help         show this help
`;
