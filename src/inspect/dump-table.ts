/**
 * `map dump` for people: tables instead of bpftool's hex lines.
 *
 * - prog_array: one row per slot: slot, program id, name, type, tag; empty slots are shown
 *   (as "-" / "(empty)") when the array has at most 4096 slots.
 * - per-CPU maps: one row per CPU and a total row per key, one column per field of the BTF
 *   value (nested structs become dotted paths; arrays stay one cell and are summed element by
 *   element). PER_CPU_MAP shows KEY, CPU, per_event_count, total_count.
 * - other maps: KEY and VALUE, the value split into its fields when it is a small struct.
 * Keys and values without BTF are shown as hex bytes. Up to 500 rows go into a cli-table3
 * table; past that the rows are streamed as plain aligned text (cli-table3 is quadratic).
 */
import {closeFd} from '../kernel/ids.js'
import {type MapInfo, mapInfo} from '../kernel/info.js'
import {mapTypeName} from '../kernel/names.js'
import {toJson, writeOut} from '../render/json.js'
import {type JsonValue, parseJson} from '../render/parse.js'
import {type Column, PLAIN_ABOVE, bold, renderTable, streamingRows} from '../render/table.js'
import {MAP_TYPE} from '../sys/layouts.js'
import {type DumpOptions, type Formatter, ProgCache, mapFormatter, strerror} from './dump.js'
import {type EntryBatch, type MapLayout, mapLayout, readEntries} from './map-read.js'
import {OutBuffer} from './out-buffer.js'
import {type Selector, select} from './select.js'

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
    for (const k of keys) flatten(v[k], prefix ? `${prefix}.${k || '(anon)'}` : (k || '(anon)'), out)
    return
  }

  out.set(prefix || 'value', v)
}

/** Sum of numeric cells (exact, BigInt); element-wise for arrays of numbers; undefined otherwise. */
function total(values: (JsonValue | undefined)[]): JsonValue | undefined {
  const isNum = (x: unknown): x is bigint | number => typeof x === 'number' || typeof x === 'bigint'
  if (values.length > 0 && values.every((x) => isNum(x) && Number.isInteger(Number(x)))) {
    let sum = 0n
    for (const x of values) sum += BigInt(x as bigint | number)
    return sum
  }

  if (values.length > 0 && values.every((x) => Array.isArray(x) && x.length === (values[0] as JsonValue[]).length && x.every(isNum))) {
    return (values[0] as JsonValue[]).map((_, i) => values.reduce<bigint>((s, x) => s + BigInt((x as (bigint | number)[])[i]), 0n))
  }

  return undefined
}

/** Rows that become a cli-table3 table, or stream as aligned text once there are too many. */
class RowSink {
  private rows: string[][] = []
  private streaming?: ReturnType<typeof streamingRows>
  private readonly o: OutBuffer

  constructor(private readonly columns: Column[], out?: NodeJS.WritableStream) {
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
}

function keyCell(c: TableCtx, b: EntryBatch, i: number): string {
  const ks = c.info.keySize
  if (c.fmt?.key) return cell(parseJson(c.fmt.key.json(b.keys, i * ks)))
  return OutBuffer.hexText(b.keys, i * ks, ks)
}

function decodeValue(c: TableCtx, buf: Buffer, off: number): JsonValue | undefined {
  return c.fmt ? parseJson(c.fmt.value.json(buf, off)) : undefined
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

  const sink = new RowSink([{header: 'SLOT', right: true}, {header: 'ID', right: true}, {header: 'NAME'}, {header: 'TYPE'}, {header: 'TAG'}], c.opts.out)
  const showEmpty = c.info.maxEntries <= MAX_SLOTS_SHOWN
  const slots = showEmpty ? Array.from({length: c.info.maxEntries}, (_, i) => i) : [...new Set([...filled.keys(), ...errors.keys()])].sort((a, b) => a - b)
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

async function perCpuTable(c: TableCtx, fd: number): Promise<boolean> {
  const L = c.layout
  let fields: string[] | undefined
  let sink: RowSink | undefined
  let n = 0
  const it = readEntries(fd, L, {batch: c.opts.batch, onFallback: (why) => c.opts.warn?.(`map ${c.info.id}: ${why}; reading entries one by one`)})
  try {
    for (const b of it) {
      for (let i = 0; i < b.n; i++) {
        const vo = i * L.valueBytes
        if (!sink) {
          fields = fieldColumns(b.errnos?.[i] ? undefined : decodeValue(c, b.values, vo))
          const cols: Column[] = [{header: 'KEY'}, {header: 'CPU', right: true}]
          for (const f of fields ?? ['VALUE']) cols.push({header: f, right: Boolean(c.fmt)})
          sink = new RowSink(cols, c.opts.out)
        }

        n++
        const key = keyCell(c, b, i)
        if (b.errnos?.[i]) {
          if (!(await sink.add([key, '', `(error: ${strerror(b.errnos[i])})`]))) return false
          continue
        }

        const perCpu: Map<string, JsonValue>[] = []
        for (let cpu = 0; cpu < L.ncpus; cpu++) {
          const off = vo + cpu * L.stride
          const leaves = new Map<string, JsonValue>()
          if (c.fmt) {
            const v = decodeValue(c, b.values, off)!
            if (fields) flatten(v, '', leaves)
            else leaves.set('VALUE', v)
          } else {
            leaves.set('VALUE', OutBuffer.hexText(b.values, off, c.info.valueSize))
          }

          perCpu.push(leaves)
          const row = [cpu === 0 ? key : '', String(cpu), ...(fields ?? ['VALUE']).map((f) => cell(leaves.get(f)))]
          if (!(await sink.add(row))) return false
        }

        if (c.fmt) {
          const sums = (fields ?? ['VALUE']).map((f) => cell(total(perCpu.map((m) => m.get(f)))))
          if (!(await sink.add(['', bold('total'), ...sums]))) return false
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
  let fields: string[] | undefined
  let sink: RowSink | undefined
  let n = 0
  const it = readEntries(fd, L, {batch: c.opts.batch, onFallback: (why) => c.opts.warn?.(`map ${c.info.id}: ${why}; reading entries one by one`)})
  try {
    for (const b of it) {
      for (let i = 0; i < b.n; i++) {
        const vo = i * L.valueBytes
        const value = b.errnos?.[i] ? undefined : decodeValue(c, b.values, vo)
        if (!sink) {
          fields = fieldColumns(value)
          sink = new RowSink([{header: 'KEY'}, ...(fields ?? ['VALUE']).map((f) => ({header: f}))], c.opts.out)
        }

        n++
        const key = keyCell(c, b, i)
        let cells: string[]
        if (b.errnos?.[i]) {
          cells = [`(error: ${strerror(b.errnos[i])})`]
        } else if (!c.fmt) {
          cells = [OutBuffer.hexText(b.values, vo, c.info.valueSize)]
        } else if (fields) {
          const leaves = new Map<string, JsonValue>()
          flatten(value!, '', leaves)
          cells = fields.map((f) => cell(leaves.get(f)))
        } else {
          cells = [cell(value)]
        }

        if (!(await sink.add([key, ...cells]))) return false
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
  const c: TableCtx = {fmt: mapFormatter(info, opts.warn), info, layout: mapLayout(info), opts}
  if (info.type === MAP_TYPE.prog_array && info.keySize === 4 && info.valueSize === 4) return progArrayTable(c, fd)
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
