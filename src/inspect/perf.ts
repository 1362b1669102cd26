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
import {errnoName} from '../sys/errno.js'
import {sys} from '../sys/ffi.js'

export type PerfJson = Record<string, unknown> & {fd: number; pid: number; prog_id: number}

/** Numeric entries of a directory in the filesystem's order (bpftool's readdir order). */
function numericDirEntries(dir: string): number[] {
  let d
  try {
    d = opendirSync(dir)
  } catch {
    return []
  }

  const out: number[] = []
  try {
    let e: Dirent | null
    while ((e = d.readSync()) !== null) {
      if (/^\d+$/.test(e.name)) out.push(Number(e.name))
    }
  } catch {
    // The process exited while we read its fd directory.
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
    const ret = queryFd(process.pid, fd)
    if (typeof ret !== 'number') return
    const name = errnoName(ret)
    if (name === 'ENOTSUPP' || name === 'ENOENT' || name === 'EOPNOTSUPP') return
    if (name === 'EPERM' || name === 'EACCES') {
      throw new TailcallsError('permission', 'BPF_TASK_FD_QUERY was refused', {
        errno: -ret,
        hint: 'run as root (perf list needs CAP_SYS_ADMIN)',
      })
    }

    if (name === 'EINVAL') {
      throw new TailcallsError('kernelSupport', 'this kernel does not support BPF_TASK_FD_QUERY', {
        errno: -ret,
        hint: 'perf list needs Linux 4.15 or newer',
      })
    }

    throw fromErrno('probing BPF_TASK_FD_QUERY', ret)
  } finally {
    closeSync(fd)
  }
}

const BUF_LEN = 4096
let buf: Buffer | undefined

/** One query: the entry, or the negative errno. */
export function queryFd(pid: number, fd: number): PerfJson | number {
  buf ??= Buffer.alloc(BUF_LEN)
  const len = [BUF_LEN]
  const progId = [0]
  const fdType = [0]
  const probeOffset = [0n]
  const probeAddr = [0n]
  const ret = sys().libbpf.bpf_task_fd_query(pid, fd, 0, buf, len, progId, fdType, probeOffset, probeAddr)
  if (ret < 0) return ret
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

/** Every perf-style attachment on the system, in /proc order then fd order. */
export function* perfList(): Generator<PerfJson> {
  for (const pid of numericDirEntries('/proc')) {
    for (const fd of numericDirEntries(`/proc/${pid}/fd`)) {
      const r = queryFd(pid, fd)
      if (typeof r !== 'number') yield r
    }
  }
}
