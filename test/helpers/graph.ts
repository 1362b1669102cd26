// The graph as the agreement tests compare it: kernel ids replaced by names, instruction indices
// left out (the verifier may insert instructions before a site), the findings that only one side
// can make (the analysis notes, the kernel-version note of graph --object) left out.
import assert from 'node:assert/strict'

import {runCli} from './cli.js'

export interface G {
  programs: {
    id: number
    name: string
    sites: {
      mapName?: string
      key: unknown
      path: string
      outcome: string
      targets: {progId: number; slot: number}[]
      emptySlots?: number[]
    }[]
  }[]
  maps: {id: number; name: string}[]
  edges: {from: number; to: number; mapId: number; slot: number; possible: boolean}[]
  findings: {kind: string; progId?: number; mapId?: number; slot?: number; severity: string}[]
  chains: {root: number; longest: number | null; path: number[]; cyclic: boolean}[]
  roots: number[]
}

/** The graph with kernel ids replaced by names. */
export function normal(g: G) {
  const name = (id: number) => g.programs.find((p) => p.id === id)?.name ?? `?${id}`
  const map = (id?: number) => g.maps.find((m) => m.id === id)?.name
  return {
    chains: g.chains.map((c) => [name(c.root), c.longest, c.cyclic, c.path.map(name)]),
    edges: g.edges.map((e) => [name(e.from), map(e.mapId), e.slot, name(e.to), e.possible]).sort(),
    findings: g.findings
      .filter((f) => f.kind !== 'analysis' && f.kind !== 'bpf2bpf-tail-call-kernel')
      .map((f) => [f.kind, f.severity, f.progId === undefined ? map(f.mapId) : name(f.progId), f.slot ?? null])
      .sort(),
    programs: g.programs
      .map((p) => [
        p.name,
        p.sites.map((s) => [
          s.mapName,
          s.key,
          s.path,
          s.outcome,
          s.targets.map((t) => [t.slot, name(t.progId)]),
          s.emptySlots ?? [],
        ]),
      ])
      .sort(),
    roots: g.roots.map(name),
  }
}

/** `tailcalls graph … --json`, parsed (exit 16: an object with error findings, still a graph). */
export async function graphJson(args: string[]): Promise<G> {
  const r = await runCli(['graph', ...args, '--json'])
  assert.ok(r.code === 0 || r.code === 16, r.stderr)
  return JSON.parse(r.stdout)
}
