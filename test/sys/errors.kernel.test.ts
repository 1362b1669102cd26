// The error model against the live kernel (root): every wrapper reports a failed bpf(2) call as
// a SysError naming the command and the errno, and only the "gone" answers become undefined.
// Nothing is created; the ids used are far above anything the kernel has handed out.
import assert from 'node:assert/strict'
import {closeSync, openSync} from 'node:fs'
import {test} from 'node:test'

import {EXIT, TailcallsError} from '../../src/errors.js'
import {nextId, openById, openPinned, tryOpenById} from '../../src/kernel/ids.js'
import {mapInfo, progInfo} from '../../src/kernel/info.js'
import {checkPerfQuerySupport, perfList, queryFd, tryQueryFd} from '../../src/inspect/perf.js'
import {SysError} from '../../src/sys/error.js'

const skip = process.getuid?.() !== 0 ? 'needs root (BPF_*_GET_FD_BY_ID, BPF_TASK_FD_QUERY)' : false
const NO_SUCH_ID = 0xffff_fff0

test('an id that does not exist: tryOpenById says undefined, openById says notFound', {skip}, () => {
  assert.equal(tryOpenById('prog', NO_SUCH_ID), undefined)
  assert.equal(tryOpenById('map', NO_SUCH_ID), undefined)
  assert.equal(nextId('link', 0x7fff_fff0), undefined) // ENOENT from get_next_id: the end of the list (a start >= INT_MAX is EINVAL)
  assert.throws(
    () => openById('map', NO_SUCH_ID),
    (error: unknown) => {
      assert.ok(error instanceof TailcallsError)
      assert.equal(error.exitCode, EXIT.notFound)
      assert.equal(error.message, `no map with id ${NO_SUCH_ID}`)
      return true
    },
  )
})

test('nothing pinned at a path: notFound whose cause is bpf_obj_get ENOENT', {skip}, () => {
  const path = `/sys/fs/bpf/tailcalls-errors-${process.pid}-none`
  assert.throws(
    () => openPinned(path),
    (error: unknown) => {
      assert.ok(error instanceof TailcallsError)
      assert.equal(error.exitCode, EXIT.notFound)
      assert.ok(error.cause instanceof SysError)
      assert.equal(error.cause.op, 'bpf_obj_get')
      assert.equal(error.cause.code, 'ENOENT')
      assert.equal(error.errno, 2)
      return true
    },
  )
})

test(
  'get_info on an fd that is not a BPF object: SysError BPF_OBJ_GET_INFO_BY_FD EINVAL, thrown, not returned',
  {skip},
  () => {
    const fd = openSync('/', 'r')
    try {
      for (const read of [progInfo, mapInfo]) {
        assert.throws(
          () => read(fd),
          (error: unknown) => {
            assert.ok(error instanceof SysError, String(error))
            assert.equal(error.op, 'BPF_OBJ_GET_INFO_BY_FD')
            assert.equal(error.code, 'EINVAL')
            assert.match(error.message, /^reading (program|map) info: EINVAL: invalid argument$/)
            return true
          },
        )
      }
    } finally {
      closeSync(fd)
    }
  },
)

test(
  'BPF_TASK_FD_QUERY: queryFd throws the errno; tryQueryFd says undefined only for "no attachment here"',
  {skip},
  () => {
    const fd = openSync('/', 'r')
    try {
      assert.throws(
        () => queryFd(process.pid, fd),
        (error: unknown) => error instanceof SysError && error.op === 'BPF_TASK_FD_QUERY' && error.code === 'ENOTSUPP',
      )
      assert.equal(tryQueryFd(process.pid, fd), undefined)
      // An fd number this process does not have: EBADF, also "nothing here".
      assert.equal(tryQueryFd(process.pid, 1_000_000), undefined)
    } finally {
      closeSync(fd)
    }
  },
)

test(
  'perf list walks every process: the "no attachment" answers are skipped, nothing else is thrown as root',
  {skip},
  () => {
    checkPerfQuerySupport()
    // Whatever runs on this machine (sandboxed processes whose fds the kernel will not show us
    // included), the walk completes; every entry names a program.
    for (const entry of perfList())
      assert.ok(
        entry.prog_id > 0,
        JSON.stringify(entry, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
      )
  },
)
