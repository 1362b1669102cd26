/** `tailcalls stats` for people: one table per tick, then the chain's failure counters. */
import {type Column, renderTable} from '../render/table.js'
import type {Tick} from './sample.js'

const COLUMNS: Column[] = [
  {header: 'PROGRAM'},
  {header: 'ID', right: true},
  {header: 'RUN_CNT', right: true},
  {header: 'RUN_TIME_NS', right: true},
  {header: 'AVG NS/RUN', right: true},
  {header: 'EVENTS/S', right: true},
  {header: 'STAGE RUNS', right: true},
  {header: 'STAGE RUNS/S', right: true},
]

const n = (v: number | null) => (v === null ? '-' : String(v))

export function formatTick(t: Tick, opts: {header: boolean}): string {
  const where = t.chain.source === 'pinned' ? `pinned at ${t.chain.path}` : `held by pid ${t.chain.pids?.join(', ')}`
  const lines: string[] = []
  if (opts.header) {
    lines.push(
      `Chain ${where} (${t.chain.chain_stats_map_id === null ? "a generic object: no CHAIN_STATS map, the kernel's counters only" : `CHAIN_STATS map ${t.chain.chain_stats_map_id}`}); kernel stats: ${t.kernel_stats === 'held fd' ? 'on while this command runs (BPF_ENABLE_STATS fd)' : 'off (--no-kernel-stats)'}`,
    )
  }

  lines.push(`${t.timestamp}  over ${t.interval_s.toFixed(3)} s:`)
  const rows = t.programs.map((p) => [
    p.name,
    String(p.id),
    p.tail_called ? '0 (tail-called)' : String(p.run_cnt),
    String(p.run_time_ns),
    p.avg_ns_interval === null ? (p.avg_ns === null ? '-' : `${p.avg_ns} (total)`) : String(p.avg_ns_interval),
    String(p.events_per_s),
    n(p.stage_runs),
    n(p.stage_runs_per_s),
  ])
  if (rows.length === 0) {
    // No program of the chain is loaded any more (or none is visible): the stage counters alone.
    lines.push('No program of this chain is loaded; its per-stage counters:')
    lines.push(
      renderTable(
        [{header: 'STAGE'}, {header: 'RUNS', right: true}, {header: 'RUNS/S', right: true}],
        t.stages.map((st) => [st.name, String(st.runs), String(st.runs_per_s)]),
      ).trimEnd(),
    )
  }

  // Without kernel stats only the chain's own counters mean anything.
  const keep = t.kernel_stats === 'off' ? [0, 1, 6, 7] : COLUMNS.map((_c, i) => i)
  if (rows.length > 0)
    lines.push(
      renderTable(
        keep.map((i) => COLUMNS[i]),
        rows.map((r) => keep.map((i) => r[i])),
      ).trimEnd(),
    )
  const failed = t.tail_call_failed.map((f) => `slot ${f.slot} (${f.target}): ${f.total} (+${f.delta})`).join(', ')
  const unread =
    t.ringbuf_drops.delta > 0 && t.chain.source === 'pinned'
      ? ' (is anyone reading? `tailcalls events` drains the ring buffer)'
      : ''
  if (t.chain.chain_stats_map_id !== null)
    lines.push(
      `Failed tail calls: ${failed}; ring-buffer drops: ${t.ringbuf_drops.total} (+${t.ringbuf_drops.delta})${unread}`,
    )
  if (opts.header && t.kernel_stats !== 'off' && t.programs.some((p) => p.tail_called)) {
    lines.push(
      "RUN_CNT/RUN_TIME_NS are the kernel's: it charges the whole chain to the entry program, so tail-called stages show 0; STAGE RUNS are the chain's own per-stage counters.",
    )
  }

  return lines.join('\n') + '\n'
}
