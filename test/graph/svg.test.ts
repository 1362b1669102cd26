// `tailcalls graph --format svg`: the picture drawn by Graphviz in WebAssembly (no system
// Graphviz), read back and compared with the graph's JSON: one box per program with its name,
// id, type and attachment; one arrow per edge with its slot; the problems in red (an empty slot,
// the jumps of a cycle, a program the kernel would refuse). For the live chain `load` runs, and
// for object files (--object: no privileges). `--output FILE` writes every format to a file.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {buildFixture} from '../helpers/bpf-fixture.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {startChain} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

interface SvgNode {
  /** The DOT node name: p<id> for a program, x<n> for an empty slot, m<id> for an unused map. */
  name: string
  stroke: string
  texts: string[]
}

interface SvgEdge {
  /** A possible jump (a key that is not constant): dashed. */
  dashed: boolean
  from: string
  label: string
  stroke: string
  to: string
}

const decode = (s: string): string =>
  s
    .replaceAll('&#45;', '-')
    .replaceAll('&gt;', '>')
    .replaceAll('&lt;', '<')
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&amp;', '&')

/** The nodes and edges Graphviz drew: each is a <g class="node|edge"> with a <title>, shapes and texts. */
function readSvg(svg: string): {edges: SvgEdge[]; nodes: SvgNode[]} {
  assert.match(svg, /^<\?xml [^>]*>\n<!DOCTYPE svg /)
  assert.match(svg, /<\/svg>\n$/)
  const nodes: SvgNode[] = []
  const edges: SvgEdge[] = []
  for (const [, kind, title, body] of svg.matchAll(
    /<g id="\w+" class="(node|edge)">\n<title>(.*?)<\/title>\n(.*?)<\/g>/gs,
  )) {
    const texts = [...body.matchAll(/<text [^>]*>(.*?)<\/text>/g)].map((m) => decode(m[1]))
    const stroke = /<(?:polygon|path|ellipse) [^>]*stroke="(\w+)"/.exec(body)?.[1] ?? ''
    if (kind === 'node') {
      nodes.push({name: decode(title), stroke, texts})
    } else {
      const [from, to] = decode(title).split('->')
      edges.push({dashed: /<path [^>]*stroke-dasharray/.test(body), from, label: texts.join('\n'), stroke, to})
    }
  }

  return {edges, nodes}
}

interface JsonGraph {
  edges: {from: number; mapId: number; possible: boolean; slot: number; to: number}[]
  maps: {id: number; name: string}[]
  programs: {attachments: {description: string}[]; id: number; name: string; type: string}[]
}

/** The picture holds exactly the graph's programs and edges, labelled as the JSON says. */
function assertSameGraph(svg: string, g: JsonGraph, fromObject: boolean): ReturnType<typeof readSvg> {
  const drawn = readSvg(svg)
  const programs = drawn.nodes.filter((n) => n.name.startsWith('p'))
  assert.deepEqual(programs.map((n) => n.name).sort(), g.programs.map((p) => `p${p.id}`).sort())
  for (const p of g.programs) {
    const node = programs.find((n) => n.name === `p${p.id}`)!
    assert.deepEqual(node.texts, [
      p.name,
      fromObject ? p.type : `id ${p.id} · ${p.type}`,
      ...p.attachments.map((a) => `${fromObject ? 'entry' : 'attached'}: ${a.description}`),
    ])
  }

  // A jump is labelled MAP[SLOT]; a possible one MAP[KEY] = SLOT, KEY what the code computes.
  const mapName = new Map(g.maps.map((m) => [m.id, m.name]))
  assert.deepEqual(
    drawn.edges
      .filter((e) => e.to.startsWith('p'))
      .map((e) => [e.from, e.to, e.label.replace(/^(\S+)\[[^\]]*\] = (\d+)$/, '$1[$2] possible'), e.dashed])
      .sort(),
    g.edges
      .map((e) => [
        `p${e.from}`,
        `p${e.to}`,
        `${mapName.get(e.mapId)}[${e.slot}]${e.possible ? ' possible' : ''}`,
        e.possible,
      ])
      .sort(),
  )
  return drawn
}

let dir: string
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'tailcalls-svg-'))
})
after(() => rmSync(dir, {force: true, recursive: true}))

const OBJECT = join(ROOT, 'bpf', 'tailcalls.bpf.o')
const SLOTS = ['--slot', 'TAIL_CALL_MAP[0]=prog2', '--slot', 'TAIL_CALL_MAP[1]=prog3']

test('the live chain as a picture: the boxes and arrows of its JSON', needsRoot, async () => {
  const chain = await startChain()
  try {
    const {programs} = chain.ids
    const json = await runCli(['graph', 'prog', 'id', String(programs.prog1), '--json'])
    assert.equal(json.code, 0, json.stderr)
    const file = join(dir, 'live.svg')
    const r = await runCli(['graph', 'prog', 'id', String(programs.prog1), '--format', 'svg', '--output', file])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout, '')
    const g = JSON.parse(json.stdout) as JsonGraph
    assert.equal(g.edges.length, 2)
    const drawn = assertSameGraph(readFileSync(file, 'utf8'), g, false)
    // Nothing is wrong with the chain: nothing red, only the attached prog1 in bold.
    assert.ok(drawn.nodes.every((n) => n.stroke === 'black'))
    assert.ok(drawn.edges.every((e) => e.stroke === 'black'))
    assert.match(
      readFileSync(file, 'utf8'),
      new RegExp(`<title>p${programs.prog1}</title>\n<polygon [^>]*stroke-width="2"`),
    )
  } finally {
    await chain.finish()
  }
})

test('the bundled object as a picture (--object, no privileges), on stdout', async () => {
  const json = await runCli(['graph', '--object', OBJECT, ...SLOTS, '--json'])
  assert.equal(json.code, 0, json.stderr)
  const r = await runCli(['graph', '--object', OBJECT, ...SLOTS, '--format', 'svg'])
  assert.equal(r.code, 0, r.stderr)
  const g = JSON.parse(json.stdout) as JsonGraph
  assert.deepEqual(
    g.programs.map((p) => p.name),
    ['prog1', 'prog2', 'prog3'],
  )
  assertSameGraph(r.stdout, g, true)

  // One slot left empty: prog2's tail call falls through, drawn as a red note.
  const gap = await runCli(['graph', '--object', OBJECT, SLOTS[0], SLOTS[1], '--format', 'svg'])
  const empty = readSvg(gap.stdout).nodes.filter((n) => n.name.startsWith('x'))
  assert.deepEqual(empty, [{name: 'x0', stroke: 'red', texts: ['TAIL_CALL_MAP[1]', 'empty: falls through']}])
})

test('problems in red: a cycle, an empty slot, possible jumps dashed; a program the kernel would refuse', async () => {
  const graph5 = buildFixture('graph5')
  try {
    const slots = ['jt[0]=s1', 'jt[1]=s2', 'jt[3]=s3', 'jt[4]=s4'].flatMap((s) => ['--slot', s])
    const json = await runCli(['graph', '--object', graph5.path, ...slots, '--json'])
    const g = JSON.parse(json.stdout) as JsonGraph & {findings: {cycle?: number[]; kind: string; severity: string}[]}
    const r = await runCli(['graph', '--object', graph5.path, ...slots, '--format', 'svg'])
    assert.equal(r.code, 0, r.stderr)
    const drawn = assertSameGraph(r.stdout, g, true)
    const byName = new Map(g.programs.map((p) => [`p${p.id}`, p.name]))
    const red = drawn.edges
      .filter((e) => e.stroke === 'red' && e.to.startsWith('p'))
      .map((e) => `${byName.get(e.from)}→${byName.get(e.to)}`)
    const cycle = g.findings.find((f) => f.kind === 'cycle' && f.severity === 'warning')!
    assert.deepEqual(red.sort(), ['s2→s3', 's3→s4', 's4→s2'])
    assert.equal(cycle.cycle!.length, 4)
    // The non-constant key's possible targets: one (black, dashed) arrow per filled slot.
    assert.deepEqual(
      drawn.edges.filter((e) => e.dashed && e.to.startsWith('p')).map((e) => [e.label, e.stroke]),
      ['jt[?] = 0', 'jt[?] = 1', 'jt[?] = 3', 'jt[?] = 4'].map((l) => [l, 'black']),
    )
    const notes = drawn.nodes.filter((n) => n.name.startsWith('x'))
    assert.deepEqual(
      notes.map((n) => [n.stroke, n.texts.join(' ')]),
      [
        ['red', 'jt[2] empty: falls through'],
        ['red', 'orphan_jt[0] empty: falls through'],
      ],
    )

    // Mermaid marks the same: its links are styled by index, in the order they are written.
    const mermaid = (await runCli(['graph', '--object', graph5.path, ...slots, '--format', 'mermaid'])).stdout
    const links = mermaid.split('\n').filter((l) => / -->| -\.->| -\.-x /.test(l))
    const styled = /^ {2}linkStyle ([\d,]+) stroke:red,color:red$/m.exec(mermaid)![1].split(',').map(Number)
    const id = (name: string): string => `p${g.programs.find((p) => p.name === name)!.id}`
    assert.deepEqual(
      styled.map((i) => links[i].trim().replace(/\|.*\|/, '')),
      [
        `${id('s2')} -.-x x0`,
        `${id('s2')} --> ${id('s3')}`,
        `${id('s3')} --> ${id('s4')}`,
        `${id('s4')} --> ${id('s2')}`,
        `${id('lonely')} -.-x x1`,
      ],
    )
  } finally {
    graph5.cleanup()
  }

  const incompatible = join(dir, 'incompatible.o')
  const arch = execFileSync('uname', ['-m'], {encoding: 'utf8'}).trim()
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    `-I/usr/include/${arch}-linux-gnu`,
    '-c',
    join(ROOT, 'test', 'fixtures', 'graph-object', 'incompatible.bpf.c'),
    '-o',
    incompatible,
  ])
  const bad = await runCli(['graph', '--object', incompatible, '--format', 'svg'])
  // Exit 16: an error finding; the picture is drawn all the same, the refused program in red.
  assert.equal(bad.code, 16, bad.stderr)
  const nodes = readSvg(bad.stdout).nodes
  assert.deepEqual(nodes.map((n) => [n.texts[0], n.stroke]).sort(), [
    ['entry', 'black'],
    ['xdp_stage', 'red'],
  ])
})

test('--output FILE writes every format, as stdout would show it', async () => {
  for (const format of ['tree', 'dot', 'mermaid', 'json', 'svg']) {
    const file = join(dir, `out.${format}`)
    const written = await runCli(['graph', '--object', OBJECT, ...SLOTS, '--format', format, '-o', file])
    assert.equal(written.code, 0, written.stderr)
    assert.equal(written.stdout, '', format)
    const shown = await runCli(['graph', '--object', OBJECT, ...SLOTS, '--format', format])
    assert.equal(readFileSync(file, 'utf8'), shown.stdout, format)
  }
})

test('--output from a terminal: the tree is bold on the terminal, plain in the file', async () => {
  // script(1) gives the CLI a pseudo-terminal for stdout, where the tree is drawn with colors.
  const file = join(dir, 'tty.txt')
  const line = (...extra: string[]): string =>
    [process.execPath, join(ROOT, 'bin', 'run.js'), 'graph', '--object', OBJECT, ...SLOTS, ...extra]
      .map((a) => `'${a}'`)
      .join(' ')
  const env = {NO_COLOR: undefined, TERM: 'xterm'}
  const tty = await runCli(['-qec', line('--format', 'tree'), '/dev/null'], {command: 'script', env, prefix: []})
  assert.ok(tty.stdout.includes('\u001b[1m'), `bold on a terminal: ${tty.stdout}`)
  const r = await runCli(['-qec', line('-o', file), '/dev/null'], {command: 'script', env, prefix: []})
  assert.equal(r.code, 0, r.stdout)
  const text = readFileSync(file, 'utf8')
  assert.match(text, /^prog1 \(tracing\)/)
  assert.ok(!text.includes('\u001b['), text)
})

test('--output where it cannot write: one line, exit 2, no file', async () => {
  const file = join(dir, 'no-such-dir', 'g.svg')
  const r = await runCli(['graph', '--object', OBJECT, '--format', 'svg', '--output', file])
  assert.equal(r.code, 2)
  assert.equal(r.stdout, '')
  assert.match(
    r.stderr,
    /^tailcalls: error: cannot write .*no-such-dir\/g\.svg: no such file or directory; give --output a file/,
  )
  assert.equal(r.stderr.split('\n').length, 2)
  assert.ok(!existsSync(file))
})
