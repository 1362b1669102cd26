// The direct path (src/cli/direct.ts, tried before oclif) against oclif itself: every command the
// direct path takes prints the same bytes on stdout and stderr and exits with the same code when
// TAILCALLS_NO_DIRECT=1 sends it through oclif; --help and a bad flag, which the direct path hands
// back, come out of oclif either way. On a program and a map this test creates and pins (other
// objects come and go while it runs: lists are compared on our objects only).
import assert from 'node:assert/strict'
import {rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {BPF_MAP_TYPE, BPF_PROG_TYPE} from '../../src/sys/uapi.js'
import {sys} from '../../src/sys/ffi.js'
import {type CliResult, ROOT, runCli} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {runAsNobody} from '../helpers/nobody.js'
import {needsRoot} from '../helpers/root.js'

const NAME = `tcdirect${process.pid % 100_000}`
const PROG_PIN = `/sys/fs/bpf/tailcalls-direct-${process.pid}-prog`
const MAP_PIN = `/sys/fs/bpf/tailcalls-direct-${process.pid}-map`
const fds: number[] = []
let progId = 0
let mapId = 0

function idOf(fd: number): number {
  const info = Buffer.alloc(256)
  const len = new Uint32Array([info.length])
  assert.equal(sys().libbpf.bpf_obj_get_info_by_fd(fd, info, len), 0)
  // bpf_prog_info and bpf_map_info both start with {u32 type; u32 id}.
  return info.readUInt32LE(4)
}

before(() => {
  if (process.geteuid?.() !== 0) return
  const {libbpf} = sys()
  const progLoad = sys().optional(
    'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)',
  )
  assert.ok(progLoad, 'libbpf has bpf_prog_load')
  // r0 = 0; exit
  const insns = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
  const prog = progLoad(BPF_PROG_TYPE.SOCKET_FILTER, NAME, 'GPL', insns, 2, null) as number
  assert.ok(prog >= 0, `bpf_prog_load: ${prog}`)
  fds.push(prog)
  const map = libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, NAME, 4, 8, 4, null)
  assert.ok(map >= 0, `bpf_map_create: ${map}`)
  fds.push(map)
  assert.equal(libbpf.bpf_obj_pin(prog, PROG_PIN), 0)
  assert.equal(libbpf.bpf_obj_pin(map, MAP_PIN), 0)
  progId = idOf(prog)
  mapId = idOf(map)
})

after(async () => {
  rmSync(PROG_PIN, {force: true})
  rmSync(MAP_PIN, {force: true})
  for (const fd of fds) sys().libc.close(fd)
  if (progId) await assertGone({maps: {[NAME]: mapId}, programs: {[NAME]: progId}})
})

const both = async (args: string[], run = runCli): Promise<[CliResult, CliResult]> => [
  await run(args),
  await run(args, {env: {TAILCALLS_NO_DIRECT: '1'}}),
]

function assertSame([direct, oclif]: [CliResult, CliResult], what: string): void {
  assert.equal(direct.hung || oclif.hung, false, what)
  assert.equal(direct.stderr, oclif.stderr, `${what}: stderr`)
  assert.equal(direct.stdout, oclif.stdout, `${what}: stdout`)
  assert.equal(direct.code, oclif.code, `${what}: exit code`)
}

test('--version: the same line from the direct path, oclif and the installed entry', async () => {
  const [direct, oclif] = await both(['--version'])
  assertSame([direct, oclif], '--version')
  assert.match(direct.stdout, /^tailcalls\/\d+\.\d+\.\d+ linux-\w+ node-v\d+\.\d+\.\d+\n$/)
  const installed = await runCli(['--version'], {prefix: [join(ROOT, 'bin', 'tailcalls.cjs')]})
  assert.equal(installed.stdout, direct.stdout)
})

test('show: byte-identical output, tables and JSON, for every selector and flag', needsRoot, async () => {
  const cases = [
    ['prog', 'show', 'id', String(progId), '--json'],
    ['prog', 'show', 'id', String(progId)],
    ['prog', 'show', '--json', 'i', `0x${progId.toString(16)}`, '--no-pids'],
    ['prog', 'show', 'name', NAME, '--json', '-f'],
    ['prog', 'show', 'pinned', PROG_PIN, '--json', '--bpffs'],
    ['prog', 'show', 'pinned', PROG_PIN],
    ['map', 'show', 'id', String(mapId), '--json'],
    ['map', 'list', 'name', NAME, '--json', '-f', '--pids'],
    ['map', 'show', 'pinned', MAP_PIN],
  ]
  for (const args of cases) {
    const pair = await both(args)
    assertSame(pair, args.join(' '))
    assert.equal(pair[0].code, 0, `${args.join(' ')}: ${pair[0].stderr}`)
  }
})

test('errors: the same line, the same {"error"} under --json, the same exit code', needsRoot, async () => {
  const cases = [
    ['prog', 'show', 'id', '4294967295', '--json'],
    ['prog', 'show', 'id', '4294967295'],
    ['prog', 'show', 'bogus', '1'],
    ['prog', 'show', 'id', '--json'],
    ['map', 'show', 'name', 'x'.repeat(20)],
    ['map', 'show', 'pinned', `/sys/fs/bpf/tailcalls-direct-${process.pid}-none`, '--json'],
    ['link', 'show', 'id', 'x'],
  ]
  for (const args of cases) {
    const pair = await both(args)
    assertSame(pair, args.join(' '))
    assert.notEqual(pair[0].code, 0, args.join(' '))
  }
})

test('lists: our objects identical in both, the same exit code and stderr', needsRoot, async () => {
  for (const [kind, id] of [
    ['prog', progId],
    ['map', mapId],
  ] as const) {
    for (const flags of [['--json'], ['--json', '--no-pids'], ['--json', '-f']]) {
      const [direct, oclif] = await both([kind, 'list', ...flags])
      const what = `${kind} list ${flags.join(' ')}`
      assert.equal(direct.code, 0, `${what}: ${direct.stderr}`)
      assert.equal(oclif.code, 0, `${what}: ${oclif.stderr}`)
      assert.equal(direct.stderr, oclif.stderr, what)
      const ours = (out: string): string[] =>
        out
          .slice(1, -2)
          .split(/,(?=\{"id":)/)
          .filter((o) => o.startsWith(`{"id":${id},`))
      assert.equal(ours(direct.stdout).length, 1, `${what}: ours listed`)
      assert.deepEqual(ours(direct.stdout), ours(oclif.stdout), what)
      assert.ok(direct.stdout.endsWith(']\n'), what)
    }
  }

  const [direct, oclif] = await both(['link', 'list', '--json'])
  assert.equal(direct.code, oclif.code)
  assert.equal(direct.stderr, oclif.stderr)
})

test('without privileges: the same refusal (exit 3) from both paths', needsRoot, async () => {
  for (const args of [
    ['prog', 'list', '--json'],
    ['map', 'list'],
    ['prog', 'show', 'id', '1'],
    ['link', 'show', 'pinned', '/sys/fs/bpf/none', '--json'],
  ]) {
    const pair = await both(args, runAsNobody)
    assertSame(pair, `nobody: ${args.join(' ')}`)
    assert.equal(pair[0].code, 3, `${args.join(' ')}: ${pair[0].stderr}`)
  }
})

test('--help and bad flags, handed back to oclif: the same help and usage errors', async () => {
  for (const args of [
    ['prog', 'list', '--help'],
    ['prog', 'show', '-h'],
    ['map', 'list', '--bogus'],
    ['prog', 'show', 'id', '1', '--json', '--json', '--bogus'],
    ['prog', 'list', 'extra'],
    ['prog', 'show', 'id', '1', '2'],
    ['link', 'list', '--no-json'],
  ]) {
    const pair = await both(args)
    assertSame(pair, args.join(' '))
  }

  const [bogus] = await both(['map', 'list', '--bogus'])
  assert.equal(bogus.code, 2)
  assert.match(bogus.stderr, /^tailcalls: error: Nonexistent flag: --bogus.*see `tailcalls map list --help`\n$/)
  assert.doesNotMatch(bogus.stderr, /\n {4}at /)
})
