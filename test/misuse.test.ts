// Misuse of the public API: every wrong type or value gets a GoHeapError subclass, thrown
// before any state changes (check() passes and the heap keeps working afterwards); a
// detached handle refuses every call; reclaimP accepts only a leased P that is not the
// caller's own. (Issue 16 items 3, 4, 6; issue 13's error messages.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Heap, GoHeapError, InvalidArgumentError, InvalidPointerError, InvalidSizeError, DetachedHeapError, DoubleFreeError,
} from '../src/index.js';
import { P_IDLE } from '../src/runtime2.js';
import { OSW_VERSION, P_STATUS } from '../src/layout.js';

const MiB = 1 << 20;
const sym = Symbol('x');
/** Values of every JS type that are not a valid size, pointer or P id. */
const junk: unknown[] = [16n, sym, '16', '', null, undefined, {}, [], [16], true, false, () => 16, NaN, Infinity, -Infinity, 0.5, -1, 2 ** 53];

/** Run fn, expect a GoHeapError of class cls whose message matches re; return the message. */
function throwsTyped(fn: () => unknown, cls: new (...a: never[]) => GoHeapError, re?: RegExp): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${(e as Error).name}: ${(e as Error).message}`);
    if (re !== undefined) assert.match((e as Error).message, re);
    return (e as Error).message;
  }
  assert.fail(`expected ${cls.name}, nothing was thrown`);
}

/** The heap is consistent and still works. */
function healthy(heap: Heap): void {
  heap.check();
  const p = heap.malloc(100);
  heap.u8[p] = 1;
  heap.free(p);
  heap.check();
}

test('malloc, calloc, realloc, free, usableSize, slotSize: every wrong type or value is a typed error, and nothing changes', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const live = heap.malloc(64);
  const before = heap.readMemStats();
  for (const v of junk) {
    const isSize = typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
    if (!isSize) {
      throwsTyped(() => heap.malloc(v as number), InvalidSizeError, /^malloc: /);
      throwsTyped(() => heap.calloc(v as number, 8), InvalidSizeError, /^calloc: /);
      throwsTyped(() => heap.calloc(8, v as number), InvalidSizeError, /^calloc: /);
      throwsTyped(() => heap.realloc(live, v as number), InvalidSizeError, /^realloc: /);
    }
    if (v !== undefined && v !== null && v !== false) {
      throwsTyped(() => heap.free(v as number), InvalidPointerError, /^free: /);
    }
    throwsTyped(() => heap.usableSize(v as number), InvalidPointerError, /^usableSize: /);
    throwsTyped(() => heap.slotSize(v as number), InvalidPointerError, /^slotSize: /);
    throwsTyped(() => heap.realloc(v as number, 8), InvalidPointerError, /^realloc: /);
  }
  const after = heap.readMemStats();
  assert.equal(after.Mallocs, before.Mallocs);
  assert.equal(after.HeapAlloc, before.HeapAlloc);
  assert.equal(heap.usableSize(live), 64);
  healthy(heap);
});

test('free of null, undefined or false is an error, not a no-op (only 0 is nil)', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  for (const v of [null, undefined, false]) throwsTyped(() => heap.free(v as unknown as number), InvalidPointerError, /^free: /);
  heap.free(0);
  healthy(heap);
});

test('error messages show the type of a wrong argument and name the call that failed', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  assert.match(throwsTyped(() => heap.malloc('16' as unknown as number), InvalidSizeError), /got "16" \(a string\)/);
  assert.match(throwsTyped(() => heap.malloc(16n as unknown as number), InvalidSizeError), /got 16n \(a bigint\)/);
  assert.match(throwsTyped(() => heap.malloc(sym as unknown as number), InvalidSizeError), /got Symbol\(x\) \(a symbol\)/);
  // realloc of a freed pointer says realloc (it said "usableSize: ...").
  const p = heap.malloc(40);
  heap.free(p);
  throwsTyped(() => heap.realloc(p, 100), DoubleFreeError, /^realloc: /);
  // A calloc whose total is larger than the reservation says calloc (it said "malloc: size ...").
  throwsTyped(() => heap.calloc(1 << 20, 1 << 20), InvalidSizeError, /^calloc: size 1099511627776 is larger than the heap's whole reservation/);
  throwsTyped(() => heap.realloc(0, 128 * MiB), InvalidSizeError, /^realloc: size /);
  healthy(heap);
});

test('Heap.create boolean options (scavenger, native) and share(reserveP) take only true or false, not truthiness', () => {
  for (const v of [0, 1, 'no', null, sym]) {
    throwsTyped(() => Heap.create({ reserve: 64 * MiB, scavenger: v } as never), InvalidArgumentError, /^Heap\.create: scavenger must be true or false/);
    throwsTyped(() => Heap.create({ reserve: 64 * MiB, native: v } as never), InvalidArgumentError, /^Heap\.create: native must be true or false/);
  }
  const heap = Heap.create({ reserve: 64 * MiB, scavenger: false, native: false });
  assert.equal(heap.scavenger, null);
  assert.equal(heap.releaseMode, 'none');
  throwsTyped(() => heap.share(1 as never), InvalidArgumentError, /^share: reserveP must be true or false, got 1$/);
  heap.check();
});

test('mallocAs and align name a string argument as a string', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  throwsTyped(() => heap.mallocAs(Float64Array, '5' as never), InvalidSizeError, /got "5" \(a string\)$/);
  throwsTyped(() => heap.malloc(16, { align: '8' } as never), InvalidArgumentError, /got "8" \(a string\)$/);
  assert.equal(heap.readMemStats().Mallocs, 0);
  heap.check();
});

test('malloc options: null, a non-object, or a noscan that is not a boolean is an error ({ noscan: 0 } was taken as true)', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  for (const o of [null, 0, 'noscan', sym, 1n]) {
    throwsTyped(() => heap.malloc(16, o as never), InvalidArgumentError, /^malloc: options must be an object/);
    throwsTyped(() => heap.calloc(1, 16, o as never), InvalidArgumentError, /^calloc: options must be an object/);
  }
  for (const n of [0, 1, 'false', null, sym, {}]) {
    throwsTyped(() => heap.malloc(16, { noscan: n } as never), InvalidArgumentError, /noscan must be true or false/);
  }
  assert.equal(heap.readMemStats().Mallocs, 0);
  // The valid forms still work: noscan true/false/undefined, {} and no options.
  const s = heap.malloc(100, { noscan: false }), n = heap.malloc(100, { noscan: true }), d = heap.malloc(100, {});
  assert.notEqual(heap.h.spanOf(s), heap.h.spanOf(n), 'scan and noscan objects live in different span classes');
  assert.equal(heap.h.spanOf(n), heap.h.spanOf(d));
  healthy(heap);
});

test('stackAlloc, stackFree, setGCPercent: wrong types are typed errors', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const st = heap.stackAlloc(4096);
  for (const v of [4096n, sym, '4096', null, {}, 4095, 0.5]) {
    throwsTyped(() => heap.stackAlloc(v as number), InvalidSizeError, /^stackAlloc: /);
    throwsTyped(() => heap.stackFree(st, v as number), InvalidSizeError, /^stackFree: /);
  }
  for (const v of [100n, sym, '100', null, {}, -2, 0.5]) throwsTyped(() => heap.setGCPercent(v as number), InvalidArgumentError, /gcPercent must be an integer/);
  for (const v of [BigInt(st), sym, String(st), null]) throwsTyped(() => heap.stackFree(v as unknown as number, 4096), InvalidPointerError, /^stackFree: /);
  heap.stackFree(st, 4096);
  assert.equal(heap.setGCPercent(50), 100);
  healthy(heap);
});

test('Heap.create: options that are not an object, and options of the wrong type, are InvalidArgumentErrors', () => {
  for (const o of [null, 0, 'sab', sym, 1n, true]) throwsTyped(() => Heap.create(o as never), InvalidArgumentError, /^Heap.create: options must be an object/);
  for (const reserve of [64n * 1024n * 1024n, sym, '67108864', null, {}]) throwsTyped(() => Heap.create({ reserve } as never), InvalidArgumentError, /reserve/);
  for (const gcPercent of [100n, sym, '100', null, 1.5, -2]) throwsTyped(() => Heap.create({ reserve: 64 * MiB, gcPercent } as never), InvalidArgumentError, /gcPercent/);
  for (const maxProcs of [4n, sym, '4', null, 0, 65, 2.5]) throwsTyped(() => Heap.create({ reserve: 64 * MiB, maxProcs } as never), InvalidArgumentError, /maxProcs/);
  for (const backend of [sym, 'SAB', 1, null]) throwsTyped(() => Heap.create({ reserve: 64 * MiB, backend } as never), InvalidArgumentError, /backend/);
  healthy(Heap.create({ reserve: 64 * MiB, gcPercent: -1, maxProcs: 2 }));
});

test('a detached handle throws DetachedHeapError on every call, and a second detach() too; its P is reused safely', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 2 });
  const w = Heap.attach(heap.share());
  const q = w.malloc(16);
  const st = w.stackAlloc(2048);
  w.detach();
  const calls: Array<[string, () => unknown]> = [
    ['malloc', () => w.malloc(16)], ['malloc', () => w.malloc(1 << 20)], ['malloc', () => w.malloc(0)],
    ['calloc', () => w.calloc(2, 8)], ['free', () => w.free(q)], ['realloc', () => w.realloc(q, 32)],
    ['usableSize', () => w.usableSize(q)], ['slotSize', () => w.slotSize(q)], ['stackAlloc', () => w.stackAlloc(2048)],
    ['stackFree', () => w.stackFree(st, 2048)], ['gc', () => w.gc()], ['freeOSMemory', () => w.freeOSMemory()],
    ['setGCPercent', () => w.setGCPercent(50)], ['readMemStats', () => w.readMemStats()], ['readMetrics', () => w.readMetrics()],
    ['check', () => w.check()], ['share', () => w.share()], ['reserveP', () => w.reserveP()], ['pEpoch', () => w.pEpoch(0)],
    ['reclaimP', () => w.reclaimP(0)], ['detach', () => w.detach()],
  ];
  for (const [op, fn] of calls) throwsTyped(fn, DetachedHeapError, new RegExp(`^${op}: this heap handle was detached`));
  // The next attach takes the same P; the old handle cannot touch its mcache.
  const w2 = Heap.attach(heap.share());
  assert.equal(w2.pid, w.pid);
  for (let i = 0; i < 100; i++) w2.malloc(16);
  throwsTyped(() => w.malloc(16), DetachedHeapError);
  heap.check();
  w2.free(q);
  w2.stackFree(st, 2048);
  w2.detach();
  heap.gc();
  heap.check();
  assert.equal(heap.u8.length > 0, true, 'the views stay readable after detach');
});

test('attaching to a buffer of another layout version is InvalidArgumentError, and the heap is unchanged', () => {
  const heap = Heap.create({ reserve: 64 * MiB });
  const p = heap.malloc(100);
  const d = heap.share();
  const u32 = heap.h.views.u32, v = u32[OSW_VERSION]!;
  u32[OSW_VERSION] = v - 1; // a buffer made by the goheap before the span fields moved
  throwsTyped(() => Heap.attach(d), InvalidArgumentError, /unsupported layout version/);
  u32[OSW_VERSION] = v;
  heap.free(p);
  heap.check();
  healthy(heap);
});

test('reclaimP: only an integer P id that is leased and not the caller\'s own; a matching epoch when given', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 4 });
  const d = heap.share(true);
  const w = Heap.attach(d);
  const p = w.malloc(100);
  // Values that used to reclaim P0 (the caller) or a live P, or crash with a RangeError.
  for (const v of [2 ** 30, 2 ** 31, 2 ** 53, 0.5, 1.5, '', null, [], false, true, NaN, Infinity, -Infinity, 'abc', undefined, {}, 1n, sym, -1, 4]) {
    throwsTyped(() => heap.reclaimP(v as number), InvalidArgumentError, /^reclaimP: pid must be an integer P id in 0\.\.3/);
  }
  throwsTyped(() => heap.reclaimP(0), InvalidArgumentError, /its own P/);
  for (const e of [0.5, '1', null, 1n]) throwsTyped(() => heap.reclaimP(d.pid, e as number), InvalidArgumentError, /epoch must be an integer/);
  const i32 = heap.h.views.i32;
  assert.notEqual(Atomics.load(i32, (heap.h.pOf(d.pid) + P_STATUS) >>> 2), P_IDLE, 'the worker\'s P is still leased');
  assert.equal(heap.reclaimP(d.pid, d.epoch + 1), false, 'another lease: not reclaimed');
  assert.equal(heap.reclaimP(3), false, 'a P that was never leased');
  // The worker's P and the caller's are untouched: both keep working.
  w.free(p);
  heap.free(heap.malloc(100));
  heap.check();
  w.detach();
  assert.equal(heap.reclaimP(d.pid, d.epoch), false, 'a detached P is not reclaimed again');
  healthy(heap);
});

test('Heap.attach refuses a descriptor whose pid is not a P id, or whose P was reserved again', () => {
  const heap = Heap.create({ reserve: 64 * MiB, maxProcs: 4 });
  const d = heap.share(true);
  for (const pid of [1.5, '1', null, 4, -2, 1n]) throwsTyped(() => Heap.attach({ ...d, pid } as never), InvalidArgumentError, /pid/);
  assert.equal(heap.reclaimP(d.pid, d.epoch), true, 'the reserved P is given back (its worker never started)');
  const d2 = heap.share(true);
  assert.equal(d2.pid, d.pid);
  throwsTyped(() => Heap.attach(d), InvalidArgumentError, /reserved again/);
  const w = Heap.attach(d2);
  w.free(w.malloc(10));
  w.detach();
  healthy(heap);
});

test('free of an address past the reservation, in the last arena\'s range or beyond 2^32, or not an integer, is InvalidPointerError and changes nothing', () => {
  // freeFast reads the page -> span table without comparing p with the reservation (the
  // arena table covers every u32); what is past the reservation must still be rejected.
  const heap = Heap.create({ reserve: 100 * 2 ** 20 }); // the last arena covers 64..128 MiB
  const p = heap.malloc(24), t = heap.malloc(5);
  const before = heap.readMemStats();
  for (const bad of [100 * 2 ** 20 + 8, 127 * 2 ** 20, 2 ** 32 - 8, 2 ** 32 + p, -8, p + 0.5, NaN, Infinity, p + 8, t + 1]) {
    assert.throws(() => heap.free(bad), InvalidPointerError, String(bad));
  }
  const after = heap.readMemStats();
  assert.equal(after.Frees, before.Frees);
  assert.equal(after.HeapAlloc, before.HeapAlloc);
  heap.free(p);
  heap.free(t);
  heap.check();
});
