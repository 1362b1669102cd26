// The kernel-matrix runner (test/vm/run.mjs) under faults, run for real: a kernel package that
// cannot be fetched, a guest whose test runner crashes, a guest that hangs (per-kernel
// timeout), a failing test, and the runner itself stopped with SIGTERM mid-boot. Each is
// reported per kernel with its reason, the exit code says the matrix failed and names the
// kernel, and afterwards no qemu the runner started is running, nothing new is mounted on the
// host, and the per-run result shares are gone.
//
// Costs three short qemu boots (~10-20 s each under TCG) and, on a fresh machine, fetching
// the 5.10/6.1/6.12 packages into the cache that `npm run test:kernels` then reuses.
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {ROOT} from '../helpers/cli.js'
import {needsRoot} from '../helpers/root.js'

const RUNNER = join(ROOT, 'test', 'vm', 'run.mjs')
const OUT = mkdtempSync(join(tmpdir(), 'tailcalls-vm-runner-'))
const CACHE =
  process.env.TAILCALLS_VM_CACHE ?? join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tailcalls-vm')

after(() => rmSync(OUT, {force: true, recursive: true}))

/** Pids of the qemu processes a runner started (their guest name carries its pid; see lib/vm.mjs). */
function qemuOf(runnerPid) {
  const pids: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0').includes(`tailcalls-vm-${runnerPid}`))
        pids.push(Number(e))
    } catch {
      // exited meanwhile
    }
  }

  return pids
}

const mounts = () =>
  readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ').slice(4, 5).join())
    .sort()
const shares = () => (existsSync(join(CACHE, 'runs')) ? readdirSync(join(CACHE, 'runs')).sort() : [])

/**
 * Run the runner (not under node --test's context, which it refuses) and collect its output;
 * `onStdout` may act on progress lines (e.g. send a signal).
 */
interface MatrixRun {
  code: number | null
  // The runner's machine-readable line (test/vm/run.mjs): per-kernel results, read field by field.
  matrix: any
  pid: number | undefined
  signal: NodeJS.Signals | null
  stderr: string
  stdout: string
}

/**
 * Run the matrix runner and collect what it printed. No timer here: the runner's own per-kernel
 * --timeout is what bounds qemu (the hang test below shows it does), and a qemu guest on a busy
 * machine can take many minutes just to boot, so any fixed limit in the test would be a guess.
 */
function runMatrix(
  args: string[],
  {onStdout}: {onStdout?: (out: string, child: ChildProcess) => void} = {},
): Promise<MatrixRun> {
  const env = {...process.env}
  delete env.NODE_TEST_CONTEXT
  const child = spawn(process.execPath, [RUNNER, '--out', OUT, ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d) => {
    stdout += d
    onStdout?.(stdout, child)
  })
  child.stderr.on('data', (d) => {
    stderr += d
  })
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      const line = /^TAILCALLS_KERNEL_MATRIX (.*)$/m.exec(stdout)
      resolve({code, matrix: line ? JSON.parse(line[1]) : undefined, pid: child.pid, signal, stderr, stdout})
    })
  })
}

/** Nothing the runner started is left: no qemu of its own, no new mount, no result share. */
function assertCleanSince(before, run) {
  assert.deepEqual(qemuOf(run.pid), [], 'no qemu of this runner left running')
  assert.deepEqual(mounts(), before.mounts, 'nothing mounted on the host')
  // Only shares this runner made (named <kernel>-<runner's pid>-XXXXXX): another matrix run on the
  // machine makes and removes its own meanwhile.
  assert.deepEqual(
    shares().filter((s) => !before.shares.includes(s) && s.includes(`-${run.pid}-`)),
    [],
    'result shares removed',
  )
}

const snapshot = () => ({mounts: mounts(), shares: shares()})

test('bad arguments: exit 2 with the usage, before anything starts', async () => {
  const r = await runMatrix(['--kernels', '5.10', '--timeout', 'soon'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /--timeout: expected a number >= 1, got "soon"/)
  const g = await runMatrix(['--kernels', 'host', 'test/no-such-*.test.js'])
  assert.equal(g.code, 2, g.stderr)
})

test(
  'package not fetchable, guest test runner crashed, host crashed: three faults, each with its reason',
  needsRoot,
  async () => {
    const before = snapshot()
    const r = await runMatrix([
      '--kernels',
      '5.10,6.1=bookworm/linux-image-9.9.9-amd64,host',
      '--timeout',
      '1800',
      '--env',
      'TAILCALLS_VM_SELFTEST_CRASH=1',
      'test/vm/selftest/failing.test.mjs',
    ])
    assert.equal(r.code, 1, r.stderr)
    const k = r.matrix.kernels
    assert.equal(k['5.10'].result, 'fault')
    assert.match(k['5.10'].reason, /without a test summary/)
    assert.match(k['5.10'].release, /^5\.10\./, 'the guest booted 5.10 before its test runner died')
    assert.equal(k['6.1'].result, 'fault')
    assert.match(k['6.1'].reason, /^kernel package: .*linux-image-9\.9\.9-amd64/)
    assert.equal(k.host.result, 'fault')
    assert.match(
      r.stderr,
      /^kernel matrix FAILED on: 5\.10 \(fault: .+\); 6\.1 \(fault: kernel package: .+\); host \(fault: .+\)$/m,
    )
    assert.match(r.stdout, /^kernels: 0 passed, 3 failed$/m)
    assert.match(r.stdout, /^# fail 3$/m)
    assertCleanSince(before, r)
  },
)

test(
  'a failing test is FAIL with its name; a hanging guest is killed at the per-kernel timeout',
  needsRoot,
  async () => {
    const before = snapshot()
    const r = await runMatrix([
      '--kernels',
      '6.12',
      '--timeout',
      '1800',
      '--env',
      'TAILCALLS_VM_SELFTEST_FAIL=1',
      'test/vm/selftest/failing.test.mjs',
    ])
    assert.equal(r.code, 1, r.stderr)
    assert.equal(r.matrix.kernels['6.12'].result, 'fail')
    assert.match(r.matrix.kernels['6.12'].reason, /1 failed: deliberate failure/)
    assert.match(r.stderr, /kernel matrix FAILED on: 6\.12 \(fail: 1 failed: deliberate failure\)/)
    assertCleanSince(before, r)

    const hang = await runMatrix([
      '--kernels',
      '6.12',
      '--timeout',
      '40',
      '--env',
      'TAILCALLS_VM_SELFTEST_HANG=1',
      'test/vm/selftest/failing.test.mjs',
    ])
    assert.equal(hang.code, 1, hang.stderr)
    assert.equal(hang.matrix.kernels['6.12'].result, 'fault')
    assert.match(hang.matrix.kernels['6.12'].reason, /^timed out after 40s .*qemu killed/)
    assertCleanSince(before, hang)
  },
)

test('SIGTERM to the runner mid-boot: qemu is killed, shares removed, exit by the signal', needsRoot, async () => {
  const before = snapshot()
  let sent = false
  const r = await runMatrix(['--kernels', '6.1', 'test/vm/selftest/guest.test.mjs'], {
    onStdout(out, child) {
      // Booting has begun: qemu is running (or about to be).
      if (!sent && /in VM: /.test(out)) {
        sent = true
        child.kill('SIGTERM')
      }
    },
  })
  assert.ok(sent, `the VM started booting: ${r.stdout}`)
  assert.notEqual(r.code, 0)
  assertCleanSince(before, r)
})
