/** `perf list`: a streamed JSON array, or a table that also points at `link list`. */
import {writeJsonArray, writeOut} from '../render/json.js'
import {dim, renderTable} from '../render/table.js'
import {checkPerfQuerySupport, perfList} from './perf.js'
import {perfView} from './views.js'

export const LINK_HINT =
  'BPF links without a perf fd (fentry/fexit, cgroup, xdp, tcx, kprobe_multi, …) are listed by `tailcalls link list`.'

export async function runPerf(json: boolean): Promise<void> {
  checkPerfQuerySupport()
  if (json) {
    await writeJsonArray(perfList())
    return
  }

  const rows = [...perfList()].map((o) => perfView.row(o))
  const body =
    rows.length === 0
      ? 'No program is attached through a perf-event or raw-tracepoint fd.\n'
      : renderTable(perfView.columns, rows)
  await writeOut(`${body}${dim(LINK_HINT)}\n`)
}
