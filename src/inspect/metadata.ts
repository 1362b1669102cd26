/**
 * A program's `metadata` (bpftool prog.c show_prog_metadata): the `bpf_metadata_*` variables of
 * the `.rodata` map the program references, rendered with BTF, keyed by the name without the
 * prefix. bpftool looks at the program's maps in map_ids order and takes the first ARRAY map
 * with key_size 4, max_entries 1, a BTF value type and ".rodata" in its name; the value type
 * must be a DATASEC.
 *
 * bpftool opens every map of every program by id for this. We open each map id at most once
 * per command (MapCache): re-opening prog arrays by id is what can leak them in the kernel
 * (see src/kernel/ids.ts), and it is cheaper.
 */
import {KIND} from '../btf/kinds.js'
import {isKind} from '../errors.js'
import {kernelBtf} from '../kernel/btf.js'
import {closeFd, tryOpenById} from '../kernel/ids.js'
import {mapInfo} from '../kernel/info.js'
import {compileRenderer} from '../render/btf-json.js'
import {type JsonValue, parseJson} from '../render/parse.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'

const PREFIX = 'bpf_metadata_'

interface RodataCandidate {
  btfId: number
  valueTypeId: number
  value: Buffer
}

/** map id → its .rodata value if it is a metadata candidate, null otherwise. */
export type MapCache = Map<number, RodataCandidate | null>

function candidate(id: number, cache: MapCache): RodataCandidate | null {
  const known = cache.get(id)
  if (known !== undefined) return known
  let result: RodataCandidate | null = null
  const fd = tryOpenById('map', id)
  if (fd !== undefined) {
    try {
      const info = mapInfo(fd)
      if (
        info.type === BPF_MAP_TYPE.ARRAY &&
        info.keySize === 4 &&
        info.maxEntries === 1 &&
        info.btfValueTypeId &&
        info.btfId &&
        info.name.includes('.rodata')
      ) {
        const key = Buffer.alloc(4)
        const value = Buffer.alloc(Math.max(info.valueSize, 1))
        const ret = sys().libbpf.bpf_map_lookup_elem(fd, key, value)
        if (ret === 0) {
          result = {btfId: info.btfId, value, valueTypeId: info.btfValueTypeId}
        } else {
          // EPERM: a map created BPF_F_WRONLY cannot be read from user space, so it has no
          // metadata to show (bpftool skips it the same way). Anything else is a failure.
          const error = new SysError('bpf_map_lookup_elem', -ret, `reading map ${id}`)
          if (error.code !== 'EPERM') throw error
        }
      }
    } finally {
      closeFd(fd)
    }
  }

  cache.set(id, result)
  return result
}

/** The `metadata` object for a program using `mapIds`, or undefined (no key) as bpftool. */
export function progMetadata(mapIds: number[], cache: MapCache): Record<string, JsonValue> | undefined {
  for (const id of mapIds) {
    const c = candidate(id, cache)
    if (!c) continue
    // bpftool stops at the first candidate, whatever it holds.
    try {
      const btf = kernelBtf(c.btfId)
      const sec = btf.type(c.valueTypeId)
      if (!sec || sec.kind !== KIND.DATASEC) return undefined
      const out: Record<string, JsonValue> = {}
      let any = false
      for (const v of sec.vars) {
        const variable = btf.type(v.type)
        if (!variable || variable.kind !== KIND.VAR || !variable.name?.startsWith(PREFIX)) continue
        if (v.offset + v.size > c.value.length) continue
        const name = variable.name
        const r = compileRenderer(btf, variable.type, v.size, {label: name})
        out[name.slice(PREFIX.length)] = parseJson(r.json(c.value, v.offset))
        any = true
      }

      return any ? out : undefined
    } catch (error) {
      // The map's BTF went away once the map was closed (notFound), or cannot be decoded
      // (invalidObject): no metadata, as bpftool prints none when its BTF load fails.
      if (isKind(error, 'notFound', 'invalidObject')) return undefined
      throw error
    }
  }

  return undefined
}
