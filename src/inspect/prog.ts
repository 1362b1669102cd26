/**
 * `prog list` / `prog show`: one JSON object per program with bpftool 7.1's keys, in its
 * order and under its conditions (prog.c print_prog_json):
 *
 *   id, type, name?, tag, gpl_compatible, run_time_ns? + run_cnt? (when run_time_ns != 0),
 *   recursion_misses? (!= 0), dev? (offloaded), loaded_at? + uid? (when load_time != 0),
 *   bytes_xlated, jited, bytes_jited? (when jited), bytes_memlock? (fdinfo), map_ids? (non-empty),
 *   btf_id? (!= 0), pinned? (--bpffs), pids? (extra: processes holding an fd)
 *
 * u64 counters (run_time_ns, run_cnt, recursion_misses) are BigInts: written exactly.
 *   metadata? (the bpf_metadata_* variables of the program's .rodata, rendered with BTF)
 */
import {eachObject} from '../kernel/ids.js'
import {ifnameInNs, loadTimeToEpoch, progFullName, progInfo, progMapIds, progMemlock} from '../kernel/info.js'
import {progTypeName} from '../kernel/names.js'
import {OwnFdinfo} from '../kernel/procfile.js'
import {type ShowContext, addRefs} from './context.js'
import {progMetadata} from './metadata.js'

export type ProgJson = Record<string, unknown> & {id: number; tag: string; type: number | string}

export function devJson(ifindex: number, nsDev: bigint, nsIno: bigint): Record<string, unknown> {
  const dev: Record<string, unknown> = {ifindex, ns_dev: nsDev, ns_inode: nsIno}
  const ifname = ifnameInNs(ifindex, nsDev, nsIno)
  if (ifname) dev.ifname = ifname
  return dev
}

export function progJson(fd: number, ctx: ShowContext = {}, fdinfo?: OwnFdinfo): ProgJson {
  const info = progInfo(fd)
  const o: Record<string, unknown> = {id: info.id, type: progTypeName(info.type)}
  if (info.name) o.name = progFullName(fd, info)
  o.tag = info.tag
  o.gpl_compatible = info.gplCompatible ?? false
  if (info.runTimeNs) {
    o.run_time_ns = info.runTimeNs
    o.run_cnt = info.runCnt ?? 0n
  }

  if (info.recursionMisses) o.recursion_misses = info.recursionMisses
  if (info.ifindex) o.dev = devJson(info.ifindex, info.netnsDev ?? 0n, info.netnsIno ?? 0n)
  if (info.loadTime) {
    o.loaded_at = loadTimeToEpoch(info.loadTime)
    o.uid = info.createdByUid ?? 0
  }

  o.bytes_xlated = info.xlatedProgLen
  o.jited = info.jitedProgLen !== 0
  if (info.jitedProgLen) o.bytes_jited = info.jitedProgLen
  const memlock = progMemlock(fd, fdinfo && {fdinfo, id: info.id})
  if (memlock !== undefined) o.bytes_memlock = memlock
  let mapIds: number[] = []
  if (info.nrMapIds) {
    mapIds = progMapIds(fd, info.nrMapIds)
    if (mapIds.length > 0) o.map_ids = mapIds
  }

  if (info.btfId) o.btf_id = info.btfId
  addRefs(o, info.id, ctx)
  if (mapIds.length > 0) {
    const metadata = progMetadata(mapIds, (ctx.maps ??= new Map()))
    if (metadata) o.metadata = metadata
  }

  return o as ProgJson
}

/** Every program, in id order, one at a time (each fd is closed before the next is opened). */
export function* progList(ctx: ShowContext = {}): Generator<ProgJson> {
  const fdinfo = new OwnFdinfo('prog_id')
  try {
    for (const {fd} of eachObject('prog')) yield progJson(fd, ctx, fdinfo)
  } finally {
    fdinfo.close()
  }
}
