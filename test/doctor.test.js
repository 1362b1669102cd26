// `tailcalls doctor` on the real kernel: every prerequisite passes here, the chain probe
// really loads, fills, attaches, runs and releases (nothing left behind), and without
// privileges it says the chain cannot run (exit 15) in one line.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {BIN, runCli} from './helpers/cli.js'
import {assertGone} from './helpers/kernel.js'

const REQUIRED = ['kernel', 'libbpf', 'capabilities', 'btf', 'tracepoint', 'bpffs', 'jit', 'ringbuf', 'prog_array_type',
  'percpu_array', 'load', 'prog_array', 'attach', 'tail_calls', 'stats']

test('doctor --json passes here, with the probed kernel facts, and leaves nothing loaded', async () => {
  const r = await runCli(['doctor', '--json'], {timeoutMs: 60_000})
  assert.equal(r.code, 0, r.stderr)
  const report = JSON.parse(r.stdout)
  assert.equal(report.ok, true)
  assert.deepEqual(report.checks.map((c) => c.id), REQUIRED)
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

test('doctor as a table, and without privileges: the chain cannot run (exit 15), one error line', async () => {
  const ok = await runCli(['doctor'], {timeoutMs: 60_000})
  assert.equal(ok.code, 0, ok.stderr)
  assert.match(ok.stdout, /tail calls run end to end\s+│ PASS/)
  assert.match(ok.stdout, /The chain can run here\./)

  // HOME: oclif reads its data folder there; nobody cannot read root's.
  const nobody = await runCli(['doctor', '--json'], {env: {HOME: '/tmp', XDG_DATA_HOME: '/tmp', XDG_CACHE_HOME: '/tmp', XDG_CONFIG_HOME: '/tmp'}, command: 'setpriv', prefix: ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN]})
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
})
