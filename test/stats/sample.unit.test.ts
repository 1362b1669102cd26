// Sample arithmetic (src/stats/sample.ts) on hand-made samples: totals, deltas, rates and
// averages per program and per stage, the tail-called stages the kernel's run_cnt cannot see,
// and failed tail calls named by the slot's program. takeSample reads the kernel and is
// covered by stats.test.ts; makeTick is pure.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import type {ChainStats} from '../../src/chain/chain.js'
import {type Sample, makeTick} from '../../src/stats/sample.js'
import type {StatsTarget} from '../../src/stats/target.js'

const SECOND = 1_000_000_000n

function target(names: string[]): StatsTarget {
  return {
    chainStats: () => assert.fail('makeTick reads the samples, not the target'),
    chainStatsId: 42,
    close() {},
    path: '/sys/fs/bpf/tailcalls',
    programs: names.map((name, i) => ({fd: -1, id: 100 + i, name})) as StatsTarget['programs'],
    source: 'pinned',
  }
}

function sample(at: bigint, progs: Record<number, [bigint, bigint]>, chain: ChainStats): Sample {
  return {
    at,
    chain,
    progs: new Map(Object.entries(progs).map(([id, [runCnt, runTimeNs]]) => [Number(id), {runCnt, runTimeNs}])),
  }
}

const t = target(['prog1', 'prog2', 'prog3'])
const prev = sample(
  10n * SECOND,
  {100: [1000n, 500_000n], 101: [0n, 0n], 102: [0n, 0n]},
  {ringbufDrops: 3, runs: {prog1: 1000, prog2: 990, prog3: 980}, tailCallFailed: [10, 10]},
)
const cur = sample(
  12n * SECOND,
  {100: [3000n, 1_700_000n], 101: [0n, 0n], 102: [0n, 0n]},
  {ringbufDrops: 7, runs: {prog1: 3000, prog2: 2985, prog3: 2960, prog3_v2: 5}, tailCallFailed: [15, 30]},
)

test('per program: kernel totals, deltas over the interval, rates and averages', () => {
  const tick = makeTick(t, prev, cur, true)
  assert.equal(tick.interval_s, 2)
  assert.equal(tick.kernel_stats, 'held fd')
  assert.equal(makeTick(t, prev, cur, false).kernel_stats, 'off')
  assert.deepEqual(tick.chain, {
    chain_stats_map_id: 42,
    path: '/sys/fs/bpf/tailcalls',
    pids: undefined,
    source: 'pinned',
  })
  const [p1, p2] = tick.programs
  assert.deepEqual(p1, {
    avg_ns: 566.7, // 1.7 ms over 3000 runs, one decimal
    avg_ns_interval: 600, // 1.2 ms over the 2000 runs of the interval
    events_per_s: 1000,
    id: 100,
    name: 'prog1',
    run_cnt: 3000,
    run_cnt_delta: 2000,
    run_time_ns: 1_700_000,
    run_time_ns_delta: 1_200_000,
    stage_runs: 3000,
    stage_runs_delta: 2000,
    stage_runs_per_s: 1000,
    tail_called: false,
  })
  // prog2 only runs through a tail call: run_cnt 0, no average, flagged, the chain's counter instead.
  assert.equal(p2?.run_cnt, 0)
  assert.equal(p2?.avg_ns, null)
  assert.equal(p2?.avg_ns_interval, null)
  assert.equal(p2?.events_per_s, 0)
  assert.equal(p2?.tail_called, true)
  assert.equal(p2?.stage_runs_delta, 1995)
  assert.equal(p2?.stage_runs_per_s, 997.5)
})

test('per stage: every stage the chain counted, even one whose program is not loaded', () => {
  const tick = makeTick(t, prev, cur, true)
  assert.deepEqual(tick.stages, [
    {name: 'prog1', runs: 3000, runs_delta: 2000, runs_per_s: 1000},
    {name: 'prog2', runs: 2985, runs_delta: 1995, runs_per_s: 997.5},
    {name: 'prog3', runs: 2960, runs_delta: 1980, runs_per_s: 990},
    {name: 'prog3_v2', runs: 5, runs_delta: 5, runs_per_s: 2.5},
  ])
})

test('failed tail calls are named by the program their slot holds; drops as total and delta', () => {
  const tick = makeTick(t, prev, cur, true)
  assert.deepEqual(tick.tail_call_failed, [
    {delta: 5, slot: 0, target: 'prog2', total: 15},
    {delta: 20, slot: 1, target: 'prog3', total: 30},
  ])
  assert.deepEqual(tick.ringbuf_drops, {delta: 4, total: 7})
  assert.ok(!Number.isNaN(Date.parse(tick.timestamp)))
})

test('a zero-length interval gives rates of 0, never Infinity or NaN; a program missing from a sample counts as unchanged', () => {
  const same = makeTick(t, cur, cur, true)
  assert.equal(same.interval_s, 0)
  for (const p of same.programs) {
    assert.equal(p.events_per_s, 0)
    assert.equal(p.run_cnt_delta, 0)
  }

  assert.ok(same.stages.every((s) => s.runs_per_s === 0 && s.runs_delta === 0))
  // prog1 vanished from the newer sample (unloaded between ticks): its last totals, delta 0.
  const gone = sample(13n * SECOND, {101: [0n, 0n], 102: [0n, 0n]}, cur.chain)
  const p1 = makeTick(t, cur, gone, true).programs[0]
  assert.equal(p1?.run_cnt, 3000)
  assert.equal(p1?.run_cnt_delta, 0)
  // A program with no previous sample (just attached) counts from 0.
  const fresh = makeTick(t, sample(10n * SECOND, {}, prev.chain), prev, true).programs[0]
  assert.equal(fresh?.run_cnt_delta, 1000)
})
