// The graph renderers (src/graph/render.ts) on a synthetic snapshot of the bundled chain: the
// terminal tree, Graphviz DOT and Mermaid say the same thing: which program is attached where,
// and which slot of which prog array jumps to which program.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import type {Snapshot} from '../../src/graph/collect.js'
import {buildGraph} from '../../src/graph/graph.js'
import {renderDot, renderMermaid, renderTree} from '../../src/graph/render.js'
import {BPF_LINK_TYPE, BPF_PROG_TYPE} from '../../src/sys/uapi.js'

const TRACING = BPF_PROG_TYPE.TRACING

/** prog1 → TAIL_CALL_MAP[0] → prog2 → TAIL_CALL_MAP[1] → prog3, prog1 attached by link 97. */
function chain(): Snapshot {
  const prog = (id: number, name: string, sites: {insn: number; slot: number}[]) => ({
    id,
    jited: true,
    mapIds: [50],
    name,
    tag: '00'.repeat(8),
    type: TRACING,
    sites: sites.map(({insn, slot}) => ({
      insn,
      key: {kind: 'constant' as const, value: slot},
      mapId: 50,
      path: 'direct' as const,
    })),
  })
  return {
    links: [{id: 97, progId: 173, tpName: 'sched_process_exec', type: BPF_LINK_TYPE.RAW_TRACEPOINT}],
    maps: new Map([
      [
        50,
        {
          id: 50,
          maxEntries: 2,
          name: 'TAIL_CALL_MAP',
          slotErrors: new Map(),
          slots: new Map([
            [0, 174],
            [1, 175],
          ]),
          slotsRead: 2,
        },
      ],
    ]),
    progs: new Map([
      [173, prog(173, 'prog1', [{insn: 103, slot: 0}])],
      [174, prog(174, 'prog2', [{insn: 106, slot: 1}])],
      [175, prog(175, 'prog3', [])],
    ]),
  }
}

test('the tree: the entry program with its attachment, then each slot and where it leads', () => {
  const g = buildGraph(chain())
  assert.deepEqual(g.roots, [173])
  assert.deepEqual(g.findings, [])
  const tree = renderTree(g)
  const lines = tree.trimEnd().split('\n')
  assert.match(lines[0]!, /^prog1 \(id 173, tracing\) {2}attached: .*sched_process_exec.* \(link 97\)$/)
  assert.match(tree, /└── TAIL_CALL_MAP\[0\] → prog2 \(id 174\)/)
  assert.match(tree, /\s+└── TAIL_CALL_MAP\[1\] → prog3 \(id 175\)/)
  assert.ok(tree.indexOf('prog2') < tree.indexOf('prog3'))
  assert.ok(!tree.includes('\u001b'), 'no colour unless asked')
  assert.ok(renderTree(g, true).includes('\u001b[1mprog1\u001b[22m'), 'the entry program in bold when asked')
})

test('DOT and Mermaid: one node per program, one edge per slot, labelled with the slot', () => {
  const g = buildGraph(chain())
  const dot = renderDot(g)
  assert.match(dot, /^digraph /)
  assert.ok(dot.trimEnd().endsWith('}'))
  for (const id of [173, 174, 175]) assert.match(dot, new RegExp(`\\b${id}\\b`))
  const dotEdges = dot.split('\n').filter((l) => l.includes('->'))
  assert.equal(dotEdges.filter((l) => /TAIL_CALL_MAP\[\d\]/.test(l)).length, 2)
  assert.ok(dotEdges.some((l) => /TAIL_CALL_MAP\[0\]/.test(l) && /173/.test(l) && /174/.test(l)))
  assert.ok(dotEdges.some((l) => /TAIL_CALL_MAP\[1\]/.test(l) && /174/.test(l) && /175/.test(l)))

  const mermaid = renderMermaid(g)
  assert.match(mermaid, /^(flowchart|graph) /)
  const edges = mermaid.split('\n').filter((l) => /-->|-\.->|==>/.test(l) && /TAIL_CALL_MAP/.test(l))
  assert.equal(edges.length, 2, mermaid)
  assert.ok(mermaid.includes('prog1') && mermaid.includes('prog2') && mermaid.includes('prog3'))
})

test('an emptied slot shows as a fall-through in every renderer, and is a finding', () => {
  const snap = chain()
  snap.maps.get(50)!.slots.delete(1)
  const g = buildGraph(snap)
  assert.deepEqual(
    g.findings.map((f) => f.kind),
    ['empty-slot'],
  )
  assert.match(renderTree(g), /TAIL_CALL_MAP\[1\] → \(empty: falls through\)/)
  assert.match(renderDot(g), /empty/)
  assert.match(renderMermaid(g), /empty/)
})
