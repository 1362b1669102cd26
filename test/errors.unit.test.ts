// The error model's surface (src/errors.ts): the exit-code table is the one the README documents
// to users, each error prints as one line "message; hint", and a failed call (SysError) becomes
// the error a user can act on.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {constants} from 'node:os'
import {test} from 'node:test'

import {EXIT, TailcallsError, check, fromErrno} from '../src/errors.js'
import {SysError} from '../src/sys/error.js'
import {ROOT} from './helpers/cli.js'

test('the exit codes are the README table, code for code', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
  const start = readme.indexOf('## Errors and exit codes')
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1))
  const documented = [...section.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]))
  const ours = Object.values(EXIT).filter((code) => code < 128)
  assert.deepEqual(
    documented,
    [...ours].sort((a, b) => a - b),
  )
  // Every kind has its own code: a script can tell them apart.
  assert.equal(new Set(Object.values(EXIT)).size, Object.keys(EXIT).length)
  // Interrupted by SIGINT: 128 + 2, as a shell reports it.
  assert.equal(EXIT.interrupted, 128 + constants.signals.SIGINT)
})

test('a TailcallsError is one line: the message, then what to do', () => {
  const e = new TailcallsError('notFound', 'no map with id 7', {hint: 'list them with `tailcalls map list`'})
  assert.equal(e.exitCode, EXIT.notFound)
  assert.equal(e.line(), 'no map with id 7; list them with `tailcalls map list`')
  assert.equal(new TailcallsError('usage', 'bad flag').line(), 'bad flag')
  assert.ok(e instanceof Error)
  assert.equal(e.name, 'TailcallsError')
  // An explicit exit code wins over the kind's (128 + signal for an interrupted load).
  assert.equal(new TailcallsError('interrupted', 'interrupted by SIGTERM', {exitCode: 143}).exitCode, 143)
  const v = new TailcallsError('verifier', 'rejected', {details: ['  R1 invalid mem access']})
  assert.deepEqual(v.details, ['  R1 invalid mem access'])
})

test('fromErrno: EPERM/EACCES are permission errors with the hint, a mapped errno gets its kind, the rest is internal', () => {
  const {EACCES, EEXIST, ENOENT, EPERM} = constants.errno
  const perm = fromErrno(new SysError('bpf_prog_load', EPERM, 'loading prog1'))
  assert.equal(perm.exitCode, EXIT.permission)
  assert.equal((perm.cause as SysError).errno, EPERM)
  assert.match(perm.line(), /^loading prog1: EPERM: .*; run as root/)
  assert.equal(fromErrno(new SysError('x', EACCES, 'x')).exitCode, EXIT.permission)
  const missing = fromErrno(new SysError('bpf_map_get_fd_by_id', ENOENT, 'opening map 9'), {ENOENT: 'notFound'})
  assert.equal(missing.exitCode, EXIT.notFound)
  assert.equal(missing.hint, undefined)
  assert.match(missing.message, /^opening map 9: /)
  assert.equal(fromErrno(new SysError('bpf_obj_pin', EEXIST, 'pinning'), {EEXIST: 'conflict'}).exitCode, EXIT.conflict)
  assert.equal(fromErrno(new SysError('x', EEXIST, 'something odd')).exitCode, EXIT.internal)
})

test('check returns a non-negative result and throws the classified error otherwise', () => {
  assert.equal(check('bpf_map_create', 7, 'creating a map'), 7)
  assert.equal(check('x', 0, 'x'), 0)
  // libbpf returns -errno: the sign is taken off.
  assert.throws(
    () => check('bpf_link_create', -constants.errno.EPERM, 'attaching prog1'),
    (e: TailcallsError) =>
      e instanceof TailcallsError && e.exitCode === EXIT.permission && /^attaching prog1: /.test(e.message),
  )
  assert.throws(
    () => check('bpf_map_lookup_elem', -constants.errno.ENOENT, 'lookup', {ENOENT: 'notFound'}),
    (e: TailcallsError) => e.exitCode === EXIT.notFound,
  )
})
