// Deliberate faults, to prove the kernel-matrix runner reports them per kernel.
// Each one is off unless its variable is set (pass it with --env NAME=1), so a bare
// `node --test` over the repo does not trip on this file:
//   TAILCALLS_VM_SELFTEST_FAIL=1    an assertion fails            -> result FAIL
//   TAILCALLS_VM_SELFTEST_CRASH=1   kills the `node --test` runner -> result FAULT (no summary)
//   TAILCALLS_VM_SELFTEST_HANG=1    never finishes                 -> result FAULT (timeout)
import {test} from 'node:test'
import assert from 'node:assert/strict'

const env = (n) => (process.env[n] === '1' ? false : `set ${n}=1`)

test('deliberate failure', {skip: env('TAILCALLS_VM_SELFTEST_FAIL')}, () => {
  assert.equal(1 + 1, 3, 'this test fails on purpose')
})

test('deliberate crash of the test runner', {skip: env('TAILCALLS_VM_SELFTEST_CRASH')}, () => {
  // The parent is the `node --test` process the matrix runner started.
  process.kill(process.ppid, 'SIGKILL')
  process.kill(process.pid, 'SIGKILL')
})

test('deliberate hang', {skip: env('TAILCALLS_VM_SELFTEST_HANG')}, async () => {
  await new Promise(() => setInterval(() => {}, 1000))
})
