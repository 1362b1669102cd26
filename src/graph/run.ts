/** `tailcalls graph`: snapshot the kernel, build the graph, print it in the asked format. */
import {progInfo} from '../kernel/info.js'
import {type Selector, withSelection} from '../kernel/select.js'
import {emitGraph} from './emit.js'
import {collect} from './collect.js'
import {type Graph, buildGraph} from './graph.js'
import type {GraphFormat} from './render.js'

export interface GraphOptions {
  format: GraphFormat
  /** Write to this file instead of stdout. */
  output?: string
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
  if (opts.object !== undefined) {
    const {runObjectGraph} = await import('../object/graph.js')
    return runObjectGraph({...opts, object: opts.object})
  }

  return emitGraph(graphOf(opts.selector), opts)
}
