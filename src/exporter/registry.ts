/**
 * A scrape's data as Prometheus text or OpenMetrics, through prom-client.
 *
 * prom-client is imported here only, and only when the first scrape is rendered: no other
 * command pays for loading it (test/exporter/lazy.test.ts checks `prog list` never loads it).
 *
 * A fresh Registry per kernel read: every value is the kernel's at that read (counters are
 * the kernel's own cumulative counts, set once on a new Counter), nothing carries over from the
 * previous scrape, and concurrent scrapes never share mutable metric objects. The exporter's
 * own counters (scrapes, errors, refused requests) live in ExporterState and are copied in.
 */
import {release} from 'node:os'

import type {ScrapeData} from './collect.js'
import {loadPromClient} from './libs.js'
import {METRICS, type MetricDef} from './metrics.js'

type PromClient = typeof import('prom-client')
type Labels = Record<string, string>

let prom: Promise<PromClient> | undefined
function promClient(): Promise<PromClient> {
  prom ??= Promise.resolve().then(loadPromClient)
  return prom
}

/** What the exporter counts about itself across scrapes. */
export interface ExporterState {
  version: string
  libbpf: string
  scrapes: number
  errors: Map<string, number>
  refused: Map<string, number>
}

export type Format = 'prometheus' | 'openmetrics'

export interface Rendered {
  body: string
  contentType: string
}

class Sink {
  private readonly families = new Map<string, {def: MetricDef; samples: Array<{labels: Labels; value: number}>}>()

  constructor() {
    for (const def of METRICS) this.families.set(def.name, {def, samples: []})
  }

  add(name: string, labels: Labels, value: number): void {
    const family = this.families.get(name)
    if (!family) throw new Error(`metric ${name} is not defined in metrics.ts`)
    family.samples.push({labels, value})
  }

  async render(format: Format): Promise<Rendered> {
    const {Counter, Gauge, Registry} = await promClient()
    const contentType = format === 'openmetrics' ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE
    // The typings miss the constructor's content-type argument (prom-client 15 takes it).
    const registry = new (Registry as unknown as new (type: string) => InstanceType<typeof Registry>)(contentType)
    for (const {def, samples} of this.families.values()) {
      const config = {help: def.help, labelNames: def.labels as string[], name: def.name, registers: [registry]}
      if (def.type === 'counter') {
        const c = new Counter(config)
        for (const s of samples) c.inc(s.labels, s.value)
      } else {
        const g = new Gauge(config)
        for (const s of samples) g.set(s.labels, s.value)
      }
    }

    return {body: await registry.metrics(), contentType}
  }
}

const seconds = (ns: bigint) => Number(ns) / 1e9

/** Turn one kernel read (or none, when the read itself failed) into the exposition. */
export function toSink(data: ScrapeData, state: ExporterState): Sink {
  const s = new Sink()
  s.add(
    'tailcalls_build_info',
    {kernel: release(), libbpf: state.libbpf, nodejs: process.versions.node, version: state.version},
    1,
  )
  s.add('tailcalls_scrape_duration_seconds', {}, data.durationS)
  for (const [kind, n] of Object.entries(data.objects)) s.add('tailcalls_scrape_objects', {kind}, n)
  s.add('tailcalls_scrapes_total', {}, state.scrapes)
  for (const [operation, n] of state.errors) s.add('tailcalls_scrape_errors_total', {operation}, n)
  for (const operation of data.errors.keys()) s.add('tailcalls_scrape_error', {operation}, 1)
  for (const [reason, n] of state.refused) s.add('tailcalls_http_requests_refused_total', {reason}, n)

  for (const m of data.progArrays) {
    const map = {map_id: String(m.id), map_name: m.name}
    s.add('tailcalls_prog_array_max_entries', map, m.maxEntries)
    s.add('tailcalls_prog_array_slots_filled', map, m.slots.length)
    for (const slot of m.slots) {
      s.add(
        'tailcalls_prog_array_slot_info',
        {
          ...map,
          prog_id: String(slot.progId),
          prog_name: slot.progName,
          prog_tag: slot.progTag,
          slot: String(slot.slot),
        },
        1,
      )
      s.add('tailcalls_prog_array_slot_prog_id', {...map, slot: String(slot.slot)}, slot.progId)
    }
  }

  for (const [kind, n] of data.findings) s.add('tailcalls_graph_findings', {kind}, n)
  s.add('tailcalls_bpf_stats_enabled', {}, data.statsEnabled ? 1 : 0)
  for (const e of data.entries) {
    const prog = {prog_id: String(e.id), prog_name: e.name}
    s.add('tailcalls_entry_program_info', {...prog, attach: e.attach, prog_tag: e.tag, prog_type: e.type}, 1)
    s.add('tailcalls_chain_programs', prog, e.programs)
    s.add('tailcalls_chain_longest_tail_calls', prog, e.longest)
    s.add('tailcalls_chain_cyclic', prog, e.cyclic ? 1 : 0)
    s.add('tailcalls_empty_slot_sites', prog, e.emptySlotSites)
    if (e.runCnt !== undefined) s.add('tailcalls_program_run_count_total', prog, Number(e.runCnt))
    if (e.runTimeNs !== undefined) s.add('tailcalls_program_run_time_seconds_total', prog, seconds(e.runTimeNs))
    if (e.recursionMisses !== undefined)
      s.add('tailcalls_program_recursion_misses_total', prog, Number(e.recursionMisses))
  }

  for (const c of data.chains) {
    s.add(
      'tailcalls_chain_info',
      {chain: c.chain, entry_prog_id: c.entryProgId, pin_path: c.pinPath, prog_array_id: c.progArrayId},
      1,
    )
    for (const [stage, runs] of Object.entries(c.runs))
      s.add('tailcalls_stage_runs_total', {chain: c.chain, stage}, runs)
    for (const f of c.tailCallFailed)
      s.add('tailcalls_tail_call_failures_total', {chain: c.chain, slot: String(f.slot), target: f.target}, f.total)
    s.add('tailcalls_ringbuf_drops_total', {chain: c.chain}, c.ringbufDrops)
  }

  return s
}

export async function render(data: ScrapeData, state: ExporterState, format: Format): Promise<Rendered> {
  return toSink(data, state).render(format)
}
