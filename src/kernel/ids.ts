/**
 * Kernel BPF objects by id and by pin path: enumerate ids (`bpf_*_get_next_id`), open fds by
 * id or from bpffs (`bpf_obj_get`), and make sure every fd we open is closed again.
 *
 * Errors: a failed call throws SysError (src/sys/error.ts). Only `tryOpenById` and `nextId`
 * treat ENOENT as an answer (gone / no more ids). `openById` and `openPinned` are what a user's
 * selector reaches, so a missing object there is `notFound` (exit 5) with a hint on how to list
 * what exists.
 *
 * Caution: opening a prog_array by id while its last user reference is going away can leak
 * the map in the kernel, for good. When the last user reference (fd or pin) drops, the kernel
 * takes a map reference and schedules work that empties the slots and then drops it. An fd
 * opened by id and closed before that work ran drops a user reference again: another map
 * reference is taken, but scheduling already-pending work does nothing, so that reference is
 * never dropped (reproduced on 6.18 by closing a prog array's only fd and then opening and
 * closing it by id a few times at once). Open each prog array once per command; never poll
 * them by id in a loop.
 */
import {readlinkSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import {SysError, isErrno, isVanished} from '../sys/error.js'
import {sys} from '../sys/ffi.js'

export type ObjectKind = 'prog' | 'map' | 'link' | 'btf'

/** What the user types to list objects of a kind (used in hints). */
const LIST_HINT: Record<ObjectKind, string> = {
  btf: 'list them with `bpftool btf list`',
  link: 'list them with `tailcalls link list`',
  map: 'list them with `tailcalls map list`',
  prog: 'list them with `tailcalls prog list`',
}

const KIND_WORD: Record<ObjectKind, string> = {btf: 'BTF object', link: 'link', map: 'map', prog: 'program'}

/** The next id after `start`, or undefined at the end. */
const nextOut = new Uint32Array(1)

export function nextId(kind: ObjectKind, start: number): number | undefined {
  const {libbpf} = sys()
  const out = nextOut
  const ret =
    kind === 'prog'
      ? libbpf.bpf_prog_get_next_id(start, out)
      : kind === 'map'
        ? libbpf.bpf_map_get_next_id(start, out)
        : kind === 'link'
          ? libbpf.bpf_link_get_next_id(start, out)
          : libbpf.bpf_btf_get_next_id(start, out)
  if (ret === 0) return out[0]
  // ENOENT is the kernel's "no id after start": the end of the list, not a failure.
  const error = new SysError(NEXT_ID_OP[kind], -ret, `listing ${kind} ids`)
  if (isVanished(error)) return undefined
  throw error
}

/** Every id of a kind, ascending (the kernel's order, and bpftool's). Lazy: ids created later may appear. */
export function* objectIds(kind: ObjectKind): Generator<number> {
  let id = 0
  for (;;) {
    const next = nextId(kind, id)
    if (next === undefined) return
    yield next
    id = next
  }
}

/**
 * Wait (bounded) until the kernel freed these objects; returns those still alive. Closing or
 * unpinning a prog array's last reference schedules the kernel's deferred clear, and anyone who
 * opens the map by id before that ran (`bpftool map list` right after we exit) leaks it for
 * good; so the chain's close and unpin return only once it is gone. Watched with get_next_id,
 * which opens nothing. Without CAP_SYS_ADMIN get_next_id fails and nothing can be watched: the
 * wait ends at once.
 */
export function waitFreed<T extends {id: number; kind: ObjectKind}>(objects: T[], timeoutMs = 2000): T[] {
  const tick = new Int32Array(new SharedArrayBuffer(4))
  const deadline = Date.now() + timeoutMs
  const exists = (o: T) => {
    try {
      return nextId(o.kind, o.id - 1) === o.id
    } catch (error) {
      // get_next_id needs CAP_SYS_ADMIN (EPERM with only CAP_BPF): cannot watch, assume freed.
      if (isErrno(error, 'EPERM')) return false
      throw error
    }
  }

  let alive = objects.filter(exists)
  while (alive.length > 0 && Date.now() < deadline) {
    Atomics.wait(tick, 0, 0, 5) // synchronous, as close() is
    alive = alive.filter(exists)
  }

  return alive
}

/** The bpf(2) command behind each libbpf call, for error messages (`op` of a SysError). */
const NEXT_ID_OP: Record<ObjectKind, string> = {
  btf: 'BPF_BTF_GET_NEXT_ID',
  link: 'BPF_LINK_GET_NEXT_ID',
  map: 'BPF_MAP_GET_NEXT_ID',
  prog: 'BPF_PROG_GET_NEXT_ID',
}
const FD_BY_ID_OP: Record<ObjectKind, string> = {
  btf: 'BPF_BTF_GET_FD_BY_ID',
  link: 'BPF_LINK_GET_FD_BY_ID',
  map: 'BPF_MAP_GET_FD_BY_ID',
  prog: 'BPF_PROG_GET_FD_BY_ID',
}

function getFdById(kind: ObjectKind, id: number): number {
  const {libbpf} = sys()
  return kind === 'prog'
    ? libbpf.bpf_prog_get_fd_by_id(id)
    : kind === 'map'
      ? libbpf.bpf_map_get_fd_by_id(id)
      : kind === 'link'
        ? libbpf.bpf_link_get_fd_by_id(id)
        : libbpf.bpf_btf_get_fd_by_id(id)
}

/**
 * An fd for object `id`, or undefined when it does not exist (ENOENT: it vanished between
 * listing and opening). Any other failure (EPERM…) is thrown as a SysError.
 */
export function tryOpenById(kind: ObjectKind, id: number): number | undefined {
  const fd = getFdById(kind, id)
  if (fd >= 0) return fd
  const error = new SysError(FD_BY_ID_OP[kind], -fd, `opening ${kind} id ${id}`)
  if (isVanished(error)) return undefined
  throw error
}

/** An fd for object `id`. Throws notFound (with a hint) when there is no such object. */
export function openById(kind: ObjectKind, id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) {
    throw new TailcallsError('usage', `invalid ${kind} id '${id}'`, {
      hint: 'an id is a whole number, as printed by the list commands',
    })
  }

  const fd = tryOpenById(kind, id)
  if (fd === undefined)
    throw new TailcallsError('notFound', `no ${KIND_WORD[kind]} with id ${id}`, {hint: LIST_HINT[kind]})
  return fd
}

/** The kind of object behind a BPF fd of ours, from its anon inode name; undefined for anything else. */
export function fdKind(fd: number): ObjectKind | undefined {
  // Our own open fd: /proc/self/fd/<fd> exists for as long as it is open, so any failure is thrown.
  return kindOfLink(readlinkSync(`/proc/self/fd/${fd}`))
}

/** `anon_inode:bpf-prog` → prog, `bpf-map` → map, `bpf_link`/`bpf-link` → link, `btf` → btf. */
export function kindOfLink(target: string): ObjectKind | undefined {
  switch (target) {
    case 'anon_inode:bpf-prog': {
      return 'prog'
    }

    case 'anon_inode:bpf-map': {
      return 'map'
    }

    // A freshly created link fd says bpf_link; one reopened from a pin says bpf-link.
    case 'anon_inode:bpf_link':
    case 'anon_inode:bpf-link': {
      return 'link'
    }

    case 'anon_inode:btf': {
      return 'btf'
    }

    default: {
      return undefined
    }
  }
}

/**
 * An fd for the object pinned at `path`. With `expect`, the object must be of that kind
 * (a prog pin given to `map show pinned` is an error, as in bpftool).
 */
export function openPinned(path: string, expect?: ObjectKind): number {
  const fd = sys().libbpf.bpf_obj_get(path)
  if (fd < 0) {
    const cause = new SysError('bpf_obj_get', -fd, `opening pinned object ${path}`)
    const name = cause.code
    if (name === 'ENOENT') {
      throw new TailcallsError('notFound', `nothing is pinned at ${path}`, {
        cause,
        hint: 'check the path under /sys/fs/bpf (ls -l /sys/fs/bpf)',
      })
    }

    // The kernel answers EACCES for a file that is not a bpffs object (another filesystem, a
    // directory, a regular file): as root that can only mean "not a pin".
    if (name === 'EINVAL' || name === 'ENOTDIR' || (name === 'EACCES' && sys().libc.geteuid() === 0)) {
      throw new TailcallsError('invalidObject', `${path} is not a pinned BPF object`, {
        cause,
        hint: 'give a file pinned under a bpffs mount such as /sys/fs/bpf',
      })
    }

    // bpffs refuses any name with a dot (EPERM, even for root), so `x.bss` can never be a pin:
    // libbpf pins an object's internal maps with the dot turned into '_' (`x_bss`).
    const base = path.slice(path.lastIndexOf('/') + 1)
    if (name === 'EPERM' && base.includes('.')) {
      throw new TailcallsError('notFound', `nothing can be pinned at ${path}: bpffs names cannot contain '.'`, {
        cause,
        hint: `libbpf pins a map such as ${base} as ${base.replaceAll('.', '_')} (\`load --json\` prints each pin)`,
      })
    }

    throw cause
  }

  if (expect) {
    const kind = fdKind(fd)
    if (kind !== expect) {
      closeFd(fd)
      throw new TailcallsError('invalidObject', `${path} is a pinned ${kind ?? 'object'}, not a ${expect}`, {
        hint: kind ? `use \`tailcalls ${kind === 'btf' ? 'btf' : kind} show pinned ${path}\`` : undefined,
      })
    }
  }

  return fd
}

/**
 * close(2) of an fd we own and are done with. Its result is not checked, deliberately: Linux
 * releases the fd even when close reports an error, and a BPF object's fd has no buffered
 * data to lose, so there is nothing a caller could do about it.
 */
export function closeFd(fd: number): void {
  if (fd >= 0) sys().libc.close(fd)
}

/** Run `fn` with `fd`, then close it, whatever happens. */
export function withFd<T>(fd: number, fn: (fd: number) => T): T {
  try {
    return fn(fd)
  } finally {
    closeFd(fd)
  }
}

/**
 * Open every object of a kind in id order, yielding (id, fd); each fd is closed when the
 * consumer moves on, and also when it stops early (`break` runs the generator's finally).
 * Objects that vanish between listing and opening are skipped, as bpftool does.
 */
export function* eachObject(kind: ObjectKind): Generator<{fd: number; id: number}> {
  // The id walk of objectIds, inline: one generator per listing, not two.
  for (let id = nextId(kind, 0); id !== undefined; id = nextId(kind, id)) {
    const fd = tryOpenById(kind, id)
    if (fd === undefined) continue
    try {
      yield {fd, id}
    } finally {
      closeFd(fd)
    }
  }
}
