/**
 * `pids`: the processes holding an fd to a BPF object, as upstream bpftool prints them
 * (`[{pid, comm}]`). Debian's bpftool 7.1 is built without the BPF-iterator skeleton that
 * computes them, so this is a documented extra there.
 *
 * Two ways to the same table, with the same rules as bpftool: tgids only (threads share the fd
 * table), our own process excluded, one entry per (object, pid), pids ascending, comm of the
 * thread-group leader.
 *
 * - The iterator: bpf/pids.bpf.o, an iter/task_file program, visits every fd of
 *   every process in the kernel and writes a record for each BPF object (src/libbpf/iter.ts loads
 *   it, reads it and frees it in one call). A fixed cost, mostly libbpf reading and parsing the
 *   kernel's BTF (5 MB on 6.18) for the program's CO-RE offsets and its attach target: ~50 ms of
 *   CPU on a busy 2-core machine, what the /proc walk spends on 1,500-3,000 BPF fds there; then
 *   nothing measurable per BPF fd, where /proc costs four system calls per BPF fd (and a
 *   readlinkat for every other fd).
 * - /proc: for every process, every fd whose link is `anon_inode:bpf-prog|bpf-map|bpf_link|bpf-link|btf`, and its
 *   `prog_id:`/`map_id:`/`link_id:`/`btf_id:` line in /proc/<pid>/fdinfo/<fd>. Root (which we
 *   already need for BPF) can read them all. Two failures are skipped, and only these: a process
 *   or fd that went away while we walked (isProcGone), and a process whose fds we may not read
 *   (EACCES: a caller with CAP_BPF but not CAP_SYS_PTRACE, which `prog show pinned PATH`
 *   allows). The column is then incomplete rather than the command failed, as bpftool prints
 *   objects without pids when its iterator cannot run. Anything else is thrown.
 *
 * Which one (TAILCALLS_PIDS unset): the iterator when the machine holds at least
 * ITER_FROM_OBJECTS objects of the kinds asked for (each is normally held by an fd, or pinned),
 * /proc below that, where the walk costs a few ms and the iterator's load would be most of the
 * command; /proc also when the iterator cannot run here (no kernel BTF, see canFallBack).
 * TAILCALLS_PIDS=iter or =proc forces one.
 */
import {closeSync, constants, existsSync, openSync, readFileSync, readdirSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import {bundledObjectFile} from '../libbpf/bundled.js'
import {readIterator} from '../libbpf/iter.js'
import {cstring} from '../sys/cstring.js'
import {SysError, isErrno} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {PIDS_KIND, PIDS_RECORD} from '../sys/layouts.js'
import {vmlinuxBtfPath} from './btf.js'
import {type ObjectKind, kindOfLink, nextId} from './ids.js'
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
 * How pids are found, from TAILCALLS_PIDS: `iter` (the iterator, or an error), `proc` (/proc
 * only), or unset: the iterator, else /proc. Callers that print before the table is built check
 * it first, so a wrong value is an error before any output.
 */
export function pidsMethod(): 'auto' | 'iter' | 'proc' {
  const how = process.env.TAILCALLS_PIDS
  if (how === undefined || how === '') return 'auto'
  if (how === 'iter' || how === 'proc') return how
  throw new TailcallsError('usage', `TAILCALLS_PIDS=${how} is not a way to find pids`, {
    hint: 'set TAILCALLS_PIDS to iter or proc, or unset it',
  })
}

/**
 * The table for the given kinds: through the iterator, or through /proc when TAILCALLS_PIDS=proc
 * says so, when the kernel has no BTF (the iterator's offsets come from it), or when loading
 * fails in a way canFallBack accepts.
 */
export function buildPidTables(kinds: readonly ObjectKind[]): Map<ObjectKind, PidTable> {
  return pidTablesFrom(kinds).tables
}

/** buildPidTables, saying which way the table was built (the tests check the choice). */
export function pidTablesFrom(kinds: readonly ObjectKind[]): {
  source: 'iter' | 'proc'
  tables: Map<ObjectKind, PidTable>
} {
  const how = pidsMethod()
  const proc = () => ({source: 'proc' as const, tables: procPidTables(kinds)})
  if (how === 'proc') return proc()
  // TAILCALLS_PIDS=iter: the iterator or an error, never /proc.
  if (how === 'iter') return {source: 'iter', tables: iterPidTables(kinds)}
  if (!existsSync(vmlinuxBtfPath()) || !manyObjects(kinds)) return proc()
  try {
    return {source: 'iter', tables: iterPidTables(kinds)}
  } catch (error) {
    if (canFallBack(error)) return proc()
    throw error
  }
}

/**
 * From how many objects (of the kinds asked for) the iterator is chosen: its fixed ~50 ms of CPU
 * is what the /proc walk spends on ~1,500 BPF fds (measured on a busy 2-core machine), so below
 * 1,000 the walk is cheaper.
 */
export const ITER_FROM_OBJECTS = 1000

/**
 * Whether the machine holds at least ITER_FROM_OBJECTS objects of these kinds, counted by id
 * (one get_next_id each, ~1.5 µs, stopping at the threshold). Without CAP_SYS_ADMIN the ids cannot
 * be listed (EPERM): true, as such a caller (CAP_BPF + CAP_PERFMON) may read other processes'
 * fds only through the iterator.
 */
export function manyObjects(kinds: readonly ObjectKind[]): boolean {
  let n = 0
  try {
    for (const kind of kinds) {
      for (let id = nextId(kind, 0); id !== undefined; id = nextId(kind, id)) {
        if (++n >= ITER_FROM_OBJECTS) return true
      }
    }
  } catch (error) {
    if (isErrno(error, 'EPERM')) return true
    throw error
  }

  return false
}

/**
 * Failures that mean "this kernel or this caller cannot run the iterator", after which /proc
 * answers instead; everything else (our object unreadable, a read that fails midway, no memory)
 * is thrown.
 * - EPERM, EACCES (load, attach, create): an iter/ program is a tracing program, which needs
 *   CAP_PERFMON (or CAP_SYS_ADMIN) besides CAP_BPF; a caller with CAP_BPF alone gets these.
 * - ESRCH, ENOENT (load): libbpf finds no kernel BTF, or no `bpf_iter_task_file` in it (a kernel
 *   before 5.8), or a field we read has no match (relocation).
 * - EINVAL, ENOTSUPP, EOPNOTSUPP (load, attach): the kernel refuses the program type, the
 *   iterator target or a helper it lacks.
 * TAILCALLS_DEBUG=1 shows libbpf's own account of the failure; TAILCALLS_PIDS=iter turns it into
 * an error.
 */
function canFallBack(error: unknown): boolean {
  if (!(error instanceof SysError)) return false
  switch (error.op) {
    case 'bpf_object__load':
    case 'bpf_program__attach_iter': {
      return isErrno(error, 'EPERM', 'EACCES', 'ESRCH', 'ENOENT', 'EINVAL', 'ENOTSUPP', 'EOPNOTSUPP')
    }

    case 'bpf_iter_create': {
      return isErrno(error, 'EPERM', 'EACCES')
    }

    default: {
      return false
    }
  }
}

const PIDS_OBJECT = 'pids.bpf.o'
const PIDS_PROGRAM = 'tailcalls_pids'

/** bpf/pids.bpf.o of this installation (built from bpf/pids.bpf.c, shipped with the package). */
function pidsObject(): Buffer {
  return readFileSync(bundledObjectFile(PIDS_OBJECT, '; --no-pids works without it'))
}

const KIND_OF_RECORD = new Map<number, ObjectKind>(
  Object.entries(PIDS_KIND).map(([kind, n]) => [n, kind as ObjectKind]),
)

/**
 * The table through the iterator (throws when it cannot run: buildPidTables decides what then).
 * The records come in the kernel's task order; a process whose threads do not share one fd table
 * is visited once per table, so each list is put in pid order and deduplicated at the end.
 */
export function iterPidTables(kinds: readonly ObjectKind[]): Map<ObjectKind, PidTable> {
  const tables = new Map<ObjectKind, PidTable>()
  for (const k of kinds) tables.set(k, new Map())
  const out = readIterator(pidsObject(), PIDS_PROGRAM, 'the pids iterator (bpf/pids.bpf.o)')
  const self = process.pid
  const {size, id: ID, tgid: TGID, kind: KIND, comm: COMM, commSize} = PIDS_RECORD
  let unordered = false
  for (let at = 0; at + size <= out.length; at += size) {
    const pid = out.readUInt32LE(at + TGID)
    // 0: the holder's pid could not be read (a process on its way out); /proc would not list it.
    if (pid === self || pid === 0) continue
    const kind = KIND_OF_RECORD.get(out.readUInt32LE(at + KIND))
    const table = kind && tables.get(kind)
    if (!table) continue
    const id = out.readUInt32LE(at + ID)
    let refs = table.get(id)
    if (!refs) table.set(id, (refs = []))
    const last = refs.at(-1)
    if (last?.pid === pid) continue
    if (last && last.pid > pid) unordered = true
    refs.push({comm: cstring(out, at + COMM, commSize), pid})
  }

  if (unordered) {
    for (const table of tables.values()) {
      for (const [id, refs] of table) {
        if (refs.length < 2) continue
        refs.sort((a, b) => a.pid - b.pid)
        table.set(
          id,
          refs.filter((r, i) => i === 0 || refs[i - 1].pid !== r.pid),
        )
      }
    }
  }

  return tables
}

/**
 * The table for the given kinds in one /proc walk. Each fd's link is read with readlinkat
 * relative to the process's open fd directory (the kernel resolves one name, not five, and the
 * call skips Node's path handling): a machine holds thousands of fds, most of them not BPF.
 * The fds of a process come in the directory's order; only the pids need to be in order.
 */
export function procPidTables(kinds: readonly ObjectKind[]): Map<ObjectKind, PidTable> {
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
