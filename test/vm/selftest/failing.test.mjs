// Deliberately failing test, to prove the runner reports failures per kernel.
// Fails only when TAILCALLS_VM_SELFTEST_FAIL=1 (e.g. --env TAILCALLS_VM_SELFTEST_FAIL=1),
// so a bare `node --test` over the repo does not trip on it.
import { test } from 'node:test';
import assert from 'node:assert/strict';

const on = process.env.TAILCALLS_VM_SELFTEST_FAIL === '1';

test('deliberate failure (selftest of the kernel-matrix runner)', { skip: on ? false : 'set TAILCALLS_VM_SELFTEST_FAIL=1' }, () => {
  assert.equal(1 + 1, 3, 'this test fails on purpose');
});

test('deliberate crash of the test process', { skip: process.env.TAILCALLS_VM_SELFTEST_CRASH === '1' ? false : 'set TAILCALLS_VM_SELFTEST_CRASH=1' }, () => {
  process.kill(process.pid, 'SIGSEGV');
});
