// The kernel's own tail-call scenarios (the BPF selftests' tailcall tests state what the kernel
// must do; the fixture programs under test/fixtures/tailcall-scenarios/ are ours), loaded and
// driven only through the CLI as a user would: `load FILE --pin-path DIR --no-attach`,
// `map update`, `map delete`, `prog run`, `map dump` of the object's .bss. Each scenario asserts
// the kernel-stated return values and counters, that `graph` on the live objects draws exactly the
// slots and cycles it set up, and that `graph --object` on the file, with the same slots, agrees.
import assert from 'node:assert/strict'
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, describe, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {runCli} from '../helpers/cli.js'
import {graphJson, normal} from '../helpers/graph.js'
import {assertGone} from '../helpers/kernel.js'
import {atLeast} from '../helpers/kernel-expect.js'
import {assertErrorLine, buildObject, removePinFolder, scratchDir} from '../helpers/load.js'
import {needsRoot} from '../helpers/root.js'

const scratch = scratchDir()
const objects: Record<string, string> = {}
const folders: string[] = []
const packets: Record<number, string> = {}
let n = 0

const SCENARIOS = ['self-loop', 'chain5', 'subprog', 'bss-key', 'static-values']

before(() => {
  for (const name of SCENARIOS) objects[name] = buildObject(scratch.dir, `tailcall-scenarios/${name}`)
  objects['subprog-arg'] = buildObject(scratch.dir, 'graph-object/subprog-arg')
  for (const size of [64, 100]) {
    packets[size] = join(scratch.dir, `packet-${size}`)
    writeFileSync(packets[size], Buffer.alloc(size))
  }
})

after(async () => {
  for (const f of folders) await removePinFolder(f)
  scratch.cleanup()
})

async function ok(args: string[]): Promise<string> {
  const r = await runCli(args)
  assert.equal(r.code, 0, `tailcalls ${args.join(' ')}: exit ${r.code}, ${r.stderr}`)
  return r.stdout
}

interface Loaded {
  dir: string
  report: any
  prog(name: string): string
  map(name: string): string
  bss(): string
}

/** `load FILE --pin-path DIR --no-attach --json`: the pins of every program and map, from the report. */
async function load(object: string): Promise<Loaded> {
  const dir = `/sys/fs/bpf/tailcalls-run-test-${process.pid}-${n++}`
  folders.push(dir)
  const report = JSON.parse(await ok(['load', objects[object], '--pin-path', dir, '--no-attach', '--json']))
  const pin = (list: any[], name: string) =>
    list.find((x) => x.name === name)?.pinned ?? assert.fail(`${object}: no ${name} in ${JSON.stringify(list)}`)
  return {
    bss: () =>
      report.maps.find((m: any) => m.name.endsWith('.bss'))?.pinned ?? assert.fail(`${object} has no .bss map`),
    dir,
    map: (name) => pin(report.maps, name),
    prog: (name) => pin(report.programs, name),
    report,
  }
}

/** `unload`, and every program and map the load created is gone from the kernel. */
async function unload(l: Loaded): Promise<void> {
  await ok(['unload', '--pin-path', l.dir])
  await assertGone({
    maps: Object.fromEntries(l.report.maps.map((m: any) => [m.name, m.id])),
    programs: Object.fromEntries(l.report.programs.map((p: any) => [p.name, p.id])),
  })
}

/** `prog run pinned PROG --data-in PACKET --json`: bpftool's retval. */
async function run(l: Loaded, prog = 'entry', size = 64): Promise<number> {
  const out = JSON.parse(await ok(['prog', 'run', 'pinned', l.prog(prog), '--data-in', packets[size], '--json']))
  assert.equal(out.data_size_out, size, 'a tc program leaves the packet as it came')
  return out.retval
}

async function fill(l: Loaded, map: string, key: number, prog: string): Promise<void> {
  await ok(['map', 'update', 'pinned', l.map(map), 'key', String(key), 'prog', 'pinned', l.prog(prog)])
}

async function empty(l: Loaded, map: string, key: number): Promise<void> {
  await ok(['map', 'delete', 'pinned', l.map(map), 'key', String(key)])
}

/** The object's global variables, from `map dump` of its .bss (decoded with its BTF). */
async function globals(l: Loaded): Promise<Record<string, number>> {
  const [entry] = JSON.parse(await ok(['map', 'dump', 'pinned', l.bss(), '--json']))
  return Object.assign({}, ...entry.formatted.value['.bss'])
}

type Normal = ReturnType<typeof normal>

/**
 * The live graph from `entry`, and the object graph of the same file with the same slots: they
 * must agree. The programs are loaded but not attached (a test run needs no attachment), so the
 * live graph warns that no attached program uses the arrays; the object graph takes the entry
 * program as the entry point instead: that one finding is the live graph's alone.
 */
async function graphs(l: Loaded, object: string, slots: string[] | null, entry = 'entry'): Promise<Normal> {
  const live = normal(await graphJson(['prog', 'pinned', l.prog(entry)]))
  const unused = (f: unknown[]) => f[0] === 'unused-map'
  assert.ok(live.findings.some(unused), 'not attached: the live graph says no attached program uses the arrays')
  live.findings = live.findings.filter((f) => !unused(f))
  if (slots !== null) {
    const fromObject = normal(
      await graphJson(['--object', objects[object], ...slots.flatMap((s) => ['--slot', s]), 'prog', 'name', entry]),
    )
    assert.deepEqual(fromObject, live, 'graph --object with the same slots = the live graph')
  }

  return live
}

const kinds = (g: Normal, kind: string) => g.findings.filter((f) => f[0] === kind).map((f) => f.slice(2))

describe('the kernel tail-call scenarios, through the CLI', needsRoot, () => {
  test('a program that tail-calls itself stops after 33 tail calls (selftest tailcall_3)', async () => {
    const l = await load('self-loop')
    try {
      // The slot is empty: entry's tail call falls through, again never runs.
      assert.equal(await run(l), 0)
      assert.deepEqual(await globals(l), {runs: 0})
      await fill(l, 'loop_slots', 0, 'again')
      // again runs 33 times, and the 34th tail call falls through: again returns 1.
      assert.equal(await run(l), 1)
      assert.deepEqual(await globals(l), {runs: 33})
      assert.equal(await run(l), 1)
      assert.deepEqual(await globals(l), {runs: 66}, '33 per run, every run')
      // The map's name has a dot, its pin cannot: the error says which pin to use.
      const bssName = l.report.maps.find((m: any) => m.name.endsWith('.bss')).name
      assertErrorLine(
        await runCli(['map', 'dump', 'pinned', `${l.dir}/${bssName}`]),
        EXIT.notFound,
        new RegExp(
          `bpffs names cannot contain '\\.'; libbpf pins a map such as ${bssName.replace('.', '\\.')} as ${bssName.replace('.', '_')}`,
        ),
      )

      const g = await graphs(l, 'self-loop', ['loop_slots[0]=again'])
      assert.deepEqual(g.edges, [
        ['again', 'loop_slots', 0, 'again', false],
        ['entry', 'loop_slots', 0, 'again', false],
      ])
      assert.deepEqual(kinds(g, 'cycle'), [['again', null]])
      // The path goes up to where it loops: again again.
      assert.deepEqual(g.chains, [['entry', null, true, ['entry', 'again', 'again']]])
    } finally {
      await unload(l)
    }
  })

  test('a 5-slot chain: 0→1→2 returns 2, 1 without slot 2, 3 without slot 0 (the 3↔4 loop; tailcall_2)', async () => {
    const l = await load('chain5')
    try {
      for (let k = 0; k < 5; k++) await fill(l, 'chain_slots', k, `stage_${k}`)
      assert.equal(await run(l), 2)
      const all = ['chain_slots[0]=stage_0', 'chain_slots[1]=stage_1', 'chain_slots[2]=stage_2']
      const loop = ['chain_slots[3]=stage_3', 'chain_slots[4]=stage_4']
      let g = await graphs(l, 'chain5', [...all, ...loop])
      assert.deepEqual(g.edges, [
        ['entry', 'chain_slots', 0, 'stage_0', false],
        ['entry', 'chain_slots', 2, 'stage_2', false],
        ['entry', 'chain_slots', 3, 'stage_3', false],
        ['stage_0', 'chain_slots', 1, 'stage_1', false],
        ['stage_1', 'chain_slots', 2, 'stage_2', false],
        ['stage_3', 'chain_slots', 4, 'stage_4', false],
        ['stage_4', 'chain_slots', 3, 'stage_3', false],
      ])
      assert.deepEqual(kinds(g, 'cycle'), [['stage_3', null]])
      assert.deepEqual(kinds(g, 'empty-slot'), [])

      await empty(l, 'chain_slots', 2)
      assert.equal(await run(l), 1)
      g = await graphs(l, 'chain5', [all[0], all[1], ...loop])
      assert.ok(!g.edges.some((e) => e[3] === 'stage_2'), 'nothing reaches stage_2 any more')
      assert.deepEqual(kinds(g, 'empty-slot').sort(), [
        ['entry', 2],
        ['stage_1', 2],
      ])

      await empty(l, 'chain_slots', 0)
      // entry's calls through 0 and 2 fall through; through 3 it enters the 3↔4 loop, which the
      // kernel stops after 33 tail calls, in stage_3: 3.
      assert.equal(await run(l), 3)
      g = await graphs(l, 'chain5', [all[1], ...loop])
      assert.deepEqual(g.edges, [
        ['entry', 'chain_slots', 3, 'stage_3', false],
        ['stage_3', 'chain_slots', 4, 'stage_4', false],
        ['stage_4', 'chain_slots', 3, 'stage_3', false],
      ])
      assert.deepEqual(kinds(g, 'cycle'), [['stage_3', null]])
      assert.deepEqual(kinds(g, 'empty-slot').sort(), [
        ['entry', 0],
        ['entry', 2],
      ])
    } finally {
      await unload(l)
    }
  })

  test('tail calls from a bpf-to-bpf subprogram, the result computed from the packet length (tailcall_bpf2bpf_1)', async () => {
    const l = await load('subprog')
    try {
      await fill(l, 'sub_slots', 0, 'target_0')
      await fill(l, 'sub_slots', 1, 'target_1')
      assert.equal(await run(l), 1)
      let g = await graphs(l, 'subprog', ['sub_slots[0]=target_0', 'sub_slots[1]=target_1'])
      assert.deepEqual(g.edges, [
        ['entry', 'sub_slots', 0, 'target_0', false],
        ['entry', 'sub_slots', 1, 'target_1', false],
      ])

      await empty(l, 'sub_slots', 1)
      // entry's own call falls through; the subprogram's goes to target_0, whose result is the run's.
      assert.equal(await run(l), 0)

      await empty(l, 'sub_slots', 0)
      // Both fall through: the subprogram reads the context it was handed, 2 × the packet length.
      assert.equal(await run(l, 'entry', 64), 128)
      assert.equal(await run(l, 'entry', 100), 200)
      g = await graphs(l, 'subprog', [])
      assert.deepEqual(g.edges, [])
      assert.deepEqual(kinds(g, 'empty-slot').sort(), [
        ['entry', 0],
        ['entry', 1],
      ])
    } finally {
      await unload(l)
    }
  })

  test('a key read from global data (.bss), chosen by the test with map update (tailcall_4)', async () => {
    const l = await load('bss-key')
    try {
      for (let k = 0; k < 3; k++) await fill(l, 'pick_slots', k, `target_${k}`)
      for (let k = 0; k < 3; k++) {
        await ok(['map', 'update', 'pinned', l.bss(), 'key', '0', 'value', String(k)])
        assert.deepEqual(await globals(l), {pick: k})
        assert.equal(await run(l), k)
      }

      const g = await graphs(l, 'bss-key', [
        'pick_slots[0]=target_0',
        'pick_slots[1]=target_1',
        'pick_slots[2]=target_2',
      ])
      // The key is not a constant: every filled slot is a possible target, through the indirect path.
      assert.deepEqual(g.edges, [
        ['entry', 'pick_slots', 0, 'target_0', true],
        ['entry', 'pick_slots', 1, 'target_1', true],
        ['entry', 'pick_slots', 2, 'target_2', true],
      ])
      const [site] = g.programs.find((p) => p[0] === 'entry')![1] as unknown[][]
      assert.deepEqual([site[0], site[2], site[3]], ['pick_slots', 'indirect', 'possible'])
      assert.equal(kinds(g, 'indirect-key').length, 1)

      for (let k = 0; k < 3; k++) {
        // bpftool's byte grammar works too.
        await ok([
          'map',
          'update',
          'pinned',
          l.bss(),
          'key',
          '0',
          '0',
          '0',
          '0',
          'value',
          'hex',
          `0${k}`,
          '00',
          '00',
          '00',
        ])
        await empty(l, 'pick_slots', k)
        assert.equal(await run(l), 3, `slot ${k} emptied: the tail call falls through`)
      }
    } finally {
      await unload(l)
    }
  })

  // Before the x86 JIT's "tailcall hierarchy" fix (6.11), a subprogram's tail calls did not count
  // against its caller's: the second loop would run 33 times too.
  const sharedCount = atLeast(6, 11) ? false : 'the tail-call count shared across subprograms needs kernel 6.11+'
  test(
    'slots filled statically with .values: the limit shared across subprograms (tailcall_bpf2bpf_hierarchy_2)',
    {skip: sharedCount},
    async () => {
      const l = await load('static-values')
      try {
        // The loader reports the object's own slots, filled by libbpf at load.
        assert.deepEqual(
          l.report.slots.map((s: any) => [s.map, s.key, s.prog, s.by]),
          [
            ['static_slots', 0, 'first', 'object'],
            ['static_slots', 1, 'second', 'object'],
          ],
        )
        // (second_runs << 16) | first_runs: first ran 33 times, second never.
        assert.equal(await run(l), 33)
        assert.deepEqual(await globals(l), {first_runs: 33, second_runs: 0})

        // No --slot: the object's .values are the slots.
        const g = await graphs(l, 'static-values', [])
        assert.deepEqual(g.edges, [
          ['entry', 'static_slots', 0, 'first', false],
          ['entry', 'static_slots', 1, 'second', false],
          ['first', 'static_slots', 0, 'first', false],
          ['second', 'static_slots', 1, 'second', false],
        ])
        assert.deepEqual(kinds(g, 'cycle').sort(), [
          ['first', null],
          ['second', null],
        ])
      } finally {
        await unload(l)
      }
    },
  )

  test('a prog array passed to a subprogram from two call sites, both arrays holding the caller: both edges, the cycle, and the loop runs to the limit (issue 12)', async () => {
    const l = await load('subprog-arg')
    try {
      const g = await graphs(l, 'subprog-arg', [])
      assert.deepEqual(g.edges, [
        ['entry', 'jmp_a', 0, 'looper', false],
        ['looper', 'jmp_a', 0, 'looper', false],
        ['looper', 'jmp_b', 0, 'looper', false],
      ])
      assert.deepEqual(kinds(g, 'cycle'), [['looper', null]])
      // looper counts its runs in the packet's context; the kernel stops the loop after 33 tail calls.
      assert.equal(await run(l), 33)
      const out = JSON.parse(await ok(['prog', 'run', 'pinned', l.prog('entry'), '--data-in', packets[64], '--json']))
      assert.equal(out.tail_calls.cyclic, true)
      assert.equal(out.tail_calls.longest_chain, null)
      assert.deepEqual(out.tail_calls.prog_arrays.map((m: any) => m.name).sort(), ['jmp_a', 'jmp_b'])
      assert.deepEqual(
        out.tail_calls.reaches.map((p: any) => p.name),
        ['looper'],
      )
    } finally {
      await unload(l)
    }
  })
})
