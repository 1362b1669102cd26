/**
 * One read of everything the tail-call graph needs from the kernel, as plain data:
 * prog arrays and their slots, every program's maps (and, for programs that use a prog
 * array, their tail-call sites from the xlated instructions), and every link.
 *
 * Each prog array is opened by id **once** and held until the snapshot is complete: its slots
 * are read through that one fd. Re-opening a prog array by id while its last user reference is
 * going away can leak it in the kernel (see src/kernel/ids.ts), and holding the fd also
 * keeps the contents from being cleared under us mid-read. Objects that vanish between listing
 * and opening are skipped (other processes load and unload concurrently).
 *
 * Prog arrays do not support batch lookups (ENOTSUPP), so slots are read per element; a
 * lookup returns the program's id, not an fd.
 */
import {errnoName} from '../sys/errno.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'
import {closeFd, objectIds, tryOpenById} from '../kernel/ids.js'
import {linkInfo, mapFdinfo, mapInfo, progFullName, progInfo, progMapIds, progXlated} from '../kernel/info.js'
import {type TailCallSite, findTailCallSites} from './sites.js'

/** Slots read per prog array at most (Cilium's arrays have ~50; this only bounds a hostile one). */
export const MAX_SLOTS_READ = 1 << 18

export interface SnapProg {
  id: number
  name: string
  type: number
  tag: string
  jited: boolean
  mapIds: number[]
  /** Present for programs that reference a prog array and whose xlated code was readable. */
  sites?: TailCallSite[]
  /** Why the sites are missing or incomplete (no xlated access, analysis problems). */
  siteNotes?: string[]
  attachBtfObjId?: number
  attachBtfId?: number
  /** How messages name it, when not `name (id N)` (an object file's programs have no kernel id). */
  display?: string
}

export interface SnapMap {
  id: number
  name: string
  maxEntries: number
  ownerProgType?: number
  ownerJited?: boolean
  /** slot → program id, for filled slots. */
  slots: Map<number, number>
  /** Slots actually read (< maxEntries only for enormous arrays). */
  slotsRead: number
  /** Lookup errors other than "empty" (slot → errno name). */
  slotErrors: Map<number, string>
}

export interface SnapLink {
  id: number
  type: number
  progId: number
  tpName?: string
  attachType?: number
  targetObjId?: number
  targetBtfId?: number
  ifindex?: number
  cgroupId?: bigint
  targetName?: string
}

export interface Snapshot {
  progs: Map<number, SnapProg>
  /** Prog arrays only. */
  maps: Map<number, SnapMap>
  links: SnapLink[]
}

/** Read the prog array's slots through an fd we already hold. */
export function readSlots(
  fd: number,
  maxEntries: number,
): {errors: Map<number, string>; read: number; slots: Map<number, number>} {
  const {libbpf} = sys()
  const key = Buffer.alloc(4)
  const value = Buffer.alloc(4)
  const slots = new Map<number, number>()
  const errors = new Map<number, string>()
  const read = Math.min(maxEntries, MAX_SLOTS_READ)
  for (let k = 0; k < read; k++) {
    key.writeUInt32LE(k)
    const ret = libbpf.bpf_map_lookup_elem(fd, key, value)
    if (ret === 0) slots.set(k, value.readUInt32LE(0))
    else if (errnoName(ret) !== 'ENOENT') errors.set(k, errnoName(ret))
  }

  return {errors, read, slots}
}

function readProg(fd: number, progArrays: Set<number>): SnapProg {
  const info = progInfo(fd)
  const mapIds = progMapIds(fd, info.nrMapIds)
  const prog: SnapProg = {
    attachBtfId: info.attachBtfId || undefined,
    attachBtfObjId: info.attachBtfObjId || undefined,
    id: info.id,
    jited: info.jitedProgLen > 0,
    mapIds,
    name: progFullName(fd, info),
    tag: info.tag,
    type: info.type,
  }
  if (mapIds.some((m) => progArrays.has(m))) {
    const xlated = progXlated(fd)
    if (xlated.length === 0) {
      prog.siteNotes = [
        'translated instructions not readable (needs CAP_BPF/CAP_SYS_ADMIN; kernel.kptr_restrict may hide them)',
      ]
    } else {
      const analysis = findTailCallSites(xlated)
      prog.sites = analysis.sites
      if (analysis.problems.length > 0) prog.siteNotes = analysis.problems
    }
  }

  return prog
}

/** A prog array as the graph sees it: its slots, read through `fd`, and its owner (fdinfo). */
function snapProgArray(fd: number, info: ReturnType<typeof mapInfo>): SnapMap {
  const fi = mapFdinfo(fd)
  const {errors, read, slots} = readSlots(fd, info.maxEntries)
  return {
    id: info.id,
    maxEntries: info.maxEntries,
    name: info.name,
    ownerJited: fi.ownerJited,
    ownerProgType: fi.ownerProgType,
    slotErrors: errors,
    slots,
    slotsRead: read,
  }
}

/** Snapshot the kernel: prog arrays (with slots), programs, links. */
export function collect(): Snapshot {
  const maps = new Map<number, SnapMap>()
  const heldMapFds: number[] = []
  try {
    for (const id of objectIds('map')) {
      const fd = tryOpenById('map', id)
      if (fd === undefined) continue
      let keep = false
      try {
        const info = mapInfo(fd)
        if (info.type !== BPF_MAP_TYPE.PROG_ARRAY) continue
        keep = true
        heldMapFds.push(fd)
        maps.set(info.id, snapProgArray(fd, info))
      } finally {
        if (!keep) closeFd(fd)
      }
    }

    const progArrays = new Set(maps.keys())
    const progs = new Map<number, SnapProg>()
    for (const id of objectIds('prog')) {
      const fd = tryOpenById('prog', id)
      if (fd === undefined) continue
      // No catch: the open fd keeps the program alive, so a failure here is a real one.
      try {
        progs.set(id, readProg(fd, progArrays))
      } finally {
        closeFd(fd)
      }
    }

    // A program put into a slot after the scan passed its id: read it now.
    for (const m of maps.values()) {
      for (const progId of m.slots.values()) {
        if (progs.has(progId)) continue
        const fd = tryOpenById('prog', progId)
        if (fd === undefined) continue
        try {
          progs.set(progId, readProg(fd, progArrays))
        } finally {
          closeFd(fd)
        }
      }
    }

    return {links: collectLinks(), maps, progs}
  } finally {
    for (const fd of heldMapFds) closeFd(fd)
  }
}

/**
 * Only what the chains starting at `roots` can reach: the prog arrays their programs use (each
 * opened by id once and held until the end, as in collect()), the programs in those arrays'
 * slots, and so on. No links. A few objects instead of the whole kernel, for a caller that asks
 * about one program (`prog run`).
 */
export function collectReachable(roots: number[]): Snapshot {
  const maps = new Map<number, SnapMap>()
  const progs = new Map<number, SnapProg>()
  const otherMaps = new Set<number>()
  const heldMapFds: number[] = []
  try {
    const queue = [...roots]
    while (queue.length > 0) {
      const id = queue.shift()!
      if (progs.has(id)) continue
      const fd = tryOpenById('prog', id)
      if (fd === undefined) continue
      try {
        for (const m of progMapIds(fd)) {
          if (maps.has(m) || otherMaps.has(m)) continue
          const mapFd = tryOpenById('map', m)
          if (mapFd === undefined) continue
          const info = mapInfo(mapFd)
          if (info.type !== BPF_MAP_TYPE.PROG_ARRAY) {
            otherMaps.add(m)
            closeFd(mapFd)
            continue
          }

          heldMapFds.push(mapFd)
          maps.set(info.id, snapProgArray(mapFd, info))
        }

        const prog = readProg(fd, new Set(maps.keys()))
        progs.set(id, prog)
        for (const m of prog.mapIds) queue.push(...(maps.get(m)?.slots.values() ?? []))
      } finally {
        closeFd(fd)
      }
    }

    return {links: [], maps, progs}
  } finally {
    for (const fd of heldMapFds) closeFd(fd)
  }
}

export function collectLinks(): SnapLink[] {
  const links: SnapLink[] = []
  for (const id of objectIds('link')) {
    const fd = tryOpenById('link', id)
    if (fd === undefined) continue
    try {
      const l = linkInfo(fd)
      links.push({
        attachType: l.attachType,
        cgroupId: l.cgroupId,
        id: l.id,
        ifindex: l.ifindex,
        progId: l.progId,
        targetBtfId: l.targetBtfId,
        targetName: l.targetName,
        targetObjId: l.targetObjId,
        tpName: l.tpName,
        type: l.type,
      })
    } finally {
      closeFd(fd)
    }
  }

  return links
}
