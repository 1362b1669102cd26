/**
 * `map dump`: every entry of a map, as bpftool 7.1 prints it with --json (map.c
 * print_entry_json), streamed in 1 MiB chunks:
 *
 *   {"key":["0x00",…],"value":["0x2a",…]}                                  no BTF
 *   {"key":[…],"values":[{"cpu":0,"value":[…]},…]}                         per-CPU, no BTF
 *   …,"formatted":{"key":K,"value":V}  /  "formatted":{"key":K,"values":[{"cpu":0,"value":V},…]}
 *                                       with BTF ("key" only when the map has a key type)
 *   {"key":[…],"value":{"error":"<strerror>"}}                              failed lookup
 *
 * Empty prog_array / map-of-maps slots are left out, as bpftool does. A name that matches
 * several maps gives an array of {"id","type","name","flags","elements":[…]}.
 *
 * Extra (documented, never renaming a bpftool key): prog_array entries end with
 * "prog":{"id","name","type","tag"} for the program in the slot.
 */
import type {Btf} from '../btf/btf.js'
import {kernelBtf, vmlinuxBtf} from '../kernel/btf.js'
import {closeFd, tryOpenById} from '../kernel/ids.js'
import {type MapInfo, mapInfo, progFullName, progInfo} from '../kernel/info.js'
import {mapTypeName, progTypeName} from '../kernel/names.js'
import {isKind} from '../errors.js'
import {type Selector, select} from '../kernel/select.js'
import {type Renderer, compileRenderer} from '../render/btf-json.js'
import {jsonString, toJson} from '../render/json.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'
import {type EntryBatch, type MapLayout, type ReadMode, mapLayout, readEntries} from './map-read.js'
import {OutBuffer} from './out-buffer.js'

export interface DumpOptions {
  json: boolean
  /** Use BPF_MAP_LOOKUP_BATCH where possible (default true). */
  batch?: boolean
  /** Warnings for stderr (undecodable BTF parts, fallbacks). */
  warn?: (line: string) => void
  out?: NodeJS.WritableStream
}

/** How the key and value bytes of a map are decoded with BTF, when the map has a value type. */
export interface Formatter {
  /** Absent when the map has no key type (global data maps): bpftool then omits "key". */
  key?: Renderer
  value: Renderer
  /** The BTF and type the value is decoded with (tables look at field types). */
  btf: Btf
  valueTypeId: number
}

/**
 * bpftool's get_map_kv_btf(): BTF is used when the map has a value type, from vmlinux for
 * struct_ops values (btf_vmlinux_value_type_id), else from the map's own BTF object.
 * BTF we cannot read or decode is a warning, and the dump goes on without "formatted".
 */
export function mapFormatter(info: MapInfo, warn: (line: string) => void = () => {}): Formatter | undefined {
  const valueId = info.btfVmlinuxValueTypeId || info.btfValueTypeId
  if (!valueId) return undefined
  const label = `map ${info.id}${info.name ? ` (${info.name})` : ''}`
  let btf: Btf
  try {
    btf = info.btfVmlinuxValueTypeId
      ? info.btfVmlinuxId
        ? kernelBtf(info.btfVmlinuxId)
        : vmlinuxBtf()
      : kernelBtf(info.btfId ?? 0)
  } catch (error) {
    // Ours (BTF gone or undecodable) or a failed call: said in a warning, and the dump goes on.
    if (!isKind(error, 'notFound', 'invalidObject', 'kernelSupport') && !(error instanceof SysError)) throw error
    warn(`${label}: its BTF cannot be read (${(error as Error).message}); dumping raw bytes only`)
    return undefined
  }

  const key = info.btfKeyTypeId ? compileRenderer(btf, info.btfKeyTypeId, info.keySize, {label: 'key'}) : undefined
  const value = compileRenderer(btf, valueId, info.valueSize, {label: 'value'})
  for (const [what, r] of [
    ['key', key],
    ['value', value],
  ] as const) {
    for (const p of r?.problems ?? [])
      warn(`${label}: cannot decode ${what}${p.path} (byte ${p.offset}, BTF type ${p.typeId}): ${p.message}`)
    for (const p of r?.notes ?? [])
      warn(`${label}: ${what}${p.path} (byte ${p.offset}, BTF type ${p.typeId}) is ${p.message}`)
  }

  return {btf, key, value, valueTypeId: valueId}
}

export interface ProgSummary {
  id: number
  name?: string
  type?: number | string
  tag?: string
}

/** Program details for prog_array values, each program opened once per dump. */
export class ProgCache {
  private readonly cache = new Map<number, ProgSummary>()

  get(id: number): ProgSummary {
    let p = this.cache.get(id)
    if (!p) {
      p = {id}
      const fd = tryOpenById('prog', id)
      if (fd !== undefined) {
        // The open fd keeps the program alive: a failure to read it is a real one.
        try {
          const info = progInfo(fd)
          p = {id, name: progFullName(fd, info), tag: info.tag, type: progTypeName(info.type)}
        } finally {
          closeFd(fd)
        }
      }

      this.cache.set(id, p)
    }

    return p
  }
}

const strerrors = new Map<number, string>()
/** glibc's strerror(), which bpftool prints in error entries. */
export function strerror(errno: number): string {
  let s = strerrors.get(errno)
  if (s === undefined) {
    s = sys().libc.strerror(errno)
    strerrors.set(errno, s)
  }

  return s
}

function progJson(p: ProgSummary): string {
  let s = `{"id":${p.id}`
  if (p.name !== undefined) s += `,"name":${jsonString(p.name)}`
  if (p.type !== undefined) s += `,"type":${toJson(p.type)}`
  if (p.tag !== undefined) s += `,"tag":"${p.tag}"`
  return `${s}}`
}

const enc = (s: string): Buffer => Buffer.from(s, 'latin1')
const K = {
  close: enc('}'),
  closeArr: enc(']'),
  closeArrObj: enc(']}'),
  errorOpen: enc('],"value":{"error":'),
  fmtKey: enc(',"formatted":{"key":'),
  fmtOpen: enc(',"formatted":{'),
  fmtValue: enc(',"value":'),
  fmtValueOnly: enc('"value":'),
  fmtValues: enc(',"values":['),
  fmtValuesOnly: enc('"values":['),
  keyFirst: enc('{"key":['),
  keyNext: enc(',{"key":['),
  value: enc('],"value":['),
  values: enc('],"values":['),
}
/** `{"cpu":N,"value":[` and `,{"cpu":N,"value":[` (hex) / `…"value":` (formatted) per CPU, pre-encoded. */
const cpuHeads = (n: number, tail: string): Buffer[] =>
  Array.from({length: n}, (_, c) => enc(`${c ? ',' : ''}{"cpu":${c},"value":${tail}`))

/** Writes one map's entries as bpftool's JSON objects, bytes straight into the output buffer. */
export class EntryJsonWriter {
  private readonly progs?: ProgCache
  private readonly hexCpu: Buffer[]
  private readonly fmtCpu: Buffer[]

  constructor(
    private readonly o: OutBuffer,
    private readonly layout: MapLayout,
    private readonly fmt: Formatter | undefined,
    /** Program details for prog_array entries; null leaves the "prog" extra out. */
    progs?: ProgCache | null,
  ) {
    if (layout.info.type === BPF_MAP_TYPE.PROG_ARRAY && layout.info.valueSize === 4 && progs !== null)
      this.progs = progs ?? new ProgCache()
    this.hexCpu = cpuHeads(layout.ncpus, '[')
    this.fmtCpu = cpuHeads(layout.ncpus, '')
  }

  /** Entry i of a batch; `first` decides the leading comma. */
  entry(b: EntryBatch, i: number, first: boolean): void {
    const {o, layout: L, fmt} = this
    const ks = L.info.keySize
    const ko = i * ks
    const vo = i * L.valueBytes
    o.lit(first ? K.keyFirst : K.keyNext)
    o.hexJson(b.keys, ko, ks)
    const errno = b.errnos?.[i]
    if (errno) {
      o.lit(K.errorOpen)
      o.text(jsonString(strerror(errno)))
      o.lit(K.close)
      o.lit(K.close)
      return
    }

    if (L.perCpu) {
      o.lit(K.values)
      for (let c = 0; c < L.ncpus; c++) {
        o.lit(this.hexCpu[c])
        o.hexJson(b.values, vo + c * L.stride, L.info.valueSize)
        o.lit(K.closeArrObj)
      }

      o.lit(K.closeArr)
      if (fmt) {
        if (fmt.key) {
          o.lit(K.fmtKey)
          fmt.key.emit(o, b.keys, ko)
          o.lit(K.fmtValues)
        } else {
          o.lit(K.fmtOpen)
          o.lit(K.fmtValuesOnly)
        }

        for (let c = 0; c < L.ncpus; c++) {
          o.lit(this.fmtCpu[c])
          fmt.value.emit(o, b.values, vo + c * L.stride)
          o.lit(K.close)
        }

        o.lit(K.closeArrObj)
      }
    } else {
      o.lit(K.value)
      o.hexJson(b.values, vo, L.info.valueSize)
      o.lit(K.closeArr)
      if (fmt) {
        if (fmt.key) {
          o.lit(K.fmtKey)
          fmt.key.emit(o, b.keys, ko)
          o.lit(K.fmtValue)
        } else {
          o.lit(K.fmtOpen)
          o.lit(K.fmtValueOnly)
        }

        fmt.value.emit(o, b.values, vo)
        o.lit(K.close)
      }
    }

    if (this.progs) o.text(`,"prog":${progJson(this.progs.get(b.values.readUInt32LE(vo)))}`)
    o.lit(K.close)
  }
}

export interface DumpResult {
  entries: number
  mode: ReadMode
  /** False when the reader went away before the end (`| head`). */
  complete: boolean
}

/** The stderr line for a kernel without batch reads on this map type (5.10 and per-CPU arrays). */
export function fallbackLine(info: MapInfo, why: string): string {
  return `map ${info.id}: this kernel cannot batch-read ${mapTypeName(info.type)} maps (${why}); reading entries one by one (same output, one syscall per entry)`
}

/** Stream one map's entries as a JSON array into `o` (without a trailing newline). */
export async function dumpMapJson(fd: number, info: MapInfo, o: OutBuffer, opts: DumpOptions): Promise<DumpResult> {
  const layout = mapLayout(info)
  const fmt = mapFormatter(info, opts.warn)
  const w = new EntryJsonWriter(o, layout, fmt)
  let entries = 0
  o.ascii('[')
  const it = readEntries(fd, layout, {batch: opts.batch, onFallback: (why) => opts.warn?.(fallbackLine(info, why))})
  let mode: ReadMode = 'per-element'
  try {
    for (;;) {
      const r = it.next()
      if (r.done) {
        mode = r.value
        break
      }

      const b = r.value
      for (let i = 0; i < b.n; i++) {
        w.entry(b, i, entries++ === 0)
        // Flush per chunk, not per batch: a batch of 20k entries is ~12 MB of JSON.
        if (o.full() && !(await o.flush())) return {complete: false, entries, mode}
      }
    }
  } finally {
    it.return(mode)
  }

  o.ascii(']')
  return {complete: true, entries, mode}
}

/** bpftool's show_map_header_json(): the object around each map when a name matched several. */
function headerJson(info: MapInfo): string {
  let s = `{"id":${info.id},"type":${toJson(mapTypeName(info.type))}`
  if (info.name) s += `,"name":${jsonString(info.name)}`
  return `${s},"flags":${info.mapFlags | 0},"elements":`
}

/** `tailcalls map dump <MAP> --json`. */
export async function runMapDumpJson(sel: Selector, opts: DumpOptions): Promise<void> {
  const s = select('map', sel)
  const o = new OutBuffer(opts.out)
  try {
    if (s.many) o.ascii('[')
    for (const [i, fd] of s.fds.entries()) {
      const info = mapInfo(fd)
      if (s.many) o.text(`${i ? ',' : ''}${headerJson(info)}`)
      const r = await dumpMapJson(fd, info, o, opts)
      if (!r.complete) return
      if (s.many) o.ascii('}')
    }

    if (s.many) o.ascii(']')
    o.ascii('\n')
    await o.flush()
  } finally {
    for (const fd of s.fds) closeFd(fd)
  }
}
