// A bounded slice of the object-file fuzzing (bench/fuzz-object.mjs runs 1,000,000 cases): mutated
// BPF objects through the reader behind `graph --object` give a graph or one ObjectError naming
// a byte offset, never another exception, a hang or a heap blow-up. TAILCALLS_FUZZ_SEED picks
// another seed.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {fuzz} from '../helpers/fuzz.js'

const seed = Number(process.env.TAILCALLS_FUZZ_SEED ?? 20261130)

test('fuzz slice: 3000 mutated objects, no crash, no hang, only offset-naming errors', async () => {
  const r = await fuzz({
    cases: 3000,
    caseMs: 10_000,
    chunk: 3000,
    heapMb: 256,
    replayMs: 60_000,
    seed,
    target: 'object',
    workers: 1,
  })
  assert.deepEqual(r.failures, [])
  assert.equal(r.cases, 3000)
  // Both outcomes occur: the slice exercises the decoder, not only its first check.
  assert.ok(r.stats.decoded > 0 && r.stats.refused > 0, JSON.stringify(r.stats))
})
