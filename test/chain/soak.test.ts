// Loss accounting on the real kernel (bounded; the 100k soak is bench/soak.mjs):
// every exec's three stages arrive with the seed's counters or the loss is counted, and
// received + dropped == the chain's own run counters, exactly. Overload on purpose (a 4 KiB
// ring and a reader that stops reading a real pipe): drops happen, are counted exactly and
// reported, and the stream recovers when the reader resumes. A full pipe never delays a
// signal: the chain is freed at once, and the output waits for the reader afterwards.
import assert from 'node:assert/strict'
import {test} from 'node:test'
import {setTimeout as sleep} from 'node:timers/promises'

import {buildFixture} from '../helpers/bpf-fixture.js'
import {runCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone} from '../helpers/kernel.js'
import {until} from '../helpers/progress.js'
import {buildStorm, checkAccounting, runStorm, soakRound, startLoad} from '../helpers/soak.js'
import {needsRoot} from '../helpers/root.js'

buildStorm()

const SOAK_EXECS = Number(process.env.TAILCALLS_SOAK_EXECS ?? 5000)

test(`soak: ${SOAK_EXECS} execs from 4 workers, every stage accounted for exactly`, needsRoot, async () => {
  const r = await soakRound({execs: SOAK_EXECS, workers: 4})
  assert.deepEqual(r.problems, [])
  if (r.drops === 0) assert.ok(r.complete >= SOAK_EXECS, `${r.complete} complete chains for ${SOAK_EXECS} execs`)
  // Loaded machines may drop a few; the identity above holds either way. Say what happened.
  console.log(
    `# soak: ${r.execs} execs at ${r.execRate}/s, ${r.events} events, ${r.drops} drops, ${r.complete} complete chains`,
  )
})

test(
  'overload: a 4 KiB ring and a stalled pipe reader drop events, counted exactly; the stream recovers',
  needsRoot,
  async () => {
    const load = startLoad(['--ringbuf-size', '4096'], {fifo: true})
    const ids = await load.ready
    let stopped
    try {
      // The reader stalls: the pipe fills, the CLI stops draining the ring, the ring overflows.
      load.stdout.pause()
      const first = await runStorm(1500, 4)
      await sleep(1200) // at least one drop check (1 s) while stalled
      load.stdout.resume()
      await until(() => load.seen.dropRecords > 0, 'a ringbuf_drops record', {progress: load.progress})
      const dropsWhileStalled = load.seen.dropTotal
      assert.ok(dropsWhileStalled > 0, 'the stalled reader caused drops')

      // Recovered: a gentle load now arrives whole, with no new drops. The chain sees every exec
      // on the machine, and on a busy one other processes' execs can overflow a 4 KiB ring on
      // their own: each round must arrive whole, and one of at most three must add no drops.
      const second: number[] = []
      const dropsPerRound: number[] = []
      for (let round = 0; round < 3 && dropsPerRound.at(-1) !== 0; round++) {
        await sleep(300)
        const before = load.seen.dropTotal
        const {pids} = await runStorm(200, 1)
        await until(() => pids.every((p) => (load.seen.byTgid.get(p)?.length ?? 0) === 12), 'the second storm', {
          progress: load.progress,
        })
        second.push(...pids)
        dropsPerRound.push(load.seen.dropTotal - before)
      }

      assert.equal(dropsPerRound.at(-1), 0, `no drops once the reader reads again (drops per round: ${dropsPerRound})`)

      stopped = await load.stop('SIGINT')
      assert.equal(stopped.code, 0, stopped.stderr)
      const s = stopped.summary
      const check = checkAccounting(load.seen, s, [...first.pids, ...second])
      assert.deepEqual(check.problems, [])
      assert.ok(s.ringbuf_drops >= dropsWhileStalled)
      assert.equal(check.complete >= 200, true)
      await assertGone(ids)
    } finally {
      if (!stopped) {
        load.stdout.resume()
        await load.stop('SIGKILL')
      }
    }
  },
)

/**
 * A chain whose reader stops reading a real pipe: ~9000 lines (far more than a 64 KiB pipe holds)
 * are produced, then `signal` is sent; `body` runs once the chain says it waits for the reader.
 * Kernel objects must not wait for the reader, so `body` may check they are gone before it
 * resumes reading. If `body` fails, the load is killed.
 */
async function withStalledReader(
  signal: NodeJS.Signals,
  body: (
    load: ReturnType<typeof startLoad>,
    ids: Awaited<ReturnType<typeof startLoad>['ready']>,
    stormPids: number[],
  ) => Promise<void>,
): Promise<void> {
  const load = startLoad([], {fifo: true})
  const ids = await load.ready
  try {
    load.stdout.pause()
    const storm = await runStorm(3000, 4)
    await sleep(300)
    load.child.kill(signal)
    await until(() => load.stderr().includes('{"waiting_for_reader"'), 'the waiting_for_reader line', {
      progress: load.progress,
    })
    await body(load, ids, storm.pids)
  } finally {
    if (load.child.exitCode === null && load.child.signalCode === null) {
      load.stdout.resume()
      await load.stop('SIGKILL')
    }
  }
}

test(
  'a full pipe does not delay a signal: the chain is freed at once, the output is delivered when the reader resumes',
  needsRoot,
  () =>
    withStalledReader('SIGTERM', async (load, ids, stormPids) => {
      // Nothing is read yet, and still the kernel objects are gone.
      await assertGone(ids)
      assert.equal(load.child.exitCode, null, 'still running: it waits for the reader')
      load.stdout.resume()
      const stopped = await load.stop(null)
      assert.equal(stopped.code, 0, stopped.stderr)
      const s = stopped.summary
      assert.ok(s, 'the summary line')
      assert.equal(s.stop_reason, 'signal')
      assert.equal(s.signal, 'SIGTERM')
      assert.equal(s.undelivered, 0)
      assert.deepEqual(checkAccounting(load.seen, s, stormPids).problems, [])
    }),
)

test('a reader that never resumes: a second signal exits, and the undelivered events are counted', needsRoot, () =>
  withStalledReader('SIGINT', async (load, ids) => {
    await assertGone(ids)
    load.child.kill('SIGINT')
    await load.quit
    assert.equal(load.child.exitCode, 0, load.stderr())
    load.stdout.resume() // read what the pipe held
    const stopped = await load.stop(null)
    const s = stopped.summary
    assert.ok(s, 'the summary line')
    assert.ok(s.undelivered > 0, 'events were left undelivered')
    const received = load.seen.stage + load.seen.tailCallFailed
    assert.ok(
      received >= s.events_total - s.undelivered && received <= s.events_total,
      `${received} received, ${s.events_total} counted, ${s.undelivered} undelivered`,
    )
    // The kernel-side identity holds regardless of what stdout did.
    assert.equal(
      s.events_total + s.unprinted + s.ringbuf_drops,
      Object.values<number>(s.stage_runs).reduce((a, b) => a + b, 0),
    )
    await assertGone(ids)
  }),
)

test(
  'records of the wrong size (another object via --object) are skipped and counted, never decoded',
  needsRoot,
  async () => {
    const built = buildFixture('odd-events')
    try {
      const load = startLoad(['--object', built.path])
      const ids = await load.ready
      let stopped
      try {
        await execLoop(30)
        await sleep(200)
        stopped = await load.stop('SIGINT')
      } finally {
        if (!stopped) await load.stop('SIGKILL')
      }

      assert.equal(stopped.code, 0, stopped.stderr)
      const s = stopped.summary
      assert.equal(s.events_total, 0, 'nothing decoded')
      assert.equal(load.seen.lines, 0)
      const runs = Object.values<number>(s.stage_runs).reduce((a, b) => a + b, 0)
      assert.ok(runs >= 90)
      assert.equal(s.malformed_records + s.ringbuf_drops, runs, 'every run is accounted for')
      await assertGone(ids)
      const text = await runCli(['load', '--object', built.path, '--duration', '1'])
      assert.match(text.stderr, /records of the wrong size skipped|Summary: 0 events/)
    } finally {
      built.cleanup()
    }
  },
)
