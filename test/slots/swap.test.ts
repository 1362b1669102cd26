// The swap proof: under a continuous, bounded exec load, swap TAIL_CALL_MAP[1] between prog3
// and prog3_v2 over and over, and show nothing is lost: every exec runs all three stages (no
// failed tail call, no missing stage event), and both versions of stage 3 ran.
//
// Swaps: SWAPS_CLI through the real CLI (`tailcalls map update id M key 1 prog id P`, one
// process each; ids, not names, because concurrent tests may load chains with the same names),
// then SWAPS_LIB through updateSlot(), the function the CLI runs, in this process, to swap far
// more often than process start-up allows. Both run while the exec load runs.
//
// No step is bounded by the clock: on a busy machine the proof takes minutes instead of seconds
// (the chain loader runs until this test stops it; waits end on progress, see helpers/progress.js).
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {updateSlot} from '../../src/slots/slots.js'
import {runCli} from '../helpers/cli.js'
import {execLoad} from '../helpers/exec.js'
import {IN_VM, vmScaled} from '../helpers/kernel-expect.js'
import {startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

// Under qemu TCG (the kernel matrix) a CLI start costs ~1 s and a swap ~50× more: a tenth of
// the swaps still alternates both versions under load many times.
const SWAPS_CLI = vmScaled(100)
const SWAPS_LIB = vmScaled(2000)

test(
  `${SWAPS_CLI + SWAPS_LIB} live swaps of slot 1 (prog3 ⇄ prog3_v2) under exec load lose nothing`,
  needsRoot,
  async (t) => {
    // A ring large enough for every event of the bounded exec load (50,000 execs × 3 events ×
    // 48 bytes is 7.2 MB): on a busy machine the reader may fall far behind, and the proof is about
    // swaps, not about a starved reader (drops are their own tests, in soak.test.ts).
    const chain = await startChain(['--ringbuf-size', String(32 << 20)])
    let finished = false
    try {
      const {maps, programs} = chain.ids
      const mapSel = {by: 'id' as const, id: maps.TAIL_CALL_MAP}
      const version = [programs.prog3_v2, programs.prog3]
      const load = execLoad({maxCount: vmScaled(50_000), workers: IN_VM ? 1 : 2})
      const started = Date.now()
      let cliSwaps = 0
      let libSwaps = 0
      let cliMs = 0
      try {
        for (let i = 0; i < SWAPS_CLI; i++) {
          const want = version[i % 2]
          const t0 = Date.now()
          const r = await runCli([
            'map',
            'update',
            'id',
            String(maps.TAIL_CALL_MAP),
            'key',
            '1',
            'prog',
            'id',
            String(want),
            '--json',
          ])
          cliMs += Date.now() - t0
          assert.equal(r.code, 0, r.stderr)
          assert.equal(r.stderr, '', 'no warning: the loader holds the map')
          const out = JSON.parse(r.stdout)
          assert.equal(out.prog.id, want)
          assert.equal(out.previous.id, version[(i + 1) % 2], 'each swap replaced the other version')
          cliSwaps++
        }

        for (let i = 0; i < SWAPS_LIB; i++) {
          const want = version[(SWAPS_CLI + i) % 2]
          const r = updateSlot(mapSel, 1, {by: 'id', id: want!}, {checkHolders: false})
          assert.equal(r.previous?.id, version[(SWAPS_CLI + i + 1) % 2])
          libSwaps++
          // Let execs interleave with the swaps (each exec takes ~1 ms).
          if (i % 10 === 9) await new Promise((resolve) => setImmediate(resolve))
        }
      } finally {
        // Leave the chain as loaded (prog3 in slot 1) and stop the load.
        updateSlot(mapSel, 1, {by: 'id', id: programs.prog3!}, {checkHolders: false})
      }

      const tgids = await load.stop()
      const seconds = (Date.now() - started) / 1000
      assert.ok(tgids.length > 0)
      await chain.waitForTgids(tgids, 3)
      // Stop the chain before counting: its last events are then all read (someone else's exec
      // with one of our pids could otherwise make the wait above end early).
      const result = await chain.finish()
      finished = true

      // Per exec: exactly prog1, prog2, then one version of stage 3, with per_event_count 1, 2, 3.
      // Pids wrap (pid_max is often 32768, and a busy machine execs too): a tgid's events are cut
      // into execs where prog1 starts again. Every exec on the machine runs the whole chain, so
      // every group must be complete; our execs of a pid must have at least that many groups.
      const want = new Set(tgids)
      const byTgid = new Map<number, {prog: string; per_event_count: number}[]>()
      const failed: unknown[] = []
      for (const e of chain.events()) {
        if (e.event === 'tail_call_failed') failed.push(e)
        if (!want.has(e.tgid)) continue
        if (!byTgid.has(e.tgid)) byTgid.set(e.tgid, [])
        byTgid.get(e.tgid)!.push(e)
      }

      const occurrences = new Map<number, number>()
      for (const tgid of tgids) occurrences.set(tgid, (occurrences.get(tgid) ?? 0) + 1)
      const versions = {prog3: 0, prog3_v2: 0}
      let missing = 0
      for (const [tgid, k] of occurrences) {
        const groups: {prog: string; per_event_count: number}[][] = []
        for (const e of byTgid.get(tgid) ?? []) {
          if (e.prog === 'prog1' || groups.length === 0) groups.push([])
          groups.at(-1)!.push(e)
        }

        let complete = 0
        for (const evs of groups) {
          const stages = evs.map((e) => e.prog)
          if (stages.length !== 3 || stages[0] !== 'prog1' || stages[1] !== 'prog2' || !(stages[2] in versions)) {
            missing++
            continue
          }

          assert.deepEqual(
            evs.map((e) => e.per_event_count),
            [1, 2, 3],
            `per_event_count of tgid ${tgid}`,
          )
          versions[stages[2] as keyof typeof versions]++
          complete++
        }

        missing += Math.max(0, k - complete)
      }

      assert.equal(result.code, 0, result.stderr)
      const s = result.summary
      const figures = {
        cli_swaps: cliSwaps,
        cli_ms_per_swap: Math.round(cliMs / cliSwaps),
        events_total: s.events_total,
        execs: tgids.length,
        failed_tail_calls: s.tail_call_failed,
        lib_swaps: libSwaps,
        missing_stage_events: missing,
        ringbuf_drops: s.ringbuf_drops,
        seconds: Math.round(seconds * 10) / 10,
        stage3_versions_for_our_execs: versions,
        stage_runs: s.stage_runs,
        swaps: cliSwaps + libSwaps,
      }
      t.diagnostic(`swap figures: ${JSON.stringify(figures)}`)

      assert.equal(missing, 0, 'every exec ran all three stages')
      assert.deepEqual(failed, [], 'no tail_call_failed event')
      assert.deepEqual(s.tail_call_failed, [0, 0], "the chain's own fall-through counters stayed at 0")
      assert.equal(s.ringbuf_drops, 0)
      assert.ok(versions.prog3 > 0 && versions.prog3_v2 > 0, `both versions ran: ${JSON.stringify(versions)}`)
      // Whole chain (our execs and any other on the machine): stage 2 always reached a stage 3.
      assert.equal(s.stage_runs.prog2, s.stage_runs.prog3 + s.stage_runs.prog3_v2)
      assert.equal(s.stage_runs.prog1, s.stage_runs.prog2)
      assert.equal(s.events.prog3 + s.events.prog3_v2, s.stage_runs.prog3 + s.stage_runs.prog3_v2)
    } finally {
      if (!finished) await chain.cli.stop('SIGKILL')
    }
  },
)
