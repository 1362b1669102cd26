// Real XDP and tc tail-call chains through `tailcalls load FILE.o --xdp IFACE` / `--tc IFACE`: attached to one end of
// a veth pair whose peer sits in a network namespace this test creates (addresses only inside the
// pair; both removed at the end, also on failure). A bounded number of UDP datagrams sent from the
// namespace takes the stages the slots say, counted per stage in the fixture's map and read with
// `tailcalls map dump`; after Ctrl-C the interface has no XDP program left.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {after, before, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {runCli, startCli} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {
  type VethPair,
  assertErrorLine,
  assertNoneLeft,
  buildObject,
  createVeth,
  maxProgId,
  scratchDir,
  xdpProgId,
} from '../helpers/load.js'
import {needsRoot} from '../helpers/root.js'

const scratch = scratchDir()
let object: string
let tcObject: string
let veth: VethPair | undefined

before(() => {
  object = buildObject(scratch.dir, 'load/xdp_chain')
  tcObject = buildObject(scratch.dir, 'load/tc_chain')
})

after(() => {
  veth?.remove()
  scratch.cleanup()
})

/** Send `count` UDP datagrams to the probe port from inside the namespace (one process, bounded). */
function sendFromNs(pair: VethPair, count: number): void {
  const script = `const s = require('dgram').createSocket('udp4'); let n = 0;
const next = () => (n++ < ${count} ? s.send('probe', 9999, '${pair.hostAddr}', next) : s.close()); next()`
  execFileSync('ip', ['netns', 'exec', pair.ns, process.execPath, '-e', script], {stdio: 'ignore'})
}

async function stageHits(mapId: number): Promise<number[]> {
  const r = await runCli(['map', 'dump', 'id', String(mapId), '--json'])
  assert.equal(r.code, 0, r.stderr)
  return JSON.parse(r.stdout).map((e) => e.formatted.value)
}

test('packets through a veth pair take the stages the slots say; Ctrl-C leaves no XDP program', needsRoot, async () => {
  veth = createVeth('xdp')
  const cli = startCli([
    'load',
    object,
    '--slot',
    'xdp_jmp[0]=xdp_ip',
    '--slot',
    'xdp_jmp[1]=xdp_count',
    '--xdp',
    veth.host,
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
    const prog = (name: string) => report.programs.find((p) => p.name === name)
    assert.equal(prog('xdp_entry').attached, `xdp on ${veth.host}`)
    assert.equal(xdpProgId(veth.host), prog('xdp_entry').id, 'ip link shows the entry on the interface')
    assert.deepEqual(
      report.slots.map((s) => [s.key, s.prog, s.by]),
      [
        [0, 'xdp_ip', '--slot'],
        [1, 'xdp_count', '--slot'],
      ],
    )
    const hitsMap = report.maps.find((m) => m.name === 'stage_hits').id
    const jmp = report.maps.find((m) => m.name === 'xdp_jmp').id

    // Both slots filled: every datagram runs entry → xdp_ip → xdp_count.
    const n = 20
    sendFromNs(veth, n)
    let hits = await stageHits(hitsMap)
    // The sender has exited; NAPI may still be delivering its last datagrams: re-read (bounded).
    for (let i = 0; i < 100 && hits[2] < n; i++) hits = await stageHits(hitsMap)
    assert.deepEqual(hits, [n, n, n])

    // Slot 1 emptied on the live chain: the next datagrams stop after xdp_ip.
    const del = await runCli(['map', 'delete', 'id', String(jmp), 'key', '1', '0', '0', '0'])
    assert.equal(del.code, 0, del.stderr)
    sendFromNs(veth, n)
    for (let i = 0; i < 100 && hits[1] < 2 * n; i++) hits = await stageHits(hitsMap)
    assert.deepEqual(hits, [2 * n, 2 * n, n])
  } finally {
    const result = await cli.stop('SIGINT')
    assert.equal(result.code, 0, result.stderr)
  }

  assert.equal(xdpProgId(veth.host), undefined, 'no XDP program left on the interface')
  assert.doesNotMatch(execFileSync('ip', ['link', 'show', 'dev', veth.host], {encoding: 'utf8'}), /prog\/xdp/)
  await assertGone({
    maps: {stage_hits: report.maps[0].id},
    programs: Object.fromEntries(report.programs.map((p) => [p.name, p.id])),
  })
  for (const l of report.links) await assertGone({link: l.id})
  veth.remove()
  veth = undefined
})

test('an interface that does not exist or already has an XDP program: one line, nothing left', needsRoot, async () => {
  const base = await maxProgId()
  assertErrorLine(
    await runCli(['load', object, '--attach', 'xdp_entry', '--xdp', 'tailcalls-nope0']),
    EXIT.notFound,
    /--xdp tailcalls-nope0: no network interface is called tailcalls-nope0; `ip -br link`/,
  )
  veth = createVeth('xbz')
  const first = startCli(['load', object, '--attach', 'xdp_entry', '--xdp', veth.host, '--duration', '3600'])
  try {
    await first.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'the first load')
    const busy = await runCli(['load', object, '--attach', 'xdp_entry', '--xdp', veth.host])
    assertErrorLine(busy, EXIT.conflict, new RegExp(`${veth.host} already has an XDP program \\(id \\d+\\)`))
  } finally {
    assert.equal((await first.stop('SIGINT')).code, 0)
  }

  // Two XDP programs outside a slot and no --attach: the loader will not guess the entry.
  assertErrorLine(
    await runCli(['load', object, '--slot', 'xdp_jmp[0]=xdp_ip', '--xdp', veth.host]),
    EXIT.usage,
    /could each be the entry.*choose one with --attach PROG/,
  )

  assert.equal(xdpProgId(veth.host), undefined)
  await assertNoneLeft(['xdp_entry', 'xdp_ip', 'xdp_count'], base)
  veth.remove()
  veth = undefined
})

test(
  'a tc chain on the veth ingress: slot set by the object, both stages count; Ctrl-C removes filter and qdisc',
  needsRoot,
  async () => {
    veth = createVeth('tc')
    const cli = startCli(['load', tcObject, '--tc', `${veth.host}:ingress`, '--json', '--duration', '3600'])
    let report: any
    try {
      report = JSON.parse(
        await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'the loaded line'),
      ).loaded
      await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
      assert.equal(report.programs.find((p) => p.name === 'tc_entry').attached, `tc ingress on ${veth.host}`)
      assert.deepEqual(report.links, [{id: null, pinned: null, prog: 'tc_entry', target: `tc ingress on ${veth.host}`}])
      assert.deepEqual(
        report.slots.map((s) => [s.map, s.key, s.prog, s.by]),
        [['tc_jmp', 0, 'tc_stage', 'object']],
      )
      const filters = execFileSync('tc', ['filter', 'show', 'dev', veth.host, 'ingress'], {encoding: 'utf8'})
      assert.match(
        filters,
        new RegExp(`tc_entry.*direct-action.*id ${report.programs.find((p) => p.name === 'tc_entry').id}`),
      )
      const n = 15
      sendFromNs(veth, n)
      const hitsMap = report.maps.find((m) => m.name === 'tc_hits').id
      let hits = await stageHits(hitsMap)
      for (let i = 0; i < 100 && hits[1] < n; i++) hits = await stageHits(hitsMap)
      assert.deepEqual(hits, [n, n])
    } finally {
      const result = await cli.stop('SIGINT')
      assert.equal(result.code, 0, result.stderr)
    }

    assert.equal(execFileSync('tc', ['filter', 'show', 'dev', veth.host, 'ingress'], {encoding: 'utf8'}).trim(), '')
    assert.doesNotMatch(
      execFileSync('tc', ['qdisc', 'show', 'dev', veth.host], {encoding: 'utf8'}),
      /clsact/,
      'the clsact qdisc this run created is gone',
    )
    await assertGone({programs: Object.fromEntries(report.programs.map((p) => [p.name, p.id]))})
    veth.remove()
    veth = undefined
  },
)
