// The long kill campaign (npm run kill-campaign -- [--rounds N] [--backend sab|wasm|both]
// [--max-kills K] [--per-heap R] [--seed S]): heap workers terminated at random points of
// every kind of operation, 1..K at once, each round followed by reclaim (spawnHeapWorker),
// check() and a check of every recorded object's contents. A campaign that fails or hangs
// is reported and a fresh heap continues the count. Exit status 1 if any round failed or hung.
import { runKillCampaign } from '../test/helpers/kill-campaign.js';
import { opNames } from '../test/helpers/kill-protocol.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const total = Number(arg('rounds', '400'));
const backends = arg('backend', 'both') === 'both' ? ['sab', 'wasm'] as const : [arg('backend', 'sab') as 'sab' | 'wasm'];
const maxKills = Number(arg('max-kills', '4'));
const perHeap = Number(arg('per-heap', '50'));
let seed = Number(arg('seed', String(Date.now() % 1e6)));
const hangMs = Number(arg('hang-ms', '30000'));

let bad = 0;
for (const backend of backends) {
  const sum = { rounds: 0, kills: 0, multi: 0, hangs: 0, failures: 0, objects: 0, byOp: new Array(opNames.length).fill(0), deaths: { heapLock: 0, gcLock: 0, centralLock: 0, sweeping: 0, spanInHand: 0 } };
  while (sum.rounds < total) {
    const rounds = Math.min(perHeap, total - sum.rounds);
    const r = await runKillCampaign({ backend, rounds, maxKills, seed: seed++, hangMs });
    sum.rounds += r.hung || r.failure !== null ? r.rounds + 1 : r.rounds;
    sum.kills += r.kills; sum.multi += r.multiKillRounds; sum.objects += r.objectsChecked;
    r.killsByOp.forEach((n, i) => { sum.byOp[i] += n; });
    for (const k of Object.keys(sum.deaths) as Array<keyof typeof sum.deaths>) sum.deaths[k] += r.deaths[k];
    if (r.hung) { sum.hangs++; console.log(`[${backend} seed ${seed - 1}] HANG in round ${r.rounds}:\n${r.hangState}\n`); }
    if (r.failure !== null) { sum.failures++; console.log(`[${backend} seed ${seed - 1}] FAILURE in round ${r.rounds}:\n${r.failure}\n`); }
    console.log(`${backend}: ${sum.rounds}/${total} rounds, ${sum.kills} kills, ${sum.hangs} hangs, ${sum.failures} check/content failures`);
  }
  console.log(`\n${backend}: ${sum.rounds} rounds (${sum.multi} with 2-${maxKills} kills at once), ${sum.kills} workers killed, ${sum.objects} object checks`);
  console.log(`  killed in: ${opNames.map((n, i) => `${n} ${sum.byOp[i]}`).join(', ')}`);
  console.log(`  died holding: heap lock ${sum.deaths.heapLock}, GC lock ${sum.deaths.gcLock}, an mcentral lock ${sum.deaths.centralLock}, a sweep ${sum.deaths.sweeping}, a span in hand ${sum.deaths.spanInHand}`);
  console.log(`  hangs ${sum.hangs}, check/content failures ${sum.failures}\n`);
  bad += sum.hangs + sum.failures;
}
process.exit(bad > 0 ? 1 : 0);
