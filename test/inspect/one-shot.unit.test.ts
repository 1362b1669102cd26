// The listing wrapper that switches TurboFan off part-way through a long listing
// (src/inspect/one-shot.ts): every item passes through unchanged and in order, the switch happens
// once, at the N-th item and not before, and a consumer that stops early still closes the listing
// (its fds are closed in the generator's finally). The CPU effect is measured by
// bench/prog-list.mjs, not here.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {test} from 'node:test'

import {oneShotListing} from '../../src/inspect/one-shot.js'

test('items pass through in order; the switch happens once, at the N-th item', () => {
  const seen: number[] = []
  let offAt: number | undefined
  let offs = 0
  for (const x of oneShotListing([1, 2, 3, 4, 5], 3, () => {
    offs++
    offAt = seen.length
  }))
    seen.push(x)
  assert.deepEqual(seen, [1, 2, 3, 4, 5])
  assert.equal(offs, 1)
  assert.equal(offAt, 2, 'switched before the third item was handed over, not earlier')
})

test('a short listing never switches', () => {
  let offs = 0
  assert.deepEqual([...oneShotListing([1, 2], 3, () => offs++)], [1, 2])
  assert.equal(offs, 0)
})

test('stopping early closes the listing underneath', () => {
  let closed = false
  function* listing(): Generator<number> {
    try {
      yield 1
      yield 2
    } finally {
      closed = true
    }
  }

  for (const x of oneShotListing(listing(), 10, () => {})) if (x === 1) break
  assert.ok(closed)
})

test('the real switch turns V8 optimisation off in the process that lists', () => {
  // In a child, so this runner keeps TurboFan: a function called often enough to be optimised
  // stays unoptimised after the switch (%GetOptimizationStatus bit 16: "TurboFanned").
  const run = (after: number): string => {
    const src = `
    const {oneShotListing} = await import(${JSON.stringify(new URL('../../src/inspect/one-shot.ts', import.meta.url).href)})
    for (const _ of oneShotListing([1, 2], ${after})) {}
    function hot(x) { return x * 2 + 1 }
    %PrepareFunctionForOptimization(hot);
    hot(1); hot(2);
    %OptimizeFunctionOnNextCall(hot);
    hot(3);
    console.log((%GetOptimizationStatus(hot) & 16) !== 0 ? 'optimised' : 'not optimised')
  `
    const r = spawnSync(
      process.execPath,
      ['--allow-natives-syntax', '--import', 'tsx', '--input-type=module', '-e', src],
      {
        encoding: 'utf8',
      },
    )
    assert.equal(r.status, 0, r.stderr)
    return r.stdout.trim()
  }

  assert.equal(run(2), 'not optimised')
  assert.equal(run(3), 'optimised', 'the control: a listing shorter than the threshold keeps TurboFan')
})
