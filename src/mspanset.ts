/**
 * mspanset.ts — lists of spans (Go: mSpanList in src/runtime/mheap.go, spanSet in
 * mspanset.go).
 *
 * A span list is a doubly linked list threaded through the spans' own next/prev fields,
 * with its {first, last} words somewhere in the buffer (SL_* in layout.ts): the four span
 * sets of each mcentral and the stack pool of each stack order. A span is on at most one
 * list.
 *
 * An mcentral's span sets (Go: spanSet) are such lists, used as queues (push at the tail,
 * pop at the head, the order of Go's spanSet). Differences from Go: Go's spanSet is a
 * lock-free queue of span pointers in separately allocated blocks; goheap's needs no extra
 * memory and is protected by the mcentral's lock. Each span on a set records which one in
 * its `list` field, for check() and for reclaimP's repairs.
 *
 * @module
 */
import { HeapCorruptionError } from './errors.js';
import * as layout from './layout.js';
import type { SpanPtr } from './layout.js';

// Module-local copies of imported values: V8 folds a local const into optimized code,
// not an imported binding (docs/architecture.md, "Fast paths").
const {
  C_SETS, MCENTRAL_SIZE, SLW_FIRST, SLW_LAST, SPAN_LIST_SIZE, SW_LIST, SW_NEXT, SW_PREV,
  mSpanListFirst,
} = layout;

// ---------------------------------------------------------------------------------------
// mSpanList: the list at byte address l
// ---------------------------------------------------------------------------------------

// The list operations make no call (raw word indices instead of accessors): V8 stops a
// terminated worker only at calls and loop back-edges, so a list is never left half
// updated, and a span popped under a lock can be put in hand (MHeap.inHandWord) before
// anything can stop its taker.

/** Insert s at the front of list l (Go: mSpanList.insert). */
export function listInsert(u32: Uint32Array, l: number, s: SpanPtr): void {
  const lw = l >>> 2, sw = s >>> 2;
  const first = u32[lw + SLW_FIRST];
  u32[sw + SW_PREV] = 0;
  u32[sw + SW_NEXT] = first;
  if (first !== 0) u32[(first >>> 2) + SW_PREV] = s; else u32[lw + SLW_LAST] = s;
  u32[lw + SLW_FIRST] = s;
}

/**
 * Insert s at the end of list l (Go: mSpanList.insertBack) and set its list field to
 * `listId`, in one straight run: a terminated worker can stop at this function's entry or
 * at its return (V8 also handles interrupts when an interpreted function returns), never
 * with the span linked and its list field not saying so.
 */
export function listInsertBack(u32: Uint32Array, l: number, s: SpanPtr, listId: number): void {
  const lw = l >>> 2, sw = s >>> 2;
  const last = u32[lw + SLW_LAST];
  u32[sw + SW_NEXT] = 0;
  u32[sw + SW_PREV] = last;
  if (last !== 0) u32[(last >>> 2) + SW_NEXT] = s; else u32[lw + SLW_FIRST] = s;
  u32[lw + SLW_LAST] = s;
  u32[sw + SW_LIST] = listId;
}

/**
 * Remove s from list l, wherever it is in it (Go: mSpanList.remove); with `clearList`,
 * also clear its list field in the same straight run (see listInsertBack).
 */
export function listRemove(u32: Uint32Array, l: number, s: SpanPtr, clearList = false): void {
  const lw = l >>> 2, sw = s >>> 2;
  const next = u32[sw + SW_NEXT], prev = u32[sw + SW_PREV];
  if (prev === 0) u32[lw + SLW_FIRST] = next; else u32[(prev >>> 2) + SW_NEXT] = next;
  if (next === 0) u32[lw + SLW_LAST] = prev; else u32[(next >>> 2) + SW_PREV] = prev;
  u32[sw + SW_NEXT] = 0;
  u32[sw + SW_PREV] = 0;
  if (clearList) u32[sw + SW_LIST] = 0;
}

// ---------------------------------------------------------------------------------------
// An mcentral's span sets (Go: spanSet)
// ---------------------------------------------------------------------------------------

/** Set indices inside an mcentral: partial[0], partial[1], full[0], full[1]. */
export const SET_PARTIAL = 0;
export const SET_FULL = 2;

/** `list` value of a span held by an mcache (the P id is added to it). */
export const LIST_MCACHE = 0x40000000;
/**
 * Added to LIST_MCACHE + pid: a full span the mcache keeps on its retained list rather
 * than in a slot (mcache.ts). Its owner's frees still go to localFreedBits.
 */
export const LIST_RETAINED = 0x20000000;

/** Address of the mcentral of span class spc in the array at centralBase. */
export function centralOf(centralBase: number, spc: number): number {
  return centralBase + spc * MCENTRAL_SIZE;
}

/** Set index of the swept partial set for sweepgen sg (Go: partialSwept), and the others. */
export function partialSwept(sg: number): number { return SET_PARTIAL + ((sg >>> 1) & 1); }
export function partialUnswept(sg: number): number { return SET_PARTIAL + (1 - ((sg >>> 1) & 1)); }
export function fullSwept(sg: number): number { return SET_FULL + ((sg >>> 1) & 1); }
export function fullUnswept(sg: number): number { return SET_FULL + (1 - ((sg >>> 1) & 1)); }

/** `list` id stored in a span that is in set `set` of mcentral `spc`. */
export function setListId(spc: number, set: number): number {
  return 1 + ((spc << 2) | set);
}

/** Push span s at the tail of set `set` of the mcentral at c (Go: spanSet.push). */
export function setPush(u32: Uint32Array, c: number, spc: number, set: number, s: SpanPtr): void {
  if (u32[(s >>> 2) + SW_LIST] !== 0) throw new HeapCorruptionError(`span ${s} pushed to a span set while on list ${u32[(s >>> 2) + SW_LIST]}`);
  listInsertBack(u32, c + C_SETS + set * SPAN_LIST_SIZE, s, setListId(spc, set));
}

/**
 * Pop the span at the head of set `set`; 0 if empty (Go: spanSet.pop). The span is put in
 * hand (u32[inHand] = s, the caller's MHeap.inHandWord) before it leaves the set, so a
 * context terminated anywhere in between leaves it either in the set (list field set:
 * reclaimP's recoverSpanInHand leaves it there) or in hand and out of every set.
 */
export function setPop(u32: Uint32Array, c: number, set: number, inHand: number): SpanPtr | 0 {
  const l = c + C_SETS + set * SPAN_LIST_SIZE;
  const s = u32[(l >>> 2) + SLW_FIRST] as SpanPtr;
  if (s === 0) return 0;
  u32[inHand] = s;
  listRemove(u32, l, s, true);
  return s;
}

/** Remove span s from set `set` wherever it is in it. */
export function setRemove(u32: Uint32Array, c: number, set: number, s: SpanPtr): void {
  listRemove(u32, c + C_SETS + set * SPAN_LIST_SIZE, s, true);
}

/** First span of a set (for walking it in check()); 0 if empty. */
export function setHead(u32: Uint32Array, c: number, set: number): SpanPtr | 0 {
  return mSpanListFirst(u32, c + C_SETS + set * SPAN_LIST_SIZE);
}
