// `tailcalls load FILE.o` on objects that are not the bundled chain, through the real CLI on the
// real kernel: load, wire (.values and --slot), attach, report, hold, Ctrl-C → nothing left;
// --pin-path then unload; graph on the pinned chain; a Falco-shaped chain's ring buffer decoded
// with its BTF, every exec of a bounded loop in order of stages.
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {runCli, startCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone, stillAlive} from '../helpers/kernel.js'
import {assertErrorLine, buildObject, removePinFolder, scratchDir} from '../helpers/load.js'
import {needsRoot} from '../helpers/root.js'

const scratch = scratchDir()
const objects: Record<string, string> = {}
const folders: string[] = []
let n = 0

before(() => {
  objects.wired = buildObject(scratch.dir, 'load/wired')
  objects.exec = buildObject(scratch.dir, 'load/exec_chain')
  objects.execOdd = buildObject(scratch.dir, 'load/exec_chain', ['ODD_EVERY=2'], 'exec_odd')
})

after(async () => {
  for (const f of folders) await removePinFolder(f)
  scratch.cleanup()
})

function pinPath(): string {
  const p = `/sys/fs/bpf/tailcalls-load-test-${process.pid}-${n++}`
  folders.push(p)
  return p
}

/** Kernel ids in a load report (programs, maps, links) for the leak checks. */
function idsOf(report: any) {
  return {
    link: undefined,
    links: report.links.map((l) => l.id),
    maps: Object.fromEntries(report.maps.map((m) => [m.name, m.id])),
    programs: Object.fromEntries(report.programs.map((p) => [p.name, p.id])),
  }
}

async function assertAllGone(report: any) {
  const ids = idsOf(report)
  await assertGone({maps: ids.maps, programs: ids.programs})
  for (const id of ids.links) await assertGone({link: id})
}

/** A .bss global's value, through `tailcalls map dump` (the DATASEC rendered by its BTF). */
async function bssVar(mapId: number, name: string): Promise<any> {
  const r = await runCli(['map', 'dump', 'id', String(mapId), '--json'])
  assert.equal(r.code, 0, r.stderr)
  const [entry] = JSON.parse(r.stdout)
  const vars = entry.formatted.value['.bss'] as Array<Record<string, unknown>>
  const v = vars.find((x) => name in x)
  assert.ok(v, `.bss has ${name}: ${JSON.stringify(vars)}`)
  return v[name]
}

test(
  'a generic object: loaded, wired by .values and --slot, attached, shown; Ctrl-C leaves nothing',
  needsRoot,
  async () => {
    const cli = startCli(['load', objects.wired, '--slot', 'wired_jmp[1]=from_cli', '--json', '--duration', '3600'])
    let report: any
    try {
      const line = await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'the loaded line')
      report = JSON.parse(line).loaded
      await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
      assert.equal(report.object, objects.wired)
      assert.equal(report.pin, null)
      assert.deepEqual(report.programs.map((p) => p.name).sort(), ['entry', 'from_cli', 'from_object', 'spare'])
      const prog = (name: string) => report.programs.find((p) => p.name === name)
      assert.equal(prog('entry').type, 'raw_tracepoint')
      assert.equal(prog('spare').type, 'socket_filter')
      assert.equal(prog('entry').attached, 'raw_tp/sched_process_exec', 'the entry in no slot is attached')
      for (const p of ['from_object', 'from_cli', 'spare']) assert.equal(prog(p).attached, null, `${p} is not attached`)
      assert.deepEqual(report.slots, [
        {by: 'object', key: 0, map: 'wired_jmp', prog: 'from_object', prog_id: prog('from_object').id},
        {by: '--slot', key: 1, map: 'wired_jmp', prog: 'from_cli', prog_id: prog('from_cli').id},
      ])
      assert.equal(report.links.length, 1)
      assert.equal(report.links[0].prog, 'entry')
      // The graph of what was loaded: from_cli's tail call into the empty slot 2 falls through.
      assert.ok(
        report.findings.some((f) => f.kind === 'empty-slot' && /wired_jmp\[2\] is empty/.test(f.message)),
        JSON.stringify(report.findings),
      )

      // The kernel agrees with the report: the prog array's slots, the link on the program.
      const dump = await runCli([
        'map',
        'dump',
        'id',
        String(report.maps.find((m) => m.name === 'wired_jmp').id),
        '--json',
      ])
      assert.deepEqual(
        JSON.parse(dump.stdout).map((e) => [Number.parseInt(e.key[0], 16), e.prog.id]),
        [
          [0, prog('from_object').id],
          [1, prog('from_cli').id],
        ],
      )
      const link = JSON.parse((await runCli(['link', 'show', 'id', String(report.links[0].id), '--json'])).stdout)
      assert.equal(link.prog_id, prog('entry').id)

      // Every exec runs entry → from_object → from_cli (counted in .bss).
      const bss = report.maps.find((m) => m.type === 'array' && m.name.endsWith('.bss')).id
      const before = await bssVar(bss, 'hits')
      await execLoop(10)
      const hits = await bssVar(bss, 'hits')
      for (let i = 0; i < 3; i++) assert.ok(hits[i] - before[i] >= 10, `stage ${i} ran for each exec: ${hits}`)
    } finally {
      const result = await cli.stop('SIGINT')
      assert.equal(result.code, 0, result.stderr)
      assert.match(result.stderr, /Detached and freed everything/)
    }

    await assertAllGone(report)
  },
)

test('the same object in text mode: tables of programs, slots and who set them, the findings', needsRoot, async () => {
  const cli = startCli(['load', objects.wired, '--slot', 'wired_jmp[1]=from_cli', '--duration', '3600'])
  try {
    await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
    const text = cli.state.stderr
    assert.match(text, /^Loaded .*wired\.bpf\.o:/m)
    assert.match(text, /│ entry\s+│\s+\d+ │ raw_tracepoint │ raw_tp\/sched_process_exec │ raw_tp\/sched_process_exec │/)
    assert.match(text, /│ wired_jmp\[0\] │ from_object │\s+\d+ │ the object \(\.values\) │/)
    assert.match(text, /│ wired_jmp\[1\] │ from_cli\s+│\s+\d+ │ --slot\s+│/)
    assert.match(text, /Attached: entry → raw_tp\/sched_process_exec \(link id \d+\)/)
    assert.match(text, /warning: from_cli \(id \d+\) insn \d+: wired_jmp\[2\] is empty/)
    assert.equal(cli.state.stdout, '', 'stdout is for events only')
  } finally {
    const result = await cli.stop('SIGTERM')
    assert.equal(result.code, 0, result.stderr)
  }
})

test('--pin-path pins every program, map and link; graph finds the chain; unload removes it', needsRoot, async () => {
  const path = pinPath()
  try {
    const r = await runCli(['load', objects.wired, '--slot', 'wired_jmp[1]=from_cli', '--pin-path', path, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const doc = JSON.parse(r.stdout)
    assert.equal(doc.pin, path)
    assert.deepEqual(readdirSync(path).sort(), [
      'entry',
      'entry_link',
      'from_cli',
      'from_object',
      'spare',
      'wired_bss',
      'wired_jmp',
    ])
    for (const p of doc.programs) assert.equal(p.pinned, join(path, p.name))
    assert.equal(doc.maps.find((m) => m.name === 'wired.bss').pinned, join(path, 'wired_bss'), 'dots become _')
    assert.equal(doc.links[0].pinned, join(path, 'entry_link'))
    const ids = idsOf(doc)
    // The loader has exited: everything lives on through the pins.
    assert.equal(stillAlive({maps: ids.maps, programs: ids.programs}).length, 4 + 2)
    assert.equal(stillAlive({link: ids.links[0]}).length, 1)

    // The object grammar reaches the pins; the graph draws the wired chain from the pinned entry.
    const g = await runCli(['graph', 'prog', 'pinned', join(path, 'entry'), '--json'])
    assert.equal(g.code, 0, g.stderr)
    const graph = JSON.parse(g.stdout)
    const name = (id: number) => graph.programs.find((p) => p.id === id)?.name
    const edges = graph.edges.map((e) => `${name(e.from)}→${name(e.to)}`).sort()
    assert.deepEqual(edges, ['entry→from_object', 'from_object→from_cli'])
    assert.ok(graph.findings.some((f) => f.kind === 'empty-slot'))

    // stats reads the pinned programs' kernel counters (a generic object has no CHAIN_STATS).
    const st = await runCli(['stats', '--pin-path', path, '--json', '--interval', '0.1'])
    assert.equal(st.code, 0, st.stderr)
    const tick = JSON.parse(st.stdout.trim().split('\n')[0])
    assert.equal(tick.chain.chain_stats_map_id, null)
    assert.deepEqual(tick.programs.map((p) => p.name).sort(), ['entry', 'from_cli', 'from_object', 'spare'])

    // unload refuses a folder holding something it did not pin, and removes nothing.
    mkdirSync(join(path, 'extra'))
    assertErrorLine(
      await runCli(['unload', '--pin-path', path]),
      EXIT.conflict,
      /not a tailcalls chain: extra \(a folder\)/,
    )
    assert.equal(stillAlive({maps: ids.maps, programs: ids.programs}).length, 6)
    rmSync(join(path, 'extra'), {recursive: true})

    // A second pin at the same path is refused before anything is loaded.
    assertErrorLine(
      await runCli(['load', objects.wired, '--pin-path', path]),
      EXIT.conflict,
      /a pinned chain already exists at/,
    )

    const u = await runCli(['unload', '--pin-path', path, '--json'])
    assert.equal(u.code, 0, u.stderr)
    assert.equal(JSON.parse(u.stdout).unpinned.objects.length, 7)
    assert.equal(existsSync(path), false)
    await assertAllGone(doc)
  } finally {
    await removePinFolder(path)
  }
})

test(
  'a Falco-shaped chain: every exec of a bounded loop arrives decoded from its own ring buffer, in order of stages',
  needsRoot,
  async () => {
    const cli = startCli([
      'load',
      objects.exec,
      '--events',
      'events',
      '--event-type',
      'exec_event',
      '--json',
      '--duration',
      '3600',
    ])
    let report: any
    try {
      report = JSON.parse(
        await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'the loaded line'),
      ).loaded
      await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
      assert.deepEqual(
        report.slots.map((s) => [s.map, s.key, s.prog, s.by]),
        [
          ['exec_jmp', 0, 'stage2', 'object'],
          ['exec_jmp', 1, 'stage3', 'object'],
        ],
      )
      assert.deepEqual(
        report.links.map((l) => [l.prog, l.target]),
        [['exec_entry', 'tp_btf/sched_process_exec']],
      )

      const execs = 25
      const tgids = await execLoop(execs)
      const records = () =>
        cli.state.stdoutLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>)
      const want = new Set(tgids)
      const byTgid = () => {
        const m = new Map<number, Array<Record<string, any>>>()
        for (const r of records()) if (want.has(r.tgid)) m.set(r.tgid, [...(m.get(r.tgid) ?? []), r])
        return m
      }

      await cli.waitFor(() => tgids.every((t) => (byTgid().get(t)?.length ?? 0) >= 3), `3 records for ${execs} execs`)
      for (const [tgid, rs] of byTgid()) {
        // One exec: stages 1, 2, 3 in that order, one seq, the exec'd program's name, decoded by BTF.
        assert.deepEqual(
          rs.map((r) => r.stage),
          [1, 2, 3],
          `tgid ${tgid}`,
        )
        assert.equal(new Set(rs.map((r) => r.seq)).size, 1)
        assert.equal(rs[0].comm, 'true')
        assert.deepEqual(Object.keys(rs[0]), ['tgid', 'stage', 'seq', 'comm'])
      }
    } finally {
      const result = await cli.stop('SIGINT')
      assert.equal(result.code, 0, result.stderr)
      const summary = JSON.parse(result.stderr.split('\n').find((l) => l.startsWith('{"summary"'))!).summary
      assert.equal(summary.events.type, 'exec_event')
      assert.equal(summary.events.skipped, 0)
      assert.ok(summary.events.received >= 75)
    }

    await assertAllGone(report)
  },
)

test('records whose size is not the type are counted and skipped, never decoded', needsRoot, async () => {
  const cli = startCli([
    'load',
    objects.execOdd,
    '--events',
    'events',
    '--event-type',
    'struct exec_event',
    '--duration',
    '3600',
  ])
  try {
    await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
    const tgids = await execLoop(10)
    await cli.waitFor(
      (s) => tgids.every((t) => s.stdoutLines.filter((l) => l.startsWith(`tgid=${t} stage=3 `)).length >= 1),
      'stage 3 of each exec',
    )
    // One readable line per record: the members as name=value.
    assert.ok(cli.state.stdoutLines.some((l) => /^tgid=\d+ stage=[123] seq=\d+ comm="[^"]*"$/.test(l)))
  } finally {
    const result = await cli.stop('SIGINT')
    assert.equal(result.code, 0, result.stderr)
    const m = /Received (\d+) exec_event records; skipped (\d+) whose size was not sizeof\(exec_event\)/.exec(
      result.stderr,
    )
    assert.ok(m, result.stderr)
    // Every second exec's stage 2 wrote one 4-byte record: at least 5 of the 10 execs did.
    assert.ok(Number(m[2]) >= 5, `skipped ${m[2]}`)
    assert.ok(!/stage=0|tgid=2 stage=/.test(result.stdout), 'no short record decoded')
  }
})
