// Privileges, through the real CLI run as an unprivileged user (helpers/nobody.js: uid/gid
// 65534, no groups, no capabilities, HOME a temp folder; from any checkout, /root included):
//  - every command refuses with exactly one line naming the capability it lacks (doctor, whose
//    job is to diagnose, runs and ends with its one line naming them), exit 3, `{"error"}` under
//    --json, no stack trace; the exporter is the exception: it serves without privileges and
//    reports each failed kernel read as a metric (test/exporter/degraded.test.ts shows it);
//  - `--help` and `--version` work for every command;
//  - with some capabilities (ambient caps for uid 65534), the line names what is still missing,
//    and with CAP_BPF + CAP_PERFMON `load` really loads, streams and frees the chain.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {ROOT} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {runAsNobody} from '../helpers/nobody.js'
import {needsRoot} from '../helpers/root.js'

// `help` (bundled from @oclif/plugin-help, which used to be loaded as a plugin with a manifest of
// its own) reads no kernel state and needs no privileges.
const COMMANDS = Object.keys(JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')).commands)
  .filter((id) => id !== 'help')
  .sort()

/**
 * Commands that run without privileges by design: a server that reports what it cannot read, and
 * shell completion, which never touches the kernel (test/cli/completion.test.ts runs it as nobody).
 */
const SERVES_WITHOUT_PRIVILEGES = new Set(['exporter', 'autocomplete', 'autocomplete:script'])

/** Arguments that get each command past parsing (to where privileges matter). */
const ARGS = {
  'link:show': ['id', '1'],
  'map:delete': ['id', '1', 'key', '0', '0', '0', '0'],
  'map:dump': ['id', '1'],
  'map:show': ['id', '1'],
  'map:update': ['id', '1', 'key', '0', '0', '0', '0', 'value', '0', '0', '0', '0'],
  'prog:run': ['id', '1'],
  'prog:show': ['id', '1'],
}

/** What each command must say is missing. */
const MISSING = {
  doctor: /none of CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN/,
  events: /needs CAP_BPF \(or CAP_SYS_ADMIN\), which this process lacks/,
  load: /needs CAP_BPF \(or CAP_SYS_ADMIN\), which this process lacks/,
  stats: /needs CAP_BPF \(or CAP_SYS_ADMIN\), which this process lacks/,
  unload: /needs CAP_BPF \(or CAP_SYS_ADMIN\), which this process lacks/,
}

async function pool(tasks, limit) {
  let next = 0
  await Promise.all(
    Array.from({length: limit}, async () => {
      while (next < tasks.length) await tasks[next++]()
    }),
  )
}

function oneErrorLine(r, what) {
  const lines = r.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('tailcalls: error: '))
  assert.equal(lines.length, 1, `${what}: one error line; stderr: ${r.stderr}`)
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`)
  return lines[0]
}

test('without capabilities every command refuses in one line naming what is missing', needsRoot, async () => {
  assert.ok(COMMANDS.length >= 14, COMMANDS.join(' '))
  await pool(
    COMMANDS.filter((id) => !SERVES_WITHOUT_PRIVILEGES.has(id)).map((id) => async () => {
      const args = [...id.split(':'), ...(ARGS[id] ?? [])]
      for (const json of [false, true]) {
        const r = await runAsNobody([...args, ...(json ? ['--json'] : [])])
        const what = `${args.join(' ')}${json ? ' --json' : ''}`
        const line = oneErrorLine(r, what)
        if (id === 'doctor') {
          assert.equal(r.code, 15, `${what}: ${r.stderr}`)
          assert.match(line, MISSING.doctor)
          continue
        }

        assert.equal(r.code, 3, `${what}: ${r.stderr}`)
        assert.match(
          line,
          /^tailcalls: error: permission denied: .* needs (CAP_SYS_ADMIN|CAP_BPF \(or CAP_SYS_ADMIN\)), which this process lacks/,
        )
        assert.match(line, MISSING[id] ?? /needs CAP_SYS_ADMIN, which this process lacks/, what)
        if (json) assert.match(JSON.parse(r.stdout).error, /^permission denied: /)
        else assert.equal(r.stdout, '')
      }
    }),
    4,
  )
})

test('--help and --version work for every command without privileges', needsRoot, async () => {
  const version = await runAsNobody(['--version'])
  assert.equal(version.code, 0, version.stderr)
  assert.match(version.stdout, /^tailcalls\/\d+\.\d+\.\d+ /)
  await pool(
    COMMANDS.map((id) => async () => {
      const r = await runAsNobody([...id.split(':'), '--help'])
      assert.equal(r.code, 0, `${id} --help: ${r.stderr}`)
      assert.match(r.stdout, /USAGE/)
      assert.match(r.stdout, /EXAMPLES/, `${id} --help has examples`)
      assert.equal(r.stderr, '')
    }),
    4,
  )
})

test(
  'with some capabilities the line names what is still missing; CAP_BPF + CAP_PERFMON load for real',
  needsRoot,
  async () => {
    const bpfOnly = await runAsNobody(['load', '--duration', '1'], {caps: '+bpf'})
    assert.equal(bpfOnly.code, 3)
    assert.match(oneErrorLine(bpfOnly, 'load with CAP_BPF'), /needs CAP_PERFMON, which this process lacks/)

    const list = await runAsNobody(['prog', 'list'], {caps: '+bpf,+perfmon'})
    assert.equal(list.code, 3)
    assert.match(oneErrorLine(list, 'prog list with CAP_BPF'), /listing BPF objects by id needs CAP_SYS_ADMIN/)

    const show = await runAsNobody(['map', 'show', 'id', '1'], {caps: '+bpf'})
    assert.match(
      oneErrorLine(show, 'map show id'),
      /needs CAP_SYS_ADMIN.*select the object with `pinned PATH` \(needs CAP_BPF\)/,
    )
    // A pinned selector needs only CAP_BPF: past the privilege check to the real answer.
    const pinned = await runAsNobody(['map', 'show', 'pinned', '/sys/fs/bpf/tailcalls-no-such-pin'], {caps: '+bpf'})
    assert.equal(pinned.code, 5, pinned.stderr)

    const load = await runAsNobody(['load', '--json', '--duration', '1'], {caps: '+bpf,+perfmon'})
    assert.equal(load.code, 0, load.stderr)
    const ids = JSON.parse(load.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
    assert.match(load.stderr, /"stop_reason":"duration"/)
    await assertGone(ids)
  },
)
