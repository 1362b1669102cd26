// `tailcalls graph --object`: one C fixture per finding under test/fixtures/graph-object, built here
// with clang. Each line a finding must point at carries a `FINDING kind program` marker; the
// graph must report exactly those findings (kind, program, source line) and no other. The ones
// the kernel enforces are then loaded for real and must be refused with the rule the finding
// named; the ones it does not enforce load, and a test run shows what the finding predicted.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {LoadedObject} from '../../src/libbpf/object.js'
import {sys} from '../../src/sys/ffi.js'
import {loadFixture} from '../helpers/bpf-fixture.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {runAsNobody} from '../helpers/nobody.js'

const SRC = join(ROOT, 'test', 'fixtures', 'graph-object')
let dir = ''
const objects: Record<string, string> = {}

function compile(source: string, out: string): string {
  const arch = execFileSync('uname', ['-m'], {encoding: 'utf8'}).trim()
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-I/usr/include/${arch}-linux-gnu`,
    '-Wall',
    '-c',
    source,
    '-o',
    out,
  ])
  return out
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailcalls-graph-object-'))
  for (const f of readdirSync(SRC).filter((x) => x.endsWith('.bpf.c'))) {
    const name = f.replace(/\.bpf\.c$/, '')
    objects[name] = compile(join(SRC, f), join(dir, `${name}.o`))
  }
})

after(() => {
  if (dir) rmSync(dir, {force: true, recursive: true})
})

interface JsonFinding {
  kind: string
  severity: string
  progId?: number
  mapId?: number
  insn?: number
  line?: string
  rule?: string
  message: string
}
interface JsonGraph {
  programs: {
    id: number
    name: string
    sites: {
      insn: number
      mapName?: string
      key: unknown
      path: string
      outcome: string
      targets: {progName?: string; slot: number}[]
    }[]
  }[]
  maps: {id: number; name: string}[]
  edges: {from: number; to: number; mapId: number; slot: number; possible: boolean}[]
  findings: JsonFinding[]
  chains: {root: number; longest: number | null; path: number[]; cyclic: boolean}[]
}

async function graphJson(args: string[]): Promise<{code: number; g: JsonGraph; stderr: string}> {
  const r = await runCli(['graph', ...args, '--json'])
  return {code: r.code ?? -1, g: JSON.parse(r.stdout), stderr: r.stderr}
}

/** The FINDING markers of a fixture: kind, program (or map), line. */
function markers(name: string): string[] {
  const out: string[] = []
  readFileSync(join(SRC, `${name}.bpf.c`), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/FINDING ([\w-]+) (\w+)/g)) out.push(`${m[1]} ${m[2]} ${i + 1}`)
    })
  return out.sort()
}

/** The findings as markers: a finding without a source line matches its marker's kind and program. */
function asMarkers(g: JsonGraph, name: string, expected: string[]): string[] {
  const progName = (id?: number) => g.programs.find((p) => p.id === id)?.name
  return g.findings
    .filter((f) => f.kind !== 'analysis')
    .map((f) => {
      const who = f.progId === undefined ? g.maps.find((m) => m.id === f.mapId)?.name : progName(f.progId)
      assert.ok(f.rule, `${f.kind} has its rule`)
      if (f.line) {
        assert.match(f.line, new RegExp(`^${name}\\.bpf\\.c:\\d+$`))
        return `${f.kind} ${who} ${f.line.split(':')[1]}`
      }

      // No source line (a program- or map-level finding): take the marker's line.
      const m = expected.find((e) => e.startsWith(`${f.kind} ${who} `))
      return m ?? `${f.kind} ${who} ?`
    })
    .sort()
}

const FIXTURES: {name: string; errors: boolean}[] = [
  {errors: false, name: 'slots'},
  {errors: true, name: 'chain'},
  {errors: true, name: 'incompatible'},
  {errors: true, name: 'incompatible-attach'},
  {errors: true, name: 'incompatible-target'},
  {errors: true, name: 'stack'},
  {errors: true, name: 'lock'},
  {errors: true, name: 'rcu'},
  {errors: false, name: 'subprog-arg'},
]

for (const fx of FIXTURES) {
  test(`graph --object ${fx.name}: exactly the findings its source marks, each with rule and line`, async () => {
    const expected = markers(fx.name)
    assert.ok(expected.length > 0)
    const {code, g, stderr} = await graphJson(['--object', objects[fx.name]])
    assert.equal(stderr, '')
    assert.deepEqual(asMarkers(g, fx.name, expected), expected)
    // Error findings and only they make the exit status 16 (a CI gate).
    assert.equal(
      g.findings.some((f) => f.severity === 'error'),
      fx.errors,
    )
    assert.equal(code, fx.errors ? 16 : 0)
  })
}

test('graph --object slots: the static .values slots and the site outcomes', async () => {
  const {g} = await graphJson(['--object', objects.slots])
  const entry = g.programs.find((p) => p.name === 'entry')!
  assert.deepEqual(
    entry.sites.map((s) => [s.mapName, s.key, s.path, s.outcome]),
    [
      ['jmp', {kind: 'constant', value: 0}, 'direct', 'jump'],
      ['jmp', {kind: 'constant', value: 1}, 'direct', 'empty'],
      // A constant key past max_entries: the verifier compiles it as the indirect path.
      ['jmp', {kind: 'constant', value: 9}, 'indirect', 'out-of-range'],
    ],
  )
  // --slot fills what a loader would: jmp[1] = stage1 clears the empty-slot finding.
  const filled = await graphJson(['--object', objects.slots, '--slot', 'jmp[1]=stage1'])
  assert.ok(!filled.g.findings.some((f) => f.kind === 'empty-slot'))
  assert.deepEqual(
    filled.g.programs.find((p) => p.name === 'entry')!.sites[1].targets.map((t) => t.progName),
    ['stage1'],
  )
})

test('graph --object needs no privileges: uid 65534 with no capabilities draws the bundled chain', async () => {
  // The object is read relative to the tree the unprivileged child runs from (readable by it).
  const r = await runAsNobody([
    'graph',
    '--object',
    'bpf/tailcalls.bpf.o',
    '--slot',
    'TAIL_CALL_MAP[0]=prog2',
    '--slot',
    'TAIL_CALL_MAP[1]=prog3',
    '--json',
  ])
  assert.equal(r.code, 0, r.stderr)
  const g = JSON.parse(r.stdout) as JsonGraph
  const name = (id: number) => g.programs.find((p) => p.id === id)!.name
  assert.deepEqual(
    g.edges.map((e) => [name(e.from), e.slot, name(e.to)]),
    [
      ['prog1', 0, 'prog2'],
      ['prog2', 1, 'prog3'],
    ],
  )
  // Without --object, graph still needs CAP_SYS_ADMIN.
  const live = await runAsNobody(['graph'])
  assert.equal(live.code, 3)
})

// --- the kernel agrees ---------------------------------------------------------------------------

function tryLoad(name: string): {error?: Error & {details?: string[]}; object?: LoadedObject} {
  const object = LoadedObject.open(objects[name])
  try {
    object.load()
    return {object}
  } catch (error) {
    object.close()
    return {error: error as Error}
  }
}

for (const [name, refusal] of [
  ['incompatible', /EINVAL|Invalid argument|prog_array|\.values/i],
  ['stack', /tail_calls are not allowed when call stack of previous frames is 256 bytes/],
  [
    'lock',
    /tail_call cannot be used inside bpf_spin_lock-ed region|function calls are not allowed while holding a lock/,
  ],
  ['rcu', /tail_call cannot be used inside bpf_rcu_read_lock-ed region/],
] as const) {
  test(`the kernel refuses ${name}, as the finding predicted`, () => {
    const {error, object} = tryLoad(name)
    object?.close()
    assert.ok(error, `${name} loaded, but graph --object said the kernel refuses it`)
    const text = [error.message, ...(error.details ?? [])].join('\n')
    assert.match(text, refusal)
  })
}

/** The running kernel's version as [major, minor]. */
function kernelVersion(): [number, number] {
  const [major, minor] = execFileSync('uname', ['-r'], {encoding: 'utf8'})
    .split('.')
    .map((x) => Number.parseInt(x, 10))
  return [major, minor]
}

const atLeast = (v: [number, number], major: number, minor: number) => v[0] > major || (v[0] === major && v[1] >= minor)

// The attach-target rule came with 6.12, the attach-type rule with 6.18 (both also in stable
// kernels): on older kernels the finding is a prediction for newer ones, and the object loads.
for (const [name, major, minor] of [
  ['incompatible-target', 6, 12],
  ['incompatible-attach', 6, 18],
] as const) {
  test(`the kernel refuses ${name} (${major}.${minor}+), as the finding predicted; the same programs with one attach point load`, async () => {
    const {error, object} = tryLoad(name)
    object?.close()
    if (atLeast(kernelVersion(), major, minor)) {
      assert.ok(error, `${name} loaded, but graph --object said the kernel refuses it`)
      assert.match([error.message, ...(error.details ?? [])].join('\n'), /EINVAL|Invalid argument/)
    }

    // The control: the member given the owner's section. No finding, and the kernel takes it.
    const [from, to] =
      name === 'incompatible-target'
        ? ['tp_btf/sched_process_fork', 'tp_btf/sched_process_exec']
        : ['SEC("xdp/devmap")', 'SEC("xdp")']
    const src = join(dir, `${name}-same.bpf.c`)
    const {writeFileSync} = await import('node:fs')
    writeFileSync(src, readFileSync(join(SRC, `${name}.bpf.c`), 'utf8').replaceAll(from, to))
    objects[`${name}-same`] = compile(src, join(dir, `${name}-same.o`))
    const {code, g} = await graphJson(['--object', objects[`${name}-same`]])
    assert.equal(code, 0)
    assert.deepEqual(
      g.findings.filter((f) => f.kind === 'incompatible-programs'),
      [],
    )
    const same = tryLoad(`${name}-same`)
    same.object?.close()
    assert.ifError(same.error)
  })
}

/** BPF_PROG_TEST_RUN of a tc program on a 64-byte packet: its return value. */
function testRun(fd: number): number {
  const {koffi} = sys()
  const fields = {
    sz: 'size_t',
    data_in: 'void *',
    data_out: 'void *',
    data_size_in: 'uint32',
    data_size_out: 'uint32',
    ctx_in: 'void *',
    ctx_out: 'void *',
    ctx_size_in: 'uint32',
    ctx_size_out: 'uint32',
    retval: 'uint32',
    repeat: 'int',
    duration: 'uint32',
    flags: 'uint32',
    cpu: 'uint32',
    batch_size: 'uint32',
  }
  const Opts = ((testRun as unknown as {type?: unknown}).type ??= koffi.struct('graph_object_test_run_opts', fields))
  const run = ((testRun as unknown as {fn?: (fd: number, o: object) => number}).fn ??= koffi
    .load('libbpf.so.1')
    .func('int bpf_prog_test_run_opts(int fd, _Inout_ graph_object_test_run_opts *opts)'))
  const opts = {
    batch_size: 0,
    cpu: 0,
    ctx_in: null,
    ctx_out: null,
    ctx_size_in: 0,
    ctx_size_out: 0,
    data_in: Buffer.alloc(64),
    data_out: null,
    data_size_in: 64,
    data_size_out: 0,
    duration: 0,
    flags: 0,
    repeat: 1,
    retval: 0,
    sz: koffi.sizeof(Opts as Parameters<typeof koffi.sizeof>[0]),
  }
  const ret = run(fd, opts)
  assert.equal(ret, 0, `test run failed: ${ret}`)
  return opts.retval
}

test('chain and slots load; test runs show the limit and the cycle the findings describe', async () => {
  const {error, object} = tryLoad('chain')
  assert.ifError(error)
  try {
    const fd = (p: string) => sys().libbpf.bpf_program__fd(object!.program(p)!)
    // p0 → … → p33 is 33 tail calls; p34 (the 34th) never runs: p33's return value comes back.
    assert.equal(testRun(fd('p0')), 33)
    // entry → ping ⇄ pong: 33 tail calls land on ping (odd ones), whose 34th falls through.
    assert.equal(testRun(fd('entry')), 200)
  } finally {
    object!.close()
  }

  const slots = tryLoad('slots')
  assert.ifError(slots.error)
  try {
    // entry: jmp[0] = stage1 runs and returns 1 (the later, empty and out-of-range sites are not reached).
    assert.equal(testRun(sys().libbpf.bpf_program__fd(slots.object!.program('entry')!)), 1)
  } finally {
    slots.object!.close()
  }
})

test('the live graph exits 16 on an error finding, as graph --object does (chain.bpf.c loaded: its 34-call chain)', async () => {
  const fx = loadFixture('graph-object/chain')
  try {
    const {programs} = fx.ids()
    const long = await runCli(['graph', 'prog', 'id', String(programs.p0), '--json'])
    assert.equal(long.code, 16, long.stderr)
    const g = JSON.parse(long.stdout) as JsonGraph
    assert.deepEqual(
      g.findings.filter((f) => f.severity === 'error').map((f) => f.kind),
      ['over-limit'],
    )
    // The tree says the same with the same status; the ping ⇄ pong cycle alone is a warning: 0.
    assert.equal((await runCli(['graph', 'prog', 'id', String(programs.p0)])).code, 16)
    const cycle = await runCli(['graph', 'prog', 'id', String(programs.entry)])
    assert.equal(cycle.code, 0, cycle.stderr)
    assert.match(cycle.stdout, /cycle ping → pong → ping/)
  } finally {
    fx.close()
  }
})

test('a prog array passed to a subprogram: one edge per call site, the cycle, and the loop runs to the limit', async () => {
  const {g} = await graphJson(['--object', objects['subprog-arg']])
  const name = (id: number) => g.programs.find((p) => p.id === id)!.name
  const map = (id: number) => g.maps.find((m) => m.id === id)!.name
  assert.deepEqual(g.edges.map((e) => [name(e.from), map(e.mapId), e.slot, name(e.to), e.possible]).sort(), [
    ['entry', 'jmp_a', 0, 'looper', false],
    ['looper', 'jmp_a', 0, 'looper', false],
    ['looper', 'jmp_b', 0, 'looper', false],
  ])
  // One site in hop, resolved per caller: two maps at one instruction is the indirect path.
  const sites = g.programs.find((p) => p.name === 'looper')!.sites as unknown as {
    via: number[]
    path: string
    mapName: string
  }[]
  assert.equal(sites.length, 2)
  assert.deepEqual(
    sites.map((s) => [s.mapName, s.path, s.via.length]),
    [
      ['jmp_a', 'indirect', 1],
      ['jmp_b', 'indirect', 1],
    ],
  )
  assert.deepEqual(
    g.chains.map((c) => [name(c.root), c.cyclic]),
    [['entry', true]],
  )

  const {error, object} = tryLoad('subprog-arg')
  assert.ifError(error)
  try {
    // looper counts its runs in skb->cb[0]: 33 tail calls from entry, the 33rd looper's falls through.
    assert.equal(testRun(sys().libbpf.bpf_program__fd(object!.program('entry')!)), 33)
  } finally {
    object!.close()
  }
})

// --- bad input ------------------------------------------------------------------------------------

test('malformed objects: one line naming the offset, exit 6, no stack trace', async () => {
  const good = readFileSync(objects.slots)
  const cases: [string, Buffer, RegExp][] = [
    ['empty', Buffer.alloc(0), /shorter than an ELF header \(at byte offset 0\)/],
    ['truncated', good.subarray(0, 200), /lie outside the 200-byte file \(at byte offset 40\)/],
  ]
  // A relocation naming a symbol past the symbol table: find .rel<tc>'s first entry and break it.
  const bad = Buffer.from(good)
  const shoff = Number(bad.readBigUInt64LE(0x28))
  const shnum = bad.readUInt16LE(0x3c)
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * 64
    if (bad.readUInt32LE(at + 4) === 9) {
      // SHT_REL
      const off = Number(bad.readBigUInt64LE(at + 24))
      bad.writeUInt32LE(0xfffff, off + 12)
      cases.push([
        'bad relocation',
        bad,
        new RegExp(`names symbol 1048575; the symbol table has \\d+ \\(at byte offset ${off + 8}\\)`),
      ])
      break
    }
  }

  // An instruction that takes no relocation where one points: turn the first ld_imm64 into a mov.
  const badInsn = Buffer.from(good)
  const tcAt = badInsn.indexOf(Buffer.from([0x18, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))
  badInsn[tcAt] = 0xb7
  cases.push(['bad instruction', badInsn, /on an instruction \(opcode 0xb7\) that takes none \(at byte offset \d+\)/])

  for (const [what, bytes, message] of cases) {
    const path = join(dir, `bad-${what.replaceAll(' ', '-')}.o`)
    execFileSync('cp', ['/dev/null', path])
    const {writeFileSync} = await import('node:fs')
    writeFileSync(path, bytes)
    const r = await runCli(['graph', '--object', path])
    assert.equal(r.code, 6, `${what}: ${r.stderr}`)
    assert.equal(r.stdout, '')
    const lines = r.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, `${what}: ${r.stderr}`)
    assert.match(lines[0], message, what)
    assert.doesNotMatch(r.stderr, /\n\s+at /)
  }

  const missing = await runCli(['graph', '--object', join(dir, 'nope.o')])
  assert.equal(missing.code, 5)
  const slot = await runCli(['graph', '--object', objects.slots, '--slot', 'jmp[4]=stage1'])
  assert.equal(slot.code, 11)
  assert.match(slot.stderr, /key 4 is outside jmp \(max_entries 4\)/)
  const noProg = await runCli(['graph', '--object', objects.slots, '--slot', 'jmp[1]=nope'])
  assert.equal(noProg.code, 5)
  const syntax = await runCli(['graph', '--object', objects.slots, '--slot', 'jmp1=stage1'])
  assert.equal(syntax.code, 2)
})

test('call sites the compiler merged (r2 one of two arrays at one call): both arrays resolve, possible edges and cycle', async () => {
  // hop() called from one call site with r2 = jmp_a or jmp_b depending on a branch (clang merges
  // `if (n & 1) hop(skb, &jmp_a); else hop(skb, &jmp_b);` into one call).
  const src = join(dir, 'merged.bpf.c')
  const {writeFileSync} = await import('node:fs')
  writeFileSync(
    src,
    readFileSync(join(SRC, 'subprog-arg.bpf.c'), 'utf8').replace(
      /SEC\("tc"\)\nint looper[\s\S]*?\n}\n/,
      'SEC("tc")\nint looper(struct __sk_buff *skb)\n{\n\t__u32 n = skb->cb[0] + 1;\n\n\tskb->cb[0] = n;\n\tif (n & 1)\n\t\thop(skb, &jmp_a);\n\telse\n\t\thop(skb, &jmp_b);\n\treturn n;\n}\n',
    ),
  )
  const obj = compile(src, join(dir, 'merged.o'))
  const {g} = await graphJson(['--object', obj])
  const name = (id: number) => g.programs.find((p) => p.id === id)!.name
  const map = (id: number) => g.maps.find((m) => m.id === id)!.name
  const fromLooper = g.edges
    .filter((e) => name(e.from) === 'looper')
    .map((e) => [map(e.mapId), e.slot, name(e.to), e.possible])
    .sort()
  assert.deepEqual(fromLooper, [
    ['jmp_a', 0, 'looper', true],
    ['jmp_b', 0, 'looper', true],
  ])
  assert.ok(g.findings.some((f) => f.kind === 'cycle' && /possible cycle looper → looper/.test(f.message)))
  assert.ok(!g.findings.some((f) => f.kind === 'unresolved-site'))
})
