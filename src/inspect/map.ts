/**
 * `map list` / `map show`: bpftool 7.1's keys, order and conditions (map.c show_map_close_json):
 *
 *   id, type, name? (non-empty), flags (decimal), dev? (offloaded), bytes_key, bytes_value,
 *   max_entries, bytes_memlock? (fdinfo), owner_prog_type? + owner_jited? (prog_array whose
 *   fdinfo has them, i.e. once a program uses the array), frozen (int 0/1, always),
 *   btf_id? (!= 0), pinned? (--bpffs), pids? (extra)
 */
import {eachObject} from '../kernel/ids.js'
import {mapFdinfo, mapInfo} from '../kernel/info.js'
import {mapTypeName, progTypeName} from '../kernel/names.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'
import {type ShowContext, addRefs} from './context.js'
import {devJson} from './prog.js'

export type MapJson = Record<string, unknown> & {id: number; type: number | string}

export function mapJson(fd: number, ctx: ShowContext = {}): MapJson {
  const info = mapInfo(fd)
  const fi = mapFdinfo(fd)
  const o: Record<string, unknown> = {id: info.id, type: mapTypeName(info.type)}
  if (info.name) o.name = info.name
  // bpftool prints map_flags with %d.
  o.flags = info.mapFlags | 0
  if (info.ifindex) o.dev = devJson(info.ifindex, info.netnsDev ?? 0n, info.netnsIno ?? 0n)
  o.bytes_key = info.keySize
  o.bytes_value = info.valueSize
  o.max_entries = info.maxEntries
  if (fi.memlock !== undefined) o.bytes_memlock = fi.memlock
  if (info.type === BPF_MAP_TYPE.PROG_ARRAY) {
    if (fi.ownerProgType !== undefined) o.owner_prog_type = progTypeName(fi.ownerProgType)
    if (fi.ownerJited !== undefined) o.owner_jited = fi.ownerJited
  }

  o.frozen = fi.frozen
  if (info.btfId) o.btf_id = info.btfId
  addRefs(o, info.id, ctx)
  return o as MapJson
}

/**
 * Every map, in id order, one fd at a time. Each map (prog arrays included) is opened by id
 * exactly once per listing, as bpftool does; never call this in a polling loop.
 */
export function* mapList(ctx: ShowContext = {}): Generator<MapJson> {
  for (const {fd} of eachObject('map')) yield mapJson(fd, ctx)
}
