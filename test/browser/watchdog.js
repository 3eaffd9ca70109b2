// Diagnostics only: a Worker that never touches the allocator, only reads shared words.
// While the page's main thread has not turned its event loop for 2 s, it logs every 2 s
// (with ?debug=1: always, every 500 ms) who is where: what the page is doing, the workers'
// progress, the holders of the heap's locks (as P ids) and the sweepers word. The test
// fails on these lines and prints them.
self.onmessage = (e) => {
  const { heap, locks, sweepersWord /* an i32 index */, pageBeat, killerState, ctl, debug } = e.data;
  const i32 = new Int32Array(heap);
  const beat = new Int32Array(pageBeat), kst = new Int32Array(killerState), c = new Int32Array(ctl);
  let last = -1, since = performance.now(), reportedAt = 0;
  setInterval(() => {
    const b = Atomics.load(beat, 0);
    const now = performance.now();
    if (b !== last) { last = b; since = now; }
    const stuck = now - since > 2000;
    if (debug || (stuck && now - reportedAt >= 2000)) {
      reportedAt = now;
      const held = [];
      for (const [name, off] of locks) {
        const v = Atomics.load(i32, off >>> 2);
        if (v !== 0) held.push(`${name}:P${(v >>> 1) - 1}${v & 1 ? '+sleepers' : ''}`);
      }
      const sw = Atomics.load(i32, sweepersWord);
      console.log(`[goheap watchdog] page ${stuck ? `STUCK for ${Math.round(performance.now() - since)} ms` : 'alive'} in ${['its event loop (no heap call)', 'its own mallocs/frees', 'freeing objects sent back', 'reclaimP', 'the final checks'][Atomics.load(beat, 1)]}, beat ${b}; killer ops ${kst[0]} op ${kst[1]}; stress ops ${c[1]},${c[2]} release ${c[0]}; sweepers ${sw & 0x7fffffff}${sw < 0 ? ' (gc pending)' : ''}; locks held: ${held.join(' ') || 'none'}`);
    }
  }, debug ? 500 : 250);
};
