/** `tailcalls doctor` for people. */
import {toJson} from '../render/json.js'
import {type Column, renderTable} from '../render/table.js'
import type {DoctorReport} from './checks.js'

const COLUMNS: Column[] = [{header: 'CHECK'}, {header: 'STATUS'}, {header: 'DETAIL'}, {header: 'FIX'}]

export function formatDoctor(r: DoctorReport): string {
  const rows = r.checks.map((c) => [c.title, c.status.toUpperCase(), c.detail, c.fix ?? ''])
  const facts = Object.entries(r.facts).map(
    ([k, v]) => `  ${k}: ${typeof v === 'object' && v !== null ? toJson(v) : String(v)}`,
  )
  const verdict = r.ok
    ? 'The chain can run here.'
    : `The chain cannot run here: ${r.checks
        .filter((c) => c.status === 'fail')
        .map((c) => c.title)
        .join(', ')} failed.`
  return `${renderTable(COLUMNS, rows)}Kernel facts (probed):\n${facts.join('\n')}\n${verdict}\n`
}
