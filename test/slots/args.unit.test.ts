// `tailcalls map update` / `map delete` without a kernel: the argument grammar (MAP key K prog
// PROG, as bpftool takes it) and the owner rules a program must meet to enter a prog array
// (src/slots/args.ts, src/slots/compat.ts). The refusals on real objects are in slots.test.ts.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {parseSlotArgs} from '../../src/slots/args.js'
import {type AttachTarget, type ProgFacts, incompatibility} from '../../src/slots/compat.js'
import {BPF_ATTACH_TYPE, BPF_PROG_TYPE} from '../../src/sys/uapi.js'

const TRACING = BPF_PROG_TYPE.TRACING
const SOCKET_FILTER = BPF_PROG_TYPE.SOCKET_FILTER
const EXT = BPF_PROG_TYPE.EXT
const TRACE_RAW_TP = BPF_ATTACH_TYPE.TRACE_RAW_TP
const TRACE_FENTRY = BPF_ATTACH_TYPE.TRACE_FENTRY
const TRACE_FEXIT = BPF_ATTACH_TYPE.TRACE_FEXIT

test('argument grammar: MAP key K prog PROG, bpftool key bytes and `value`', () => {
  assert.deepEqual(parseSlotArgs(['name', 'TAIL_CALL_MAP', 'key', '1', 'prog', 'name', 'prog3_v2'], true), {
    key: 1,
    map: {by: 'name', name: 'TAIL_CALL_MAP'},
    prog: {by: 'name', name: 'prog3_v2'},
  })
  assert.equal(parseSlotArgs(['id', '7', 'key', '0x10', 'prog', 'id', '3'], true).key, 16)
  assert.equal(parseSlotArgs(['id', '7', 'key', '1', '0', '0', '0', 'value', 'id', '3'], true).key, 1)
  assert.equal(parseSlotArgs(['id', '7', 'key', 'hex', '02', '01', '00', '00', 'prog', 'id', '3'], true).key, 0x102)
  assert.deepEqual(parseSlotArgs(['pinned', '/sys/fs/bpf/x', 'key', '0'], false), {
    key: 0,
    map: {by: 'pinned', path: '/sys/fs/bpf/x'},
  })
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
    assert.throws(
      () => parseSlotArgs(argv, withProg),
      (e: Error & {exitCode?: number}) => e.exitCode === 2 && re.test(e.message),
      argv.join(' '),
    )
  }
})

test('owner rules: type, JIT, ext, attach prototype, attach type', () => {
  const ref = {attachBtfId: 100, attachBtfObjId: 1, id: 10, jited: true, name: 'prog2', type: TRACING}
  const array = {id: 5, name: 'TAIL_CALL_MAP', ownerJited: true, ownerProgType: TRACING, references: [ref]}
  const targets: Record<number, AttachTarget> = {
    100: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_process_exec', proto: '1:90'},
    101: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_process_exit', proto: '1:91'},
    102: {attachType: TRACE_RAW_TP, description: 'tp_btf/sched_wakeup_new', proto: '1:90'},
  }
  const resolve = (_obj: number, id: number): AttachTarget => targets[id]!
  const p = (extra: Partial<ProgFacts>): ProgFacts => ({
    attachBtfId: 100,
    attachBtfObjId: 1,
    id: 20,
    jited: true,
    name: 'cand',
    type: TRACING,
    ...extra,
  })
  assert.equal(incompatibility(array, p({}), resolve), undefined)
  assert.match(
    incompatibility(array, p({type: SOCKET_FILTER}), resolve)!,
    /is a socket_filter program, but TAIL_CALL_MAP \(id 5\) holds tracing programs/,
  )
  assert.match(
    incompatibility(array, p({jited: false}), resolve)!,
    /is not JIT-compiled, but TAIL_CALL_MAP \(id 5\)'s programs are /,
  )
  assert.match(incompatibility(array, p({type: EXT}), resolve)!, /ext \(freplace\) program/)
  assert.match(
    incompatibility(array, p({attachBtfId: 101}), resolve)!,
    /attaches to tp_btf\/sched_process_exit, but .* attach to tp_btf\/sched_process_exec \(like prog2 \(id 10\)\)/,
  )
  // Another target with the very same prototype (BTF dedup) is what the kernel accepts.
  assert.equal(incompatibility(array, p({attachBtfId: 102}), resolve), undefined)
  // fentry vs fexit on one function: only links tell; refused when both are known.
  const fn = {
    attachBtfId: 200,
    attachBtfObjId: 1,
    id: 11,
    jited: true,
    linkAttachTypes: [TRACE_FENTRY],
    name: 'fe',
    type: TRACING,
  }
  const fnArray = {...array, references: [fn]}
  assert.match(
    incompatibility(fnArray, p({attachBtfId: 200, linkAttachTypes: [TRACE_FEXIT]}), resolve)!,
    /attach type trace_fexit, but .* have trace_fentry/,
  )
  assert.equal(incompatibility(fnArray, p({attachBtfId: 200}), resolve), undefined)
  // No owner yet and nothing in the array: anything goes (the first insert makes the owner).
  assert.equal(incompatibility({id: 6, name: 'fresh', references: []}, p({type: SOCKET_FILTER}), resolve), undefined)
})
