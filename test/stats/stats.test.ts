// `tailcalls stats` on the real kernel: kernel run_cnt for the entry program (0 for the
// tail-called ones), and the chain's own per-stage counters, checked exactly against the
// events a reader saw. Also `--pid`, the NDJSON ticks, and a refused stats fd (exit 14).
import assert from 'node:assert/strict'
import {existsSync, readdirSync, rmSync} from 'node:fs'
import {basename, join} from 'node:path'
import {after, test} from 'node:test'

import {BIN, runCli, startCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone, startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

const BPFFS = '/sys/fs/bpf'
const PIN = join(BPFFS, `tailcalls-test-stats-${process.pid}`)

async function cleanup() {
  if (existsSync(PIN)) await runCli(['unload', '--pin-path', PIN])
  for (const e of existsSync(BPFFS) ? readdirSync(BPFFS) : []) {
    if (e.startsWith(`${basename(PIN)}-`)) rmSync(join(BPFFS, e), {force: true, recursive: true})
  }
}

after(cleanup)

/** `tailcalls stats --pid PID --json` once, without the kernel's run-time stats: the chain's own counters. */
async function statsOfPid(pid) {
  const r = await runCli(['stats', '--pid', String(pid), '--json', '--no-kernel-stats', '--interval', '0.05'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout)
}

const jsonLines = (text) =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))

test('stats: prog1 run_cnt > 0, tail-called stages 0, and CHAIN_STATS equals the events seen', needsRoot, async () => {
  const load = await runCli(['load', '--pin', '--pin-path', PIN, '--json'])
  assert.equal(load.code, 0, load.stderr)
  const ids = JSON.parse(load.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
  // A reader from the start: the ring buffer holds every event since the chain was pinned.
  const reader = startCli(['events', '--pin-path', PIN, '--json', '--duration', '120'])
  let readerDone = false
  try {
    await reader.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'the reader')

    // Kernel stats are on only while `stats` runs: execs during its ticks count for prog1.
    const watch = startCli(['stats', '--pin-path', PIN, '--watch', '--json', '--interval', '0.3', '--count', '30'])
    await watch.waitFor((s) => s.stdoutLines.length >= 1, 'the first tick')
    const tgids = await execLoop(100)
    const ticksBefore = watch.state.stdoutLines.length
    await watch.waitFor((s) => s.stdoutLines.length >= ticksBefore + 2, 'two more ticks')
    const result = await watch.stop('SIGINT')
    assert.equal(result.code, 0, result.stderr)
    const ticks = jsonLines(result.stdout)
    assert.ok(ticks.length >= 3)
    const last = ticks.at(-1)
    const prog = (t, name) => t.programs.find((p) => p.name === name)
    assert.deepEqual(
      last.programs.map((p) => p.name),
      ['prog1', 'prog2', 'prog3', 'prog3_v2'],
    )
    assert.equal(last.kernel_stats, 'held fd')
    assert.equal(last.chain.source, 'pinned')
    assert.equal(last.chain.path, PIN)
    assert.equal(prog(last, 'prog1').id, ids.programs.prog1)
    assert.ok(prog(last, 'prog1').run_cnt > 0, 'prog1 run_cnt > 0')
    assert.ok(
      ticks.reduce((a, t) => a + prog(t, 'prog1').run_cnt_delta, 0) >= tgids.length,
      'every exec during the ticks ran prog1',
    )
    assert.ok(prog(last, 'prog1').avg_ns > 0)
    for (const name of ['prog2', 'prog3']) {
      assert.equal(prog(last, name).run_cnt, 0, `${name}: the kernel charges tail calls to prog1`)
      assert.equal(prog(last, name).tail_called, true)
    }

    assert.ok(prog(last, 'prog1').stage_runs >= tgids.length)
    assert.equal(prog(last, 'prog3_v2').stage_runs, 0)
    assert.deepEqual(
      last.tail_call_failed.map((f) => f.total),
      [0, 0],
    )

    // Unpin: prog1 detaches and nothing fires any more; the reader still holds CHAIN_STATS and
    // EVENTS, so the final counters can be read through its pid and compared with what it saw.
    const unload = await runCli(['unload', '--pin-path', PIN, '--json'])
    assert.equal(unload.code, 0, unload.stderr)
    assert.deepEqual(
      JSON.parse(unload.stdout)
        .still_held.map((o) => o.pin)
        .sort(),
      ['CHAIN_STATS', 'EVENTS'],
    )
    const final = await statsOfPid(reader.child.pid)
    assert.equal(final.chain.source, 'pid')
    assert.deepEqual(final.chain.pids, [reader.child.pid])
    assert.equal(final.kernel_stats, 'off')
    assert.deepEqual(final.programs, [], 'the programs are gone; the counters remain')
    assert.deepEqual(
      final.stages.map((st) => st.runs_delta),
      [0, 0, 0, 0],
      'nothing fires after unload',
    )

    // The reader drains; then the per-stage counters equal the events it saw, exactly.
    const counters = await statsOfPid(reader.child.pid)
    const drops = counters.ringbuf_drops.total
    assert.equal(counters.chain.chain_stats_map_id, ids.maps.CHAIN_STATS)
    const stopped = await reader.stop('SIGINT')
    readerDone = true
    assert.equal(stopped.code, 0, stopped.stderr)
    const events = jsonLines(stopped.stdout).filter((e) => e.event === 'stage')
    const seen = {prog1: 0, prog2: 0, prog3: 0}
    for (const e of events) seen[e.prog]++
    const summary = JSON.parse(stopped.stderr.split('\n').find((l) => l.startsWith('{"summary"'))!).summary
    assert.equal(summary.ringbuf_drops, 0, 'no drops while reading')
    assert.equal(drops, 0, 'no drops since the chain was pinned')
    // Every exec since the pin ran all three stages, and the reader saw each stage event.
    assert.equal(seen.prog1, seen.prog2)
    assert.equal(seen.prog2, seen.prog3)
    assert.ok(seen.prog1 >= tgids.length)
    const runs = Object.fromEntries(counters.stages.map((st) => [st.name, st.runs]))
    assert.deepEqual(runs, {...seen, prog3_v2: 0}, 'CHAIN_STATS runs per stage == the events seen per stage')
    await assertGone(ids)
  } finally {
    if (!readerDone) await reader.stop('SIGINT')
    await cleanup()
  }
})

test('stats --pid reads the chain of a running `tailcalls load`', needsRoot, async () => {
  const chain = await startChain()
  try {
    const statsRun = runCli(['stats', '--pid', String(chain.cli.child.pid), '--json', '--interval', '1'])
    await execLoop(30)
    const r = await statsRun
    assert.equal(r.code, 0, r.stderr)
    const tick = JSON.parse(r.stdout)
    assert.equal(tick.chain.source, 'pid')
    assert.equal(tick.chain.chain_stats_map_id, chain.ids.maps.CHAIN_STATS)
    assert.deepEqual(
      tick.programs.map((p) => [p.name, p.id]),
      Object.entries(chain.ids.programs),
    )
    assert.ok(tick.stages.find((s) => s.name === 'prog3').runs > 0)
  } finally {
    const end = await chain.finish()
    assert.equal(end.code, 0)
  }
})

test('stats errors: refused stats fd (14), missing chain (5), bad flags (2): one line each', needsRoot, async () => {
  const load = await runCli(['load', '--pin', '--pin-path', PIN])
  assert.equal(load.code, 0, load.stderr)
  try {
    // Without CAP_SYS_ADMIN the kernel refuses BPF_ENABLE_STATS (CAP_BPF still reads the pins).
    const refused = await runCli(['stats', '--pin-path', PIN], {
      command: 'setpriv',
      prefix: ['--bounding-set', '-sys_admin', process.execPath, BIN],
    })
    assert.equal(refused.code, 14, refused.stderr)
    assert.match(
      refused.stderr,
      /^tailcalls: error: the kernel refused to enable BPF run-time stats \(BPF_ENABLE_STATS\): EPERM.*CAP_SYS_ADMIN/,
    )
    assert.equal(refused.stderr.trimEnd().split('\n').length, 1)
    assert.equal(refused.stdout, '')
  } finally {
    await cleanup()
  }

  const missing = await runCli(['stats', '--pin-path', PIN])
  assert.equal(missing.code, 5)
  assert.match(missing.stderr, /^tailcalls: error: no pinned chain at /)
  const both = await runCli(['stats', '--pin-path', PIN, '--pid', '1'])
  assert.equal(both.code, 2)
  assert.match(both.stderr, /--pid and --pin-path/)
  const interval = await runCli(['stats', '--interval', 'soon', '--json'])
  assert.equal(interval.code, 2)
  assert.match(interval.stdout, /^\{"error":".*--interval/)
  const noPid = await runCli(['stats', '--pid', '999999999'])
  assert.equal(noPid.code, 5)
  assert.match(noPid.stderr, /no process with pid 999999999/)
})
