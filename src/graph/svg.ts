/**
 * The graph as a picture: the DOT of render.ts laid out and drawn as SVG by Graphviz compiled to
 * WebAssembly (@viz-js/viz), so no system Graphviz is needed. Same nodes, edges, labels and
 * highlights as `--format dot`, because it is that DOT.
 *
 * @viz-js/viz (~5 MB, the WebAssembly inline) stays outside the start-up bundle (bin/bundle.js
 * lists it as external) and is required only here, on the first SVG: other commands and formats
 * never read it. require(), not import(): the bundle runs from a V8 code cache, where a dynamic
 * import() of a package has no loader to call; the package ships a CommonJS build.
 */
import {createRequire} from 'node:module'

import type {Graph} from './graph.js'
import {renderDot} from './render.js'

const require = createRequire(import.meta.url)

export async function renderSvg(g: Graph): Promise<string> {
  const viz = (require('@viz-js/viz') as typeof import('@viz-js/viz')).instance()
  const result = (await viz).render(renderDot(g, 'Courier'), {format: 'svg'})
  // The DOT is ours: a failure is a bug in render.ts, not bad input.
  if (result.status !== 'success')
    throw new Error(`Graphviz could not draw the graph: ${result.errors.map((e) => e.message).join('; ')}`)
  return result.output
}
