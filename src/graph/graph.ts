/**
 * The tail-call graph from a kernel snapshot: which program jumps where through which prog
 * array slot, where the entry programs are attached, and what bites:
 * empty slots (the tail call falls through), non-constant keys (the slow indirect path),
 * cycles, chains longer than the kernel's 33 tail calls, prog arrays no attached program uses.
 *
 * Pure: a Snapshot in, a Graph out (unit-testable, and the JSON output is the Graph as is).
 */
import {attachTypeName, linkTypeName, progTypeName} from '../kernel/names.js'
import {objectLabel} from '../render/label.js'
import {BPF_LINK_TYPE, BPF_PROG_TYPE} from '../sys/uapi.js'
import type {SnapLink, SnapMap, SnapProg, Snapshot} from './collect.js'
import type {SiteKey} from './sites.js'

/** MAX_TAIL_CALL_CNT since v5.17 (x86 allowed 33 before): 33 tail calls, 34 programs. */
export const MAX_TAIL_CALLS = 33

export interface Attachment {
  linkId: number
  linkType: string | number
  /** Human form: `tp_btf/sched_process_exec`, `fentry (btf id 1234)`, `xdp ifindex 2`, … */
  description: string
}

export type SiteOutcome =
  /** A constant key whose slot holds a program. */
  | 'jump'
  /** A constant key whose slot is empty: the helper returns and the caller continues. */
  | 'empty'
  /** A constant key ≥ max_entries: always falls through. */
  | 'out-of-range'
  /** The key is not one constant: any of `targets` may run (indirect path). */
  | 'possible'
  /** The prog array could not be determined. */
  | 'unresolved'

export interface SiteTarget {
  slot: number
  progId: number
  progName?: string
}

export interface GraphSite {
  insn: number
  mapId?: number
  mapName?: string
  /** True when the map was inferred (the program uses exactly one prog array). */
  mapInferred?: boolean
  key: SiteKey
  path: 'direct' | 'indirect'
  outcome: SiteOutcome
  targets: SiteTarget[]
  /** For keys that may take several values: those whose slot is empty or out of range. */
  emptySlots?: number[]
  /** A site in a subprogram resolved per caller: the calls that lead to it (see sites.ts). */
  via?: number[]
  /** r2 is one of these prog arrays depending on the path: this entry resolves it through mapId. */
  mapOneOf?: number[]
}

export interface GraphProgram {
  id: number
  name: string
  type: string | number
  tag: string
  jited: boolean
  attachments: Attachment[]
  sites: GraphSite[]
  /** The prog array slots this program currently sits in. */
  inSlots: {mapId: number; mapName: string; slot: number}[]
  notes?: string[]
}

export interface GraphMap {
  id: number
  name: string
  maxEntries: number
  ownerProgType?: string | number
  ownerJited?: boolean
  slots: SiteTarget[]
  /** Programs whose code references this array (their map_ids). */
  referencedBy: number[]
  /** True when some attached program, or a program reachable from one, references it. */
  usedByAttached: boolean
}

export interface GraphEdge {
  from: number
  to: number
  mapId: number
  slot: number
  insn: number
  /** The key is not a single constant: this jump is possible, not certain. */
  possible: boolean
}

export type FindingKind =
  | 'empty-slot'
  | 'out-of-range'
  | 'indirect-key'
  | 'unresolved-site'
  | 'cycle'
  | 'over-limit'
  | 'unused-map'
  | 'analysis'
  // From the object file (graph --object): what the verifier or the map update would refuse.
  | 'incompatible-programs'
  | 'subprog-stack'
  | 'bpf2bpf-tail-call-kernel'
  | 'tail-call-in-lock'
  | 'unreached-program'

export interface Finding {
  kind: FindingKind
  severity: 'error' | 'warning' | 'info'
  message: string
  progId?: number
  mapId?: number
  slot?: number
  insn?: number
  /** Program ids around a cycle, first id repeated at the end. */
  cycle?: number[]
  /** The kernel rule behind the finding (graph --object). */
  rule?: string
  /** Where in the source: `file.c:42` (from .BTF.ext line info, graph --object). */
  line?: string
  /** The (sub)program the instruction belongs to, when it is not the program itself. */
  function?: string
}

export interface ChainSummary {
  root: number
  /** Tail calls on the longest path from the root; null when a cycle makes it unbounded. */
  longest: number | null
  /** The program ids along that path (for a cycle: up to where it loops). */
  path: number[]
  cyclic: boolean
}

export interface Graph {
  limit: number
  scope: 'all' | 'selected'
  roots: number[]
  programs: GraphProgram[]
  maps: GraphMap[]
  edges: GraphEdge[]
  chains: ChainSummary[]
  findings: Finding[]
  /** Programs in the kernel left out because they take no part in tail calls (scope all). */
  omittedPrograms: number
  /** Set when the graph was read from an object file rather than the kernel (ids are stand-ins). */
  object?: string
}

/** Where a link attaches its program, in the words a user knows (SEC() names where they exist). */
export function describeLink(link: SnapLink, progType?: number): string {
  switch (link.type) {
    case BPF_LINK_TYPE.RAW_TRACEPOINT: {
      const tp = link.tpName ?? '?'
      if (progType === BPF_PROG_TYPE.TRACING) return `tp_btf/${tp}`
      if (progType === BPF_PROG_TYPE.RAW_TRACEPOINT || progType === BPF_PROG_TYPE.RAW_TRACEPOINT_WRITABLE)
        return `raw_tp/${tp}`
      return `raw_tracepoint ${tp}`
    }

    case BPF_LINK_TYPE.TRACING: {
      const at =
        link.attachType === undefined ? 'tracing' : String(attachTypeName(link.attachType)).replace(/^trace_/, '')
      return `${at} (btf id ${link.targetBtfId ?? '?'}${link.targetObjId ? `, btf obj ${link.targetObjId}` : ''})`
    }

    case BPF_LINK_TYPE.XDP: {
      return `xdp ifindex ${link.ifindex ?? '?'}`
    }

    case BPF_LINK_TYPE.TCX:
    case BPF_LINK_TYPE.NETKIT: {
      return `${link.attachType === undefined ? linkTypeName(link.type) : attachTypeName(link.attachType)} ifindex ${link.ifindex ?? '?'}`
    }

    case BPF_LINK_TYPE.CGROUP: {
      return `${link.attachType === undefined ? 'cgroup' : attachTypeName(link.attachType)} cgroup ${link.cgroupId ?? '?'}`
    }

    case BPF_LINK_TYPE.ITER: {
      return `iter/${link.targetName ?? '?'}`
    }

    default: {
      return String(linkTypeName(link.type))
    }
  }
}

export interface BuildOptions {
  /** Program ids to start from (`graph prog …`); everything when absent. */
  selected?: number[]
  /** Entry points by program id, instead of the snapshot's links (an object file has none). */
  attachments?: Map<number, Attachment[]>
}

export function buildGraph(snap: Snapshot, opts: BuildOptions = {}): Graph {
  const {maps, progs} = snap
  const nameOf = (id: number) => progs.get(id)?.name
  const progArrayIdsOf = (p: SnapProg) => p.mapIds.filter((m) => maps.has(m))

  const attachments = opts.attachments ?? new Map<number, Attachment[]>()
  for (const l of opts.attachments ? [] : snap.links) {
    const list = attachments.get(l.progId) ?? []
    list.push({description: describeLink(l, progs.get(l.progId)?.type), linkId: l.id, linkType: linkTypeName(l.type)})
    attachments.set(l.progId, list)
  }

  // Sites resolved against the arrays' current contents, and the edges they make.
  const findings: Finding[] = []
  const sitesOf = new Map<number, GraphSite[]>()
  const edgesOf = new Map<number, GraphEdge[]>()
  for (const p of progs.values()) {
    if (!p.sites) continue
    const arrays = progArrayIdsOf(p)
    const sites: GraphSite[] = []
    const edges: GraphEdge[] = []
    for (const s of p.sites) {
      const site: GraphSite = {insn: s.insn, key: s.key, outcome: 'unresolved', path: s.path, targets: []}
      if (s.via) site.via = s.via
      let mapIds = s.mapId === undefined ? (s.mapIds ?? []) : [s.mapId]
      // The verifier only lets r2 be a prog array the program uses: with one such array, it is that one.
      if (mapIds.length === 0 && arrays.length === 1) {
        mapIds = arrays
        site.mapInferred = true
      }

      const known = mapIds.map((m) => maps.get(m)).filter((m): m is SnapMap => m !== undefined)
      if (known.length > 1 && known.length === mapIds.length) {
        // r2 is one of several prog arrays depending on the path (a subprogram called with a
        // different array from call sites the compiler merged): resolve through each. Every
        // jump is then only possible, and the kernel takes the indirect path.
        for (const m of known) {
          const sub: GraphSite = {
            ...site,
            mapId: m.id,
            mapName: m.name,
            mapOneOf: mapIds,
            path: 'indirect',
            targets: [],
          }
          const before = edges.length
          resolveSite(p, sub, m, edges, findings, nameOf)
          for (const e of edges.slice(before)) e.possible = true
          sites.push(sub)
        }

        continue
      } else if (known.length === 1 && mapIds.length === 1) {
        site.mapId = known[0].id
        site.mapName = known[0].name
        // The direct path needs a constant map and key; an inferred map was not constant.
        if (site.mapInferred) site.path = 'indirect'
        resolveSite(p, site, known[0], edges, findings, nameOf)
      } else {
        findings.push({
          insn: s.insn,
          kind: 'unresolved-site',
          message: `${objectLabel(p)} insn ${s.insn}: cannot tell which prog array this tail call uses`,
          progId: p.id,
          severity: 'info',
        })
      }

      sites.push(site)
    }

    sitesOf.set(p.id, sites)
    edgesOf.set(p.id, edges)
  }

  // Which programs take part.
  const inSlots = new Map<number, {mapId: number; mapName: string; slot: number}[]>()
  for (const m of maps.values()) {
    for (const [slot, progId] of m.slots) {
      const list = inSlots.get(progId) ?? []
      list.push({mapId: m.id, mapName: m.name, slot})
      inSlots.set(progId, list)
    }
  }

  let nodeIds: number[]
  if (opts.selected) {
    const seen = new Set<number>()
    const stack = [...opts.selected]
    while (stack.length > 0) {
      const id = stack.pop()!
      if (seen.has(id) || !progs.has(id)) continue
      seen.add(id)
      for (const e of edgesOf.get(id) ?? []) stack.push(e.to)
    }

    nodeIds = [...seen].sort((a, b) => a - b)
  } else {
    nodeIds = [...progs.values()]
      .filter((p) => (p.sites?.length ?? 0) > 0 || progArrayIdsOf(p).length > 0 || inSlots.has(p.id))
      .map((p) => p.id)
      .sort((a, b) => a - b)
  }

  const nodes = new Set(nodeIds)
  const edges = nodeIds.flatMap((id) => edgesOf.get(id) ?? []).filter((e) => nodes.has(e.to))
  const succ = new Map<number, number[]>(nodeIds.map((id) => [id, []]))
  for (const e of edges) if (!succ.get(e.from)!.includes(e.to)) succ.get(e.from)!.push(e.to)

  // Roots: the selection; else attached programs, then programs nothing jumps to, then one
  // program of anything still unreached (a cycle with no entry).
  const roots: number[] = []
  const reached = new Set<number>()
  const reach = (id: number) => {
    const stack = [id]
    while (stack.length > 0) {
      const x = stack.pop()!
      if (reached.has(x)) continue
      reached.add(x)
      stack.push(...(succ.get(x) ?? []))
    }
  }

  if (opts.selected) {
    for (const id of opts.selected) if (nodes.has(id) && !roots.includes(id)) roots.push(id)
  } else {
    const hasIn = new Set(edges.map((e) => e.to))
    const ordered = [
      ...nodeIds.filter((id) => attachments.has(id)),
      ...nodeIds.filter((id) => !attachments.has(id) && !hasIn.has(id)),
      ...nodeIds,
    ]
    for (const id of ordered) {
      if (reached.has(id)) continue
      roots.push(id)
      reach(id)
    }
  }

  // Programs an attached program can reach: their prog arrays are "in use".
  const live = new Set<number>()
  for (const id of nodeIds) {
    if (!attachments.has(id) || live.has(id)) continue
    const stack = [id]
    while (stack.length > 0) {
      const x = stack.pop()!
      if (live.has(x)) continue
      live.add(x)
      stack.push(...(succ.get(x) ?? []))
    }
  }

  // Maps: every prog array (scope all), or those the shown programs use.
  const shownMaps = opts.selected
    ? [
        ...new Set(
          nodeIds.flatMap((id) => [
            ...progArrayIdsOf(progs.get(id)!),
            ...(sitesOf.get(id) ?? []).flatMap((s) => (s.mapId === undefined ? [] : [s.mapId])),
          ]),
        ),
      ]
    : [...maps.keys()]
  const graphMaps: GraphMap[] = shownMaps
    .sort((a, b) => a - b)
    .map((id) => {
      const m = maps.get(id)!
      const referencedBy = [...progs.values()]
        .filter((p) => p.mapIds.includes(id))
        .map((p) => p.id)
        .sort((a, b) => a - b)
      return {
        id,
        maxEntries: m.maxEntries,
        name: m.name,
        ownerJited: m.ownerJited,
        ownerProgType: m.ownerProgType === undefined ? undefined : progTypeName(m.ownerProgType),
        referencedBy,
        slots: [...m.slots]
          .sort((a, b) => a[0] - b[0])
          .map(([slot, progId]) => ({progId, progName: nameOf(progId), slot})),
        usedByAttached: referencedBy.some((p) => live.has(p) || attachments.has(p)),
      }
    })
  for (const m of graphMaps) {
    if (m.usedByAttached) continue
    const who =
      m.referencedBy.length === 0
        ? 'no program references it, so nothing can tail call through it'
        : `only ${m.referencedBy.map((p) => objectLabel(progs.get(p)!)).join(', ')} ${m.referencedBy.length === 1 ? 'references' : 'reference'} it, and none is attached (through a BPF link) or reached from an attached program`
    findings.push({
      kind: 'unused-map',
      mapId: m.id,
      message: `prog array ${objectLabel(m)}: ${who}`,
      severity: 'warning',
    })
  }

  for (const id of nodeIds) {
    const notes = progs.get(id)!.siteNotes
    if (notes?.length) {
      findings.push({
        kind: 'analysis',
        message: `${objectLabel(progs.get(id)!)}: ${notes[0]}`,
        progId: id,
        severity: 'info',
      })
    }
  }

  // Cycles through certain jumps first; then those that need a possible (non-constant key) jump.
  const certainSucc = new Map<number, number[]>(nodeIds.map((id) => [id, []]))
  for (const e of edges)
    if (!e.possible && !certainSucc.get(e.from)!.includes(e.to)) certainSucc.get(e.from)!.push(e.to)
  const isCertain = (c: number[]) => c.slice(1).every((to, i) => certainSucc.get(c[i])!.includes(to))
  const certain = findCycles(nodeIds, certainSucc).cycles
  const {cycles: allCycles, inCycle} = findCycles(nodeIds, succ)
  const cycles = [...certain, ...allCycles.filter((c) => !isCertain(c))]
  for (const cycle of cycles) {
    const sure = isCertain(cycle)
    const names = cycle.map((id) => progs.get(id)!.name || `id ${id}`).join(' → ')
    findings.push({
      cycle,
      kind: 'cycle',
      message: sure
        ? `cycle ${names}: it loops until the kernel stops it after ${MAX_TAIL_CALLS} tail calls (then the last tail call falls through)`
        : `possible cycle ${names} (through a jump that depends on the path: a non-constant key or prog array): if taken, it loops until the kernel stops it after ${MAX_TAIL_CALLS} tail calls`,
      progId: cycle[0],
      severity: sure ? 'warning' : 'info',
    })
  }

  const chains = roots.map((root) => longestChain(root, succ, certainSucc, certain, cycles, inCycle))
  for (const c of chains) {
    if (c.longest !== null && c.longest > MAX_TAIL_CALLS) {
      findings.push({
        kind: 'over-limit',
        message: `the chain from ${objectLabel(progs.get(c.root)!)} has ${c.longest} tail calls; the kernel allows ${MAX_TAIL_CALLS}: the programs after the ${MAX_TAIL_CALLS}rd tail call never run`,
        progId: c.root,
        severity: 'error',
      })
    }
  }

  const programs: GraphProgram[] = nodeIds.map((id) => {
    const p = progs.get(id)!
    return {
      attachments: attachments.get(id) ?? [],
      id,
      inSlots: inSlots.get(id) ?? [],
      jited: p.jited,
      name: p.name,
      notes: p.siteNotes,
      sites: sitesOf.get(id) ?? [],
      tag: p.tag,
      type: progTypeName(p.type),
    }
  })

  const severity = {error: 0, info: 2, warning: 1}
  findings.sort((a, b) => severity[a.severity] - severity[b.severity])
  return {
    chains,
    edges,
    findings: findings.filter((f) => f.progId === undefined || nodes.has(f.progId) || f.kind === 'unused-map'),
    limit: MAX_TAIL_CALLS,
    maps: graphMaps,
    omittedPrograms: opts.selected ? 0 : progs.size - nodeIds.length,
    programs,
    roots,
    scope: opts.selected ? 'selected' : 'all',
  }
}

function resolveSite(
  p: SnapProg,
  site: GraphSite,
  m: SnapMap,
  edges: GraphEdge[],
  findings: Finding[],
  nameOf: (id: number) => string | undefined,
): void {
  const where = `${p.display ?? objectLabel(p)} insn ${site.insn}${site.via ? ` (called from insn ${site.via.join(' → ')})` : ''}`
  const slotText = (k: number | string) => `${m.name || `map ${m.id}`}[${k}]`
  const target = (slot: number): SiteTarget | undefined => {
    const progId = m.slots.get(slot)
    return progId === undefined ? undefined : {progId, progName: nameOf(progId), slot}
  }

  const {key} = site
  if (key.kind === 'constant') {
    if (key.value >= m.maxEntries) {
      site.outcome = 'out-of-range'
      // The verifier patches a direct jump only for a constant key inside the array; any other
      // key (this one included) is compiled as the indirect path, which then finds no slot.
      site.path = 'indirect'
      findings.push({
        insn: site.insn,
        kind: 'out-of-range',
        mapId: m.id,
        message: `${where}: key ${key.value} is outside ${m.name || `map ${m.id}`} (max_entries ${m.maxEntries}): the kernel compiles it as the indirect path, and this tail call always falls through`,
        progId: p.id,
        severity: 'warning',
        slot: key.value,
      })
      return
    }

    const t = target(key.value)
    if (t) {
      site.outcome = 'jump'
      site.targets = [t]
      edges.push({from: p.id, insn: site.insn, mapId: m.id, possible: false, slot: key.value, to: t.progId})
    } else {
      site.outcome = 'empty'
      findings.push({
        insn: site.insn,
        kind: 'empty-slot',
        mapId: m.id,
        message: `${where}: ${slotText(key.value)} is empty: the tail call falls through and the code after it runs`,
        progId: p.id,
        severity: 'warning',
        slot: key.value,
      })
    }

    return
  }

  site.outcome = 'possible'
  const candidates = key.kind === 'one-of' ? key.values : [...m.slots.keys()].sort((a, b) => a - b)
  const empty: number[] = []
  for (const slot of candidates) {
    const t = slot < m.maxEntries ? target(slot) : undefined
    if (t) {
      site.targets.push(t)
      edges.push({from: p.id, insn: site.insn, mapId: m.id, possible: true, slot, to: t.progId})
    } else {
      empty.push(slot)
    }
  }

  if (empty.length > 0) site.emptySlots = empty
  const what =
    key.kind === 'one-of'
      ? `the key depends on the path (one of ${key.values.join(', ')})`
      : 'the key is not a constant'
  const targets =
    site.targets.length === 0
      ? key.kind === 'one-of'
        ? 'none of those slots is filled: it always falls through'
        : `${m.name || `map ${m.id}`} is empty: it always falls through`
      : `possible targets: ${site.targets.map((t) => `[${t.slot}] ${t.progName ?? `id ${t.progId}`}`).join(', ')}`
  findings.push({
    insn: site.insn,
    kind: 'indirect-key',
    mapId: m.id,
    message:
      `${where}: ${what}, so the kernel takes the slower indirect path (no patched direct jump); ${targets}` +
      (key.kind === 'one-of' && empty.length > 0 && site.targets.length > 0
        ? `; empty: ${empty.map((s) => `[${s}]`).join(', ')}`
        : ''),
    progId: p.id,
    severity: site.targets.length === 0 || (key.kind === 'one-of' && empty.length > 0) ? 'warning' : 'info',
  })
}

/**
 * One cycle per strongly connected component (Tarjan), as id paths, and every node that
 * sits in some cycle (all members of those components).
 */
function findCycles(nodes: number[], succ: Map<number, number[]>): {cycles: number[][]; inCycle: Set<number>} {
  let index = 0
  const idx = new Map<number, number>()
  const low = new Map<number, number>()
  const onStack = new Set<number>()
  const stack: number[] = []
  const sccs: number[][] = []
  // Iterative Tarjan: no recursion depth limit on long chains.
  for (const start of nodes) {
    if (idx.has(start)) continue
    const work: {child: number; v: number}[] = [{child: 0, v: start}]
    idx.set(start, index)
    low.set(start, index++)
    stack.push(start)
    onStack.add(start)
    while (work.length > 0) {
      const top = work.at(-1)!
      const next = succ.get(top.v) ?? []
      if (top.child < next.length) {
        const w = next[top.child++]
        if (!idx.has(w)) {
          idx.set(w, index)
          low.set(w, index++)
          stack.push(w)
          onStack.add(w)
          work.push({child: 0, v: w})
        } else if (onStack.has(w)) {
          low.set(top.v, Math.min(low.get(top.v)!, idx.get(w)!))
        }

        continue
      }

      work.pop()
      if (work.length > 0) {
        const parent = work.at(-1)!.v
        low.set(parent, Math.min(low.get(parent)!, low.get(top.v)!))
      }

      if (low.get(top.v) === idx.get(top.v)) {
        const scc: number[] = []
        let w: number
        do {
          w = stack.pop()!
          onStack.delete(w)
          scc.push(w)
        } while (w !== top.v)
        sccs.push(scc)
      }
    }
  }

  const cycles: number[][] = []
  const inCycle = new Set<number>()
  for (const scc of sccs) {
    const members = new Set(scc)
    const first = Math.min(...scc)
    if (scc.length === 1 && !(succ.get(first) ?? []).includes(first)) continue
    for (const v of scc) inCycle.add(v)
    // BFS inside the component from `first` back to itself: a shortest cycle through it.
    const prev = new Map<number, number>()
    const queue = [first]
    let closing: number | undefined
    while (queue.length > 0 && closing === undefined) {
      const v = queue.shift()!
      for (const w of succ.get(v) ?? []) {
        if (!members.has(w)) continue
        if (w === first) {
          closing = v
          break
        }

        if (!prev.has(w)) {
          prev.set(w, v)
          queue.push(w)
        }
      }
    }

    // Walk back from the node that closes the loop to `first`, then close it: [first, …, first].
    const path: number[] = []
    for (let v = closing; v !== undefined; v = v === first ? undefined : prev.get(v)) path.unshift(v)
    path.push(first)
    cycles.push(path)
  }

  return {cycles, inCycle}
}

/** The longest run of tail calls from `root`, or unbounded when a cycle is reachable. */
function longestChain(
  root: number,
  succ: Map<number, number[]>,
  certainSucc: Map<number, number[]>,
  certainCycles: number[][],
  cycles: number[][],
  cyclic: Set<number>,
): ChainSummary {
  // Longest path over the DAG part; reaching a cyclic node makes the chain unbounded.
  const memo = new Map<number, {len: number | null; next?: number}>()
  const order: number[] = []
  const seen = new Set<number>()
  const stack: {i: number; v: number}[] = [{i: 0, v: root}]
  seen.add(root)
  // Post-order without recursion.
  while (stack.length > 0) {
    const top = stack.at(-1)!
    const next = succ.get(top.v) ?? []
    if (!cyclic.has(top.v) && top.i < next.length) {
      const w = next[top.i++]
      if (!seen.has(w)) {
        seen.add(w)
        stack.push({i: 0, v: w})
      }

      continue
    }

    stack.pop()
    order.push(top.v)
  }

  for (const v of order) {
    if (cyclic.has(v)) {
      memo.set(v, {len: null})
      continue
    }

    let best: {len: number | null; next?: number} = {len: 0}
    for (const w of succ.get(v) ?? []) {
      const m = memo.get(w)
      if (!m) continue
      if (m.len === null) {
        best = {len: null, next: w}
        break
      }

      if (best.len !== null && m.len + 1 > best.len) best = {len: m.len + 1, next: w}
    }

    memo.set(v, best)
  }

  const path = [root]
  for (let v = memo.get(root)?.next; v !== undefined && !path.includes(v); v = memo.get(v)?.next) path.push(v)
  // (null means unbounded: not `?? 0`, which would turn it into 0)
  const rootMemo = memo.get(root)
  const len = rootMemo === undefined ? 0 : rootMemo.len
  if (len === null) {
    // Show the loop once: preferably a certain cycle reached through certain jumps from where
    // the path entered the looping part; else the cycle it ran into.
    let entry = path.at(-1)!
    const onCertain = new Set(certainCycles.flat())
    const prev = new Map<number, number>([[entry, entry]])
    const queue = [entry]
    let found: number | undefined
    while (queue.length > 0 && found === undefined) {
      const v = queue.shift()!
      if (onCertain.has(v)) found = v
      for (const w of certainSucc.get(v) ?? []) {
        if (!prev.has(w)) {
          prev.set(w, v)
          queue.push(w)
        }
      }
    }

    if (found !== undefined && !path.includes(found)) {
      const hop: number[] = []
      for (let v = found; v !== entry; v = prev.get(v)!) hop.unshift(v)
      path.push(...hop)
      entry = found
    }

    const cycle =
      (found === undefined ? undefined : certainCycles.find((c) => c.includes(entry))) ??
      cycles.find((c) => c.includes(entry)) ??
      cycles.find((c) => c.some((v) => (succ.get(entry) ?? []).includes(v)))
    if (cycle) {
      const ring = cycle.slice(0, -1)
      const at = ring.indexOf(entry)
      path.push(...ring.slice(at + 1), ...ring.slice(0, at), entry)
    }
  }

  return {cyclic: len === null, longest: len, path, root}
}
