// The kill campaign, bounded (the long one: npm run kill-campaign): four heap workers run
// every kind of operation (small, tiny, large, stacks, gc, freeOSMemory, growth); each round
// 1-4 of them are terminated at once at a random moment and reclaimed by spawnHeapWorker,
// then check() runs and every object the workers recorded is verified (the dead workers'
// objects are freed). Outcomes only: no hang, check() passes, contents intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runKillCampaign } from './helpers/kill-campaign.js';

for (const backend of ['sab', 'wasm'] as const) {
  test(`kill campaign (${backend}): 8 rounds of 1-4 workers terminated at once; no hang, check() and every object's contents pass`, { timeout: 300_000 }, async () => {
    const r = await runKillCampaign({ backend, rounds: 8, maxKills: 4, seed: backend === 'sab' ? 11 : 12, hangMs: 60_000, reserve: 256 << 20 });
    assert.equal(r.hung, false, `hung: ${r.hangState}`);
    assert.equal(r.failure, null);
    assert.equal(r.rounds, 8);
    assert.ok(r.kills >= 8, `${r.kills} workers killed`);
    assert.ok(r.objectsChecked > 0);
  });
}
