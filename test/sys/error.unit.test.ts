// Unit: the error model, without root or a kernel. A failed call is a SysError (op, errno,
// code); the CLI layer turns it, a LibraryLoadError or a TailcallsError into one line, a hint
// and an exit code; only "gone" answers are ever skipped. Also the one JSON writer that every
// output goes through.
import assert from 'node:assert/strict'
import {readFileSync, statSync} from 'node:fs'
import {test} from 'node:test'

import {EXIT, TailcallsError, check, fromErrno, isKind, toTailcallsError} from '../../src/errors.js'
import {isProcGone, tryReadProcFile} from '../../src/kernel/procfile.js'
import {toJson, toJsonPretty} from '../../src/render/json.js'
import {LibraryLoadError, SysError, checkPtr, checkRet, errorCode, isErrno, isVanished} from '../../src/sys/error.js'

/** A real Node fs error (not a hand-made object): what a /proc read that lost its race throws. */
function fsError(path: string): Error {
  try {
    statSync(path)
  } catch (error) {
    return error as Error
  }

  throw new Error(`${path} exists`)
}

test('SysError carries the call, the errno and its name; the message says what failed', () => {
  const e = new SysError('BPF_OBJ_GET_INFO_BY_FD', 2, 'reading program info')
  assert.equal(e.op, 'BPF_OBJ_GET_INFO_BY_FD')
  assert.equal(e.errno, 2)
  assert.equal(e.code, 'ENOENT')
  assert.equal(e.message, 'reading program info: ENOENT: no such file or directory')
  assert.ok(e instanceof Error)
  // A negative errno (libbpf's return convention) means the same; without `what`, the op is the subject.
  const neg = new SysError('bpf_obj_get', -1)
  assert.equal(neg.errno, 1)
  assert.equal(neg.message, 'bpf_obj_get: EPERM: operation not permitted')
  // The kernel-only ENOTSUPP (524), which BPF_TASK_FD_QUERY and batch lookups answer.
  assert.equal(new SysError('BPF_TASK_FD_QUERY', 524).code, 'ENOTSUPP')
})

test('checkRet passes fds and counts through and throws SysError for a negative errno', () => {
  assert.equal(checkRet('bpf_map__fd', 7), 7)
  assert.equal(checkRet('bpf_map_update_elem', 0), 0)
  assert.throws(
    () => checkRet('bpf_map_update_elem', -22, 'filling slot 0'),
    (error: unknown) => {
      assert.ok(error instanceof SysError)
      assert.equal(error.op, 'bpf_map_update_elem')
      assert.equal(error.code, 'EINVAL')
      assert.equal(error.message, 'filling slot 0: EINVAL: invalid argument')
      return true
    },
  )
})

test('checkPtr throws SysError with the errno of a NULL-returning call, and EINVAL if none was set', () => {
  assert.equal(
    checkPtr('ring_buffer__new', 5n, () => 0),
    5n,
  )
  assert.throws(
    () => checkPtr('ring_buffer__new', null, () => 12),
    (e: unknown) => e instanceof SysError && e.code === 'ENOMEM',
  )
  assert.throws(
    () => checkPtr('bpf_object__open_file', null, () => 0),
    (e: unknown) => e instanceof SysError && e.code === 'EINVAL',
  )
})

test('errorCode reads SysErrors and Node fs errors alike, and nothing else', () => {
  assert.equal(errorCode(new SysError('bpf_obj_get', 2)), 'ENOENT')
  assert.equal(errorCode(fsError('/nonexistent/tailcalls-errors-test')), 'ENOENT')
  // A bug is not a failed call, even when it has a `code` (oclif and Node set codes on non-syscall errors).
  assert.equal(errorCode(new TypeError('x is undefined')), undefined)
  assert.equal(errorCode(Object.assign(new Error('parse'), {code: 'ENOENT'})), undefined)
  assert.equal(errorCode('ENOENT'), undefined)
  assert.equal(errorCode(undefined), undefined)
})

test('only ENOENT counts as vanished; EPERM and bugs never do', () => {
  assert.ok(isVanished(new SysError('BPF_PROG_GET_FD_BY_ID', 2)))
  assert.ok(isVanished(fsError('/nonexistent/tailcalls-errors-test')))
  assert.ok(!isVanished(new SysError('BPF_PROG_GET_FD_BY_ID', 1)))
  assert.ok(!isVanished(new SysError('BPF_PROG_GET_FD_BY_ID', 13)))
  assert.ok(!isVanished(new TypeError('boom')))
  assert.ok(isErrno(new SysError('BPF_TASK_FD_QUERY', 9), 'ENOENT', 'EBADF'))
  assert.ok(!isErrno(new SysError('BPF_TASK_FD_QUERY', 1), 'ENOENT', 'EBADF'))
})

test('/proc: a process or fd that went away reads as undefined; ESRCH counts as gone there', () => {
  assert.equal(tryReadProcFile('/proc/self/fdinfo/99999999'), undefined)
  assert.ok(isProcGone(new SysError('x', 3)))
  assert.ok(isProcGone(fsError('/proc/self/fd/99999999')))
  assert.ok(!isProcGone(new SysError('x', 13)))
  const own = tryReadProcFile('/proc/self/status')
  assert.match(own ?? '', /^Name:/)
  // Anything but "gone" is thrown: a directory cannot be read.
  assert.throws(
    () => tryReadProcFile('/proc/self'),
    (e: unknown) => isErrno(e, 'EISDIR'),
  )
})

test('fromErrno: EPERM/EACCES are permission (exit 3, with a hint), the rest internal unless the caller knows better', () => {
  const perm = fromErrno(new SysError('BPF_PROG_GET_NEXT_ID', 1, 'listing prog ids'))
  assert.equal(perm.exitCode, EXIT.permission)
  assert.equal(
    perm.line(),
    'listing prog ids: EPERM: operation not permitted; run as root (CAP_BPF and CAP_SYS_ADMIN are needed)',
  )
  assert.equal(perm.errno, 1)
  assert.ok(perm.cause instanceof SysError)
  assert.equal(perm.cause.op, 'BPF_PROG_GET_NEXT_ID')
  assert.equal(fromErrno(new SysError('x', 13)).exitCode, EXIT.permission)

  const other = fromErrno(new SysError('bpf_map_lookup_elem', 14, 'reading CHAIN_STATS'))
  assert.equal(other.exitCode, EXIT.internal)
  assert.equal(other.line(), 'reading CHAIN_STATS: EFAULT: bad address')

  const known = fromErrno(new SysError('bpf_map__set_max_entries', 22, 'resizing EVENTS'), {EINVAL: 'usage'})
  assert.equal(known.exitCode, EXIT.usage)
})

test('check throws the classified error with the call as its cause, and returns the value otherwise', () => {
  assert.equal(check('bpf_obj_pin', 0, 'pinning'), 0)
  assert.throws(
    () => check('bpf_map_update_elem', -22, 'filling TAIL_CALL_MAP[0]', {EINVAL: 'incompatible'}),
    (error: unknown) => {
      assert.ok(error instanceof TailcallsError)
      assert.equal(error.exitCode, EXIT.incompatible)
      assert.equal(error.message, 'filling TAIL_CALL_MAP[0]: EINVAL: invalid argument')
      assert.equal(error.cause?.op, 'bpf_map_update_elem')
      return true
    },
  )
})

test('toTailcallsError: what the CLI reports for each kind of error', () => {
  const ours = new TailcallsError('notFound', 'no program with id 5', {hint: 'list them with `tailcalls prog list`'})
  assert.equal(toTailcallsError(ours), ours)

  const sys = toTailcallsError(new SysError('BPF_OBJ_GET_INFO_BY_FD', 1, 'reading map info'))
  assert.equal(sys?.exitCode, EXIT.permission)
  assert.match(sys?.line() ?? '', /^reading map info: EPERM: operation not permitted; run as root/)

  // A missing libbpf is the kernel-support exit (4) with the install hint, in one line.
  const lib = toTailcallsError(
    new LibraryLoadError(
      'libbpf.so.1',
      'libbpf.so.1: cannot open shared object file: No such file or directory',
      'apt-get install libbpf1',
    ),
  )
  assert.equal(lib?.exitCode, 4)
  assert.equal(lib?.exitCode, EXIT.kernelSupport)
  assert.equal(
    lib?.line(),
    'cannot load libbpf.so.1 (libbpf.so.1: cannot open shared object file: No such file or directory); install it: apt-get install libbpf1',
  )
  assert.ok(!lib?.line().includes('\n'))

  // A bug stays a bug: the CLI prints "internal error … please report it" for these.
  assert.equal(toTailcallsError(new TypeError('x is undefined')), undefined)
  assert.equal(toTailcallsError(new Error('plain')), undefined)
})

test('isKind matches TailcallsErrors by exit kind only', () => {
  assert.ok(isKind(new TailcallsError('notFound', 'gone'), 'notFound', 'invalidObject'))
  assert.ok(!isKind(new TailcallsError('permission', 'no'), 'notFound'))
  assert.ok(!isKind(new SysError('x', 2), 'notFound'))
  assert.ok(!isKind(new Error('x'), 'internal'))
})

test('the one JSON writer: compact like JSON.stringify, pretty like JSON.stringify(v, null, 2), terminal-safe', () => {
  const value = {
    checks: [
      {detail: 'ok', fix: undefined, id: 'a', status: 'pass'},
      {detail: 'x', id: 'b', status: 'fail'},
    ],
    empty: {},
    facts: {caps: ['CAP_BPF'], n: 3, none: null, ok: true, z: []},
    ok: false,
  }
  assert.equal(toJson(value), JSON.stringify(value))
  assert.equal(toJsonPretty(value), JSON.stringify(value, null, 2))
  assert.equal(toJsonPretty([]), '[]')
  assert.equal(toJsonPretty('s'), '"s"')
  // What JSON.stringify passes raw (C1 controls, bidi overrides) is escaped: the same JSON value.
  const hostile = {comm: 'a\u009b2Jb\u202e'}
  assert.equal(toJson(hostile), '{"comm":"a\\u009b2Jb\\u202e"}')
  assert.deepEqual(JSON.parse(toJson(hostile)), hostile)
  assert.deepEqual(JSON.parse(toJsonPretty(hostile)), hostile)
  assert.ok(!/[\u0080-\u009f\u202a-\u202e]/.test(toJsonPretty(hostile)))
  // u64 values exactly.
  assert.equal(toJson({n: 2n ** 64n - 1n}), '{"n":18446744073709551615}')
})

test('no source module builds output JSON with a raw JSON.stringify (one writer, src/render/json.ts)', () => {
  const sources = [
    'commands/doctor.ts',
    'commands/events.ts',
    'commands/load.ts',
    'commands/stats.ts',
    'commands/unload.ts',
    'src/cli/base.ts',
    'src/chain/load.ts',
    'src/chain/stream.ts',
    'src/chain/interrupt.ts',
    'src/chain/pinned-events.ts',
    'src/doctor/render.ts',
    'src/inspect/dump.ts',
    'src/inspect/views.ts',
  ]
  for (const path of sources) {
    const text = readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')
    assert.doesNotMatch(text, /JSON\.stringify\(/, path)
  }
})
