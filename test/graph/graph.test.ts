// `tailcalls graph` on the real kernel: the bundled chain, and a foreign 5-stage chain built
// from test/fixtures/graph5.bpf.c with a gap, a cycle, a non-constant key and an orphan array.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {loadFixture} from '../helpers/bpf-fixture.js'
import {runCli} from '../helpers/cli.js'
import {assertGone, startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

test(
  'the bundled chain: prog1 (attached) → TAIL_CALL_MAP[0] → prog2 → TAIL_CALL_MAP[1] → prog3',
  needsRoot,
  async () => {
    const chain = await startChain()
    let finished = false
    try {
      const {maps, programs, link} = chain.ids
      const r = await runCli(['graph', 'prog', 'id', String(programs.prog1), '--json'])
      assert.equal(r.code, 0, r.stderr)
      const g = JSON.parse(r.stdout)
      assert.equal(g.scope, 'selected')
      assert.deepEqual(g.roots, [programs.prog1])
      assert.deepEqual(
        g.programs.map((p) => p.name),
        ['prog1', 'prog2', 'prog3'],
      )
      const p1 = g.programs[0]
      assert.deepEqual(p1.attachments, [
        {description: 'tp_btf/sched_process_exec', linkId: link, linkType: 'raw_tracepoint'},
      ])
      assert.deepEqual(
        g.edges.map((e) => [e.from, e.mapId, e.slot, e.to, e.possible]),
        [
          [programs.prog1, maps.TAIL_CALL_MAP, 0, programs.prog2, false],
          [programs.prog2, maps.TAIL_CALL_MAP, 1, programs.prog3, false],
        ],
      )
      assert.deepEqual(
        p1.sites.map((s) => [s.mapName, s.key, s.path, s.outcome]),
        [['TAIL_CALL_MAP', {kind: 'constant', value: 0}, 'direct', 'jump']],
      )
      assert.deepEqual(g.chains, [
        {cyclic: false, longest: 2, path: [programs.prog1, programs.prog2, programs.prog3], root: programs.prog1},
      ])
      assert.deepEqual(g.findings, [])
      assert.equal(g.limit, 33)

      // The tree, as a person reads it; and the other formats name the same things.
      const tree = await runCli(['graph', 'prog', 'id', String(programs.prog1)])
      assert.equal(tree.code, 0, tree.stderr)
      assert.equal(
        tree.stdout,
        [
          `prog1 (id ${programs.prog1}, tracing)  attached: tp_btf/sched_process_exec (link ${link})`,
          `└── TAIL_CALL_MAP[0] → prog2 (id ${programs.prog2})`,
          `    └── TAIL_CALL_MAP[1] → prog3 (id ${programs.prog3})`,
          '',
          'Longest chain: 2 tail calls (prog1 → prog2 → prog3); the kernel allows 33.',
          'No problems found.',
          '',
        ].join('\n'),
      )
      const dot = await runCli(['graph', 'prog', 'id', String(programs.prog1), '--format', 'dot'])
      assert.match(
        dot.stdout,
        new RegExp(`p${programs.prog1} -> p${programs.prog2} \\[label="TAIL_CALL_MAP\\[0\\]"\\]`),
      )
      const mermaid = await runCli(['graph', 'prog', 'id', String(programs.prog1), '--format', 'mermaid'])
      assert.match(mermaid.stdout, new RegExp(`p${programs.prog2} -->\\|"TAIL_CALL_MAP\\[1\\]"\\| p${programs.prog3}`))

      // The whole-kernel graph contains the same chain (other objects may exist: compare on ours).
      const all = JSON.parse((await runCli(['graph', '--json'])).stdout)
      assert.equal(all.scope, 'all')
      assert.ok(all.roots.includes(programs.prog1))
      assert.ok(!all.findings.some((f) => f.mapId === maps.TAIL_CALL_MAP || Object.values(programs).includes(f.progId)))

      // Empty slot 1 (prog2's call site) and the graph says the tail call falls through.
      const del = await runCli(['map', 'delete', 'id', String(maps.TAIL_CALL_MAP), 'key', '1'])
      assert.equal(del.code, 0, del.stderr)
      const g2 = JSON.parse((await runCli(['graph', 'prog', 'id', String(programs.prog1), '--json'])).stdout)
      assert.deepEqual(
        g2.findings.map((f) => [f.kind, f.progId, f.slot]),
        [['empty-slot', programs.prog2, 1]],
      )
      assert.match(
        (await runCli(['graph', 'prog', 'id', String(programs.prog1)])).stdout,
        /TAIL_CALL_MAP\[1\] → \(empty: falls through\)/,
      )

      const result = await chain.finish()
      finished = true
      assert.equal(result.code, 0, result.stderr)
    } finally {
      if (!finished) await chain.cli.stop('SIGKILL')
    }
  },
)

test('a foreign chain with a gap, a cycle, a non-constant key and an orphan prog array', needsRoot, async () => {
  const fx = loadFixture('graph5')
  let ids
  try {
    // jt: [0]=s1 [1]=s2 [2]=(gap) [3]=s3 [4]=s4; s0 is the attached entry.
    fx.setSlot('jt', 0, 's1')
    fx.setSlot('jt', 1, 's2')
    fx.setSlot('jt', 3, 's3')
    fx.setSlot('jt', 4, 's4')
    const linkId = fx.attach('s0')
    ids = fx.ids()
    const P = ids.programs
    const jt = ids.maps.jt

    const r = await runCli(['graph', 'prog', 'id', String(P.s0), '--json'])
    assert.equal(r.code, 0, r.stderr)
    const g = JSON.parse(r.stdout)
    assert.deepEqual(
      g.programs.map((p) => p.name),
      ['s0', 's1', 's2', 's3', 's4'],
    )
    assert.deepEqual(g.programs[0].attachments, [
      {description: 'tp_btf/sched_process_exit', linkId, linkType: 'raw_tracepoint'},
    ])
    const certain = g.edges.filter((e) => !e.possible).map((e) => [e.from, e.slot, e.to])
    assert.deepEqual(certain, [
      [P.s0, 0, P.s1],
      [P.s1, 1, P.s2],
      [P.s2, 3, P.s3],
      [P.s3, 4, P.s4],
      [P.s4, 1, P.s2],
    ])
    // The non-constant key at s3: every filled slot is a possible target, on the indirect path.
    const possible = g.edges.filter((e) => e.possible).map((e) => [e.from, e.slot, e.to])
    assert.deepEqual(possible, [
      [P.s3, 0, P.s1],
      [P.s3, 1, P.s2],
      [P.s3, 3, P.s3],
      [P.s3, 4, P.s4],
    ])
    const s3 = g.programs.find((p) => p.id === P.s3)
    assert.deepEqual(
      s3.sites.map((s) => [s.key.kind, s.path, s.outcome]),
      [
        ['constant', 'direct', 'jump'],
        ['unknown', 'indirect', 'possible'],
      ],
    )

    const kinds = g.findings.map((f) => f.kind)
    // The gap: s2's first call site, jt[2], falls through.
    const gap = g.findings.find((f) => f.kind === 'empty-slot')
    assert.deepEqual([gap.progId, gap.mapId, gap.slot, gap.severity], [P.s2, jt, 2, 'warning'])
    // The cycle through constant keys, s2 → s3 → s4 → s2.
    const cycle = g.findings.find((f) => f.kind === 'cycle' && f.severity === 'warning')
    assert.deepEqual(cycle.cycle, [P.s2, P.s3, P.s4, P.s2])
    assert.match(cycle.message, /cycle s2 → s3 → s4 → s2: it loops until the kernel stops it after 33 tail calls/)
    assert.ok(kinds.includes('indirect-key'))
    assert.match(
      g.findings.find((f) => f.kind === 'indirect-key').message,
      /slower indirect path.*possible targets: \[0\] s1, \[1\] s2, \[3\] s3, \[4\] s4/,
    )
    // The chain from s0 is unbounded: the kernel's limit is what stops it.
    assert.deepEqual(
      g.chains.map((c) => [c.root, c.cyclic, c.longest]),
      [[P.s0, true, null]],
    )
    assert.ok(!kinds.includes('unused-map'))

    // Whole kernel: orphan_jt is used only by `lonely`, which nothing attaches.
    const all = JSON.parse((await runCli(['graph', '--json'])).stdout)
    const orphan = all.findings.filter((f) => f.mapId === ids.maps.orphan_jt)
    assert.deepEqual(
      orphan.map((f) => f.kind),
      ['empty-slot', 'unused-map'],
    )
    assert.match(orphan[1].message, /only lonely \(id \d+\) references it, and none is attached/)
    assert.ok(!all.findings.some((f) => f.kind === 'unused-map' && f.mapId === jt))
    const lonely = all.programs.find((p) => p.id === P.lonely)
    assert.deepEqual(
      lonely.sites.map((s) => s.outcome),
      ['empty'],
    )
    assert.ok(!all.programs.some((p) => p.id === P.sockf), 'a program without tail calls is not drawn')

    const tree = (await runCli(['graph', 'prog', 'name', 's0'])).stdout
    assert.match(tree, /jt\[2\] → \(empty: falls through\)/)
    assert.match(tree, /↺ cycle/)
    assert.match(
      tree,
      /Longest chain: unbounded \(a cycle: s0 → s1 → s2 → s3 → s4 → s2\); the kernel stops after 33 tail calls\./,
    )
  } finally {
    fx.close()
  }

  await assertGone(ids)
})

test('graph errors: unknown program, bad selector', needsRoot, async () => {
  const r = await runCli(['graph', 'prog', 'name', 'no_such_prog_xyz'])
  assert.equal(r.code, 5)
  assert.match(r.stderr, /^tailcalls: error: no program with name no_such_prog_xyz; /)
  assert.equal(r.stderr.split('\n').length, 2)
  const bad = await runCli(['graph', 'prog', 'colour', 'x'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /expected 'id', 'name', 'tag' or 'pinned', got 'colour'/)
  const json = await runCli(['graph', 'prog', 'id', '4000000000', '--json'])
  assert.equal(json.code, 5)
  assert.deepEqual(Object.keys(JSON.parse(json.stdout)), ['error'])
})
