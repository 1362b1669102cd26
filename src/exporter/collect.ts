/**
 * One scrape's read of the kernel, as plain data (registry.ts turns it into metrics):
 *
 *   - every prog array and its slots, and the tail-call graph of every program, from the same
 *     snapshot `tailcalls graph` draws (src/graph/collect.ts, src/graph/graph.ts);
 *   - the run statistics of the graph's entry programs (bpf_prog_info);
 *   - the counters of every chain that counts itself (a CHAIN_STATS map, loaded or pinned).
 *
 * Nothing runs between scrapes: what a scrape shows is the kernel as it was when the request
 * came. Each part is an "operation"; one that fails (EPERM without CAP_SYS_ADMIN, an object
 * torn down under us) is recorded in `errors` and the others are still read, so a scrape always
 * answers with what it could read plus what it could not.
 */
import {isKind} from '../errors.js'
import {isVanished} from '../sys/error.js'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {readChainStats} from '../chain/chain.js'
import {TailcallsError} from '../errors.js'
import {collect as snapshot} from '../graph/collect.js'
import {type FindingKind, type Graph, buildGraph} from '../graph/graph.js'
import {closeFd, openPinned, tryOpenById} from '../kernel/ids.js'
import {mapInfo, progInfo} from '../kernel/info.js'
import {CHAIN_STATS, SLOT} from '../sys/layouts.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'

export interface SlotRow {
  slot: number
  progId: number
  progName: string
  progTag: string
}

export interface ProgArrayRow {
  id: number
  name: string
  maxEntries: number
  slots: SlotRow[]
}

export interface EntryRow {
  id: number
  name: string
  tag: string
  type: string
  attach: string
  programs: number
  /** Infinity when a cycle is reachable. */
  longest: number
  cyclic: boolean
  emptySlotSites: number
  runCnt?: bigint
  runTimeNs?: bigint
  recursionMisses?: bigint
}

export interface ChainRow {
  /** The CHAIN_STATS map id, as a label. */
  chain: string
  pinPath: string
  progArrayId: string
  entryProgId: string
  runs: Record<string, number>
  tailCallFailed: Array<{slot: number; target: string; total: number}>
  ringbufDrops: number
}

export interface ScrapeData {
  durationS: number
  /** operation → what failed (one line). */
  errors: Map<string, string>
  progArrays: ProgArrayRow[]
  entries: EntryRow[]
  findings: Map<string, number>
  statsEnabled: boolean
  chains: ChainRow[]
  objects: {prog_array: number; program: number; link: number; chain: number}
}

export interface CollectOptions {
  /** True while this process holds a BPF_ENABLE_STATS fd. */
  statsHeld: boolean
  /** bpffs folders where pinned chains are looked for (their CHAIN_STATS pin). */
  pinPaths: string[]
}

const FINDING_KINDS: readonly FindingKind[] = [
  'empty-slot',
  'out-of-range',
  'indirect-key',
  'unresolved-site',
  'cycle',
  'over-limit',
  'unused-map',
  'analysis',
]
const SLOT_TARGET: Record<number, string> = Object.fromEntries(Object.entries(SLOT).map(([prog, slot]) => [slot, prog]))

function oneLine(error: unknown): string {
  if (error instanceof TailcallsError) return error.message
  return error instanceof Error ? error.message : String(error)
}

/** Run one operation; a failure is recorded under its name and yields undefined. */
function attempt<T>(errors: Map<string, string>, operation: string, fn: () => T): T | undefined {
  try {
    return fn()
  } catch (error) {
    errors.set(operation, oneLine(error))
    return undefined
  }
}

function statsSysctl(): boolean {
  try {
    return readFileSync('/proc/sys/kernel/bpf_stats_enabled', 'utf8').trim() === '1'
  } catch (error) {
    if (isVanished(error)) return false // a kernel without the sysctl has no run statistics
    throw error
  }
}

/** Program ids reachable from `root` through any edge (certain or possible), root included. */
function reachable(g: Graph, root: number): Set<number> {
  const succ = new Map<number, number[]>()
  for (const e of g.edges) {
    const list = succ.get(e.from) ?? []
    list.push(e.to)
    succ.set(e.from, list)
  }

  const seen = new Set<number>()
  const stack = [root]
  while (stack.length > 0) {
    const x = stack.pop()!
    if (seen.has(x)) continue
    seen.add(x)
    stack.push(...(succ.get(x) ?? []))
  }

  return seen
}

function entryRows(g: Graph, statsEnabled: boolean, errors: Map<string, string>): EntryRow[] {
  const byId = new Map(g.programs.map((p) => [p.id, p]))
  const rows: EntryRow[] = []
  for (const chain of g.chains) {
    const p = byId.get(chain.root)
    // An entry starts a chain: it is attached, or it makes tail calls. A program that only sits
    // in a slot nothing calls, attached to nothing, starts no chain (and would add a series
    // per program for every prog-array member on nodes that fill arrays ahead of use).
    if (!p || (p.attachments.length === 0 && p.sites.length === 0)) continue
    const reach = reachable(g, chain.root)
    let emptySlotSites = 0
    for (const id of reach) {
      for (const s of byId.get(id)?.sites ?? [])
        if (s.outcome === 'empty' || s.outcome === 'out-of-range') emptySlotSites++
    }

    const row: EntryRow = {
      attach: p.attachments.map((a) => a.description).join(','),
      cyclic: chain.cyclic,
      emptySlotSites,
      id: p.id,
      longest: chain.longest ?? Number.POSITIVE_INFINITY,
      name: p.name,
      programs: reach.size,
      tag: p.tag,
      type: String(p.type),
    }
    // Run statistics are read fresh (the graph snapshot does not keep them). A program gone
    // since the snapshot is simply left out.
    attempt(errors, 'prog_info', () => {
      const fd = tryOpenById('prog', p.id)
      if (fd === undefined) return
      try {
        const info = progInfo(fd)
        row.recursionMisses = info.recursionMisses
        if (statsEnabled) {
          row.runCnt = info.runCnt
          row.runTimeNs = info.runTimeNs
        }
      } finally {
        closeFd(fd)
      }
    })
    rows.push(row)
  }

  return rows
}

/** CHAIN_STATS map id → the folder it is pinned in, for the folders we were told to look in. */
function pinnedChains(pinPaths: string[]): Map<number, string> {
  const out = new Map<number, string>()
  for (const dir of pinPaths) {
    let fd: number
    try {
      fd = openPinned(join(dir, 'CHAIN_STATS'), 'map')
    } catch (error) {
      // Nothing pinned there: not a chain we can name. Anything else (no permission) is a
      // failed read the scrape reports.
      if (isKind(error, 'notFound')) continue
      throw error
    }

    try {
      out.set(mapInfo(fd).id, dir)
    } finally {
      closeFd(fd)
    }
  }

  return out
}

export function collectScrape(opts: CollectOptions): ScrapeData {
  const started = process.hrtime.bigint()
  const errors = new Map<string, string>()
  const statsEnabled = opts.statsHeld || statsSysctl()
  const data: ScrapeData = {
    chains: [],
    durationS: 0,
    entries: [],
    errors,
    // Every kind present, 0 when absent: an alert on a kind must see 0, not no data.
    findings: new Map(FINDING_KINDS.map((k) => [k, 0])),
    objects: {chain: 0, link: 0, prog_array: 0, program: 0},
    progArrays: [],
    statsEnabled,
  }

  const snap = attempt(errors, 'snapshot', () => snapshot())
  if (snap) {
    data.objects.prog_array = snap.maps.size
    data.objects.program = snap.progs.size
    data.objects.link = snap.links.length
    for (const m of snap.maps.values()) {
      const slots = [...m.slots.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([slot, progId]) => {
          const p = snap.progs.get(progId)
          return {progId, progName: p?.name ?? '', progTag: p?.tag ?? '', slot}
        })
      data.progArrays.push({id: m.id, maxEntries: m.maxEntries, name: m.name, slots})
      if (m.slotErrors.size > 0)
        errors.set('prog_array_lookup', `map ${m.id}: ${[...m.slotErrors.values()][0]} on ${m.slotErrors.size} slot(s)`)
    }

    const graph = attempt(errors, 'graph', () => buildGraph(snap))
    if (graph) {
      for (const f of graph.findings) data.findings.set(f.kind, (data.findings.get(f.kind) ?? 0) + 1)
      data.entries = entryRows(graph, statsEnabled, errors)

      // Chains that count themselves: a CHAIN_STATS map used by a program of the graph (its
      // maps are in the snapshot; prog arrays are never opened a second time).
      const inGraph = new Set(graph.programs.map((p) => p.id))
      const candidates = new Set<number>()
      for (const id of inGraph)
        for (const m of snap.progs.get(id)?.mapIds ?? []) if (!snap.maps.has(m)) candidates.add(m)
      const pinned =
        (candidates.size > 0 ? attempt(errors, 'chain_stats', () => pinnedChains(opts.pinPaths)) : undefined) ??
        new Map<number, string>()
      const roots = new Set(graph.roots)
      for (const mapId of [...candidates].sort((a, b) => a - b)) {
        attempt(errors, 'chain_stats', () => {
          const fd = tryOpenById('map', mapId)
          if (fd === undefined) return
          try {
            const info = mapInfo(fd)
            if (
              info.name !== 'CHAIN_STATS' ||
              info.type !== BPF_MAP_TYPE.PERCPU_ARRAY ||
              info.valueSize !== CHAIN_STATS.size ||
              info.maxEntries !== 1
            )
              return
            const stats = readChainStats(fd)
            const users = [...inGraph].filter((id) => snap.progs.get(id)!.mapIds.includes(mapId))
            const arrays = users.flatMap((id) => snap.progs.get(id)!.mapIds.filter((m) => snap.maps.has(m)))
            data.chains.push({
              chain: String(mapId),
              entryProgId: String(users.find((id) => roots.has(id)) ?? ''),
              pinPath: pinned.get(mapId) ?? '',
              progArrayId: String(arrays[0] ?? ''),
              ringbufDrops: stats.ringbufDrops,
              runs: stats.runs,
              tailCallFailed: stats.tailCallFailed.map((total, slot) => ({
                slot,
                target: SLOT_TARGET[slot] ?? '',
                total,
              })),
            })
          } finally {
            closeFd(fd)
          }
        })
      }

      data.objects.chain = data.chains.length
    }
  }

  data.durationS = Number(process.hrtime.bigint() - started) / 1e9
  return data
}
