/**
 * Live slot replacement: put a program into a prog array slot, or empty a slot.
 *
 * Everything is checked before the one syscall that changes the kernel (map type, key range,
 * compatibility with the array's owner: see compat.ts), so a refusal leaves nothing
 * half-done. The update itself is atomic per slot: the kernel swaps the pointer and re-patches
 * every direct jump to it under the map's poke mutex, so a program running through the chain
 * sees the old or the new target, never neither.
 *
 * The uref trap: the kernel empties a prog array when its last user reference (an fd in
 * some process, or a pin) goes away, even while programs still jump through it. The fd we open
 * here is such a reference and goes away when we exit; if no other process holds the array
 * and it is not pinned, the update is lost on exit. We say so, as bpftool does.
 */
import {TailcallsError, fromErrno} from '../errors.js'
import {closeFd, objectIds, tryOpenById} from '../kernel/ids.js'
import {
  type MapInfo,
  type ProgInfo,
  linkInfo,
  mapFdinfo,
  mapInfo,
  progFullName,
  progInfo,
  progMapIds,
} from '../kernel/info.js'
import {mapTypeName} from '../kernel/names.js'
import {buildPidTable} from '../kernel/pids.js'
import {buildPinTable} from '../kernel/pinned.js'
import {type Selector, describeSelector, select} from '../kernel/select.js'
import {objectLabel} from '../render/label.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_ATTACH_TYPE, BPF_LINK_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE, BPF_UPDATE_FLAG} from '../sys/uapi.js'
import {type ArrayFacts, type ProgFacts, type TargetResolver, incompatibility, kernelTargetResolver} from './compat.js'

/** Program types whose attach target (and attach type) the kernel compares in a prog array. */
const TARGETED_TYPES = new Set<number>([
  BPF_PROG_TYPE.TRACING,
  BPF_PROG_TYPE.LSM,
  BPF_PROG_TYPE.EXT,
  BPF_PROG_TYPE.STRUCT_OPS,
])

export interface ObjectRef {
  id: number
  name: string
}

export interface UpdateResult {
  map: ObjectRef
  key: number
  prog: ObjectRef
  /** What the slot held before (null: it was empty). */
  previous: ObjectRef | null
  /** Set when the update will not outlive this process. */
  warning?: string
}

export interface DeleteResult {
  map: ObjectRef
  key: number
  removed: ObjectRef
  warning?: string
}

export interface SlotOptions {
  /** Look for other holders of the map (a /proc and bpffs walk) to warn about a lost update. Default true. */
  checkHolders?: boolean
  /** How attach targets are resolved (tests inject one). */
  resolveTarget?: TargetResolver
}

/** Open exactly one object for a selector; several matches are a usage error (as bpftool's "several maps match"). */
export function selectOne(kind: 'map' | 'prog', sel: Selector): number {
  const s = select(kind, sel)
  if (s.fds.length === 1) return s.fds[0]
  const ids: number[] = []
  for (const fd of s.fds) {
    try {
      ids.push(kind === 'map' ? mapInfo(fd).id : progInfo(fd).id)
    } finally {
      closeFd(fd)
    }
  }

  // Prog arrays outlive their programs when the kernel leaks them (see src/kernel/ids.ts),
  // so a name often matches stale arrays too: point at the ones loaded programs use.
  let hint = `name one by id: ${kind} id ${ids[0]}`
  if (kind === 'map') {
    const used = ids.filter((id) => mapsUsedByPrograms().has(id))
    if (used.length === 1) hint = `use map id ${used[0]} (the only one a loaded program uses)`
    else if (used.length > 1) hint = `name one by id; loaded programs use ids ${used.join(', ')}`
  }

  throw new TailcallsError(
    'usage',
    `${describeSelector(sel)} matches ${ids.length} ${kind === 'map' ? 'maps' : 'programs'} (ids ${ids.join(', ')})`,
    {hint},
  )
}

/** Ids of every map some loaded program references. */
function mapsUsedByPrograms(): Set<number> {
  const used = new Set<number>()
  for (const id of objectIds('prog')) {
    const fd = tryOpenById('prog', id)
    if (fd === undefined) continue
    // The open fd keeps the program alive: nothing here can vanish, so nothing is caught.
    try {
      for (const m of progMapIds(fd)) used.add(m)
    } finally {
      closeFd(fd)
    }
  }

  return used
}

interface OpenArray {
  fd: number
  info: MapInfo
  ref: ObjectRef
}

function openProgArray(sel: Selector): OpenArray {
  const fd = selectOne('map', sel)
  try {
    const info = mapInfo(fd)
    const ref = {id: info.id, name: info.name}
    if (info.type !== BPF_MAP_TYPE.PROG_ARRAY) {
      throw new TailcallsError(
        'wrongMapType',
        `map ${objectLabel(ref)} is a ${mapTypeName(info.type)}, not a prog_array: only prog arrays hold programs`,
        {
          hint: 'give a prog_array map (list them with `tailcalls map list`); other maps: bpftool map update',
        },
      )
    }

    return {fd, info, ref}
  } catch (error) {
    closeFd(fd)
    throw error
  }
}

function checkKey(a: OpenArray, key: number): void {
  if (key >= a.info.maxEntries) {
    const range = a.info.maxEntries === 0 ? 'it has no slots' : `its slots are 0–${a.info.maxEntries - 1}`
    throw new TailcallsError(
      'outOfRange',
      `key ${key} is out of range for ${objectLabel(a.ref)}: max_entries is ${a.info.maxEntries}, ${range}`,
      {
        hint: 'use a key below max_entries',
      },
    )
  }
}

function keyBuf(key: number): Buffer {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(key)
  return b
}

/** The program id in a slot, or undefined when it is empty. */
export function slotProgId(mapFd: number, key: number): number | undefined {
  const value = Buffer.alloc(4)
  const ret = sys().libbpf.bpf_map_lookup_elem(mapFd, keyBuf(key), value)
  if (ret === 0) return value.readUInt32LE(0)
  const error = new SysError('bpf_map_lookup_elem', -ret, `reading slot ${key}`)
  if (error.code === 'ENOENT') return undefined // a prog array's "no element": the slot is empty
  throw error
}

function progRefById(id: number): ObjectRef {
  const fd = tryOpenById('prog', id)
  if (fd === undefined) return {id, name: ''}
  try {
    return {id, name: progFullName(fd, progInfo(fd))}
  } finally {
    closeFd(fd)
  }
}

function factsOf(fd: number, info: ProgInfo, links: Map<number, number[]>): ProgFacts {
  return {
    attachBtfId: info.attachBtfId || undefined,
    attachBtfObjId: info.attachBtfObjId || undefined,
    id: info.id,
    jited: info.jitedProgLen > 0,
    linkAttachTypes: links.get(info.id),
    name: progFullName(fd, info),
    type: info.type,
  }
}

/** prog id → attach types of its links (a tp_btf link is a raw_tracepoint link: BPF_TRACE_RAW_TP). */
function linkAttachTypes(): Map<number, number[]> {
  const out = new Map<number, number[]>()
  for (const id of objectIds('link')) {
    const fd = tryOpenById('link', id)
    if (fd === undefined) continue
    try {
      const l = linkInfo(fd)
      const t =
        l.type === BPF_LINK_TYPE.RAW_TRACEPOINT
          ? BPF_ATTACH_TYPE.TRACE_RAW_TP
          : l.type === BPF_LINK_TYPE.TRACING
            ? l.attachType
            : undefined
      if (t !== undefined) out.set(l.progId, [...(out.get(l.progId) ?? []), t])
    } finally {
      closeFd(fd)
    }
  }

  return out
}

/**
 * Facts about the array the kernel compares against: its owner's type and JIT flag (fdinfo),
 * and programs already accepted (in its slots, else any program that uses it).
 */
function arrayFacts(a: OpenArray, links: Map<number, number[]> | undefined): ArrayFacts {
  const fi = mapFdinfo(a.fd)
  const facts: ArrayFacts = {
    id: a.ref.id,
    name: a.ref.name,
    ownerJited: fi.ownerJited,
    ownerProgType: fi.ownerProgType,
    references: [],
  }
  // Owner type and JIT flag suffice unless attach targets matter (links undefined).
  if (!links) return facts
  const addRef = (fd: number) => {
    const info = progInfo(fd)
    if (!facts.references.some((r) => r.id === info.id)) facts.references.push(factsOf(fd, info, links))
  }

  const slotIds = new Set<number>()
  for (let k = 0; k < Math.min(a.info.maxEntries, 1 << 16) && slotIds.size < 8; k++) {
    const id = slotProgId(a.fd, k)
    if (id !== undefined) slotIds.add(id)
  }

  for (const id of slotIds) {
    const fd = tryOpenById('prog', id)
    if (fd === undefined) continue
    try {
      addRef(fd)
    } finally {
      closeFd(fd)
    }
  }

  if (facts.references.length === 0) {
    // An empty array: the programs that use it (their code references it) were checked against the owner at load.
    for (const id of objectIds('prog')) {
      const fd = tryOpenById('prog', id)
      if (fd === undefined) continue
      try {
        const info = progInfo(fd)
        if (progMapIds(fd, info.nrMapIds).includes(a.ref.id)) addRef(fd)
      } finally {
        closeFd(fd)
      }

      if (facts.references.length > 0) break
    }
  }

  return facts
}

/** bpftool's warning, made precise: who else holds the array (processes, pins)? */
function holderWarning(a: OpenArray): string | undefined {
  const pids = buildPidTable('map').get(a.ref.id) ?? []
  const pins = buildPinTable('map').get(a.ref.id) ?? []
  if (pids.length > 0 || pins.length > 0) return undefined
  return `no other process holds ${objectLabel(a.ref)} and it is not pinned: the kernel empties a prog array when its last user reference closes, so this change is lost when tailcalls exits; pin the array (bpftool map pin id ${a.ref.id} /sys/fs/bpf/NAME) or keep its loader running`
}

function kernelRefusal(cause: SysError, what: string, prog?: ObjectRef, a?: OpenArray): TailcallsError {
  if (cause.code === 'EINVAL' && prog && a) {
    return new TailcallsError(
      'incompatible',
      `the kernel refused ${objectLabel(prog)} for ${objectLabel(a.ref)} (EINVAL): it does not match the array's owner in a way the kernel does not show (attach type, attach target, cgroup storage or XDP frags)`,
      {
        cause,
        hint: 'use a program loaded from the same kind of SEC() as the programs already in the array',
      },
    )
  }

  if (cause.code === 'E2BIG')
    return new TailcallsError('outOfRange', `${what}: the key is out of range (E2BIG)`, {cause})
  return fromErrno(cause)
}

/** `map update MAP key K prog PROG`. */
export function updateSlot(mapSel: Selector, key: number, progSel: Selector, opts: SlotOptions = {}): UpdateResult {
  const a = openProgArray(mapSel)
  try {
    checkKey(a, key)
    const progFd = selectOne('prog', progSel)
    try {
      const info = progInfo(progFd)
      const links = TARGETED_TYPES.has(info.type) ? linkAttachTypes() : undefined
      const facts = arrayFacts(a, links)
      const prog = factsOf(progFd, info, links ?? new Map())
      const progRef = {id: prog.id, name: prog.name}
      const reason = incompatibility(facts, prog, opts.resolveTarget ?? kernelTargetResolver)
      if (reason) {
        throw new TailcallsError(
          'incompatible',
          `cannot put ${objectLabel(progRef)} in ${objectLabel(a.ref)}[${key}]: ${reason}`,
          {
            hint: 'choose a program of the same type and attach target as the programs already in the array',
          },
        )
      }

      const before = slotProgId(a.fd, key)
      const warning = opts.checkHolders === false ? undefined : holderWarning(a)
      const value = Buffer.alloc(4)
      value.writeInt32LE(progFd)
      const ret = sys().libbpf.bpf_map_update_elem(a.fd, keyBuf(key), value, BPF_UPDATE_FLAG.ANY)
      if (ret < 0) {
        const what = `updating ${objectLabel(a.ref)}[${key}]`
        throw kernelRefusal(new SysError('bpf_map_update_elem', -ret, what), what, progRef, a)
      }

      return {
        key,
        map: a.ref,
        previous: before === undefined ? null : before === progRef.id ? progRef : progRefById(before),
        prog: progRef,
        warning,
      }
    } finally {
      closeFd(progFd)
    }
  } finally {
    closeFd(a.fd)
  }
}

/** `map delete MAP key K`: empty one slot; the tail call through it then falls through. */
export function deleteSlot(mapSel: Selector, key: number, opts: SlotOptions = {}): DeleteResult {
  const a = openProgArray(mapSel)
  try {
    checkKey(a, key)
    const before = slotProgId(a.fd, key)
    if (before === undefined) {
      throw new TailcallsError('notFound', `${objectLabel(a.ref)}[${key}] is already empty`, {
        hint: 'see the slots with `tailcalls map dump` or `tailcalls graph`',
      })
    }

    const removed = progRefById(before)
    const warning = opts.checkHolders === false ? undefined : holderWarning(a)
    const ret = sys().libbpf.bpf_map_delete_elem(a.fd, keyBuf(key))
    if (ret < 0) {
      const what = `emptying ${objectLabel(a.ref)}[${key}]`
      const cause = new SysError('bpf_map_delete_elem', -ret, what)
      if (cause.code === 'ENOENT')
        throw new TailcallsError('notFound', `${objectLabel(a.ref)}[${key}] is already empty (emptied concurrently)`, {
          cause,
        })
      throw kernelRefusal(cause, what)
    }

    return {key, map: a.ref, removed, warning}
  } finally {
    closeFd(a.fd)
  }
}

export function describeUpdate(r: UpdateResult): string {
  const was = r.previous ? objectLabel(r.previous) : '(empty)'
  return `${objectLabel(r.map)}[${r.key}]: ${was} → ${objectLabel(r.prog)}`
}

export function describeDelete(r: DeleteResult): string {
  return `${objectLabel(r.map)}[${r.key}]: ${objectLabel(r.removed)} → (empty); tail calls through this slot now fall through`
}
