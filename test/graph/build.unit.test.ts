// buildGraph on synthetic snapshots: the rules the kernel enforces, without a kernel.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import type {SnapLink, SnapMap, SnapProg, Snapshot} from '../../src/graph/collect.js'
import {MAX_TAIL_CALLS, buildGraph} from '../../src/graph/graph.js'
import {renderDot, renderMermaid, renderTree} from '../../src/graph/render.js'
import type {SiteKey, TailCallSite} from '../../src/graph/sites.js'
import {BPF_LINK_TYPE, BPF_PROG_TYPE} from '../../src/sys/uapi.js'

const TRACING = BPF_PROG_TYPE.TRACING
const RAW_TP = BPF_LINK_TYPE.RAW_TRACEPOINT

function prog(id: number, name: string, mapIds: number[], sites: TailCallSite[]): SnapProg {
  return {id, jited: true, mapIds, name, sites, tag: '00'.repeat(8), type: TRACING}
}

const site = (insn: number, mapId: number | undefined, key: number | SiteKey): TailCallSite => ({
  insn,
  key: typeof key === 'number' ? {kind: 'constant', value: key} : key,
  mapId,
  path: typeof key === 'number' && mapId !== undefined ? 'direct' : 'indirect',
})

/** A prog array as a test writes it: slots as [slot, prog id] pairs. */
type MapSpec = Omit<SnapMap, 'slotErrors' | 'slots' | 'slotsRead'> & {slots: [number, number][]}

function snapshot(progs: SnapProg[], maps: MapSpec[], links: SnapLink[] = []): Snapshot {
  return {
    links,
    maps: new Map(
      maps.map((m) => [m.id, {slotErrors: new Map(), slotsRead: m.maxEntries, ...m, slots: new Map(m.slots)}]),
    ),
    progs: new Map(progs.map((p) => [p.id, p])),
  }
}

test('a chain of 35 programs is over the limit of 33 tail calls', () => {
  const n = MAX_TAIL_CALLS + 2 // 35 programs, 34 tail calls
  const progs = Array.from({length: n}, (_, i) => prog(100 + i, `st${i}`, [1], i < n - 1 ? [site(4, 1, i + 1)] : []))
  const slots = Array.from({length: n - 1}, (_, i): [number, number] => [i + 1, 100 + i + 1])
  const g = buildGraph(
    snapshot(progs, [{id: 1, maxEntries: 64, name: 'long', slots}], [{id: 7, progId: 100, tpName: 'x', type: RAW_TP}]),
  )
  assert.deepEqual(g.roots, [100])
  assert.equal(g.chains[0].longest, 34)
  assert.equal(g.chains[0].path.length, 35)
  const over = g.findings.filter((f) => f.kind === 'over-limit')
  assert.equal(over.length, 1)
  assert.equal(over[0].severity, 'error')
  assert.match(over[0].message, /has 34 tail calls; the kernel allows 33/)
  // Exactly 33 is fine.
  const ok = buildGraph(snapshot(progs.slice(1), [{id: 1, maxEntries: 64, name: 'long', slots: slots.slice(1)}]))
  assert.equal(ok.chains[0].longest, 33)
  assert.ok(!ok.findings.some((f) => f.kind === 'over-limit'))
})

test('out-of-range key, a key that is one of several, a map inferred from the only prog array used', () => {
  const progs = [
    prog(
      1,
      'a',
      [9],
      [
        site(3, 9, 7),
        site(8, 9, {kind: 'one-of', values: [0, 1]}),
        {insn: 12, key: {kind: 'constant', value: 0}, path: 'indirect'},
      ],
    ),
    prog(2, 'b', [], []),
  ]
  const g = buildGraph(snapshot(progs, [{id: 9, maxEntries: 4, name: 'arr', slots: [[0, 2]]}]))
  const a = g.programs.find((p) => p.id === 1)!
  assert.deepEqual(
    a.sites.map((s) => s.outcome),
    ['out-of-range', 'possible', 'jump'],
  )
  assert.deepEqual(a.sites[1].emptySlots, [1])
  assert.equal(a.sites[2].mapInferred, true)
  assert.equal(a.sites[2].path, 'indirect')
  assert.deepEqual(
    g.findings.map((f) => [f.kind, f.severity]),
    [
      ['out-of-range', 'warning'],
      ['indirect-key', 'warning'],
      ['unused-map', 'warning'],
    ],
  )
  assert.match(g.findings[1].message, /one of 0, 1.*possible targets: \[0\] b; empty: \[1\]/)
  // Every renderer copes with every outcome.
  const tree = renderTree(g)
  assert.match(tree, /arr\[7\] → \(out of range: always falls through\)/)
  assert.match(tree, /arr\[0\|1\] {2}\(key depends on the path: indirect path\)/)
  assert.match(tree, /\[1\] → \(empty\)/)
  assert.match(renderDot(g), /out of range: falls through/)
  assert.match(renderMermaid(g), /-.-x/)
})

test('a prog array nobody references; a self-loop; a site whose map is unknown', () => {
  const progs = [prog(5, 'self', [3, 4], [site(1, 3, 0), {insn: 6, key: {kind: 'unknown'}, path: 'indirect'}])]
  const g = buildGraph(
    snapshot(
      progs,
      [
        {id: 3, maxEntries: 1, name: 'loop', slots: [[0, 5]]},
        {id: 4, maxEntries: 1, name: 'other', slots: []},
        {id: 8, maxEntries: 2, name: 'lost', slots: []},
      ],
      [{id: 1, progId: 5, tpName: 't', type: RAW_TP}],
    ),
  )
  const kinds = g.findings.map((f) => f.kind)
  assert.ok(kinds.includes('cycle'))
  assert.deepEqual(g.findings.find((f) => f.kind === 'cycle')!.cycle, [5, 5])
  assert.ok(kinds.includes('unresolved-site'))
  assert.deepEqual(
    g.findings.filter((f) => f.kind === 'unused-map').map((f) => f.mapId),
    [8],
  )
  assert.match(g.findings.find((f) => f.mapId === 8)!.message, /no program references it/)
  assert.deepEqual(g.chains, [{cyclic: true, longest: null, path: [5, 5], root: 5}])
})

test('scope selected: only what the selection reaches', () => {
  const progs = [prog(1, 'x', [2], [site(0, 2, 0)]), prog(2, 'y', [], []), prog(3, 'z', [2], [site(0, 2, 0)])]
  const g = buildGraph(snapshot(progs, [{id: 2, maxEntries: 1, name: 'm', slots: [[0, 2]]}]), {selected: [3]})
  assert.deepEqual(
    g.programs.map((p) => p.id),
    [2, 3],
  )
  assert.deepEqual(g.roots, [3])
  assert.equal(g.omittedPrograms, 0)
})
