/**
 * `perf list`: programs attached through perf-event style fds, found as bpftool does: every
 * fd of every process is asked with BPF_TASK_FD_QUERY (which needs CAP_SYS_ADMIN).
 *
 * What answers: perf-event fds carrying a program (kprobe/uprobe/tracepoint via
 * PERF_EVENT_IOC_SET_BPF, or held by a perf_event link), and raw-tracepoint fds. A tp_btf
 * program attached with libbpf (our chain's prog1) is a raw_tracepoint *link*, which this
 * kernel also answers for, so it shows up here with fd_type raw_tracepoint. fentry/fexit,
 * cgroup, xdp, tcx, netfilter, kprobe_multi… links have no such fd: `link list` shows them.
 *
 * JSON keys per entry (perf.c print_perf_json): pid, fd, prog_id, then fd_type and
 *   raw_tracepoint/tracepoint: tracepoint
 *   kprobe/kretprobe: func + offset, or addr when the probe has no function name
 *   uprobe/uretprobe: filename, offset
 * An unknown fd_type prints only pid, fd, prog_id. offset/addr are u64 (BigInt).
 */
import {closeSync, type Dirent, opendirSync, openSync} from 'node:fs'

import {TailcallsError, fromErrno} from '../errors.js'
import {TASK_FD_TYPE_NAMES} from '../kernel/names.js'
import {isProcGone} from '../kernel/procfile.js'
import {SysError, isErrno} from '../sys/error.js'
import {sys} from '../sys/ffi.js'

export type PerfJson = Record<string, unknown> & {fd: number; pid: number; prog_id: number}

/** Numeric entries of a directory in the filesystem's order (bpftool's readdir order). */
function numericDirEntries(dir: string): number[] {
  let d
  try {
    d = opendirSync(dir)
  } catch (error) {
    // The process exited, or its fds are not ours to see (EACCES, as for pids: see notOurs).
    if (isProcGone(error) || isErrno(error, 'EACCES')) return []
    throw error
  }

  const out: number[] = []
  try {
    let e: Dirent | null
    while ((e = d.readSync()) !== null) {
      if (/^\d+$/.test(e.name)) out.push(Number(e.name))
    }
  } catch (error) {
    if (!isProcGone(error)) throw error // else: the process exited while we read its fd directory
  } finally {
    d.closeSync()
  }

  return out
}

/**
 * bpftool's has_perf_query_support(): query an fd that is not a perf event. ENOTSUPP (524)
 * means the command works; EPERM means we lack CAP_SYS_ADMIN; anything else, no kernel support.
 */
export function checkPerfQuerySupport(): void {
  const fd = openSync('/', 'r')
  try {
    queryFd(process.pid, fd)
  } catch (error) {
    if (!(error instanceof SysError)) throw error
    const name = error.code
    if (name === 'ENOTSUPP' || name === 'ENOENT' || name === 'EOPNOTSUPP') return
    if (name === 'EPERM' || name === 'EACCES') {
      throw new TailcallsError('permission', 'BPF_TASK_FD_QUERY was refused', {
        cause: error,
        hint: 'run as root (perf list needs CAP_SYS_ADMIN)',
      })
    }

    if (name === 'EINVAL') {
      throw new TailcallsError('kernelSupport', 'this kernel does not support BPF_TASK_FD_QUERY', {
        cause: error,
        hint: 'perf list needs Linux 4.15 or newer',
      })
    }

    throw fromErrno(new SysError(error.op, error.errno, 'probing BPF_TASK_FD_QUERY'))
  } finally {
    closeSync(fd)
  }
}

const BUF_LEN = 4096
let buf: Buffer | undefined

/** One query: what fd `fd` of process `pid` has attached. Throws SysError when the kernel says nothing. */
export function queryFd(pid: number, fd: number): PerfJson {
  buf ??= Buffer.alloc(BUF_LEN)
  const len = [BUF_LEN]
  const progId = [0]
  const fdType = [0]
  const probeOffset = [0n]
  const probeAddr = [0n]
  const ret = sys().libbpf.bpf_task_fd_query(pid, fd, 0, buf, len, progId, fdType, probeOffset, probeAddr)
  if (ret < 0) throw new SysError('BPF_TASK_FD_QUERY', -ret, `querying fd ${fd} of pid ${pid}`)
  const end = buf.indexOf(0)
  const text = buf.toString('utf8', 0, end === -1 ? Math.min(len[0], BUF_LEN) : end)
  const o: Record<string, unknown> = {pid, fd, prog_id: progId[0]}
  const type = TASK_FD_TYPE_NAMES[fdType[0]]
  switch (type) {
    case 'raw_tracepoint':
    case 'tracepoint': {
      o.fd_type = type
      o.tracepoint = text
      break
    }

    case 'kprobe':
    case 'kretprobe': {
      o.fd_type = type
      if (text !== '') {
        o.func = text
        o.offset = BigInt.asUintN(64, BigInt(probeOffset[0]))
      } else {
        o.addr = BigInt.asUintN(64, BigInt(probeAddr[0]))
      }

      break
    }

    case 'uprobe':
    case 'uretprobe': {
      o.fd_type = type
      o.filename = text
      o.offset = BigInt.asUintN(64, BigInt(probeOffset[0]))
      break
    }

    default: {
      break
    }
  }

  return o as PerfJson
}

/**
 * queryFd, or undefined when the fd has no attachment to describe. The kernel says so with:
 * ENOTSUPP (524) for an fd that is not a perf event or raw-tracepoint link (most fds), ENOENT
 * for a perf event without a program or a process that exited, EBADF for an fd closed since we
 * listed it, and EOPNOTSUPP for a perf_event program (the query does not describe those).
 * Anything else is thrown. bpftool skips every failure here; we skip only these.
 */
export function tryQueryFd(pid: number, fd: number): PerfJson | undefined {
  try {
    return queryFd(pid, fd)
  } catch (error) {
    if (isErrno(error, 'ENOTSUPP', 'ENOENT', 'EBADF', 'EOPNOTSUPP')) return undefined
    throw error
  }
}

/**
 * EPERM for another process's fd, once checkPerfQuerySupport has shown that our own fds may be
 * queried: not a missing capability but a process whose fds the kernel will not show us (the
 * same processes whose /proc/<pid>/fd links we may not read, e.g. a non-dumpable process in a
 * sandbox's own namespace). perf list leaves those out, as `pids` does.
 */
function notOurs(error: unknown, pid: number): boolean {
  return pid !== process.pid && isErrno(error, 'EPERM', 'EACCES')
}

/** Every perf-style attachment on the system, in /proc order then fd order. */
export function* perfList(): Generator<PerfJson> {
  for (const pid of numericDirEntries('/proc')) {
    for (const fd of numericDirEntries(`/proc/${pid}/fd`)) {
      let r: PerfJson | undefined
      try {
        r = tryQueryFd(pid, fd)
      } catch (error) {
        if (notOurs(error, pid)) continue
        throw error
      }

      if (r !== undefined) yield r
    }
  }
}
