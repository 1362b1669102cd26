// A bounded slice of the fuzzing in bench/fuzz.mjs (1,000,000+ cases there): the BTF decoder
// against libbpf's btf__new as the oracle, the map-value renderer on captured map values
// (bpftool as the oracle for unmutated ones) and the tail-call site analyser on captured xlated
// instructions. Each case is time-bounded in a worker with a watchdog, the heap is capped, and a
// failure names (target, seed, case) to replay it alone. (test/btf/btf.test.ts has the decoder's own
// slice.) TAILCALLS_FUZZ_SEED picks another seed.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {fuzz} from '../helpers/fuzz.js'

const seed = Number(process.env.TAILCALLS_FUZZ_SEED ?? 7)

for (const [target, cases] of [
  ['btf-oracle', 2000],
  ['values', 4000],
  ['sites', 4000],
] as const) {
  test(`fuzz slice: ${cases} ${target} cases, no crash, no hang, no wrong value`, async () => {
    const r = await fuzz({cases, chunk: cases, seed, target, workers: 1, caseMs: 10_000, replayMs: 60_000, heapMb: 256})
    assert.deepEqual(
      r.failures.map((f) => f.error),
      [],
    )
    assert.equal(r.cases, cases)
    if (target === 'btf-oracle')
      assert.ok(r.stats.acceptedByLibbpf > 100, 'enough blobs that libbpf accepts to compare against')
  })
}

test('the fuzz runner catches a hang and a memory blow-up, and names the case', async () => {
  const hang = await fuzz({
    cases: 20,
    chunk: 20,
    seed: 1,
    target: 'hang-at-5',
    workers: 1,
    caseMs: 500,
    replayMs: 15_000,
  })
  assert.deepEqual(
    hang.failures.map((f) => f.error),
    ['hang-at-5 seed 1 case 5: a hang (over 15000 ms alone)'],
  )
  assert.equal(hang.cases, 20)
  const oom = await fuzz({cases: 10, chunk: 10, seed: 1, target: 'oom-at-3', workers: 1, heapMb: 32})
  assert.equal(oom.failures.length, 1)
  assert.match(oom.failures[0].error, /oom-at-3 seed 1 case 3: crashed the worker \(ERR_WORKER_OUT_OF_MEMORY/)
  assert.equal(oom.cases, 10)
})
