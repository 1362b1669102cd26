/**
 * Every metric `tailcalls exporter` serves: name, type, labels and help, in one table. The
 * registry (registry.ts) builds its families from it, and the README's metric table is generated
 * from it (bin/metrics-table.mjs; test/exporter/readme.test.ts fails when the README is stale).
 *
 * Naming follows Prometheus practice and the eBPF exporters operators already run (cloudflare's
 * ebpf_exporter, Tetragon): one `tailcalls_` prefix, base units (seconds), `_total` on counters,
 * metadata on `_info` gauges that are always 1 and join on stable labels (`map_id`, `prog_id`,
 * `chain`), no per-CPU labels (per-CPU counters are summed), no `instance`/`node` label
 * (Prometheus adds the target's labels).
 *
 * This module imports nothing: it is data, read by the README generator without loading
 * prom-client or the kernel bindings.
 */

export type MetricType = 'counter' | 'gauge'

export interface MetricDef {
  name: string
  type: MetricType
  labels: readonly string[]
  help: string
  /** Which part of a scrape fills it (README grouping). */
  group: 'prog arrays' | 'tail-call graph' | 'kernel run stats' | 'chain counters' | 'exporter'
}

const def = (
  group: MetricDef['group'],
  type: MetricType,
  name: string,
  labels: readonly string[],
  help: string,
): MetricDef => ({group, help, labels, name, type})

const MAP = ['map_id', 'map_name'] as const
const ENTRY = ['prog_id', 'prog_name'] as const

export const METRICS: readonly MetricDef[] = [
  // --- every prog array on the node
  def(
    'prog arrays',
    'gauge',
    'tailcalls_prog_array_max_entries',
    MAP,
    'Slots of each BPF_MAP_TYPE_PROG_ARRAY on the node (max_entries).',
  ),
  def(
    'prog arrays',
    'gauge',
    'tailcalls_prog_array_slots_filled',
    MAP,
    'Slots of each prog array that hold a program; an empty slot makes a tail call through it fall through.',
  ),
  def(
    'prog arrays',
    'gauge',
    'tailcalls_prog_array_slot_info',
    [...MAP, 'slot', 'prog_id', 'prog_name', 'prog_tag'],
    'Always 1: the program in each filled slot. A swap replaces the series (new prog_id/prog_tag); an emptied slot loses its series.',
  ),
  def(
    'prog arrays',
    'gauge',
    'tailcalls_prog_array_slot_prog_id',
    [...MAP, 'slot'],
    'The id of the program in each filled slot (changes() over it counts swaps).',
  ),
  // --- the tail-call graph (the `tailcalls graph` analysis, at scrape time)
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_entry_program_info',
    [...ENTRY, 'prog_tag', 'prog_type', 'attach'],
    'Always 1: each entry program of a tail-call chain (attached, or making tail calls while nothing jumps to it) and where it is attached (empty when it is not).',
  ),
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_chain_programs',
    ENTRY,
    'Programs reachable from the entry program through tail calls, the entry included.',
  ),
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_chain_longest_tail_calls',
    ENTRY,
    'Tail calls on the longest path from the entry program (+Inf when it can cycle). The kernel stops a chain after 33 tail calls and the call falls through.',
  ),
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_chain_cyclic',
    ENTRY,
    "1 when a cycle is reachable from the entry program (the chain can run into the kernel's 33 tail-call limit), else 0.",
  ),
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_empty_slot_sites',
    ENTRY,
    'Tail-call sites reachable from the entry program whose constant key names an empty slot or one past max_entries: those tail calls fall through every time they run.',
  ),
  def(
    'tail-call graph',
    'gauge',
    'tailcalls_graph_findings',
    ['kind'],
    'Findings of the tail-call analysis over the whole node, by kind (empty-slot, out-of-range, indirect-key, unresolved-site, cycle, over-limit, unused-map, analysis).',
  ),
  // --- kernel run statistics of entry programs
  def(
    'kernel run stats',
    'gauge',
    'tailcalls_bpf_stats_enabled',
    [],
    "1 while the kernel counts BPF run time: this exporter holds a BPF_ENABLE_STATS fd (--enable-stats) or the kernel.bpf_stats_enabled sysctl is 1. Another process's BPF_ENABLE_STATS fd is invisible here.",
  ),
  def(
    'kernel run stats',
    'counter',
    'tailcalls_program_run_count_total',
    ENTRY,
    'bpf_prog_info.run_cnt of each entry program, only while BPF stats are enabled. The kernel charges a whole tail-call chain to its entry program: a tail call jumps into the next program past the stats accounting, so tail-called programs always read 0 and are not exported (see tailcalls_stage_runs_total for chains that count their stages).',
  ),
  def(
    'kernel run stats',
    'counter',
    'tailcalls_program_run_time_seconds_total',
    ENTRY,
    'bpf_prog_info.run_time_ns of each entry program in seconds, only while BPF stats are enabled; it includes the run time of every program the entry tail-calls (they always read 0 themselves).',
  ),
  def(
    'kernel run stats',
    'counter',
    'tailcalls_program_recursion_misses_total',
    ENTRY,
    'bpf_prog_info.recursion_misses of each entry program: runs the kernel skipped because the program was already running on that CPU (counted whether or not stats are enabled; absent before Linux 5.12).',
  ),
  // --- chains that count themselves (the bundled chain, loaded or pinned)
  def(
    'chain counters',
    'gauge',
    'tailcalls_chain_info',
    ['chain', 'pin_path', 'prog_array_id', 'entry_prog_id'],
    'Always 1: each chain that counts itself (a CHAIN_STATS map: the bundled chain run by `tailcalls load`, or pinned by `load --pin`). chain is the CHAIN_STATS map id; pin_path is "" when not pinned where --pin-path looks.',
  ),
  def(
    'chain counters',
    'counter',
    'tailcalls_stage_runs_total',
    ['chain', 'stage'],
    'Runs of each stage of the chain, from its own per-CPU counters (summed over CPUs): unlike run_cnt, tail-called stages count too.',
  ),
  def(
    'chain counters',
    'counter',
    'tailcalls_tail_call_failures_total',
    ['chain', 'slot', 'target'],
    'Tail calls of the chain that fell through (the slot was empty or the 33-call limit was hit), per slot, counted by the chain right after each bpf_tail_call.',
  ),
  def(
    'chain counters',
    'counter',
    'tailcalls_ringbuf_drops_total',
    ['chain'],
    'Events the chain could not reserve in its ring buffer (bpf_ringbuf_reserve failed: the reader is behind).',
  ),
  // --- the exporter itself
  def(
    'exporter',
    'gauge',
    'tailcalls_build_info',
    ['version', 'libbpf', 'kernel', 'nodejs'],
    "Always 1: the exporter's version, the libbpf it runs on, the kernel release, the Node.js version.",
  ),
  def('exporter', 'gauge', 'tailcalls_scrape_duration_seconds', [], 'Wall time this scrape spent reading the kernel.'),
  def(
    'exporter',
    'gauge',
    'tailcalls_scrape_objects',
    ['kind'],
    'Objects this scrape read: prog_array, program, link, chain.',
  ),
  def(
    'exporter',
    'counter',
    'tailcalls_scrapes_total',
    [],
    'Kernel reads since the exporter started (concurrent scrapes share one read).',
  ),
  def(
    'exporter',
    'counter',
    'tailcalls_scrape_errors_total',
    ['operation'],
    'Operations of a scrape that failed since the exporter started (e.g. EPERM without CAP_SYS_ADMIN); the rest of the scrape is still served.',
  ),
  def(
    'exporter',
    'gauge',
    'tailcalls_scrape_error',
    ['operation'],
    '1 for each operation that failed in this scrape (the exporter logs the error on stderr); absent when it succeeded.',
  ),
  def(
    'exporter',
    'counter',
    'tailcalls_http_requests_refused_total',
    ['reason'],
    'HTTP requests or connections refused since start: not_found, method, unauthorized, too_many_connections, header_timeout, header_too_large, bad_request, tls_handshake.',
  ),
]

/** The README table, one row per metric (bin/metrics-table.mjs writes it between markers). */
export function metricsTable(): string {
  const esc = (s: string) => s.replaceAll('|', '\\|')
  const rows = METRICS.map(
    (m) => `| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ') || '—'} | ${esc(m.help)} |`,
  )
  return ['| metric | type | labels | meaning |', '|---|---|---|---|', ...rows].join('\n')
}
