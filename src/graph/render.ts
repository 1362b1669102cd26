/**
 * The tail-call graph for people (a tree in the terminal) and for other tools (Graphviz DOT,
 * Mermaid). JSON is the Graph object itself (see graph.ts).
 */
import {toJson} from '../render/json.js'
import {objectLabel, objectName} from '../render/label.js'
import {bold, dim} from '../render/table.js'
import type {Graph, GraphProgram, GraphSite} from './graph.js'

/** Drawing an object file's graph: its ids are stand-ins, so programs go by name alone. */
let fromObject = false

function progLabel(p: GraphProgram | undefined, id: number): string {
  if (fromObject && p) return p.name
  return p ? objectLabel(p) : `id ${id}`
}

/** Map names shared by several prog arrays in the graph: those get their id shown too. */
let sharedNames = new Set<string>()

function slotName(site: GraphSite, key: number | string): string {
  const name = site.mapName || (site.mapId === undefined ? '?' : `map ${site.mapId}`)
  const id = site.mapName && sharedNames.has(site.mapName) ? `(id ${site.mapId})` : ''
  // A subprogram's site resolved per caller: say which call brought this prog array.
  const via = site.via ? ` via insn ${site.via.join('→')}` : site.mapOneOf ? ' (one of several arrays)' : ''
  return `${name}${id}[${key}]${via}`
}

function noteSharedNames(g: Graph): void {
  fromObject = g.object !== undefined
  const seen = new Map<string, number>()
  for (const m of g.maps) if (m.name) seen.set(m.name, (seen.get(m.name) ?? 0) + 1)
  sharedNames = new Set([...seen].filter(([, n]) => n > 1).map(([name]) => name))
}

/**
 * prog1 (id 173, tracing)  attached: tp_btf/sched_process_exec (link 97)
 * └── TAIL_CALL_MAP[0] → prog2 (id 174)
 *     └── TAIL_CALL_MAP[1] → prog3 (id 175)
 */
export function renderTree(g: Graph, color = false): string {
  noteSharedNames(g)
  const byId = new Map(g.programs.map((p) => [p.id, p]))
  const lines: string[] = []
  const expanded = new Set<number>()

  const head = (p: GraphProgram) => {
    if (fromObject)
      return `${bold(p.name, color)} (${p.type})${p.attachments.length > 0 ? `  entry: ${p.attachments.map((a) => a.description).join(', ')}` : ''}`
    const att = p.attachments.map((a) => `${a.description} (link ${a.linkId})`).join(', ')
    return `${bold(objectName(p.name), color)} (id ${p.id}, ${p.type})${att ? `  attached: ${att}` : ''}`
  }

  const walk = (id: number, prefix: string, path: number[]) => {
    const p = byId.get(id)
    if (!p) return
    expanded.add(id)
    const sites = p.sites
    sites.forEach((site, i) => {
      const last = i === sites.length - 1
      const branch = prefix + (last ? '└── ' : '├── ')
      const inner = prefix + (last ? '    ' : '│   ')
      const into = (target: number, text: string, childPrefix: string) => {
        const t = byId.get(target)
        if (path.includes(target)) {
          lines.push(`${text} → ${progLabel(t, target)}  ${bold('↺ cycle', color)}`)
        } else if (expanded.has(target) && (t?.sites.length ?? 0) > 0) {
          lines.push(`${text} → ${progLabel(t, target)}  ${dim('(shown above)', color)}`)
        } else {
          lines.push(`${text} → ${progLabel(t, target)}`)
          walk(target, childPrefix, [...path, target])
        }
      }

      switch (site.outcome) {
        case 'jump': {
          into(site.targets[0].progId, `${branch}${slotName(site, site.targets[0].slot)}`, inner)
          break
        }

        case 'empty': {
          lines.push(
            `${branch}${slotName(site, site.key.kind === 'constant' ? site.key.value : '?')} → ${bold('(empty: falls through)', color)}`,
          )
          break
        }

        case 'out-of-range': {
          lines.push(
            `${branch}${slotName(site, site.key.kind === 'constant' ? site.key.value : '?')} → ${bold('(out of range: always falls through)', color)}`,
          )
          break
        }

        case 'possible': {
          const keyText = site.key.kind === 'one-of' ? site.key.values.join('|') : '?'
          const why = site.key.kind === 'one-of' ? 'key depends on the path' : 'key not constant'
          lines.push(`${branch}${slotName(site, keyText)}  ${dim(`(${why}: indirect path)`, color)}`)
          const rows = [
            ...site.targets.map((t) => ({slot: t.slot, target: t.progId})),
            ...(site.emptySlots ?? []).map((slot) => ({slot, target: undefined})),
          ].sort((a, b) => a.slot - b.slot)
          if (rows.length === 0) lines.push(`${inner}└── ${bold('(no filled slot: falls through)', color)}`)
          rows.forEach((r, j) => {
            const lastRow = j === rows.length - 1
            const b2 = inner + (lastRow ? '└── ' : '├── ')
            const i2 = inner + (lastRow ? '    ' : '│   ')
            if (r.target === undefined) lines.push(`${b2}[${r.slot}] → ${bold('(empty)', color)}`)
            else into(r.target, `${b2}[${r.slot}] maybe`, i2)
          })
          break
        }

        case 'unresolved': {
          lines.push(`${branch}tail call at insn ${site.insn} ${dim('(prog array unknown)', color)}`)
          break
        }
      }
    })
  }

  for (const root of g.roots) {
    const p = byId.get(root)
    if (!p) continue
    if (lines.length > 0) lines.push('')
    lines.push(head(p))
    walk(root, '', [root])
  }

  if (g.roots.length === 0)
    lines.push(g.scope === 'all' ? 'No tail calls: no loaded program uses a prog array.' : 'Nothing to show.')

  const out = [lines.join('\n'), '']
  const chained = g.chains.filter((c) => c.path.length > 1 || c.cyclic)
  if (chained.length > 0) {
    const names = (ids: number[]) => ids.map((id) => byId.get(id)?.name || `id ${id}`).join(' → ')
    const longest = chained.reduce((a, b) => ((b.longest ?? Infinity) > (a.longest ?? Infinity) ? b : a))
    out.push(
      longest.cyclic
        ? `Longest chain: unbounded (a cycle: ${names(longest.path)}); the kernel stops after ${g.limit} tail calls.`
        : `Longest chain: ${longest.longest} tail call${longest.longest === 1 ? '' : 's'} (${names(longest.path)}); the kernel allows ${g.limit}.`,
    )
  }

  if (g.findings.length > 0) {
    out.push('', bold('Findings:', color))
    for (const f of g.findings) {
      out.push(`  ${f.severity}: ${f.message}${f.line ? ` (${f.function ? `in ${f.function}, ` : ''}${f.line})` : ''}`)
      if (f.rule && f.kind !== 'analysis') out.push(dim(`      rule: ${f.rule}`, color))
    }
  } else {
    out.push('No problems found.')
  }

  const what = fromObject ? 'program' : 'loaded program'
  if (g.omittedPrograms > 0)
    out.push(
      dim(`(${g.omittedPrograms} ${what}${g.omittedPrograms === 1 ? '' : 's'} without tail calls not shown)`, color),
    )
  return out.join('\n') + '\n'
}

function dotString(s: string): string {
  return `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n')}"`
}

/**
 * What DOT and Mermaid draw in red: a program with an error finding (what the kernel would
 * refuse), the jumps of a cycle that always loops (a warning; a possible cycle is info and keeps
 * its dashed arrows) as "from>to".
 */
function problems(g: Graph): {failing: Set<number | undefined>; looping: Set<string>} {
  const failing = new Set(g.findings.filter((f) => f.severity === 'error').map((f) => f.progId))
  const looping = new Set<string>()
  for (const f of g.findings)
    if (f.kind === 'cycle' && f.severity !== 'info' && f.cycle)
      for (let i = 0; i + 1 < f.cycle.length; i++) looping.add(`${f.cycle[i]}>${f.cycle[i + 1]}`)
  return {failing, looping}
}

/**
 * Graphviz: programs are boxes (attached ones bold, with where), slots are edge labels. `font`:
 * Graphviz without fonts (the WebAssembly build that draws the SVG, svg.ts) sizes text by the
 * metrics it knows, and knows Courier's, not the fontconfig alias "monospace".
 */
export function renderDot(g: Graph, font = 'monospace'): string {
  noteSharedNames(g)
  const lines = [
    'digraph tailcalls {',
    '  rankdir=LR;',
    `  node [shape=box, fontname="${font}"];`,
    `  edge [fontname="${font}"];`,
  ]
  const {failing, looping} = problems(g)
  for (const p of g.programs) {
    const att = p.attachments.map((a) => `\n${fromObject ? 'entry' : 'attached'}: ${a.description}`).join('')
    const style = (p.attachments.length > 0 ? ', style=bold' : '') + (failing.has(p.id) ? ', color=red' : '')
    lines.push(
      `  p${p.id} [label=${dotString(`${objectName(p.name)}\n${fromObject ? '' : `id ${p.id} · `}${p.type}${att}`)}${style}];`,
    )
  }

  let n = 0
  for (const p of g.programs) {
    for (const site of p.sites) {
      const key =
        site.key.kind === 'constant'
          ? String(site.key.value)
          : site.key.kind === 'one-of'
            ? site.key.values.join('|')
            : '?'
      if (site.outcome === 'jump' || site.outcome === 'possible') {
        for (const t of site.targets) {
          const text = site.outcome === 'jump' ? slotName(site, t.slot) : `${slotName(site, key)} = ${t.slot}`
          const loops = site.outcome === 'jump' && looping.has(`${p.id}>${t.progId}`)
          lines.push(
            `  p${p.id} -> p${t.progId} [label=${dotString(text)}${site.outcome === 'possible' ? ', style=dashed' : ''}${loops ? ', color=red, fontcolor=red' : ''}];`,
          )
        }
      }

      const empties =
        site.outcome === 'empty' || site.outcome === 'out-of-range' ? [key] : (site.emptySlots ?? []).map(String)
      if (site.outcome === 'possible' && site.targets.length === 0 && empties.length === 0) empties.push(key)
      for (const e of empties) {
        const id = `x${n++}`
        const what = site.outcome === 'out-of-range' ? 'out of range' : 'empty'
        lines.push(
          `  ${id} [label=${dotString(`${slotName(site, e)}\n${what}: falls through`)}, shape=note, color=red];`,
        )
        lines.push(`  p${p.id} -> ${id} [style=dotted, color=red];`)
      }
    }
  }

  for (const m of g.maps.filter((x) => !x.usedByAttached)) {
    lines.push(
      `  m${m.id} [label=${dotString(`prog array ${objectName(m.name)}${fromObject ? '' : `\nid ${m.id}`}\nno attached user`)}, shape=cylinder, color=orange];`,
    )
  }

  lines.push('}')
  return lines.join('\n') + '\n'
}

function mermaidText(s: string): string {
  return s.replaceAll('"', '#quot;').replaceAll('<', '#lt;').replaceAll('>', '#gt;')
}

/** Mermaid flowchart: same content as DOT; dotted arrows for possible (indirect) jumps. */
export function renderMermaid(g: Graph): string {
  noteSharedNames(g)
  const lines = ['flowchart LR']
  const {failing, looping} = problems(g)
  // Mermaid styles a link by its index, counted in the order links are written.
  let link = 0
  const red: number[] = []
  for (const p of g.programs) {
    const att = p.attachments
      .map((a) => `<br/>${fromObject ? 'entry' : 'attached'}: ${mermaidText(a.description)}`)
      .join('')
    lines.push(
      `  p${p.id}["${mermaidText(objectName(p.name))}<br/>${fromObject ? '' : `id ${p.id} · `}${p.type}${att}"]`,
    )
  }

  let n = 0
  for (const p of g.programs) {
    for (const site of p.sites) {
      const key =
        site.key.kind === 'constant'
          ? String(site.key.value)
          : site.key.kind === 'one-of'
            ? site.key.values.join('|')
            : '?'
      if (site.outcome === 'jump' || site.outcome === 'possible') {
        for (const t of site.targets) {
          const text = mermaidText(
            site.outcome === 'jump' ? slotName(site, t.slot) : `${slotName(site, key)} = ${t.slot}`,
          )
          lines.push(
            site.outcome === 'jump'
              ? `  p${p.id} -->|"${text}"| p${t.progId}`
              : `  p${p.id} -.->|"${text}"| p${t.progId}`,
          )
          if (site.outcome === 'jump' && looping.has(`${p.id}>${t.progId}`)) red.push(link)
          link++
        }
      }

      const empties =
        site.outcome === 'empty' || site.outcome === 'out-of-range' ? [key] : (site.emptySlots ?? []).map(String)
      if (site.outcome === 'possible' && site.targets.length === 0 && empties.length === 0) empties.push(key)
      for (const e of empties) {
        const id = `x${n++}`
        const what = site.outcome === 'out-of-range' ? 'out of range' : 'empty'
        lines.push(
          `  ${id}(["${mermaidText(slotName(site, e))}: ${what}, falls through"])`,
          `  p${p.id} -.-x ${id}`,
          `  style ${id} stroke:red`,
        )
        red.push(link++)
      }
    }
  }

  for (const p of g.programs.filter((x) => x.attachments.length > 0 || failing.has(x.id))) {
    const styles = [
      ...(p.attachments.length > 0 ? ['stroke-width:3px'] : []),
      ...(failing.has(p.id) ? ['stroke:red'] : []),
    ]
    lines.push(`  style p${p.id} ${styles.join(',')}`)
  }

  if (red.length > 0) lines.push(`  linkStyle ${red.join(',')} stroke:red,color:red`)
  for (const m of g.maps.filter((x) => !x.usedByAttached)) {
    lines.push(
      `  m${m.id}[("prog array ${mermaidText(objectName(m.name))}${fromObject ? '' : `<br/>id ${m.id}`}<br/>no attached user")]`,
    )
  }

  return lines.join('\n') + '\n'
}

export type GraphFormat = 'dot' | 'json' | 'mermaid' | 'svg' | 'tree'

/** The graph as text in one of the formats `graph --format` offers (the SVG picture: emit.ts). */
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
