/**
 * Where a built graph goes, the same for the live graph and `graph --object`: text formats from
 * render.ts, the SVG picture (Graphviz as WebAssembly, loaded only when asked for), to stdout or
 * to `--output FILE` (a file gets no terminal colors).
 */
import {writeFileSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import {writeOut} from '../render/json.js'
import {useColor} from '../render/table.js'
import type {Graph} from './graph.js'
import {type GraphFormat, formatGraph} from './render.js'

/** Prints the graph; returns how many error findings it has (the command exits 16 if any). */
export async function emitGraph(g: Graph, opts: {format: GraphFormat; output?: string}): Promise<{errors: number}> {
  // Only the tree has colors; asking whether stdout is a terminal creates process.stdout.
  const text =
    opts.format === 'svg'
      ? await (await import('./svg.js')).renderSvg(g)
      : formatGraph(g, opts.format, opts.format === 'tree' && opts.output === undefined && useColor())
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
