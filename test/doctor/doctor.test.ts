// `tailcalls doctor` on the real kernel: every prerequisite passes here, the chain probe
// really loads, fills, attaches, runs and releases (nothing left behind), and without
// privileges it says the chain cannot run (exit 15) in one line.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {runCli} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {runAsNobody} from '../helpers/nobody.js'
import {EXPECT, KERNEL_LABEL, definedPart, knownPart} from '../helpers/kernel-expect.js'
import {needsRoot} from '../helpers/root.js'

const REQUIRED = [
  'kernel',
  'libbpf',
  'capabilities',
  'btf',
  'tracepoint',
  'bpffs',
  'jit',
  'ringbuf',
  'prog_array_type',
  'percpu_array',
  'btf_kinds',
  'batch_lookup',
  'load',
  'prog_array',
  'attach',
  'tail_calls',
  'prog_info',
  'perf_query',
  'stats',
]

test('doctor --json passes here, with the probed kernel facts, and leaves nothing loaded', needsRoot, async () => {
  const r = await runCli(['doctor', '--json'])
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  assert.equal(report.ok, true)
  assert.deepEqual(
    report.checks.map((c) => c.id),
    REQUIRED,
  )
  for (const c of report.checks) {
    assert.ok(['pass', 'warn'].includes(c.status), `${c.id}: ${c.status} ${c.detail}`)
    if (c.status !== 'pass') assert.ok(c.fix, `${c.id} says how to fix it`)
  }

  for (const id of ['btf', 'tracepoint', 'load', 'prog_array', 'attach', 'tail_calls', 'ringbuf']) {
    assert.equal(report.checks.find((c) => c.id === id).status, 'pass', id)
  }

  const f = report.facts
  assert.match(f.libbpf_version, /^1\.\d+$/)
  assert.ok(f.tracepoint_btf_type_id > 0)
  assert.equal(f.prog_array_owner_prog_type, 'tracing')
  assert.equal(f.tail_call_probe.failed_tail_calls, 0)
  assert.ok(f.tail_call_probe.prog3 >= 1)
  assert.equal(typeof f.jited, 'boolean')
  await assertGone(f.probe_ids)
})

test(
  `doctor reports the kernel facts that moved between versions, as probed on ${KERNEL_LABEL}`,
  needsRoot,
  async (t) => {
    const r = await runCli(['doctor', '--json'])
    assert.equal(r.code, 0, r.stderr)
    const {checks, facts} = JSON.parse(r.stdout)
    // Into the TAP log, for the README's kernel table.
    const {
      kernel_release: release,
      btf_kinds: kinds,
      lookup_batch: batch,
      prog_info_bytes: bytes,
      prog_info_fields: fields,
      link_fd_query: query,
    } = facts
    t.diagnostic(`doctor facts: ${JSON.stringify({batch, bytes, fields, kinds, query, release})}`)
    const check = (id) => checks.find((c) => c.id === id)

    // Each probed fact matches what this kernel version is known to have.
    assert.deepEqual(knownPart(facts.btf_kinds, EXPECT.btfKinds), definedPart(EXPECT.btfKinds), 'BTF kinds')
    assert.deepEqual(
      knownPart(facts.lookup_batch, EXPECT.lookupBatch),
      definedPart(EXPECT.lookupBatch),
      'batch lookups',
    )
    assert.deepEqual(
      knownPart(facts.prog_info_fields, EXPECT.progInfoFields),
      definedPart(EXPECT.progInfoFields),
      'bpf_prog_info fields',
    )
    assert.ok(facts.prog_info_bytes >= 192, `prog_info_bytes ${facts.prog_info_bytes}`)

    // A missing feature is a warning that names it and says what it means, never a pass or a failure.
    const missingKinds = Object.entries(facts.btf_kinds)
      .filter(([, v]) => !v)
      .map(([k]) => k.toUpperCase())
    assert.equal(check('btf_kinds').status, missingKinds.length === 0 ? 'pass' : 'warn')
    for (const k of missingKinds) assert.match(check('btf_kinds').detail, new RegExp(`\\b${k}\\b`))
    const noBatch = Object.entries(facts.lookup_batch)
      .filter(([, v]) => !v)
      .map(([k]) => k)
    assert.equal(check('batch_lookup').status, noBatch.length === 0 ? 'pass' : 'warn')
    for (const t of noBatch) assert.match(check('batch_lookup').detail, new RegExp(`\\b${t} \\(unsupported\\)`))
    const noField = Object.entries(facts.prog_info_fields)
      .filter(([, v]) => !v)
      .map(([k]) => k)
    assert.equal(check('prog_info').status, noField.length === 0 ? 'pass' : 'warn')
    for (const k of noField) assert.match(check('prog_info').detail, new RegExp(k))

    // The chain's own tp_btf link, asked the way perf list asks.
    if (typeof facts.link_fd_query === 'object') {
      assert.deepEqual(facts.link_fd_query, {fd_type: 'raw_tracepoint', tracepoint: 'sched_process_exec'})
      assert.equal(check('perf_query').status, 'pass')
    } else {
      assert.equal(check('perf_query').status, 'warn')
      assert.match(check('perf_query').fix, /link list/)
    }

    await assertGone(facts.probe_ids)
  },
)

test(
  'doctor as a table, and without privileges: the chain cannot run (exit 15), one error line',
  needsRoot,
  async () => {
    const ok = await runCli(['doctor'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /tail calls run end to end\s+│ PASS/)
    assert.match(ok.stdout, /The chain can run here\./)

    const nobody = await runAsNobody(['doctor', '--json'])
    assert.equal(nobody.code, 15, nobody.stderr)
    const report = JSON.parse(nobody.stdout)
    assert.equal(report.ok, false)
    const caps = report.checks.find((c) => c.id === 'capabilities')
    assert.equal(caps.status, 'fail')
    assert.match(caps.fix, /run as root/)
    assert.equal(report.checks.find((c) => c.id === 'load').status, 'skip')
    const lines = nobody.stderr.trimEnd().split('\n')
    assert.equal(lines.length, 1, nobody.stderr)
    assert.match(lines[0], /^tailcalls: error: the chain cannot run here: capabilities/)
  },
)
