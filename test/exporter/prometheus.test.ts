// The proof with real parts: the bundled chain runs (`tailcalls load`), the exporter serves the
// node, a real Prometheus (Debian's package, on a loopback port, temporary config and data) scrapes
// it every second, and PromQL over Prometheus's HTTP API sees what happened in the kernel:
// stage runs rising with our execs, a slot's program changing after `map update`, the empty-slot
// count rising after `map delete` (and the chain counting the tail calls that fell through),
// ring-buffer drops after an overload. `promtool check metrics` passes on a scrape.
//
// Other chains may be loaded on this machine by concurrent tests: every query names our ids.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {startChain} from '../helpers/kernel.js'
import {num, promtool, sample, scrape, startExporter, startPrometheus} from './helpers.js'

test('Prometheus scrapes the exporter while the chain runs, swaps and loses a slot', async () => {
  // A 4 KiB ring buffer so that a paused reader makes the chain drop events (the overload step).
  const step = (s: string) =>
    process.env.TAILCALLS_TEST_TRACE && process.stderr.write(`# ${new Date().toISOString()} ${s}\n`)
  const chain = await startChain(['--ringbuf-size', '4096'])
  step('chain loaded')
  const exporter = await startExporter(['--enable-stats'])
  const prom = await startPrometheus(
    `  - job_name: tailcalls\n    static_configs:\n      - targets: ['127.0.0.1:${exporter.port}']\n`,
  )
  step('exporter and prometheus started')
  const {maps, programs} = chain.ids
  const cs = String(maps.CHAIN_STATS)
  const tm = String(maps.TAIL_CALL_MAP)
  const prog1 = String(programs.prog1)
  try {
    // The scrape itself: both formats, and promtool's linter on the text format.
    const text = await scrape(exporter.port)
    assert.equal(text.status, 200)
    assert.match(String(text.headers['content-type']), /^text\/plain; version=0\.0\.4/)
    assert.equal(
      sample(text.body, 'tailcalls_prog_array_slot_info', {map_id: tm, prog_id: String(programs.prog2), slot: '0'}),
      1,
    )
    assert.equal(sample(text.body, 'tailcalls_prog_array_max_entries', {map_id: tm}), 2)
    assert.equal(sample(text.body, 'tailcalls_chain_longest_tail_calls', {prog_id: prog1}), 2)
    assert.equal(sample(text.body, 'tailcalls_chain_cyclic', {prog_id: prog1}), 0)
    assert.equal(sample(text.body, 'tailcalls_bpf_stats_enabled'), 1)
    const lint = promtool(['check', 'metrics'], text.body)
    assert.equal(lint.code, 0, `promtool check metrics:\n${lint.out}`)
    const om = await scrape(exporter.port, {
      headers: {
        accept:
          'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      },
    })
    assert.match(String(om.headers['content-type']), /^application\/openmetrics-text; version=1\.0\.0/)
    assert.ok(om.body.endsWith('# EOF\n'))
    assert.match(om.body, /^# TYPE tailcalls_stage_runs counter$/m, 'OpenMetrics counter families drop _total')
    assert.ok(sample(om.body, 'tailcalls_stage_runs_total', {chain: cs, stage: 'prog1'})! >= 0)

    step('const info = await prom')
    const info = await prom.waitFor(
      `tailcalls_chain_info{chain="${cs}"}`,
      (r) => r.length === 1,
      'the chain in Prometheus',
    )
    assert.equal(info[0].metric.prog_array_id, tm)
    assert.equal(info[0].metric.entry_prog_id, prog1)
    assert.equal(await prom.value('up{job="tailcalls"}'), 1)

    step('// Stage runs rise')
    // Stage runs rise with execs: 30 of ours (others' execs only add).
    const runs = (stage: string) => `tailcalls_stage_runs_total{chain="${cs}",stage="${stage}"}`
    const runCnt = `tailcalls_program_run_count_total{prog_id="${prog1}"}`
    const before = {
      cnt: await prom.value(runCnt),
      prog1: await prom.value(runs('prog1')),
      prog2: await prom.value(runs('prog2')),
      prog3: await prom.value(runs('prog3')),
    }
    step('execs')
    await execLoop(30)
    await prom.waitFor(runs('prog1'), (r) => num(r) >= before.prog1 + 30, 'prog1 runs +30')
    await prom.waitFor(runs('prog2'), (r) => num(r) >= before.prog2 + 30, 'prog2 runs +30')
    await prom.waitFor(runs('prog3'), (r) => num(r) >= before.prog3 + 30, 'prog3 runs +30')
    step('run_cnt')
    // run_cnt counts only while stats are on (since the exporter started): compare with itself.
    await prom.waitFor(runCnt, (r) => num(r) >= before.cnt + 30, 'the kernel run_cnt of prog1 +30 (stats on)')
    assert.equal(
      (await prom.query(`tailcalls_program_run_count_total{prog_id="${programs.prog2}"}`)).length,
      0,
      'tail-called programs have no run_count series',
    )

    step('// A swap')
    // A swap: slot 1 goes from prog3 to prog3_v2, through the CLI.
    const slot1 = `tailcalls_prog_array_slot_info{map_id="${tm}",slot="1"}`
    assert.equal(
      (await prom.waitFor(slot1, (r) => r.length === 1, 'slot 1 info'))[0].metric.prog_id,
      String(programs.prog3),
    )
    const upd = await runCli(['map', 'update', 'id', tm, 'key', '1', 'prog', 'id', String(programs.prog3_v2)])
    assert.equal(upd.code, 0, upd.stderr)
    await prom.waitFor(
      slot1,
      (r) =>
        r.length === 1 && r[0].metric.prog_id === String(programs.prog3_v2) && r[0].metric.prog_name === 'prog3_v2',
      'slot 1 = prog3_v2',
    )
    await prom.waitFor(
      `changes(tailcalls_prog_array_slot_prog_id{map_id="${tm}",slot="1"}[5m])`,
      (r) => num(r) >= 1,
      'changes() sees the swap',
    )

    step('// An empty slot')
    // An empty slot: prog2's call site now falls through.
    const empty = `tailcalls_empty_slot_sites{prog_id="${prog1}"}`
    assert.equal(await prom.value(empty), 0)
    const del = await runCli(['map', 'delete', 'id', tm, 'key', '1'])
    assert.equal(del.code, 0, del.stderr)
    await prom.waitFor(empty, (r) => num(r) === 1, 'one empty-slot site')
    await prom.waitFor(`tailcalls_prog_array_slots_filled{map_id="${tm}"}`, (r) => num(r) === 1, 'one slot filled')
    assert.equal((await prom.query(slot1)).length, 0, 'the emptied slot has no info series')
    const failedBefore = await prom.value(`tailcalls_tail_call_failures_total{chain="${cs}",slot="1"}`)
    await execLoop(10)
    await prom.waitFor(
      `tailcalls_tail_call_failures_total{chain="${cs}",slot="1",target="prog3"}`,
      (r) => num(r) >= failedBefore + 10,
      'failed tail calls through slot 1 +10',
    )

    step('// Overload')
    // Overload: stop reading the chain's output; its ring buffer fills and the chain counts drops.
    const drops = `tailcalls_ringbuf_drops_total{chain="${cs}"}`
    const dropsBefore = await prom.value(drops)
    chain.cli.child.stdout!.pause()
    let execs = 0
    try {
      // Bounded: at most 3,000 execs (a 4 KiB ring holds ~60 events; the pipe a few hundred lines).
      while (execs < 3000) {
        await execLoop(100, {workers: 2})
        execs += 100
        const r = await scrape(exporter.port)
        if ((sample(r.body, 'tailcalls_ringbuf_drops_total', {chain: cs}) ?? 0) > dropsBefore) break
      }
    } finally {
      chain.cli.child.stdout!.resume()
    }

    await prom.waitFor(
      drops,
      (r) => num(r) > dropsBefore,
      `ring-buffer drops after ${execs} execs with the reader paused`,
    )
    assert.equal(
      num(await prom.query('sum(tailcalls_scrape_error)')),
      Number.NaN,
      'no failed operation in the last scrape',
    )
  } finally {
    await prom.stop()
    const end = await exporter.stop()
    assert.equal(end.code, 0, end.stderr)
    await chain.finish()
  }
})
