// The chain end to end, on the real kernel: every exec runs prog1 → prog2 → prog3 with
// the seed's counters; failed tail calls are reported; signals exit cleanly; nothing leaks.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {test} from 'node:test'

import {runCli, startCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone, bpftoolJson, startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

const EXECS = 200

/** Group a run's events by tgid, keeping arrival order. */
function byTgid(events, tgids) {
  const want = new Set(tgids)
  const groups = new Map()
  for (const e of events) {
    if (!want.has(e.tgid)) continue
    if (!groups.has(e.tgid)) groups.set(e.tgid, [])
    groups.get(e.tgid).push(e)
  }

  return groups
}

test('every exec runs prog1 → prog2 → prog3 with the seed counters', needsRoot, async () => {
  const chain = await startChain()
  let finished = false
  try {
    const tgids = await execLoop(EXECS, {workers: 2})
    assert.equal(tgids.length, EXECS)
    await chain.waitForTgids(tgids)
    const groups = byTgid(chain.events(), tgids)
    for (const tgid of tgids) {
      const evs = groups.get(tgid)
      assert.deepEqual(
        evs.map((e) => e.prog),
        ['prog1', 'prog2', 'prog3'],
        `stages of tgid ${tgid}`,
      )
      assert.deepEqual(
        evs.map((e) => e.per_event_count),
        [1, 2, 3],
        `per_event_count of tgid ${tgid}`,
      )
      assert.ok(evs.every((e) => e.level === 'INFO' && e.event === 'stage'))
      // One exec runs on one CPU: the chain never switches CPUs between tail calls.
      assert.equal(new Set(evs.map((e) => e.cpu_id)).size, 1, `one CPU for tgid ${tgid}`)
      // total_count is a per-CPU running total that each stage bumps by exactly one.
      assert.equal(evs[1].total_count, evs[0].total_count + 1)
      assert.equal(evs[2].total_count, evs[1].total_count + 1)
      assert.match(evs[0].timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/)
    }

    // Per CPU, the totals over all events (ours and any other exec on the machine) are 1, 2, 3, …
    const perCpu = new Map()
    for (const e of chain.events()) {
      if (e.event !== 'stage') continue
      const last = perCpu.get(e.cpu_id)
      if (last !== undefined) assert.equal(e.total_count, last + 1, `total_count on cpu ${e.cpu_id}`)
      perCpu.set(e.cpu_id, e.total_count)
    }

    const result = await chain.finish()
    finished = true
    assert.equal(result.code, 0, result.stderr)
    assert.match(result.stderr, /Exiting\.\.\.\n$/)
    const all = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    const s = result.summary
    assert.equal(s.stop_reason, 'signal')
    assert.equal(s.ringbuf_drops, 0)
    assert.equal(s.events_total, all.length)
    for (const p of ['prog1', 'prog2', 'prog3']) {
      assert.equal(s.events[p], all.filter((e) => e.prog === p && e.event === 'stage').length, `summary count of ${p}`)
      // Exact loss accounting: what the chain's own counters saw is what we received.
      assert.equal(s.stage_runs[p], s.events[p], `kernel-side runs of ${p}`)
    }

    assert.deepEqual(s.tail_call_failed, [0, 0])
  } finally {
    if (!finished) await chain.cli.stop('SIGKILL')
  }
})

test('text mode prints the seed log lines on stdout and status on stderr', needsRoot, async () => {
  const cli = startCli(['load', '--duration', '60'])
  await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'start')
  const loaded = cli.state.stderrLines.find((l) => l.startsWith('Loaded '))
  const tgids = await execLoop(5)
  await cli.waitFor(
    (s) => tgids.every((t) => s.stdoutLines.filter((l) => l.includes(`tgid: ${t},`)).length === 3),
    'lines',
  )
  const result = await cli.stop('SIGTERM')
  assert.equal(result.code, 0, result.stderr)
  const mine = result.stdout.split('\n').filter((l) => tgids.some((t) => l.includes(`tgid: ${t},`)))
  assert.equal(mine.length, 15)
  const re =
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z {2}INFO ebpf::progs: \[prog([123])\] cpu_id: \d+, tgid: (\d+), per_event_count: ([123]), total_count: \d+$/
  for (const line of mine) {
    const m = re.exec(line)
    assert.ok(m, `seed format: ${line}`)
    assert.equal(m[1], m[3], 'stage n has per_event_count n')
  }

  assert.ok(
    result.stdout
      .split('\n')
      .filter(Boolean)
      .every((l) => re.test(l)),
    'stdout carries only event lines',
  )
  assert.match(
    result.stderr,
    /^Summary: \d+ events in [\d.]+ s \(prog1 \d+, prog2 \d+, prog3 \d+\); failed tail calls: 0; ring-buffer drops: 0$/m,
  )
  assert.match(result.stderr, /Exiting\.\.\.\n$/)
  const ids = {
    link: Number(/link id (\d+)/.exec(loaded!)![1]),
    maps: {TAIL_CALL_MAP: Number(/TAIL_CALL_MAP \(id (\d+)\)/.exec(loaded!)![1])},
    programs: Object.fromEntries([...loaded!.matchAll(/(prog\w*) \(id (\d+)\)/g)].map((m) => [m[1], Number(m[2])])),
  }
  await assertGone(ids)
})

test('an emptied slot 1 makes prog2 report a failed tail call, and it is counted', needsRoot, async () => {
  const chain = await startChain()
  let finished = false
  try {
    // Delete slot 1 behind the CLI's back, by the map's id (bpftool is the independent peer).
    execFileSync('bpftool', ['map', 'delete', 'id', String(chain.ids.maps.TAIL_CALL_MAP), 'key', '1', '0', '0', '0'])
    const dump = bpftoolJson(['map', 'dump', 'id', String(chain.ids.maps.TAIL_CALL_MAP)])
    assert.equal(dump.length, 1, 'only slot 0 is left')
    const tgids = await execLoop(20)
    await chain.waitForTgids(tgids)
    const groups = byTgid(chain.events(), tgids)
    for (const tgid of tgids) {
      const evs = groups.get(tgid)
      assert.deepEqual(
        evs.map((e) => [e.prog, e.event]),
        [
          ['prog1', 'stage'],
          ['prog2', 'stage'],
          ['prog2', 'tail_call_failed'],
        ],
      )
      assert.equal(evs[2].level, 'ERROR')
      assert.equal(evs[2].slot, 1)
      assert.equal(evs[2].per_event_count, 2)
    }

    const result = await chain.finish('SIGTERM')
    finished = true
    assert.equal(result.code, 0)
    const failures = result.stdout.split('\n').filter((l) => l.includes('"tail_call_failed"')).length
    assert.ok(failures >= 20)
    assert.equal(result.summary.tail_call_failed[1], failures)
    assert.equal(result.summary.tail_call_failed[0], 0)
    // prog3 may have run for other execs on the machine before the slot was emptied.
    assert.equal(
      result.summary.events.prog3,
      result.stdout.split('\n').filter((l) => l.includes('"prog":"prog3"')).length,
    )
  } finally {
    if (!finished) await chain.cli.stop('SIGKILL')
  }
})

test('the ERROR line of a failed tail call in text mode', needsRoot, async () => {
  const cli = startCli(['load', '--duration', '60'])
  await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'start')
  const loaded = cli.state.stderrLines.find((l) => l.startsWith('Loaded '))
  const mapId = /TAIL_CALL_MAP \(id (\d+)\)/.exec(loaded!)![1]!
  execFileSync('bpftool', ['map', 'delete', 'id', mapId, 'key', '0', '0', '0', '0'])
  const [tgid] = await execLoop(1)
  await cli.waitFor((s) => s.stdoutLines.some((l) => l.includes(`tgid: ${tgid},`) && l.includes('ERROR')), 'error line')
  const result = await cli.stop('SIGINT')
  assert.equal(result.code, 0)
  const line = result.stdout.split('\n').find((l) => l.includes(`tgid: ${tgid},`) && l.includes('ERROR'))
  assert.match(
    line!,
    /Z ERROR ebpf::progs: \[prog1\] tail_call failed: TAIL_CALL_MAP\[0\] is empty, cpu_id: \d+, tgid: \d+, per_event_count: 1, total_count: \d+$/,
  )
  assert.match(result.stderr, /failed tail calls: [1-9]\d* \(slot 0: [1-9]\d*, slot 1: 0\)/)
})

test('--count and --duration stop by themselves and free everything', needsRoot, async () => {
  const cli = startCli(['load', '--json', '--count', '6'])
  const loadedLine = await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'loaded')
  await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'waiting')
  // Execs until the CLI has its 6 events and exits.
  const pump = setInterval(() => execLoop(1), 50)
  const result = await cli.exited
  clearInterval(pump)
  assert.equal(result.code, 0, result.stderr)
  assert.equal(result.stdout.trim().split('\n').length, 6)
  const summary = JSON.parse(result.stderr.split('\n').find((l) => l.startsWith('{"summary"'))!).summary
  assert.equal(summary.stop_reason, 'count')
  await assertGone(JSON.parse(loadedLine).loaded)

  const timed = await runCli(['load', '--duration', '1'])
  assert.equal(timed.code, 0, timed.stderr)
  assert.match(timed.stderr, /Summary: /)
})
