/**
 * Table views (the default, for people) of the JSON objects built in prog/map/link/perf.ts:
 * the columns people look at first. Everything else is one `--json` away.
 */
import {toJson} from '../render/json.js'
import type {Column} from '../render/table.js'
import type {LinkJson} from './link.js'
import {linkTarget} from './link.js'
import type {MapJson} from './map.js'
import type {PerfJson} from './perf.js'
import type {ProgJson} from './prog.js'

export interface View<T> {
  columns: Column[]
  row(o: T): string[]
}

/** bpftool's plain `pids` form: comm(pid), comm(pid) */
export function pidsText(o: Record<string, unknown>): string {
  const pids = o.pids as Array<{comm: string; pid: number}> | undefined
  return pids ? pids.map((p) => `${p.comm}(${p.pid})`).join(', ') : ''
}

function localTime(epochSeconds: unknown): string {
  if (typeof epochSeconds !== 'number') return ''
  const d = new Date(epochSeconds * 1000)
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v))

export const progView: View<ProgJson> = {
  columns: [
    {header: 'ID', right: true},
    {header: 'TYPE'},
    {header: 'NAME'},
    {header: 'TAG'},
    {header: 'LOADED AT'},
    {header: 'RUNS', right: true},
    {header: 'AVG NS', right: true},
    {header: 'MAP IDS'},
    {header: 'PIDS'},
  ],
  row(o) {
    const runs = o.run_cnt as bigint | undefined
    const ns = o.run_time_ns as bigint | undefined
    return [
      str(o.id),
      str(o.type),
      str(o.name),
      o.tag,
      localTime(o.loaded_at),
      runs === undefined ? '' : String(runs),
      runs && ns !== undefined ? String(ns / runs) : '',
      ((o.map_ids as number[] | undefined) ?? []).join(','),
      pidsText(o),
    ]
  },
}

export const mapView: View<MapJson> = {
  columns: [
    {header: 'ID', right: true},
    {header: 'TYPE'},
    {header: 'NAME'},
    {header: 'KEY', right: true},
    {header: 'VALUE', right: true},
    {header: 'MAX ENTRIES', right: true},
    {header: 'MEMLOCK', right: true},
    {header: 'OWNER'},
    {header: 'PIDS'},
  ],
  row(o) {
    let owner = ''
    if (o.owner_prog_type !== undefined)
      owner = `${str(o.owner_prog_type)}${o.owner_jited === false ? ' (not jited)' : ''}`
    return [
      str(o.id),
      str(o.type),
      str(o.name),
      `${str(o.bytes_key)}B`,
      `${str(o.bytes_value)}B`,
      str(o.max_entries),
      o.bytes_memlock === undefined ? '' : `${str(o.bytes_memlock)}B`,
      owner,
      pidsText(o),
    ]
  },
}

export const linkView: View<LinkJson> = {
  columns: [
    {header: 'ID', right: true},
    {header: 'TYPE'},
    {header: 'PROG ID', right: true},
    {header: 'ATTACHED TO'},
    {header: 'PIDS'},
  ],
  row: (o) => [str(o.id), str(o.type), str(o.prog_id), linkTarget(o), pidsText(o)],
}

export const perfView: View<PerfJson> = {
  columns: [
    {header: 'PID', right: true},
    {header: 'FD', right: true},
    {header: 'PROG ID', right: true},
    {header: 'FD TYPE'},
    {header: 'TARGET'},
  ],
  row(o) {
    let target = ''
    if (o.tracepoint !== undefined) target = str(o.tracepoint)
    else if (o.func !== undefined) target = `${str(o.func)}+${str(o.offset)}`
    else if (o.addr !== undefined) target = `addr ${str(o.addr)}`
    else if (o.filename !== undefined) target = `${str(o.filename)}:${str(o.offset)}`
    return [str(o.pid), str(o.fd), str(o.prog_id), str(o.fd_type), target]
  },
}

/** A single object as KEY / VALUE rows (the `show` table view). */
export function keyValueRows(o: Record<string, unknown>): string[][] {
  const rows: string[][] = []
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue
    let text: string
    if (k === 'pids') text = pidsText(o)
    else if (k === 'loaded_at') text = `${localTime(v)} (${str(v)})`
    else if (Array.isArray(v))
      text = v.map((x) => (typeof x === 'object' ? toJson(x) : String(x))).join(k === 'pinned' ? '\n' : ',')
    else if (typeof v === 'object' && v !== null)
      text = Object.entries(v)
        .map(([a, b]) => `${a} ${String(b)}`)
        .join('  ')
    else text = String(v)
    rows.push([k, text])
  }

  return rows
}
