/** `tailcalls graph`: snapshot the kernel, build the graph, print it in the asked format. */
import {progInfo} from '../kernel/info.js'
import {type Selector, withSelection} from '../kernel/select.js'
import {writeOut} from '../render/json.js'
import {useColor} from '../render/table.js'
import {collect} from './collect.js'
import {type Graph, buildGraph} from './graph.js'
import {type GraphFormat, formatGraph} from './render.js'

export interface GraphOptions {
  format: GraphFormat
  selector?: Selector
  /** Read this object file instead of the kernel (no privileges, no bpf() calls). */
  object?: string
  /** `MAP[KEY]=PROG` slots a loader would fill (with `object`). */
  slots?: string[]
  /** Program names to start from (with `object`). */
  programs?: string[]
}

/** The graph of every chain, or of the chains starting at the selected programs. */
export function graphOf(selector?: Selector): Graph {
  // Resolve the selection first: a typo fails fast, before the whole-kernel scan.
  const selected = selector ? withSelection('prog', selector, (s) => s.fds.map((fd) => progInfo(fd).id)) : undefined
  return buildGraph(collect(), {selected})
}

/** Prints the graph; returns how many error findings it has (the command exits 16 if any). */
export async function runGraph(opts: GraphOptions): Promise<{errors: number}> {
  let g: Graph
  if (opts.object === undefined) {
    g = graphOf(opts.selector)
  } else {
    const {runObjectGraph} = await import('../object/graph.js')
    return runObjectGraph({...opts, object: opts.object})
  }

  await writeOut(formatGraph(g, opts.format, useColor()))
  return {errors: g.findings.filter((f) => f.severity === 'error').length}
}
