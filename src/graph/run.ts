/** `tailcalls graph`: snapshot the kernel, build the graph, print it in the asked format. */
import {progInfo} from '../kernel/info.js'
import {type Selector, withSelection} from '../kernel/select.js'
import {toJson, writeOut} from '../render/json.js'
import {useColor} from '../render/table.js'
import {collect} from './collect.js'
import {type Graph, buildGraph} from './graph.js'
import {renderDot, renderMermaid, renderTree} from './render.js'

export type GraphFormat = 'dot' | 'json' | 'mermaid' | 'tree'

export interface GraphOptions {
  format: GraphFormat
  selector?: Selector
}

/** The graph of every chain, or of the chains starting at the selected programs. */
export function graphOf(selector?: Selector): Graph {
  // Resolve the selection first: a typo fails fast, before the whole-kernel scan.
  const selected = selector ? withSelection('prog', selector, (s) => s.fds.map((fd) => progInfo(fd).id)) : undefined
  return buildGraph(collect(), {selected})
}

export function formatGraph(g: Graph, format: GraphFormat, color = false): string {
  switch (format) {
    case 'json': {
      return `${toJson(g)}\n`
    }

    case 'dot': {
      return renderDot(g)
    }

    case 'mermaid': {
      return renderMermaid(g)
    }

    default: {
      return renderTree(g, color)
    }
  }
}

export async function runGraph(opts: GraphOptions): Promise<void> {
  const g = graphOf(opts.selector)
  await writeOut(formatGraph(g, opts.format, useColor()))
}
