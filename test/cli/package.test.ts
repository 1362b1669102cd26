// `npm install -g` of the packed package works from nothing: the repository's tracked files are
// copied to a fresh directory (no dist/, no manifest: a clean clone), `npm pack` builds there
// through `prepack`, the tarball is installed into a temporary prefix, and the installed
// `tailcalls` answers --version, doctor --json and prog list --json as the checkout does.
// The package holds what the CLI needs and nothing else: the exact list is below.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, before, test} from 'node:test'

import {mapInfo} from '../../src/kernel/info.js'
import {sys} from '../../src/sys/ffi.js'
import {BPF_MAP_TYPE} from '../../src/sys/uapi.js'
import {ROOT, runCli} from '../helpers/cli.js'

interface Run {
  code: number | null
  stderr: string
  stdout: string
}

const run = runCli as (
  args: string[],
  opts?: {command?: string; cwd?: string; env?: Record<string, string>; prefix?: string[]},
) => Promise<Run>

/** Files every package has, and what bin/bundle.js makes (the code cache is named by a digest). */
const EXPECTED = [
  'README.md',
  'bin/run.js',
  'bin/tailcalls.cjs',
  'bpf/pids.bpf.o',
  'bpf/tailcalls.bpf.o',
  'dist/bundle/direct.<digest>.cache',
  'dist/bundle/direct.cjs',
  'dist/bundle/load-direct.cjs',
  'dist/bundle/load-object.cjs',
  'dist/bundle/load.cjs',
  'dist/bundle/object.<digest>.cache',
  'dist/bundle/object.cjs',
  'dist/bundle/tailcalls.<digest>.cache',
  'dist/bundle/tailcalls.cjs',
  'oclif.manifest.json',
  'package.json',
]

let work: string
let installed: string
let packed: string[]

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'tailcalls-pack-'))
  const clone = join(work, 'clone')
  // Tracked files as they are in the checkout (uncommitted edits included), and the checkout's
  // node_modules for the build tools: what `git clone` + `npm ci` would give.
  const tracked = execFileSync('git', ['ls-files', '-z'], {cwd: ROOT, encoding: 'utf8'}).split('\0').filter(Boolean)
  for (const file of tracked) {
    mkdirSync(dirname(join(clone, file)), {recursive: true})
    cpSync(join(ROOT, file), join(clone, file))
  }

  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'))

  const pack = await run(['pack', '--json', '--pack-destination', work], {command: 'npm', cwd: clone, prefix: []})
  assert.equal(pack.code, 0, pack.stderr)
  // npm prints the build's output before its JSON report.
  const report = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('[\n'))) as [
    {filename: string; files: {path: string}[]},
  ]
  packed = report[0].files.map((f) => f.path).sort()

  const prefix = join(work, 'prefix')
  const install = await run(
    ['install', '-g', '--no-audit', '--no-fund', '--prefix', prefix, join(work, report[0].filename)],
    {command: 'npm', cwd: work, prefix: []},
  )
  assert.equal(install.code, 0, install.stderr)
  installed = join(prefix, 'bin', 'tailcalls')
})

after(() => rmSync(work, {force: true, recursive: true}))

test('the package holds the bundle, the BPF object, the manifest and the entry point, nothing else', () => {
  assert.deepEqual(
    // Sorted after the digest is replaced: where a digest sorts depends on its first character.
    packed
      .map((p) =>
        p.replace(/^dist\/bundle\/(tailcalls|object|direct)\.[0-9a-f]{16}\.cache$/, 'dist/bundle/$1.<digest>.cache'),
      )
      .sort(),
    [...EXPECTED].sort(),
  )
})

test('the installed tailcalls answers --version', async () => {
  const r = await run(['--version'], {command: installed, prefix: []})
  assert.equal(r.code, 0, r.stderr)
  const {version} = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {version: string}
  assert.match(r.stdout, new RegExp(`^tailcalls/${version.replaceAll('.', '\\.')} linux-`))
  assert.equal(r.stderr, '')
})

test('the installed tailcalls draws graph --object (its direct path) as the checkout does', async () => {
  const args = ['graph', '--object', join(ROOT, 'bpf', 'tailcalls.bpf.o'), '--slot', 'TAIL_CALL_MAP[0]=prog2', '--json']
  const mine = await run(args, {command: installed, prefix: []})
  const checkout = await run(args)
  assert.equal(mine.code, 0, mine.stderr)
  assert.equal(mine.stdout, checkout.stdout)
})

test('the installed tailcalls runs doctor --json as the checkout does', async () => {
  const mine = await run(['doctor', '--json'], {command: installed, prefix: []})
  const checkout = await run(['doctor', '--json'])
  assert.equal(mine.code, checkout.code, mine.stderr)
  const ids = (out: string): string[] => (JSON.parse(out) as {checks: {id: string}[]}).checks.map((c) => c.id)
  assert.deepEqual(ids(mine.stdout), ids(checkout.stdout))
})

test('the installed tailcalls draws the graph as SVG (Graphviz in WebAssembly, from its dependencies)', async () => {
  const object = join(ROOT, 'bpf', 'tailcalls.bpf.o')
  const r = await run(['graph', '--object', object, '--slot', 'TAIL_CALL_MAP[0]=prog2', '--format', 'svg'], {
    command: installed,
    prefix: [],
  })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stdout, /<svg [^]*<title>p\d+&#45;&gt;p\d+<\/title>[^]*<\/svg>\n$/)
})

test('the installed tailcalls writes shell completion into a fresh HOME', async () => {
  const home = join(work, 'home')
  mkdirSync(home)
  const r = await run(['autocomplete', 'bash', '--json'], {
    command: installed,
    env: {HOME: home, XDG_CACHE_HOME: ''},
    prefix: [],
  })
  assert.equal(r.code, 0, r.stderr)
  const {cache} = JSON.parse(r.stdout) as {cache: string}
  assert.equal(cache, join(home, '.cache', 'tailcalls', 'autocomplete'))
  assert.match(readFileSync(join(cache, 'functions', 'bash', 'tailcalls.bash'), 'utf8'), /^prog:list --json/m)
})

test('the installed tailcalls lists programs as JSON', {skip: process.getuid?.() !== 0 && 'needs root'}, async () => {
  const r = await run(['prog', 'list', '--json'], {command: installed, prefix: []})
  assert.equal(r.code, 0, r.stderr)
  const list = JSON.parse(r.stdout) as {id: number; type: string}[]
  assert.ok(Array.isArray(list))
  for (const p of list) assert.equal(typeof p.id, 'number')
})

test(
  'the installed tailcalls finds pids with its own iterator (bpf/pids.bpf.o from the package)',
  {skip: process.getuid?.() !== 0 && 'needs root'},
  async () => {
    // A map this test process holds: the CLI lists its holder, us.
    const fd = sys().libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, 'tc_pack_pids', 4, 4, 1, null)
    assert.ok(fd >= 0, `bpf_map_create: ${fd}`)
    try {
      const id = mapInfo(fd).id
      const r = await run(['map', 'show', 'id', String(id), '--json'], {
        command: installed,
        env: {TAILCALLS_PIDS: 'iter'},
        prefix: [],
      })
      assert.equal(r.code, 0, r.stderr)
      const pids = (JSON.parse(r.stdout) as {pids?: {pid: number}[]}).pids
      assert.deepEqual(
        pids?.map((p) => p.pid),
        [process.pid],
      )
    } finally {
      sys().libc.close(fd)
    }
  },
)
