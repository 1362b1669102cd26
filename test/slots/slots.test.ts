// `tailcalls map update` / `map delete`: argument parsing and the owner rules (pure), then every
// refusal through the real CLI on real kernel objects: one clear line, a distinct exit code,
// and the slot left exactly as it was.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {ATTACH_TYPE_NAMES, PROG_TYPE_NAMES} from '../../src/kernel/names.js'
import {parseSlotArgs} from '../../src/slots/args.js'
import {type AttachTarget, type ProgFacts, incompatibility} from '../../src/slots/compat.js'
import {slotProgId, updateSlot} from '../../src/slots/slots.js'
import {loadFixture} from '../helpers/bpf-fixture.js'
import {runCli} from '../helpers/cli.js'
import {assertGone, bpftoolJson, startChain} from '../helpers/kernel.js'

/** Kernel numbers by the names the messages print, from the project's own tables. */
function number(names: readonly string[], name: string): number {
  const n = names.indexOf(name)
  assert.ok(n >= 0, name)
  return n
}

const TRACING = number(PROG_TYPE_NAMES, 'tracing')
const SOCKET_FILTER = number(PROG_TYPE_NAMES, 'socket_filter')
const EXT = number(PROG_TYPE_NAMES, 'ext')
const TRACE_RAW_TP = number(ATTACH_TYPE_NAMES, 'trace_raw_tp')
const TRACE_FENTRY = number(ATTACH_TYPE_NAMES, 'trace_fentry')
const TRACE_FEXIT = number(ATTACH_TYPE_NAMES, 'trace_fexit')

test('argument grammar: MAP key K prog PROG, bpftool key bytes and `value`', () => {
  assert.deepEqual(parseSlotArgs(['name', 'TAIL_CALL_MAP', 'key', '1', 'prog', 'name', 'prog3_v2'], true), {
    key: 1, map: {by: 'name', name: 'TAIL_CALL_MAP'}, prog: {by: 'name', name: 'prog3_v2'},
  })
  assert.equal(parseSlotArgs(['id', '7', 'key', '0x10', 'prog', 'id', '3'], true).key, 16)
  assert.equal(parseSlotArgs(['id', '7', 'key', '1', '0', '0', '0', 'value', 'id', '3'], true).key, 1)
  assert.equal(parseSlotArgs(['id', '7', 'key', 'hex', '02', '01', '00', '00', 'prog', 'id', '3'], true).key, 0x102)
  assert.deepEqual(parseSlotArgs(['pinned', '/sys/fs/bpf/x', 'key', '0'], false), {key: 0, map: {by: 'pinned', path: '/sys/fs/bpf/x'}})
  // A map may be called `key`.
  assert.deepEqual(parseSlotArgs(['name', 'key', 'key', '1'], false).map, {by: 'name', name: 'key'})
  const bad: [string[], boolean, RegExp][] = [
    [[], true, /missing MAP/],
    [['id', '7', 'prog', 'id', '3'], true, /missing 'key K'/],
    [['id', '7', 'key', '1'], true, /missing 'prog PROG'/],
    [['id', '7', 'key', 'x', 'prog', 'id', '3'], true, /can't parse key 'x'/],
    [['id', '7', 'key', '1', '2', 'prog', 'id', '3'], true, /4 bytes, got 2/],
    [['id', '7', 'key', '1', '0', '0', '256', 'prog', 'id', '3'], true, /key byte '256'/],
    [['id', 'x', 'key', '1'], false, /can't parse 'x' as an id/],
    [['colour', '7', 'key', '1'], false, /expected 'id', 'name' or 'pinned', got 'colour'/],
    [['id', '7', 'key', '1', 'prog', 'id', '3'], false, /map delete takes no program/],
    [['id', '7', 'key', '1', 'prog', 'id', '3', 'extra'], true, /unexpected 'extra' after PROG/],
  ]
  for (const [argv, withProg, re] of bad) {
    assert.throws(() => parseSlotArgs(argv, withProg), (e: Error & {exitCode?: number}) => e.exitCode === 2 && re.test(e.message), argv.join(' '))
  }
})

test('owner rules: type, JIT, ext, attach prototype, attach type', () => {
  const ref = {attachBtfId: 100, attachBtfObjId: 1, id: 10, jited: true, name: 'prog2', type: TRACING}
  const array = {id: 5, name: 'TAIL_CALL_MAP', ownerJited: true, ownerProgType: TRACING, references: [ref]}
  const targets: Record<number, AttachTarget> = {100: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_process_exec', proto: '1:90'}, 101: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_process_exit', proto: '1:91'}, 102: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_wakeup_new', proto: '1:90'}}
  const resolve = (_obj: number, id: number): AttachTarget => targets[id]!
  const p = (extra: Partial<ProgFacts>): ProgFacts => ({attachBtfId: 100, attachBtfObjId: 1, id: 20, jited: true, name: 'cand', type: TRACING, ...extra})
  assert.equal(incompatibility(array, p({}), resolve), undefined)
  assert.match(incompatibility(array, p({type: SOCKET_FILTER}), resolve)!, /is a socket_filter program, but TAIL_CALL_MAP \(id 5\) holds tracing programs/)
  assert.match(incompatibility(array, p({jited: false}), resolve)!, /is not JIT-compiled, but TAIL_CALL_MAP \(id 5\)'s programs are /)
  assert.match(incompatibility(array, p({type: EXT}), resolve)!, /ext \(freplace\) program/)
  assert.match(incompatibility(array, p({attachBtfId: 101}), resolve)!, /attaches to tp_btf\/sched_process_exit, but .* attach to tp_btf\/sched_process_exec \(like prog2 \(id 10\)\)/)
  // Another target with the very same prototype (BTF dedup) is what the kernel accepts.
  assert.equal(incompatibility(array, p({attachBtfId: 102}), resolve), undefined)
  // fentry vs fexit on one function: only links tell; refused when both are known.
  const fn = {attachBtfId: 200, attachBtfObjId: 1, id: 11, jited: true, linkAttachTypes: [TRACE_FENTRY], name: 'fe', type: TRACING}
  const fnArray = {...array, references: [fn]}
  assert.match(incompatibility(fnArray, p({attachBtfId: 200, linkAttachTypes: [TRACE_FEXIT]}), resolve)!, /attach type trace_fexit, but .* have trace_fentry/)
  assert.equal(incompatibility(fnArray, p({attachBtfId: 200}), resolve), undefined)
  // No owner yet and nothing in the array: anything goes (the first insert makes the owner).
  assert.equal(incompatibility({id: 6, name: 'fresh', references: []}, p({type: SOCKET_FILTER}), resolve), undefined)
})

test('refusals through the CLI: incompatible, out of range, wrong map type, unknown objects, empty slot', async () => {
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
      [['map', 'update', 'id', M, 'key', '1', 'prog', 'id', String(G.programs.s1)], 10,
        new RegExp(`cannot put s1 \\(id ${G.programs.s1}\\) in TAIL_CALL_MAP \\(id ${M}\\)\\[1\\]: s1 \\(id \\d+\\) attaches to tp_btf/sched_process_exit, but TAIL_CALL_MAP \\(id ${M}\\)'s programs attach to tp_btf/sched_process_exec`)],
      // A socket filter: another program type.
      [['map', 'update', 'id', M, 'key', '1', 'prog', 'id', String(G.programs.sockf)], 10, /sockf \(id \d+\) is a socket_filter program, but TAIL_CALL_MAP \(id \d+\) holds tracing programs/],
      [['map', 'update', 'id', M, 'key', '2', 'prog', 'id', String(programs.prog3_v2)], 11, /key 2 is out of range for TAIL_CALL_MAP \(id \d+\): max_entries is 2, its slots are 0–1/],
      [['map', 'update', 'id', M, 'key', '0xffffffff', 'prog', 'id', String(programs.prog3_v2)], 11, /key 4294967295 is out of range/],
      [['map', 'delete', 'id', M, 'key', '7'], 11, /key 7 is out of range/],
      [['map', 'update', 'id', String(maps.PER_CPU_MAP), 'key', '0', 'prog', 'id', String(programs.prog3_v2)], 12, /map PER_CPU_MAP \(id \d+\) is a percpu_array, not a prog_array/],
      [['map', 'delete', 'id', String(maps.EVENTS), 'key', '0'], 12, /is a ringbuf, not a prog_array/],
      [['map', 'update', 'id', '4294967295', 'key', '0', 'prog', 'id', String(programs.prog3_v2)], 5, /no map with id 4294967295/],
      [['map', 'update', 'id', M, 'key', '1', 'prog', 'name', 'no_such_prog_zz'], 5, /no program with name no_such_prog_zz/],
      [['map', 'update', 'pinned', '/sys/fs/bpf/tailcalls-no-such-pin', 'key', '1', 'prog', 'id', String(programs.prog3)], 5, /nothing is pinned at \/sys\/fs\/bpf\/tailcalls-no-such-pin/],
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
    assert.match(kernel.stderr, /^tailcalls: error: the kernel refused xdp_devmap \(id \d+\) for pa \(id \d+\) \(EINVAL\): it does not match the array's owner/)
    const ok = await runCli(['map', 'update', 'id', pa, 'key', '0', 'prog', 'id', String(C.programs.xdp_same), '--json'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.equal(ok.stderr, '', 'this test process holds the array: no lost-update warning')
    assert.deepEqual(JSON.parse(ok.stdout), {key: 0, map: {id: C.maps.pa, name: 'pa'}, previous: null, prog: {id: C.programs.xdp_same, name: 'xdp_same'}})

    // Nothing half-done: every refusal left the chain's slots as they were.
    assert.deepEqual(slots(), before)

    // Delete, then delete again (already empty: exit 5), then restore.
    const del = await runCli(['map', 'delete', 'id', M, 'key', '1', '--json'])
    assert.equal(del.code, 0, del.stderr)
    assert.deepEqual(JSON.parse(del.stdout), {key: 1, map: {id: maps.TAIL_CALL_MAP, name: 'TAIL_CALL_MAP'}, removed: {id: programs.prog3, name: 'prog3'}})
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
})

test('the lost-update warning: an array nobody else holds and nobody pinned', async () => {
  // This test process holds the array (so no uref drop happens), but the check excludes the
  // process that runs it, exactly as the CLI excludes itself.
  const cx = loadFixture('compat')
  let ids
  try {
    ids = cx.ids()
    const r = updateSlot({by: 'id', id: ids.maps.pa}, 1, {by: 'id', id: ids.programs.xdp_same})
    assert.match(r.warning!, /^no other process holds pa \(id \d+\) and it is not pinned: the kernel empties a prog array when its last user reference closes, so this change is lost when tailcalls exits/)
    assert.equal(slotProgId(cx.mapFd('pa'), 1), ids.programs.xdp_same)
    assert.equal(updateSlot({by: 'id', id: ids.maps.pa}, 1, {by: 'id', id: ids.programs.xdp_same}, {checkHolders: false}).warning, undefined)
  } finally {
    cx.close()
  }

  await assertGone(ids)
})
