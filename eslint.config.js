// Lint for everything we write in JS/TS: eslint's and typescript-eslint's recommended rules (no
// formatting rules: prettier owns the layout, `npm run format:check`), plus one rule of our own,
// the layering below. `npm run lint` runs this, the format check and knip (dead exports).
import js from '@eslint/js'
import {defineConfig, globalIgnores} from 'eslint/config'
import globals from 'globals'
import tseslint from 'typescript-eslint'

// The layers, top to bottom. An import may point down or sideways inside its own folder, never up:
//   commands/                         the oclif classes (may import anything in src/)
//   features: src/inspect, src/chain, src/graph, src/slots, src/stats, src/doctor, src/cli,
//             src/object (the object-file graph), src/exporter (Prometheus), src/run (prog run)
//   src/render                        presentation (tables, terminal-safe JSON): a leaf that
//                                     features and commands use; it imports nothing from src/
//   src/kernel, src/libbpf            bpf() objects (ids, fds, get_info, names, probes); libbpf's
//   src/btf                           the BTF format, bytes in and bytes out: kernel/ may use it,
//                                     btf/ never opens a kernel object (kernel/ hands it the bytes)
//   src/errors.ts                     the error model, for every layer above sys (render stays a leaf)
//   src/sys                           FFI, struct layouts, errno: imports nothing from src/
// Features do not import each other, except the dependencies declared in FEATURE_DEPS; nothing in
// src/ imports commands/. Each entry below lists what a folder of src/ may import outside itself:
// a folder name ('kernel/') allows all of it, a file name one module. The patterns read the import
// specifier (e.g. '../kernel/ids.js'), which assumes the one folder level src/ has.
const BASE = ['sys/', 'errors.js']
// cli/selector.js reads the object grammar (`id N | name NAME | …`) from argv: shared by the
// features whose commands take it, and importing no feature itself.
const FEATURE = ['kernel/', 'libbpf/', 'btf/', 'render/', 'cli/selector.js', ...BASE]
const FEATURE_DEPS = {
  // stats samples the stages of a chain `load` pinned, doctor loads one as its last check:
  // both build on chain/, which owns the chain's object, names and pin paths.
  doctor: ['chain/'],
  stats: ['chain/'],
  // The object graph is the live graph's analysis run on an ELF file's programs.
  object: ['graph/'],
  // The exporter publishes what the other features compute: the graph, chain counters, stats.
  exporter: ['graph/', 'chain/', 'stats/'],
  // `prog run` tells which prog arrays a test-run program reaches: the live graph from it.
  run: ['graph/'],
  // `load FILE.o` for any object: the chain's pin folder rules and signal guard, the object
  // file's analysis for the preflight, the graph for findings, the slot compatibility check.
  load: ['chain/', 'object/', 'graph/', 'slots/'],
}
const LAYERS = {
  btf: BASE,
  chain: FEATURE,
  cli: FEATURE,
  doctor: [...FEATURE, ...FEATURE_DEPS.doctor],
  exporter: [...FEATURE, ...FEATURE_DEPS.exporter],
  // graph --object hands the object-file analysis (object/) to the same renderers.
  graph: [...FEATURE, 'object/'],
  inspect: FEATURE,
  // kernel/pids.ts runs its BPF iterator through libbpf/iter.ts (load, read, free in one call),
  // from the shipped bpf/pids.bpf.o (found by libbpf/bundled.ts).
  kernel: ['btf/', 'libbpf/iter.js', 'libbpf/bundled.js', ...BASE],
  libbpf: BASE,
  load: [...FEATURE, ...FEATURE_DEPS.load],
  object: [...FEATURE, ...FEATURE_DEPS.object],
  // render/btf-json.ts prints BTF-typed values: presentation over the format.
  render: ['btf/'],
  run: [...FEATURE, ...FEATURE_DEPS.run],
  slots: FEATURE,
  stats: [...FEATURE, ...FEATURE_DEPS.stats],
  sys: [],
}
// The modules at the top of src/ (specifiers './sys/errno.js'): errors.ts sits on sys alone.
const TOP = {
  'src/errors.ts': ['sys/'],
}

// Known exceptions, each to be removed when its import goes: doctor asks the kernel about a
// perf-event fd through inspect/'s BPF_TASK_FD_QUERY wrapper (it belongs in kernel/).
const TEMPORARY_ALLOW = {
  'src/doctor/checks.ts': ['inspect/perf.js'],
}

const escape = (s) => s.replaceAll(/[.*+?^${}()|[\]\\/]/g, '\\$&')
/** A regex for specifiers that start with `prefix` and go anywhere but `allowed`. */
function outside(prefix, allowed) {
  const alts = allowed.map((a) => (a.endsWith('/') ? escape(a) : `${escape(a)}$`))
  return `^${escape(prefix)}${alts.length > 0 ? `(?!${alts.join('|')})` : ''}`
}

/** The layering rule for one module: static imports and re-exports, and `import()` of a literal. */
function layering(where, forbidden) {
  const message = `layering: ${where} may not import this (the layers are in eslint.config.js)`
  return {
    'no-restricted-imports': ['error', {patterns: forbidden.map((regex) => ({message, regex}))}],
    'no-restricted-syntax': [
      'error',
      // esquery regexes cannot hold a '/': \u002F stands for it.
      ...forbidden.map((regex) => ({
        message,
        selector: `ImportExpression > Literal.source[value=/${regex.replaceAll('\\/', '\\u002F')}/]`,
      })),
    ],
  }
}

const inFolder = (folder, allowed) => layering(`src/${folder}`, [outside('../', allowed)])
const atTop = (file, allowed) => layering(file, [outside('../', []), outside('./', allowed)])

export default defineConfig([
  globalIgnores(['dist/', 'scratch/', 'bench/results/']),
  {
    files: ['{src,commands,bin,test,bench}/**/*.{js,mjs,ts}', '*.{js,mjs}'],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {globals: globals.node},
    linterOptions: {reportUnusedDisableDirectives: 'error'},
    rules: {
      // `const {dropped, ...kept} = x` is how we leave keys out.
      '@typescript-eslint/no-unused-vars': ['error', {ignoreRestSiblings: true}],
    },
  },
  // Tests read CLI and bpftool JSON field by field.
  {files: ['test/**/*.ts'], rules: {'@typescript-eslint/no-explicit-any': 'off'}},
  // Anything in src/ not covered below: at least never up into commands/.
  {files: ['src/**/*.ts'], rules: layering('src', ['^(?:\\.\\.\\/)+commands\\/'])},
  ...Object.entries(LAYERS).map(([folder, allowed]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: inFolder(folder, allowed),
  })),
  {files: ['src/*.ts'], rules: atTop('src/*.ts', BASE)},
  ...Object.entries(TOP).map(([file, allowed]) => ({files: [file], rules: atTop(file, allowed)})),
  // The bundle's entry (bin/bundle.js) lists every command class for oclif: the one module of src/
  // that imports commands/, by design.
  {files: ['src/cli/commands.ts'], rules: inFolder('cli', [...LAYERS.cli, '../commands/'])},
  // The direct path (bin/tailcalls.cjs tries it before oclif) is a command layer of its own: it
  // runs the list/show commands' code in src/inspect/command.ts, as their classes in commands/ do.
  {files: ['src/cli/direct.ts'], rules: inFolder('cli', [...LAYERS.cli, 'inspect/command.js'])},
  // @oclif/plugin-autocomplete exports no module path: its command classes are imported by file.
  {
    files: ['src/cli/completion.ts'],
    rules: inFolder('cli', [...LAYERS.cli, '../node_modules/@oclif/plugin-autocomplete/lib/commands/']),
  },
  ...Object.entries(TEMPORARY_ALLOW).map(([file, extra]) => {
    const folder = file.split('/')[1]
    return {files: [file], rules: inFolder(folder, [...LAYERS[folder], ...extra])}
  }),
])
