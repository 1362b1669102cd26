/**
 * `pids`: the processes holding an fd to a BPF object, as upstream bpftool prints them
 * (`[{pid, comm}]`). Debian's bpftool 7.1 is built without the BPF-iterator skeleton that
 * computes them, so this is a documented extra there.
 *
 * We read /proc instead of loading a BPF iterator: for every process, every fd whose link is
 * `anon_inode:bpf-prog|bpf-map|bpf_link|bpf-link`, and its `prog_id:`/`map_id:`/`link_id:`
 * line in /proc/<pid>/fdinfo/<fd>. Root (which we already need for BPF) can read them all.
 * Two failures are skipped, and only these: a process or fd that went away while we walked
 * (isProcGone), and a process whose fds we may not read (EACCES: a caller with CAP_BPF but
 * not CAP_SYS_PTRACE, which `prog show pinned PATH` allows). The column is then incomplete
 * rather than the command failed, as bpftool prints objects without pids when its iterator
 * cannot run. Anything else is thrown.
 *
 * Same rules as bpftool: tgids only (threads share the fd table), our own process excluded,
 * one entry per (object, pid), pids ascending, comm of the thread-group leader.
 */
import {closeSync, constants, openSync, readFileSync, readdirSync} from 'node:fs'

import {type ObjectKind, kindOfLink} from './ids.js'
import {SysError, isErrno} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {fieldInt, isProcGone, tryReadProcFile} from './procfile.js'

export interface PidRef {
  pid: number
  comm: string
}

/** id → holders, for one object kind. */
export type PidTable = Map<number, PidRef[]>

const ID_KEY: Record<ObjectKind, string> = {btf: 'btf_id', link: 'link_id', map: 'map_id', prog: 'prog_id'}

/** A failure that leaves one process out of the table (see the header): gone, or not ours to read. */
function skippable(error: unknown): boolean {
  return isProcGone(error) || isErrno(error, 'EACCES')
}

/** The names in a /proc directory (a process gone or unreadable: none). */
function entries(dir: string): string[] {
  try {
    return readdirSync(dir)
  } catch (error) {
    if (skippable(error)) return []
    throw error
  }
}

/** The processes, ascending (the table lists holders in pid order, as bpftool does). */
function pids(): number[] {
  const out: number[] = []
  for (const n of entries('/proc')) {
    const c = n.charCodeAt(0)
    if (c >= 48 && c <= 57 && /^\d+$/.test(n)) out.push(Number(n))
  }

  return out.sort((a, b) => a - b)
}

const fdinfoBuf = Buffer.allocUnsafe(16_384)

/**
 * The id line of /proc/PID/fdinfo/FD, opened relative to the process's fdinfo directory (`dir`,
 * opened by the caller) and read in one read: an fdinfo file is one seq_file record, handed over
 * whole when it fits (a file that fills the buffer is read again the long way). undefined when
 * the fd or the process went away meanwhile, or has no such line.
 */
function fdinfoId(dir: number, pid: number, fd: string, key: string): number | undefined {
  const {libc, errno} = sys()
  const f = libc.__openat_2(dir, fd, constants.O_RDONLY)
  if (f < 0) {
    const error = new SysError('openat', errno(), `opening /proc/${pid}/fdinfo/${fd}`)
    if (skippable(error)) return undefined
    throw error
  }

  let n: number
  try {
    n = libc.read(f, fdinfoBuf, fdinfoBuf.length)
    if (n < 0) {
      const error = new SysError('read', errno(), `reading /proc/${pid}/fdinfo/${fd}`)
      if (skippable(error)) return undefined
      throw error
    }
  } finally {
    libc.close(f)
  }

  const text = n < fdinfoBuf.length ? fdinfoBuf.toString('latin1', 0, n) : tryReadProcFile(`/proc/${pid}/fdinfo/${fd}`)
  return text === undefined ? undefined : fieldInt(text, key)
}

/** The fd of /proc/PID/fdinfo, or undefined when the process is gone or not ours to read. */
function openFdinfoDir(pid: number): number | undefined {
  try {
    return openSync(`/proc/${pid}/fdinfo`, constants.O_RDONLY | constants.O_DIRECTORY)
  } catch (error) {
    if (skippable(error)) return undefined
    throw error
  }
}

/** The longest link target that can name a BPF object (`anon_inode:bpf-prog`), and then some. */
const LINK_MAX = 32

/**
 * Build the table for the given kinds in one /proc walk. Each fd's link is read with readlinkat
 * relative to the process's open fd directory (the kernel resolves one name, not five, and the
 * call skips Node's path handling): a machine holds thousands of fds, most of them not BPF.
 * The fds of a process come in the directory's order; only the pids need to be in order.
 */
export function buildPidTables(kinds: readonly ObjectKind[]): Map<ObjectKind, PidTable> {
  const tables = new Map<ObjectKind, PidTable>()
  for (const k of kinds) tables.set(k, new Map())
  const self = process.pid
  const {libc, errno} = sys()
  const link = Buffer.allocUnsafe(LINK_MAX)
  for (const pid of pids()) {
    if (pid === self) continue
    const fdDir = `/proc/${pid}/fd`
    const fds = entries(fdDir)
    if (fds.length === 0) continue
    let dirfd: number
    try {
      dirfd = openSync(fdDir, constants.O_RDONLY | constants.O_DIRECTORY)
    } catch (error) {
      if (skippable(error)) continue
      throw error
    }

    let infoDir: number | undefined
    try {
      let comm: string | undefined
      for (const fd of fds) {
        const n = libc.readlinkat(dirfd, fd, link, LINK_MAX)
        if (n < 0) {
          const error = new SysError('readlinkat', errno(), `reading ${fdDir}/${fd}`)
          if (skippable(error)) continue
          throw error
        }

        // `anon_inode:…` and short: anything else (a path, a socket, a pipe) is not a BPF object.
        if (n >= LINK_MAX || link[0] !== 0x61) continue
        const kind = kindOfLink(link.toString('latin1', 0, n))
        if (!kind) continue
        const table = tables.get(kind)
        if (!table) continue
        infoDir ??= openFdinfoDir(pid)
        if (infoDir === undefined) break
        const id = fdinfoId(infoDir, pid, fd, ID_KEY[kind])
        if (id === undefined) continue
        comm ??= readComm(pid)
        let refs = table.get(id)
        if (!refs) table.set(id, (refs = []))
        if (refs.at(-1)?.pid !== pid) refs.push({comm, pid})
      }
    } finally {
      closeSync(dirfd)
      if (infoDir !== undefined) closeSync(infoDir)
    }
  }

  return tables
}

/** id → holders for one kind. */
export function buildPidTable(kind: ObjectKind): PidTable {
  return buildPidTables([kind]).get(kind)!
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').replace(/\n$/, '')
  } catch (error) {
    if (skippable(error)) return ''
    throw error
  }
}
