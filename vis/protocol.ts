/**
 * protocol.ts — what the page (app.ts) and its Web Workers (worker.ts) share in the
 * standalone visualiser: the start message and the control block, an Int32Array over a
 * SharedArrayBuffer.
 *
 * @module
 */
import type { HeapDescriptor } from '../src/heap.js';

/** ctl[CTL_MODE]: what the workers do. */
export const CTL_MODE = 0;
/** ctl[CTL_STEP]: bumped by the page for each step asked for while paused. */
export const CTL_STEP = 1;
/** ctl[CTL_OPS + id]: operations done by worker id. */
export const CTL_OPS = 8;
/** ctl[CTL_STATE + id]: WORKER_* state of worker id. */
export const CTL_STATE = 24;
/** Int32 words of the control block. */
export const CTL_WORDS = 40;
/** Most workers the page starts. */
export const MAX_PAGE_WORKERS = 8;

/** Workers wait (a step still runs one batch). */
export const MODE_PAUSED = 0;
/** Workers run their workload at its pace. */
export const MODE_RUNNING = 1;
/** Workers detach and end. */
export const MODE_STOP = 2;

/** Worker states (ctl[CTL_STATE + id]): not attached yet. */
export const WORKER_STARTING = 0;
/** Attached to the heap, running or waiting. */
export const WORKER_ATTACHED = 1;
/** Its workload has run to the end; it holds its live objects. */
export const WORKER_DONE = 2;
/** It threw (the error was posted). */
export const WORKER_FAILED = 3;
/** Stopped and detached. */
export const WORKER_DETACHED = 4;

/** The message that starts a worker. */
export interface StartMessage {
  desc: HeapDescriptor;
  ctl: SharedArrayBuffer;
  id: number;
  workload: string;
  seed: number;
  /** Operations of the whole run for this worker. */
  ops: number;
  /** Operations per second while running. */
  rate: number;
  /** Operations per step. */
  stepOps: number;
}

/** Messages from a worker. */
export type WorkerReport =
  | { type: 'attached'; id: number; pid: number }
  | { type: 'done'; id: number; ops: number }
  | { type: 'error'; id: number; name: string; message: string };
