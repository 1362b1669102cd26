/** `tailcalls graph`: snapshot the kernel, build the graph, print it in the asked format. */
import {writeFileSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import {progInfo} from '../kernel/info.js'
import {type Selector, withSelection} from '../kernel/select.js'
import {toJson, writeOut} from '../render/json.js'
import {useColor} from '../render/table.js'
import {collect} from './collect.js'
import {type Graph, buildGraph} from './graph.js'
import {renderDot, renderMermaid, renderTree} from './render.js'

export type GraphFormat = 'dot' | 'json' | 'mermaid' | 'svg' | 'tree'

export interface GraphOptions {
  format: GraphFormat
  selector?: Selector
  /** Read this object file instead of the kernel (no privileges, no bpf() calls). */
  object?: string
  /** `MAP[KEY]=PROG` slots a loader would fill (with `object`). */
  slots?: string[]
  /** Program names to start from (with `object`). */
  programs?: string[]
  /** Write the graph to this file instead of stdout. */
  output?: string
}

/** The graph of every chain, or of the chains starting at the selected programs. */
export function graphOf(selector?: Selector): Graph {
  // Resolve the selection first: a typo fails fast, before the whole-kernel scan.
  const selected = selector ? withSelection('prog', selector, (s) => s.fds.map((fd) => progInfo(fd).id)) : undefined
  return buildGraph(collect(), {selected})
}

export function formatGraph(g: Graph, format: Exclude<GraphFormat, 'svg'>, color = false): string {
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

/** Prints the graph; returns whether it has error findings (the object mode's exit status). */
export async function runGraph(opts: GraphOptions): Promise<{errors: number}> {
  let g: Graph
  if (opts.object === undefined) {
    g = graphOf(opts.selector)
  } else {
    const {objectGraph, parseSlotSpec} = await import('../object/graph.js')
    g = objectGraph(opts.object, {selected: opts.programs, slots: (opts.slots ?? []).map((s) => parseSlotSpec(s))})
  }

  // A file gets no terminal colors; SVG loads Graphviz (WebAssembly) only when asked for.
  const text =
    opts.format === 'svg'
      ? await (await import('./svg.js')).renderSvg(g)
      : formatGraph(g, opts.format, opts.output === undefined && useColor())
  if (opts.output === undefined) await writeOut(text)
  else writeGraphFile(opts.output, text)
  return {errors: g.findings.filter((f) => f.severity === 'error').length}
}

function writeGraphFile(path: string, text: string): void {
  try {
    writeFileSync(path, text)
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    throw new TailcallsError(
      code === 'EACCES' || code === 'EPERM' ? 'permission' : 'usage',
      `cannot write ${path}: ${message.replace(/^[A-Z]+: /, '').replace(/, open .*$/, '')}`,
      {
        hint: 'give --output a file in a folder that exists and you can write to',
      },
    )
  }
}
