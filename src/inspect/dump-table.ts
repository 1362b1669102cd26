/**
 * `map dump` for people: tables instead of bpftool's hex lines.
 *
 * - prog_array: one row per slot: slot, program id, name, type, tag; empty slots are shown
 *   (as "-" / "(empty)") when the array has at most 4096 slots.
 * - per-CPU maps: one row per CPU and a total row per key, one column per field of the BTF
 *   value (nested structs become dotted paths; arrays stay one cell). Totals are given for
 *   integer fields and integer arrays (element by element), never for chars, bools, enums,
 *   pointers or bitfields. PER_CPU_MAP shows KEY, CPU, per_event_count, total_count.
 * - other maps: KEY and VALUE, the value split into its fields when it is a small struct.
 * - a value with more than 16 fields is listed long: one row per field (KEY, FIELD, VALUE).
 * Keys and values without BTF are shown as hex bytes. Up to 500 rows go into a cli-table3
 * table; past that the rows are streamed as plain aligned text (cli-table3 is quadratic).
 */
import {closeFd} from '../kernel/ids.js'
import {type MapInfo, mapInfo} from '../kernel/info.js'
import {mapTypeName} from '../kernel/names.js'
import {type Selector, select} from '../kernel/select.js'
import {toJson, writeOut} from '../render/json.js'
import {type JsonValue, parseJson} from '../render/parse.js'
import {type Column, PLAIN_ABOVE, bold, renderTable, streamingRows} from '../render/table.js'
import type {Btf} from '../btf/btf.js'
import {INT_SIGNED, KIND} from '../btf/kinds.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'
import {type DumpOptions, type Formatter, ProgCache, fallbackLine, mapFormatter, strerror} from './dump.js'
import {type EntryBatch, type MapLayout, mapLayout, readEntries} from './map-read.js'
import {OutBuffer} from './out-buffer.js'

const TOTAL = bold('total')

/** Field columns beyond this: the value is shown as one JSON cell. */
const MAX_FIELD_COLUMNS = 16
/** prog arrays up to this size show their empty slots. */
const MAX_SLOTS_SHOWN = 4096

function cell(v: JsonValue | undefined): string {
  if (v === undefined || v === null) return ''
  if (typeof v === 'string') return v
  if (typeof v === 'object') return toJson(v)
  return String(v)
}

/** Leaves of a decoded value: struct members become dotted paths; arrays and scalars are leaves. */
function flatten(v: JsonValue, prefix: string, out: Map<string, JsonValue>): void {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const keys = Object.keys(v)
    if (keys.length === 0) out.set(prefix || 'value', v)
    for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k || '(anon)'}` : k || '(anon)', out)
    return
  }

  out.set(prefix || 'value', v)
}

/** An integer type whose values add up: plain (un)signed 8/16/32/64-bit, not char, bool or bitfield. */
function isCounter(btf: Btf, id: number): boolean {
  const r = btf.resolveType(id)
  const t = r.ok ? btf.type(r.value) : undefined
  return (
    (t?.kind === KIND.INT &&
      (t.encoding === 0 || t.encoding === INT_SIGNED) &&
      t.bitsOffset === 0 &&
      [16, 32, 64].includes(t.bits)) ||
    (t?.kind === KIND.INT && t.bits === 8 && t.name !== 'char' && t.encoding === 0)
  )
}

/** The leaf paths of a value (as flatten() names them) whose per-CPU values can be totalled. */
function counterPaths(btf: Btf, id: number, prefix = '', out = new Set<string>(), depth = 0): Set<string> {
  if (depth > 32) return out
  const r = btf.resolveType(id)
  const t = r.ok ? btf.type(r.value) : undefined
  if (!t) return out
  if (t.kind === KIND.STRUCT || t.kind === KIND.UNION) {
    for (const m of t.members) {
      if (m.bitfieldSize || m.bitOffset % 8) continue
      counterPaths(btf, m.type, prefix ? `${prefix}.${m.name || '(anon)'}` : m.name || '(anon)', out, depth + 1)
    }
  } else if (t.kind === KIND.ARRAY) {
    if (isCounter(btf, t.type)) out.add(prefix || 'value')
  } else if (isCounter(btf, t.id)) {
    out.add(prefix || 'value')
  }

  return out
}

/** Sum of numeric cells (exact, BigInt); element-wise for arrays of numbers; undefined otherwise. */
function total(values: (JsonValue | undefined)[]): JsonValue | undefined {
  const isNum = (x: unknown): x is bigint | number => typeof x === 'number' || typeof x === 'bigint'
  if (values.length > 0 && values.every((x) => isNum(x) && Number.isInteger(Number(x)))) {
    let sum = 0n
    for (const x of values) sum += BigInt(x as bigint | number)
    return sum
  }

  if (
    values.length > 0 &&
    values.every((x) => Array.isArray(x) && x.length === (values[0] as JsonValue[]).length && x.every(isNum))
  ) {
    return (values[0] as JsonValue[]).map((_, i) =>
      values.reduce<bigint>((s, x) => s + BigInt((x as (bigint | number)[])[i]), 0n),
    )
  }

  return undefined
}

/** Rows that become a cli-table3 table, or stream as aligned text once there are too many. */
class RowSink {
  private rows: string[][] = []
  private streaming?: ReturnType<typeof streamingRows>
  private readonly o: OutBuffer

  constructor(
    private readonly columns: Column[],
    out?: NodeJS.WritableStream,
  ) {
    this.o = new OutBuffer(out)
  }

  /** Resolves false when the reader went away. */
  async add(row: string[]): Promise<boolean> {
    if (this.streaming) {
      this.o.text(this.streaming.row(row))
      return this.o.maybeFlush()
    }

    this.rows.push(row)
    if (this.rows.length <= PLAIN_ABOVE) return true
    // Too many for cli-table3: fix the widths from what we have and stream from here on.
    const widths = this.columns.map((_, i) => Math.max(...this.rows.map((r) => (r[i] ?? '').length)))
    this.streaming = streamingRows(this.columns, widths)
    this.o.text(this.streaming.header())
    for (const r of this.rows) this.o.text(this.streaming.row(r))
    this.rows = []
    return this.o.maybeFlush()
  }

  async end(footer: string): Promise<boolean> {
    if (!this.streaming) this.o.text(renderTable(this.columns, this.rows))
    this.o.text(footer)
    return this.o.flush()
  }
}

interface TableCtx {
  info: MapInfo
  layout: MapLayout
  fmt?: Formatter
  opts: DumpOptions
  /** Value leaves that are counters (totals are shown for these only). */
  counters: Set<string>
}

function keyCell(c: TableCtx, b: EntryBatch, i: number): string {
  const ks = c.info.keySize
  if (c.fmt?.key) return cell(parse(c.fmt.key.json(b.keys, i * ks)))
  return OutBuffer.hexText(b.keys, i * ks, ks)
}

/** Rendered JSON back into data: the native parser unless a number may be past 2^53 (16+ digits). */
function parse(text: string): JsonValue {
  return /\d{16}/.test(text) ? parseJson(text) : (JSON.parse(text) as JsonValue)
}

function decodeValue(c: TableCtx, buf: Buffer, off: number): JsonValue | undefined {
  return c.fmt ? parse(c.fmt.value.json(buf, off)) : undefined
}

function found(n: number): string {
  return `Found ${n} element${n === 1 ? '' : 's'}\n`
}

/** Columns for a decoded value: its leaves (from a sample), or one VALUE column. */
function fieldColumns(sample: JsonValue | undefined): string[] | undefined {
  if (sample === undefined || sample === null || typeof sample !== 'object' || Array.isArray(sample)) return undefined
  const leaves = new Map<string, JsonValue>()
  flatten(sample, '', leaves)
  return leaves.size <= MAX_FIELD_COLUMNS ? [...leaves.keys()] : undefined
}

async function progArrayTable(c: TableCtx, fd: number): Promise<boolean> {
  const progs = new ProgCache()
  const filled = new Map<number, number>()
  const errors = new Map<number, string>()
  for (const b of readEntries(fd, c.layout, {batch: false})) {
    for (let i = 0; i < b.n; i++) {
      const slot = b.keys.readUInt32LE(i * 4)
      if (b.errnos?.[i]) errors.set(slot, strerror(b.errnos[i]))
      else filled.set(slot, b.values.readUInt32LE(i * c.layout.valueBytes))
    }
  }

  const sink = new RowSink(
    [{header: 'SLOT', right: true}, {header: 'ID', right: true}, {header: 'NAME'}, {header: 'TYPE'}, {header: 'TAG'}],
    c.opts.out,
  )
  const showEmpty = c.info.maxEntries <= MAX_SLOTS_SHOWN
  const slots = showEmpty
    ? Array.from({length: c.info.maxEntries}, (_, i) => i)
    : [...new Set([...filled.keys(), ...errors.keys()])].sort((a, b) => a - b)
  for (const slot of slots) {
    const id = filled.get(slot)
    let row: string[]
    if (id !== undefined) {
      const p = progs.get(id)
      row = [String(slot), String(id), p.name ?? '(gone)', p.type === undefined ? '' : String(p.type), p.tag ?? '']
    } else if (errors.has(slot)) {
      row = [String(slot), '-', `(error: ${errors.get(slot)})`, '', '']
    } else {
      row = [String(slot), '-', '(empty)', '', '']
    }

    if (!(await sink.add(row))) return false
  }

  const hidden = showEmpty ? '' : `(${c.info.maxEntries - filled.size} empty slots not shown)\n`
  return sink.end(hidden + found(filled.size))
}

/** The value's leaves, or a single VALUE leaf (hex without BTF). */
function leavesOf(c: TableCtx, buf: Buffer, off: number, split: boolean): Map<string, JsonValue> {
  const leaves = new Map<string, JsonValue>()
  if (!c.fmt) leaves.set('VALUE', OutBuffer.hexText(buf, off, c.info.valueSize))
  else if (split) flatten(decodeValue(c, buf, off)!, '', leaves)
  else leaves.set('VALUE', decodeValue(c, buf, off)!)
  return leaves
}

/**
 * The layout, chosen on the first entry: "columns" (one column per field, or one VALUE column),
 * or "long" (one row per field) when the value has more fields than fit across.
 */
function chooseLayout(c: TableCtx, b: EntryBatch, i: number): {fields?: string[]; long: boolean} {
  if (!c.fmt || b.errnos?.[i]) return {long: false}
  const sample = decodeValue(c, b.values, i * c.layout.valueBytes)
  const fields = fieldColumns(sample)
  if (fields) return {fields, long: false}
  const isStruct = sample !== null && typeof sample === 'object' && !Array.isArray(sample)
  return {long: isStruct}
}

async function perCpuTable(c: TableCtx, fd: number): Promise<boolean> {
  const L = c.layout
  let layout: {fields?: string[]; long: boolean} | undefined
  let sink: RowSink | undefined
  let n = 0
  const it = readEntries(fd, L, {batch: c.opts.batch, onFallback: (why) => c.opts.warn?.(fallbackLine(c.info, why))})
  try {
    for (const b of it) {
      for (let i = 0; i < b.n; i++) {
        const vo = i * L.valueBytes
        if (!sink) {
          layout = chooseLayout(c, b, i)
          const cols: Column[] = [{header: 'KEY'}, {header: 'CPU', right: true}]
          if (layout.long) cols.push({header: 'FIELD'}, {header: 'VALUE', right: true})
          else for (const f of layout.fields ?? ['VALUE']) cols.push({header: f, right: Boolean(c.fmt)})
          sink = new RowSink(cols, c.opts.out)
        }

        n++
        const key = keyCell(c, b, i)
        if (b.errnos?.[i]) {
          if (!(await sink.add([key, '', `(error: ${strerror(b.errnos[i])})`]))) return false
          continue
        }

        const split = Boolean(layout!.fields || layout!.long)
        const perCpu: Map<string, JsonValue>[] = []
        for (let cpu = 0; cpu < L.ncpus; cpu++) perCpu.push(leavesOf(c, b.values, vo + cpu * L.stride, split))
        const fields = layout!.fields ?? (layout!.long ? [...perCpu[0].keys()] : ['VALUE'])
        const sums = fields.map((f) => (c.counters.has(f) ? cell(total(perCpu.map((m) => m.get(f)))) : ''))
        let first = true
        if (layout!.long) {
          // One row per CPU and field, then the totals.
          for (const [cpu, leaves] of perCpu.entries()) {
            for (const f of fields) {
              if (!(await sink.add([first ? key : '', String(cpu), f, cell(leaves.get(f))]))) return false
              first = false
            }
          }

          for (const [j, f] of fields.entries()) {
            if (sums[j] !== '' && !(await sink.add(['', TOTAL, f, sums[j]]))) return false
          }
        } else {
          for (const [cpu, leaves] of perCpu.entries()) {
            if (!(await sink.add([first ? key : '', String(cpu), ...fields.map((f) => cell(leaves.get(f)))])))
              return false
            first = false
          }

          if (sums.some((x) => x !== '') && !(await sink.add(['', TOTAL, ...sums]))) return false
        }
      }
    }
  } finally {
    it.return('batch')
  }

  sink ??= new RowSink([{header: 'KEY'}, {header: 'CPU', right: true}, {header: 'VALUE'}], c.opts.out)
  return sink.end(found(n))
}

async function plainTable(c: TableCtx, fd: number): Promise<boolean> {
  const L = c.layout
  let layout: {fields?: string[]; long: boolean} | undefined
  let sink: RowSink | undefined
  let n = 0
  const it = readEntries(fd, L, {batch: c.opts.batch, onFallback: (why) => c.opts.warn?.(fallbackLine(c.info, why))})
  try {
    for (const b of it) {
      for (let i = 0; i < b.n; i++) {
        const vo = i * L.valueBytes
        if (!sink) {
          layout = chooseLayout(c, b, i)
          const cols: Column[] = [{header: 'KEY'}]
          if (layout.long) cols.push({header: 'FIELD'}, {header: 'VALUE'})
          else for (const f of layout.fields ?? ['VALUE']) cols.push({header: f})
          sink = new RowSink(cols, c.opts.out)
        }

        n++
        const key = keyCell(c, b, i)
        if (b.errnos?.[i]) {
          if (!(await sink.add([key, `(error: ${strerror(b.errnos[i])})`]))) return false
          continue
        }

        const leaves = leavesOf(c, b.values, vo, Boolean(layout!.fields || layout!.long))
        if (layout!.long) {
          let first = true
          for (const [f, v] of leaves) {
            if (!(await sink.add([first ? key : '', f, cell(v)]))) return false
            first = false
          }
        } else if (!(await sink.add([key, ...(layout!.fields ?? ['VALUE']).map((f) => cell(leaves.get(f)))]))) {
          return false
        }
      }
    }
  } finally {
    it.return('batch')
  }

  sink ??= new RowSink([{header: 'KEY'}, {header: 'VALUE'}], c.opts.out)
  return sink.end(found(n))
}

/** One map as a table; false when the reader went away. */
export async function dumpMapTable(fd: number, info: MapInfo, opts: DumpOptions): Promise<boolean> {
  const fmt = mapFormatter(info, opts.warn)
  const c: TableCtx = {
    counters: fmt ? counterPaths(fmt.btf, fmt.valueTypeId) : new Set(),
    fmt,
    info,
    layout: mapLayout(info),
    opts,
  }
  if (info.type === BPF_MAP_TYPE.PROG_ARRAY && info.keySize === 4 && info.valueSize === 4) return progArrayTable(c, fd)
  if (c.layout.perCpu) return perCpuTable(c, fd)
  return plainTable(c, fd)
}

/** `tailcalls map dump <MAP>` without --json. */
export async function runMapDumpTable(sel: Selector, opts: DumpOptions): Promise<void> {
  const s = select('map', sel)
  try {
    for (const [i, fd] of s.fds.entries()) {
      const info = mapInfo(fd)
      if (s.many) {
        // bpftool's show_map_header_plain line before each map, a blank line between maps.
        const head = `${i ? '\n' : ''}${info.id}: ${mapTypeName(info.type)}  ${info.name ? `name ${info.name}  ` : ''}flags 0x${info.mapFlags.toString(16)}\n`
        if (!(await writeOut(head, opts.out))) return
      }

      if (!(await dumpMapTable(fd, info, opts))) return
    }
  } finally {
    for (const fd of s.fds) closeFd(fd)
  }
}
