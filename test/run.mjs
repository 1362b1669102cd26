#!/usr/bin/env node
// The test runner behind `npm test` and `npm run test:unit`: test files under test/ (TypeScript
// through tsx, importing the sources they test), one file at a time, through node's test runner.
//
//   node test/run.mjs                 every *.test.ts / *.test.js under test/ (what CI runs, as root)
//   node test/run.mjs --unit          the *.unit.test.ts files: no root, no kernel, no toolchain
//   node test/run.mjs FILE…           the files given
//
// A run fails when any test was skipped: kernel tests skip without root ("skipped: needs root",
// test/helpers/root.ts), and a green run that tested nothing on the kernel must not pass for a
// real one. Only the unit run (which has nothing to skip) merely reports skips.
import {spawnSync} from 'node:child_process'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {availableParallelism, tmpdir} from 'node:os'
import {dirname, join, relative} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
// Not test files: fixtures, helpers, the kernel matrix's own guest self-tests and its output.
const SKIP_DIRS = new Set(['fixtures', 'helpers', 'selftest', 'out'])

function find(dir, pattern) {
  const out = []
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) out.push(...find(path, pattern))
    } else if (pattern.test(entry.name)) {
      out.push(relative(root, path))
    }
  }

  return out.sort()
}

const args = process.argv.slice(2)
const unit = args[0] === '--unit'
const chosen = unit ? args.slice(1) : args
const files = chosen.length > 0 ? chosen : find(join(root, 'test'), unit ? /\.unit\.test\.ts$/ : /\.test\.(js|ts)$/)
if (files.length === 0) {
  console.error('test/run.mjs: no test files')
  process.exit(2)
}

// The spec reporter for people, a TAP copy for the skip count (node's summary: `# skipped N`).
const dir = mkdtempSync(join(tmpdir(), 'tailcalls-test-run-'))
const tap = join(dir, 'report.tap')
let status
let text = ''
try {
  const r = spawnSync(
    process.execPath,
    [
      // Kernel tests one file at a time (they load chains and watch the system); unit files in parallel.
      '--import',
      'tsx',
      '--test',
      `--test-concurrency=${unit ? availableParallelism() : 1}`,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...files,
    ],
    {cwd: root, stdio: 'inherit'},
  )
  status = r.status ?? 1
  try {
    text = readFileSync(tap, 'utf8')
  } catch {
    // The runner died before writing its report: the exit status already says it failed.
  }
} finally {
  rmSync(dir, {force: true, recursive: true})
}

// node's `# skipped` counts tests, not skipped suites (describe): count every SKIP line instead.
const names = [...text.matchAll(/^\s*ok \d+ - (.*?) # SKIP\s*(.*)$/gm)].map(
  (m) => `  ${m[1]}${m[2] ? `: ${m[2]}` : ''}`,
)
const skipped = Math.max(names.length, Number(/^# skipped (\d+)$/m.exec(text)?.[1] ?? 0))
if (skipped > 0) {
  console.error(
    `\ntest/run.mjs: ${skipped} test(s) skipped${unit ? '' : ', so this run FAILS: the suite must run everything (as root, on a kernel with BTF)'}:\n${names.join('\n')}`,
  )
  if (!unit && status === 0) status = 1
}

// One plain closing line with the counts, for people and for CI logs that read the last lines.
const count = (what) => Number(new RegExp(`^# ${what} (\\d+)$`, 'm').exec(text)?.[1] ?? 0)
console.log(`tests: ${count('pass')} passed, ${count('fail')} failed, ${skipped} skipped`)
process.exit(status)
