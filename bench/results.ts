/**
 * results.ts — the shape of bench/results.json (run.ts writes it, report.ts renders it,
 * why.ts explains it) and of one case's summary.
 *
 * @module
 */
import type { AllocatorName } from './allocators.js';
import type { RunResult } from './common.js';
import type { WhereShares } from './where.js';

export interface ResultsFile {
  meta: {
    date: string;
    command: string;
    cpu: string;
    cores: number;
    node: string;
    v8: string;
    platform: string;
    quick: boolean;
    runs: number;
    durationS: number;
    versions: Record<string, string>;
    ascFlags: string;
    git?: string;
    warmupMs?: number;
    warmupCapMs?: number;
    measureCapMs?: number;
    loadAvgBefore?: string;
    loadAvgAfter?: string;
    /** Partial runs (--workload / --alloc) merged into this file after the suite above (see run.ts). */
    merged?: {
      date: string; command: string; quick: boolean; runs: number; durationS: number;
      git?: string; loadAvgBefore?: string; loadAvgAfter?: string;
      /** The "workload|allocator" cases this run replaced. */
      cases: string[];
    }[];
  };
  results: RunResult[];
  /** bench/views.ts: ns per typed-array element access, per view kind, one entry per run. */
  views?: { variant: string; nsPerAccess: number[] }[];
  /** goheap pairs under the CPU profiler: shares per part (bench/where.ts). */
  where?: WhereShares;
  /** bench/wasm.ts --json: binary-trees in wasm, goheap as its malloc vs the module's own allocator (run.ts adds meta). */
  wasm?: WasmResults;
}

/** What `bench/wasm.ts --json` prints, plus the conditions run.ts ran it in (`meta`), or the error it failed with. */
export interface WasmResults {
  depth: number;
  threads: number;
  runs: number;
  /** Nodes allocated, walked and freed by one binary-trees run. */
  nodesPerRun: number;
  /** Case name (e.g. "AS + TLSF, 1 thread") → median and per-run ms. */
  binaryTrees: Record<string, { medianMs: number; ms: number[]; nsPerNode: number }>;
  boundaryNs: {
    wasmToJsCall: number; jsToWasmCall: number; goheapPairFromWasm: number; goheapPairFromJs: number;
    tlsfPairInWasm: number; dlmallocPairInWasm: number;
  };
  meta?: { date: string; durationS: number; loadAvgBefore: string; loadAvgAfter: string; git: string };
  error?: string;
}

/** Aggregate of the runs of one (allocator, workload) case. */
export interface CaseSummary {
  allocator: AllocatorName;
  workload: string;
  runs: RunResult[];
  ok: RunResult[];
  failed: RunResult[];
  med: number;
  min: number;
  max: number;
  /** Any run time-capped (fewer ops than planned). */
  capped: boolean;
  opsMed: number;
  peakLive: number;
  peakReserved: number;
  peakCommitted: number;
  peakRssDelta: number;
  fillMs: number;
}
