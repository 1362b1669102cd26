#!/usr/bin/env node
// Bundles what `tailcalls` runs into dist/bundle/ (esbuild), writes oclif.manifest.json, then
// records a V8 code cache:
//   tailcalls.cjs         src/cli/commands.ts with everything it imports, @oclif/core included,
//                         as one CommonJS file: Node reads one file instead of resolving ~150
//                         modules and their package.json files on every run. The commands'
//                         `await import()`s are inlined: a module is still evaluated only when
//                         its command runs.
//   load.cjs              src/cli/loader.cts: loads tailcalls.cjs with the code cache.
//   tailcalls.<digest>.cache  what V8 compiled during one run of `prog list --json` (bin/run.js).
//   direct.cjs, load-direct.cjs, direct.<digest>.cache   the direct path (src/cli/direct.ts),
//                         which bin/run.js tries first: `--version` and the list/show commands
//                         without oclif, one run of `prog list --json` to fill the cache.
//   object.cjs, load-object.cjs, object.<digest>.cache   the same for `graph --object`
//                         (src/object/main.ts), which the direct path hands on to.
// koffi stays outside: it loads a native binary from its own package. cli-table3 too: it is
// loaded with createRequire on demand (src/render/table.ts) and resolves from node_modules.
import {build} from 'esbuild'
import {spawnSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {readFileSync, readdirSync, rmSync} from 'node:fs'
import {createRequire} from 'node:module'
import {readFile} from 'node:fs/promises'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')
rmSync(outdir, {force: true, recursive: true})

// Code compiled through node:vm cannot use import() on Node 20 without an experimental flag, and
// not at all when it comes from a code cache; the loader passes its own import() as __tcImport,
// and the dependencies that load ES modules by computed path (oclif's module loader, for
// plugins; lilconfig) call it instead. import('a-package') is bundled like any other import.
const LOADER_IMPORT = [/(?<=await )import\((?!['"])/g, '__tcImport(']

// Start-up work in @oclif/core that buys a bundled CLI nothing, each patch checked to apply
// (a new oclif that changed the code fails the build rather than silently keeping the cost):
const PATCHES = [
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]config[\\/]plugin\.js$/,
    // Sorting the command ids with localeCompare sets up ICU's collator on every run: more
    // instructions than all of Node's own start-up. Our ids are lower-case ASCII words and ':',
    // which the collator orders as their code units do (test/cli/commands.unit.test.ts checks it).
    from: '.sort((a, b) => a.id.localeCompare(b.id))',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]index\.js$/,
    // Evaluates semver and requires oclif's package.json by a path relative to the module, which
    // from the bundle (dist/) does not exist: the check always failed silently, after the cost.
    from: '\ncheckNodeVersion();\n',
    to: '\n',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]logger\.js$/,
    // `debug` (and the tty and supports-color it loads) is evaluated on every run, to decide that
    // no namespace is enabled: it enables only what DEBUG names when it loads, and oclif calls
    // nothing else of it. Without DEBUG, oclif's loggers get a debug function that does nothing.
    from: 'const debug_1 = __importDefault(require("debug"));',
    to: 'const debug_1 = process.env.DEBUG ? __importDefault(require("debug")) : {default: () => () => {}};',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]performance\.js$/,
    // perf_hooks serves only OCLIF_PERFORMANCE timings: loaded when a timing is taken.
    from: 'const node_perf_hooks_1 = require("node:perf_hooks");',
    to: 'const node_perf_hooks_1 = {get performance() { return require("node:perf_hooks").performance }, get PerformanceObserver() { return require("node:perf_hooks").PerformanceObserver }};',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/,
    // Config.load asks whether this is WSL through wsl-utils, which loads child_process (and with
    // it net, dgram…) and PowerShell helpers to answer with is-wsl's value: ask is-wsl itself.
    from: "(await import('wsl-utils')).isWsl ? 'wsl'",
    to: "(await import('is-wsl')).default ? 'wsl'",
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]util[\\/]os\.js$/,
    // child_process only finds the shell on Windows: loaded then.
    from: 'const node_child_process_1 = require("node:child_process");',
    to: 'const node_child_process_1 = Object.defineProperty({}, "execSync", {get: () => require("node:child_process").execSync});',
  },
  {
    file: /@oclif[\\/]core[\\/]lib[\\/]parser[\\/]parse\.js$/,
    // readline only reads piped stdin for a flag that asks for it: loaded then.
    from: 'const node_readline_1 = require("node:readline");',
    to: 'const node_readline_1 = {get createInterface() { return require("node:readline").createInterface }};',
  },
]

const patchDependencies = {
  name: 'patch-dependencies',
  setup(b) {
    b.onLoad({filter: /node_modules[\\/](@oclif[\\/]core|lilconfig)[\\/].*\.js$/}, async ({path}) => {
      let contents = (await readFile(path, 'utf8')).replaceAll(...LOADER_IMPORT)
      for (const p of PATCHES) {
        if (!p.file.test(path)) continue
        if (!contents.includes(p.from)) throw new Error(`bundle patch no longer applies to ${path}: ${p.from}`)
        contents = contents.replace(p.from, p.to)
      }

      return {contents, loader: 'js'}
    })
  },
}

const common = {
  absWorkingDir: root,
  bundle: true,
  format: 'cjs',
  legalComments: 'none',
  logLevel: 'warning',
  platform: 'node',
  target: 'node20',
}
await build({
  ...common,
  // Our ES modules ask for import.meta.url (to find bpf/ and to require koffi); in CommonJS
  // it is the bundle's own URL.
  banner: {js: 'const __tcImportMetaUrl = require("node:url").pathToFileURL(__filename).href;'},
  define: {'import.meta.url': '__tcImportMetaUrl'},
  entryPoints: ['src/cli/commands.ts'],
  // typescript, tsx and ts-node: only for oclif's development mode (bin/dev.js), never reached
  // from the bundle.
  // The exporter's libraries load only when `tailcalls exporter` runs (dynamic import): from node_modules,
  // not parsed with every command's start.
  // Graphviz in WebAssembly (~5 MB) too, for `graph --format svg` only (src/graph/svg.ts).
  external: ['koffi', 'typescript', 'tsx', 'ts-node', 'pnpapi', 'prom-client', 'bcryptjs', 'yaml', '@viz-js/viz'],
  // Smaller source to read; names kept for error messages and stack traces.
  // TAILCALLS_BUNDLE_READABLE=1 leaves it unminified, for profiles (node --cpu-prof) that name functions.
  keepNames: true,
  minify: !process.env.TAILCALLS_BUNDLE_READABLE,
  outfile: join(outdir, 'tailcalls.cjs'),
  plugins: [patchDependencies],
})
// `graph --object`'s direct path (src/object/main.ts, tried first by bin/run.js): only the
// object reader, the graph and its renderers, without oclif. Not minified: names stay as written
// without keepNames, whose wrapper costs a property definition for every closure the analysis
// creates (most of its time on a cold start).
await build({
  ...common,
  banner: {js: 'const __tcImportMetaUrl = require("node:url").pathToFileURL(__filename).href;'},
  define: {'import.meta.url': '__tcImportMetaUrl'},
  entryPoints: ['src/object/main.ts'],
  external: ['koffi'],
  outfile: join(outdir, 'object.cjs'),
})

// The direct path (src/cli/direct.ts): what it knows of the commands it takes comes from their
// classes, in the bundle just built (directTable fails the build on a flag it would not parse).
const require = createRequire(import.meta.url)
const {COMMANDS} = require(join(outdir, 'tailcalls.cjs'))
const {directTable} = await import('../dist/src/cli/direct-table.js')
const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
await build({
  ...common,
  banner: {js: 'const __tcImportMetaUrl = require("node:url").pathToFileURL(__filename).href;'},
  define: {
    'import.meta.url': '__tcImportMetaUrl',
    DIRECT_TABLE: JSON.stringify(directTable(COMMANDS)),
    PACKAGE_NAME: JSON.stringify(pjson.name),
    PACKAGE_VERSION: JSON.stringify(pjson.version),
  },
  entryPoints: ['src/cli/direct.ts'],
  external: ['koffi'],
  // Not minified, for the reason object.cjs is not.
  outfile: join(outdir, 'direct.cjs'),
})

// The loader names the code cache after the bundle's digest: a cache never meets another bundle.
for (const [name, loader] of [
  ['tailcalls', 'load.cjs'],
  ['object', 'load-object.cjs'],
  ['direct', 'load-direct.cjs'],
]) {
  const digest = createHash('sha256')
    .update(readFileSync(join(outdir, `${name}.cjs`)))
    .digest('hex')
    .slice(0, 16)
  await build({
    ...common,
    define: {BUNDLE_DIGEST: JSON.stringify(digest), BUNDLE_NAME: JSON.stringify(name)},
    entryPoints: ['src/cli/loader.cts'],
    outfile: join(outdir, loader),
  })
}

// The manifest (bin/manifest.js) before the runs below, so they start as every later one does.
const manifest = spawnSync(process.execPath, [join(root, 'bin', 'manifest.js')], {stdio: 'inherit'})
if (manifest.status !== 0) process.exit(manifest.status ?? 1)

// One run per bundle to fill its code cache (TAILCALLS_WRITE_CODE_CACHE names the bundle whose
// cache the run writes). Their output and exit status do not matter (without BPF privileges a
// listing fails, after the same start-up).
const fill = (bundle, args, env = {}) =>
  spawnSync(process.execPath, [join(root, 'bin', 'tailcalls.cjs'), ...args], {
    env: {...process.env, ...env, TAILCALLS_WRITE_CODE_CACHE: bundle},
    stdio: 'ignore',
  })
// oclif's start-up, argument parsing and a listing: what every command through oclif shares.
fill('tailcalls', ['prog', 'list', '--json', '--no-pids'], {TAILCALLS_NO_DIRECT: '1'})
// The direct path: the flags, the privilege check, the pid table and a listing.
fill('direct', ['prog', 'list', '--json'])
// graph --object: a tree of the bundled chain's object.
fill('object', ['graph', '--object', join(root, 'bpf', 'tailcalls.bpf.o')])
const files = readdirSync(outdir).sort()
console.error(`dist/bundle: ${files.join(', ')}`)
