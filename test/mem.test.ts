// OS memory layer: the four states, the seven transitions, accounting, backends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  OSMemory, MEM_NONE, MEM_RESERVED, MEM_PREPARED, MEM_READY, STAT_OTHER_SYS, STAT_HEAP_RELEASED,
  STAT_GC_MISC_SYS,
} from '../src/mem.js';
import { pageSize } from '../src/sizeclasses.js';
import { IllegalTransitionError, InvalidArgumentError } from '../src/errors.js';

const MiB = 1 << 20;

function snapshot(m: OSMemory) {
  const states: number[] = [];
  for (let p = 0; p < m.reserve; p += pageSize) states.push(m.stateOf(p));
  return { states, counts: [0, 1, 2, 3].map((s) => m.bytesInState(s)), ready: m.mappedReady, len: m.bufferLength,
    stats: [STAT_OTHER_SYS, STAT_HEAP_RELEASED, STAT_GC_MISC_SYS].map((i) => m.stat(i)) };
}

test('boot: header and page table are sysAlloc\'d (Ready) at address 0 and charged to other_sys', () => {
  const m = OSMemory.create({ reserve: 16 * MiB });
  assert.equal(m.stateOf(0), MEM_READY);
  assert.equal(m.stat(STAT_OTHER_SYS), m.bytesInState(MEM_READY));
  assert.equal(m.mapped, m.stat(STAT_OTHER_SYS));
  assert.equal(m.bytesInState(MEM_NONE) + m.bytesInState(MEM_READY), 16 * MiB);
  m.check();
});

test('Go\'s transition chain: sysReserve -> sysMap -> sysUsed -> sysUnused -> sysFault -> sysFree', () => {
  const m = OSMemory.create({ reserve: 16 * MiB });
  const v = m.sysReserve(4 * MiB, 4 * MiB);
  assert.equal(v, 4 * MiB);
  assert.equal(m.stateOf(v), MEM_RESERVED);
  assert.equal(m.bytesInState(MEM_RESERVED), 4 * MiB);
  assert.ok(m.bufferLength < v, 'reserving does not grow the buffer');
  m.sysMap(v, 4 * MiB, STAT_HEAP_RELEASED);
  assert.equal(m.stateOf(v + 4 * MiB - 1), MEM_PREPARED);
  assert.equal(m.stat(STAT_HEAP_RELEASED), 4 * MiB);
  assert.ok(m.bufferLength >= v + 4 * MiB, 'sysMap grows the growable SharedArrayBuffer');
  const readyBefore = m.mappedReady;
  assert.equal(m.sysUsed(v, 2 * pageSize), 2 * pageSize, 'sysUsed reports the Prepared bytes it made Ready');
  assert.equal(m.mappedReady, readyBefore + 2 * pageSize);
  assert.equal(m.sysUsed(v, 3 * pageSize), pageSize, 'sysUsed is idempotent on Ready pages');
  m.sysUnused(v, 3 * pageSize);
  assert.equal(m.stateOf(v), MEM_PREPARED);
  assert.equal(m.mappedReady, readyBefore);
  m.sysUsed(v, pageSize);
  m.sysFault(v, 2 * pageSize); // one Ready + one Prepared page
  assert.equal(m.stateOf(v), MEM_RESERVED);
  assert.equal(m.stateOf(v + pageSize), MEM_RESERVED);
  assert.throws(() => m.assertReady(v, 1), IllegalTransitionError, 'a faulted page fails checked access');
  m.sysFree(v, 4 * MiB, STAT_HEAP_RELEASED);
  assert.equal(m.stateOf(v), MEM_NONE);
  assert.equal(m.stat(STAT_HEAP_RELEASED), 0);
  m.check();
});

test('sysAlloc: None -> Ready at the lowest free address, charged to its stat', () => {
  const m = OSMemory.create({ reserve: 16 * MiB });
  const boot = m.mapped;
  const a = m.sysAlloc(100, STAT_GC_MISC_SYS);
  assert.equal(a, boot, 'first fit right after the boot pages');
  assert.equal(m.stat(STAT_GC_MISC_SYS), pageSize, 'rounded up to a whole 8 KiB page');
  assert.equal(m.stateOf(a), MEM_READY);
  const r = m.sysReserve(a + pageSize, pageSize);
  const b = m.sysAlloc(pageSize, STAT_GC_MISC_SYS);
  assert.equal(b, r + pageSize, 'skips reserved pages');
  assert.equal(m.sysAlloc(32 * MiB, STAT_GC_MISC_SYS), -1, 'no None run big enough -> -1, like Go\'s nil');
  m.check();
});

const illegal: Array<[string, (m: OSMemory, v: number) => void]> = [
  ['sysUsed on Reserved', (m, v) => m.sysUsed(v, pageSize)],
  ['sysUsed on None', (m, v) => m.sysUsed(v + 8 * MiB, pageSize)],
  ['sysUnused on Reserved', (m, v) => m.sysUnused(v, pageSize)],
  ['sysUnused on Prepared', (m, v) => { m.sysMap(v, pageSize, STAT_HEAP_RELEASED); m.sysUnused(v, pageSize); }],
  ['sysMap on None', (m, v) => m.sysMap(v + 8 * MiB, pageSize, STAT_HEAP_RELEASED)],
  ['sysMap on Prepared (twice)', (m, v) => { m.sysMap(v, pageSize, STAT_HEAP_RELEASED); m.sysMap(v, pageSize, STAT_HEAP_RELEASED); }],
  ['sysFault on Reserved', (m, v) => m.sysFault(v, pageSize)],
  ['sysMap over a range that is partly Reserved, partly None', (m, v) => m.sysMap(v + 2 * MiB - pageSize, 2 * pageSize, STAT_HEAP_RELEASED)],
  ['a range beyond the reservation', (m) => m.sysUsed(m.reserve - pageSize, 2 * pageSize)],
];

for (const [name, op] of illegal) {
  test(`illegal transition throws IllegalTransitionError and changes nothing: ${name}`, () => {
    const m = OSMemory.create({ reserve: 16 * MiB });
    const v = m.sysReserve(4 * MiB, 2 * MiB);
    let before = snapshot(m);
    try {
      op(m, v);
      assert.fail('expected IllegalTransitionError');
    } catch (e) {
      assert.ok(e instanceof IllegalTransitionError, `got ${String(e)}`);
    }
    // The failing call itself changed nothing (a preceding legal step may have).
    if (name.includes('Prepared')) { before = snapshot(m); assert.throws(() => op(m, v), IllegalTransitionError); }
    assert.deepEqual(snapshot(m), before);
    m.check();
  });
}

test('misaligned ranges and bad arguments are InvalidArgumentError', () => {
  const m = OSMemory.create({ reserve: 16 * MiB });
  const v = m.sysReserve(4 * MiB, MiB);
  assert.throws(() => m.sysMap(v + 1, pageSize, STAT_HEAP_RELEASED), InvalidArgumentError);
  assert.throws(() => m.sysMap(v, 100, STAT_HEAP_RELEASED), InvalidArgumentError);
  assert.throws(() => m.sysAlloc(-1, STAT_OTHER_SYS), InvalidArgumentError);
  assert.throws(() => OSMemory.create({ reserve: 1000 }), InvalidArgumentError);
  assert.throws(() => OSMemory.create({ reserve: 2 ** 33 }), InvalidArgumentError);
  m.check();
});

test('resizable ArrayBuffer backend really shrinks its top when the top is released', () => {
  const m = OSMemory.create({ reserve: 32 * MiB, backend: 'rab' });
  const v = m.sysReserve(8 * MiB, 8 * MiB);
  m.sysMap(v, 8 * MiB, STAT_HEAP_RELEASED);
  m.sysUsed(v, 8 * MiB);
  assert.equal(m.bufferLength, 16 * MiB);
  m.views.u8[v + 8 * MiB - 1] = 7;
  m.sysUnused(v + 4 * MiB, 4 * MiB);
  assert.equal(m.bufferLength, 12 * MiB, 'top 4 MiB returned');
  m.sysUsed(v + 4 * MiB, 4 * MiB);
  assert.equal(m.bufferLength, 16 * MiB);
  assert.equal(m.views.u8[v + 8 * MiB - 1], 0, 'memory that was really released comes back zeroed');
  m.check();
});

test('WebAssembly.Memory backend grows in wasm pages and views follow the new buffer', () => {
  const m = OSMemory.create({ reserve: 32 * MiB, backend: 'wasm' });
  const oldBuf = m.views.buffer;
  const v = m.sysReserve(8 * MiB, 4 * MiB);
  m.sysMap(v, 4 * MiB, STAT_HEAP_RELEASED);
  m.sysUsed(v, 4 * MiB);
  assert.notEqual(m.views.buffer, oldBuf, 'growing replaced memory.buffer');
  m.views.u8[v + 4 * MiB - 1] = 9;
  assert.equal(new Uint8Array(m.views.memory!.buffer)[v + 4 * MiB - 1], 9);
  m.check();
});
