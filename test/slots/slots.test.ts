// `tailcalls map update` / `map delete` on real kernel objects (the argument grammar and the owner
// rules, which need no kernel, are in args.unit.test.ts): every refusal through the real CLI on real kernel objects: one clear line, a distinct exit code,
// and the slot left exactly as it was.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {slotProgId, updateSlot} from '../../src/slots/slots.js'
import {loadFixture} from '../helpers/bpf-fixture.js'
import {runCli} from '../helpers/cli.js'
import {assertGone, bpftoolJson, startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

test(
  'refusals through the CLI: incompatible, out of range, wrong map type, unknown objects, empty slot',
  needsRoot,
  async () => {
    const chain = await startChain()
    const g5 = loadFixture('graph5')
    const cx = loadFixture('compat')
    let finished = false
    let fixtureIds
    try {
      const {maps, programs} = chain.ids
      fixtureIds = [g5.ids(), cx.ids()]
      const [G, C] = fixtureIds
      const M = String(maps.TAIL_CALL_MAP)
      const slots = () => bpftoolJson(['map', 'dump', 'id', M]).map((e) => e.formatted.value)
      const before = slots()
      assert.deepEqual(before, [programs.prog2, programs.prog3])

      const cases: [string[], number, RegExp][] = [
        // A tp_btf program for another tracepoint: named before the kernel is asked.
        [
          ['map', 'update', 'id', M, 'key', '1', 'prog', 'id', String(G.programs.s1)],
          10,
          new RegExp(
            `cannot put s1 \\(id ${G.programs.s1}\\) in TAIL_CALL_MAP \\(id ${M}\\)\\[1\\]: s1 \\(id \\d+\\) attaches to tp_btf/sched_process_exit, but TAIL_CALL_MAP \\(id ${M}\\)'s programs attach to tp_btf/sched_process_exec`,
          ),
        ],
        // A socket filter: another program type.
        [
          ['map', 'update', 'id', M, 'key', '1', 'prog', 'id', String(G.programs.sockf)],
          10,
          /sockf \(id \d+\) is a socket_filter program, but TAIL_CALL_MAP \(id \d+\) holds tracing programs/,
        ],
        [
          ['map', 'update', 'id', M, 'key', '2', 'prog', 'id', String(programs.prog3_v2)],
          11,
          /key 2 is out of range for TAIL_CALL_MAP \(id \d+\): max_entries is 2, its slots are 0–1/,
        ],
        [
          ['map', 'update', 'id', M, 'key', '0xffffffff', 'prog', 'id', String(programs.prog3_v2)],
          11,
          /key 4294967295 is out of range/,
        ],
        [['map', 'delete', 'id', M, 'key', '7'], 11, /key 7 is out of range/],
        [
          ['map', 'update', 'id', String(maps.PER_CPU_MAP), 'key', '0', 'prog', 'id', String(programs.prog3_v2)],
          12,
          /map PER_CPU_MAP \(id \d+\) is a percpu_array, not a prog_array/,
        ],
        [['map', 'delete', 'id', String(maps.EVENTS), 'key', '0'], 12, /is a ringbuf, not a prog_array/],
        [
          ['map', 'update', 'id', '4294967295', 'key', '0', 'prog', 'id', String(programs.prog3_v2)],
          5,
          /no map with id 4294967295/,
        ],
        [
          ['map', 'update', 'id', M, 'key', '1', 'prog', 'name', 'no_such_prog_zz'],
          5,
          /no program with name no_such_prog_zz/,
        ],
        [
          [
            'map',
            'update',
            'pinned',
            '/sys/fs/bpf/tailcalls-no-such-pin',
            'key',
            '1',
            'prog',
            'id',
            String(programs.prog3),
          ],
          5,
          /nothing is pinned at \/sys\/fs\/bpf\/tailcalls-no-such-pin/,
        ],
        [['map', 'update', 'id', M, 'key', 'one', 'prog', 'id', String(programs.prog3)], 2, /can't parse key 'one'/],
      ]
      for (const [args, code, re] of cases) {
        for (const json of [false, true]) {
          const r = await runCli(json ? [...args, '--json'] : args)
          assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
          const lines = r.stderr.split('\n').filter(Boolean)
          assert.equal(lines.length, 1, `one line on stderr: ${r.stderr}`)
          assert.match(lines[0], /^tailcalls: error: /)
          assert.match(lines[0], re)
          if (json) assert.deepEqual(Object.keys(JSON.parse(r.stdout)), ['error'])
          else assert.equal(r.stdout, '')
        }
      }

      // The kernel's own refusal, decoded: an XDP devmap program in an array owned by plain XDP
      // differs only in its expected attach type, which user space cannot read.
      const pa = String(C.maps.pa)
      const kernel = await runCli(['map', 'update', 'id', pa, 'key', '0', 'prog', 'id', String(C.programs.xdp_devmap)])
      assert.equal(kernel.code, 10, kernel.stderr)
      assert.match(
        kernel.stderr,
        /^tailcalls: error: the kernel refused xdp_devmap \(id \d+\) for pa \(id \d+\) \(EINVAL\): it does not match the array's owner/,
      )
      const ok = await runCli([
        'map',
        'update',
        'id',
        pa,
        'key',
        '0',
        'prog',
        'id',
        String(C.programs.xdp_same),
        '--json',
      ])
      assert.equal(ok.code, 0, ok.stderr)
      assert.equal(ok.stderr, '', 'this test process holds the array: no lost-update warning')
      assert.deepEqual(JSON.parse(ok.stdout), {
        key: 0,
        map: {id: C.maps.pa, name: 'pa'},
        previous: null,
        prog: {id: C.programs.xdp_same, name: 'xdp_same'},
      })

      // Nothing half-done: every refusal left the chain's slots as they were.
      assert.deepEqual(slots(), before)

      // Delete, then delete again (already empty: exit 5), then restore.
      const del = await runCli(['map', 'delete', 'id', M, 'key', '1', '--json'])
      assert.equal(del.code, 0, del.stderr)
      assert.deepEqual(JSON.parse(del.stdout), {
        key: 1,
        map: {id: maps.TAIL_CALL_MAP, name: 'TAIL_CALL_MAP'},
        removed: {id: programs.prog3, name: 'prog3'},
      })
      const again = await runCli(['map', 'delete', 'id', M, 'key', '1'])
      assert.equal(again.code, 5)
      assert.match(again.stderr, /^tailcalls: error: TAIL_CALL_MAP \(id \d+\)\[1\] is already empty; /)
      const restore = await runCli(['map', 'update', 'id', M, 'key', '1', 'prog', 'id', String(programs.prog3)])
      assert.equal(restore.code, 0, restore.stderr)
      assert.equal(restore.stdout, `TAIL_CALL_MAP (id ${M})[1]: (empty) → prog3 (id ${programs.prog3})\n`)
      assert.deepEqual(slots(), before)

      const result = await chain.finish()
      finished = true
      assert.equal(result.code, 0, result.stderr)
    } finally {
      if (!finished) await chain.cli.stop('SIGKILL')
      g5.close()
      cx.close()
    }

    for (const ids of fixtureIds ?? []) await assertGone(ids)
  },
)

test('the lost-update warning: an array nobody else holds and nobody pinned', needsRoot, async () => {
  // This test process holds the array (so no uref drop happens), but the check excludes the
  // process that runs it, exactly as the CLI excludes itself.
  const cx = loadFixture('compat')
  let ids
  try {
    ids = cx.ids()
    const r = updateSlot({by: 'id', id: ids.maps.pa}, 1, {by: 'id', id: ids.programs.xdp_same})
    assert.match(
      r.warning!,
      /^no other process holds pa \(id \d+\) and it is not pinned: the kernel empties a prog array when its last user reference closes, so this change is lost when tailcalls exits/,
    )
    assert.equal(slotProgId(cx.mapFd('pa'), 1), ids.programs.xdp_same)
    assert.equal(
      updateSlot({by: 'id', id: ids.maps.pa}, 1, {by: 'id', id: ids.programs.xdp_same}, {checkHolders: false}).warning,
      undefined,
    )
  } finally {
    cx.close()
  }

  await assertGone(ids)
})
