// Every way `tailcalls load FILE.o` (a generic object) can fail, through the CLI binary: one
// `tailcalls: error:` line naming the tail-call rule (a verifier refusal is preceded by the
// verifier's last lines), its documented exit code, a hint, and nothing left loaded, attached or
// pinned afterwards.
import assert from 'node:assert/strict'
import {existsSync} from 'node:fs'
import {after, before, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {runCli, startCli} from '../helpers/cli.js'
import {assertErrorLine, assertNoneLeft, buildObject, maxProgId, removePinFolder, scratchDir} from '../helpers/load.js'
import {needsRoot} from '../helpers/root.js'

const scratch = scratchDir()
const obj: Record<string, string> = {}
const PROGRAMS = [
  'entry',
  'from_object',
  'from_cli',
  'spare',
  'exec_entry',
  'stage2',
  'stage3',
  'xdp_entry',
  'xdp_ip',
  'xdp_count',
  'fentry_entry',
  'fentry_stage',
  'tc_entry',
  'tc_stage',
]
let base = 0

before(async () => {
  for (const name of ['wired', 'exec_chain', 'xdp_chain', 'tc_chain', 'fentry'])
    obj[name] = buildObject(scratch.dir, `load/${name}`)
  for (const name of ['stack', 'lock', 'incompatible'])
    obj[name] = buildObject(scratch.dir, `graph-object/${name}`, [], `go-${name}`)
  base = await maxProgId()
})

after(() => scratch.cleanup())

test('--slot errors name the map, the program or the key and the rule; nothing is loaded', needsRoot, async () => {
  const cases: Array<[string[], number, RegExp]> = [
    [
      ['--slot', 'nope[0]=from_cli'],
      EXIT.notFound,
      /--slot nope\[0\]=from_cli: the object has no map nope; its prog arrays: wired_jmp$/,
    ],
    [
      ['--slot', 'wired_jmp[1]=nope'],
      EXIT.notFound,
      /the object has no program nope; its programs \(C function names\): .*from_cli/,
    ],
    [
      ['--slot', 'wired_jmp[3]=from_cli'],
      EXIT.outOfRange,
      /key 3 is outside wired_jmp \(max_entries 3\): a key at or above max_entries finds no slot: the tail call falls through.*use a key from 0 to 2/,
    ],
    [['--slot', 'wired_jmp[1]'], EXIT.usage, /can't parse --slot 'wired_jmp\[1\]'; write --slot MAP\[KEY\]=PROG/],
    [
      ['--slot', 'wired_jmp[1]=spare'],
      EXIT.incompatible,
      /spare cannot share prog array wired_jmp with .*: it is a socket_filter program \(SEC\("socket"\)\), the owner a raw_tracepoint program.*must match its owner: program type/,
    ],
  ]
  for (const [args, code, pattern] of cases) {
    assertErrorLine(await runCli(['load', obj.wired, ...args]), code, pattern)
  }

  assertErrorLine(
    await runCli(['load', obj.exec_chain, '--slot', 'events[0]=stage2']),
    EXIT.wrongMapType,
    /events is not a prog array, and only a prog array holds tail-call targets/,
  )
  // .values that the owner refuses: the object's own initialiser, refused before the kernel's EINVAL.
  assertErrorLine(
    await runCli(['load', obj.incompatible]),
    EXIT.incompatible,
    /xdp_stage cannot share prog array jmp with entry.*a xdp program.*the owner a sched_cls program.*putting it in jmp\[0\] fails/,
  )
  // With --json the same line is the {"error"} document on stdout.
  const j = await runCli(['load', obj.wired, '--slot', 'wired_jmp[9]=from_cli', '--json'])
  assert.equal(j.code, EXIT.outOfRange)
  assert.match(JSON.parse(j.stdout).error, /key 9 is outside wired_jmp/)
  await assertNoneLeft(PROGRAMS, base)
})

test('verifier refusals of tail-call rules: the rule, the verifier words and its last lines', needsRoot, async () => {
  const stack = await runCli(['load', obj.stack, '--no-attach'])
  const line = assertErrorLine(
    stack,
    EXIT.verifier,
    /the kernel verifier rejected program entry: tail_calls are not allowed when call stack of previous frames is 256 bytes/,
    {details: true},
  )
  assert.match(
    line,
    /tail-call rule: a subprogram with a tail call may be called only while its callers' frames total less than 256 bytes/,
  )
  assert.match(line, /shrink the callers' stack/)
  assert.match(
    stack.stderr,
    /^ {2}tail_calls are not allowed when call stack/m,
    "the verifier's own last lines come first",
  )

  const lock = await runCli(['load', obj.lock, '--no-attach'])
  const l = assertErrorLine(
    lock,
    EXIT.verifier,
    /the kernel verifier rejected program entry: .*tail-call rule: no tail call while a bpf_spin_lock/,
    {details: true},
  )
  assert.match(l, /release the lock .* before bpf_tail_call/)
  assert.match(lock.stderr, /^ {2}\d+: \(85\) call bpf_tail_call#12$/m)
  await assertNoneLeft(PROGRAMS, base)
})

test('attach, events and flag errors: one line each, nothing left', needsRoot, async () => {
  const cases: Array<[string, string[], number, RegExp]> = [
    ['wired', ['--attach', 'nope'], EXIT.notFound, /--attach nope: the object has no program nope/],
    [
      'wired',
      ['--attach', 'spare'],
      EXIT.usage,
      /--attach spare: libbpf cannot attach SEC\("socket"\) by itself; .*--no-attach/,
    ],
    [
      'xdp_chain',
      ['--no-attach', '--xdp', 'lo'],
      EXIT.usage,
      /--no-attach cannot be combined with --attach, --xdp or --tc/,
    ],
    ['wired', ['--xdp', 'lo'], EXIT.usage, /--xdp: the object has no XDP program outside a prog array to attach/],
    ['exec_chain', ['--events', 'events'], EXIT.usage, /--events needs --event-type TYPE/],
    [
      'exec_chain',
      ['--events', 'exec_jmp', '--event-type', 'exec_event'],
      EXIT.wrongMapType,
      /exec_jmp is not a ring buffer/,
    ],
    [
      'exec_chain',
      ['--events', 'nope', '--event-type', 'exec_event'],
      EXIT.notFound,
      /--events nope: the object has no map nope/,
    ],
    [
      'exec_chain',
      ['--events', 'events', '--event-type', 'struct nope'],
      EXIT.notFound,
      /--event-type struct nope: the object's BTF has no struct, union or typedef nope; its named structs and unions: .*exec_event/,
    ],
    ['tc_chain', ['--tc', 'lo', '--pin'], EXIT.usage, /--tc with --pin is not supported/],
    ['exec_chain', ['--ringbuf-size', '8192'], EXIT.usage, /--ringbuf-size applies to the bundled chain only/],
    [
      'fentry',
      [],
      EXIT.kernelSupport,
      /fentry_(entry|stage) \(SEC\("fentry\/do_unlinkat"\)\).* need a BPF trampoline|attaching fentry_entry/,
    ],
  ]
  assertErrorLine(
    await runCli(['load', '--slot', 'wired_jmp[1]=from_cli']),
    EXIT.usage,
    /apply to an object you give; name it/,
  )
  assertErrorLine(await runCli(['load', obj.wired, '--force']), EXIT.usage, /--force only applies to a pinned chain/)
  for (const [o, args, code, pattern] of cases) {
    const r = await runCli(['load', obj[o], ...args, '--duration', '1'])
    // fentry loads where this kernel allows trampolines: then it attaches and returns after --duration.
    if (o === 'fentry' && r.code === 0) continue
    assertErrorLine(r, code, pattern)
  }

  await assertNoneLeft(PROGRAMS, base)
})

test('a signal between wiring and attaching frees everything (exit 130)', needsRoot, async () => {
  const cli = startCli(['load', obj.wired, '--slot', 'wired_jmp[1]=from_cli', '--json'], {
    env: {TAILCALLS_DEBUG_PAUSE: 'attach'},
  })
  await cli.waitFor(
    (s) => s.stderrLines.some((l) => l.includes('"debug_paused_before":"attach"')),
    'the pause before attach',
  )
  const r = await cli.stop('SIGINT')
  assert.equal(r.code, 130, r.stderr)
  assert.match(r.stderr, /interrupted by SIGINT before attaching .*; nothing was left in the kernel/)
  await assertNoneLeft(PROGRAMS, base)
})

test('a pin path is checked before anything is loaded', needsRoot, async () => {
  const path = `/sys/fs/bpf/not-ours-${process.pid}`
  try {
    assertErrorLine(await runCli(['load', obj.wired, '--pin-path', path]), EXIT.usage, /must contain 'tailcalls'/)
    assert.equal(existsSync(path), false)
  } finally {
    await removePinFolder(path)
  }

  await assertNoneLeft(PROGRAMS, base)
})
