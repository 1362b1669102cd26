// The object graph (`graph --object`, read from the ELF before loading) and the live graph (read
// from the kernel after loading) agree on the same programs with the same slot contents: same
// sites (prog array, key, direct/indirect path, outcome, targets), edges, chains and findings.
// Instruction indices are left out: the verifier may insert instructions before a site.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {buildFixture, loadFixture} from '../helpers/bpf-fixture.js'
import {ROOT} from '../helpers/cli.js'
import {graphJson as json, normal} from '../helpers/graph.js'
import {startChain} from '../helpers/kernel.js'

test("the bundled chain: graph --object with the loader's slots = the live graph", async () => {
  const fromObject = normal(
    await json([
      '--object',
      `${ROOT}/bpf/tailcalls.bpf.o`,
      '--slot',
      'TAIL_CALL_MAP[0]=prog2',
      '--slot',
      'TAIL_CALL_MAP[1]=prog3',
      'prog',
      'name',
      'prog1',
    ]),
  )
  const chain = await startChain()
  let finished = false
  try {
    const live = normal(await json(['prog', 'id', String(chain.ids.programs.prog1)]))
    assert.deepEqual(fromObject, live)
    assert.deepEqual(live.edges, [
      ['prog1', 'TAIL_CALL_MAP', 0, 'prog2', false],
      ['prog2', 'TAIL_CALL_MAP', 1, 'prog3', false],
    ])
    const result = await chain.finish()
    finished = true
    assert.equal(result.code, 0, result.stderr)
  } finally {
    if (!finished) await chain.cli.stop('SIGKILL')
  }
})

test('the foreign 5-stage chain (gap, cycle, variable key): graph --object = the live graph', async () => {
  const built = buildFixture('graph5')
  const slots = ['jt[0]=s1', 'jt[1]=s2', 'jt[3]=s3', 'jt[4]=s4']
  let fromObject
  try {
    fromObject = normal(
      await json(['--object', built.path, ...slots.flatMap((s) => ['--slot', s]), 'prog', 'name', 's0']),
    )
  } finally {
    built.cleanup()
  }

  const fx = loadFixture('graph5')
  try {
    fx.setSlot('jt', 0, 's1')
    fx.setSlot('jt', 1, 's2')
    fx.setSlot('jt', 3, 's3')
    fx.setSlot('jt', 4, 's4')
    fx.attach('s0')
    const live = normal(await json(['prog', 'id', String(fx.ids().programs.s0)]))
    assert.deepEqual(fromObject, live)
    assert.ok(live.findings.some((f: unknown[]) => f[0] === 'cycle'))
    assert.ok(live.findings.some((f: unknown[]) => f[0] === 'empty-slot'))
  } finally {
    fx.close()
  }
})

test('a prog array passed to a subprogram from two call sites: graph --object = the live graph', async () => {
  const built = buildFixture('graph-object/subprog-arg')
  let fromObject
  try {
    fromObject = normal(await json(['--object', built.path, 'prog', 'name', 'entry']))
  } finally {
    built.cleanup()
  }

  const fx = loadFixture('graph-object/subprog-arg')
  try {
    const live = normal(await json(['prog', 'id', String(fx.ids().programs.entry)]))
    // tc programs are not attached here (no interface), so the live graph has no entry point and
    // calls both arrays unused; the object graph takes entry (in no slot) as the entry point.
    const unused = (f: unknown[]) => f[0] === 'unused-map'
    assert.deepEqual(
      live.findings.filter(unused).map((f: unknown[]) => f[2]),
      ['jmp_a', 'jmp_b'],
    )
    live.findings = live.findings.filter((f: unknown[]) => !unused(f))
    assert.deepEqual(fromObject, live)
    assert.deepEqual(live.edges, [
      ['entry', 'jmp_a', 0, 'looper', false],
      ['looper', 'jmp_a', 0, 'looper', false],
      ['looper', 'jmp_b', 0, 'looper', false],
    ])
    assert.ok(live.findings.some((f: unknown[]) => f[0] === 'cycle'))
  } finally {
    fx.close()
  }
})

test('a constant key at or above max_entries is the indirect path, live as in the object (slots fixture)', async () => {
  const built = buildFixture('graph-object/slots')
  let fromObject
  try {
    fromObject = normal(await json(['--object', built.path, 'prog', 'name', 'entry']))
  } finally {
    built.cleanup()
  }

  // The loader fills jmp from .values ([0] = stage1, [3] = stray), as graph --object reads it.
  const fx = loadFixture('graph-object/slots')
  try {
    const live = normal(await json(['prog', 'id', String(fx.ids().programs.entry)]))
    // entry is not attached here (a tc program, no interface): the live graph calls jmp unused.
    const unused = (f: unknown[]) => f[0] === 'unused-map'
    assert.deepEqual(
      live.findings.filter(unused).map((f: unknown[]) => f[2]),
      ['jmp'],
    )
    live.findings = live.findings.filter((f: unknown[]) => !unused(f))
    assert.deepEqual(fromObject, live)
    assert.deepEqual(live.programs.find((p) => p[0] === 'entry')?.[1], [
      ['jmp', {kind: 'constant', value: 0}, 'direct', 'jump', [[0, 'stage1']], []],
      ['jmp', {kind: 'constant', value: 1}, 'direct', 'empty', [], []],
      ['jmp', {kind: 'constant', value: 9}, 'indirect', 'out-of-range', [], []],
    ])
  } finally {
    fx.close()
  }
})
