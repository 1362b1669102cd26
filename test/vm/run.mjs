#!/usr/bin/env node
// tailcalls kernel-matrix runner.
//
//   node test/vm/run.mjs [--kernels 5.10,6.1,6.12,host] [--timeout S] [options] [test files or globs…]
//
// For each Debian kernel: fetch its package by name into a cache (private apt
// state, never the machine's), unpack it, build a small initramfs, boot it under
// qemu TCG with the host root shared read-only (9p + tmpfs overlay), run
// `node --import tsx --test <files>` in the repo inside the guest, collect the result from a
// writable share, power off.  "host" runs the same files directly on the host.
// Prints a table, a machine-readable line, writes matrix.json/matrix.md, and
// exits non-zero if any kernel failed, naming it.  See test/vm/README.md.

import {existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {spawn} from 'node:child_process'
import {homedir, release as osRelease} from 'node:os'
import {dirname, join, relative, resolve, isAbsolute, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {ensureTools} from './lib/tools.mjs'
import {fetchKernel, buildInitramfs, parseKernelSpec} from './lib/kernel.mjs'
import {bootVm} from './lib/vm.mjs'
import {parseTap, judge, textTable, markdownTable, failureExcerpt} from './lib/report.mjs'
import {killAll, killTracked, track, waitAllExited} from './lib/proc.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = resolve(HERE, '..', '..')
const DEFAULT_FILES = ['test/vm/selftest/guest.test.mjs']

// `node --test` with no arguments picks up every .mjs under test/: do not start a
// matrix from inside someone else's test run.
if (process.env.NODE_TEST_CONTEXT) {
  console.log('# test/vm/run.mjs is the kernel-matrix runner, not a test file: skipped')
  process.exit(0)
}

const USAGE = `usage: node test/vm/run.mjs [options] [test files or globs, relative to the repo…]

  --kernels LIST   comma-separated: 5.10,6.1,6.12,host (default: all four).
                   A kernel may name its Debian suite and package: 6.12=trixie,
                   6.1=bookworm/linux-image-6.1.0-47-amd64
  --timeout S      per-kernel limit in seconds, boot to power-off (default 1200)
  --budget S       limit for the whole matrix: a kernel's timeout is cut to what is left,
                   and kernels not started in time are reported as faults (default: none)
  --jobs N         VMs at once (default 2; the machine has 2 cores)
  --smp N          vCPUs per VM (default 1: two 1-vCPU VMs beat one 2-vCPU VM under TCG)
  --mem MiB        memory per VM (default 2048)
  --out DIR        where matrix.json, matrix.md and the logs go (default test/vm/out)
  --cache DIR      kernel/apt cache (default $TAILCALLS_VM_CACHE, $XDG_CACHE_HOME/tailcalls-vm or ~/.cache/tailcalls-vm)
  --env K=V        extra environment for the tests (repeatable; also on the host row)
  --refresh        re-run apt-get update on the private lists even if fresh
  --no-install     do not apt-get install missing host tools; fail instead
  --keep           keep each run's result share (under the cache's runs/)
  --verbose, -v    stream every guest console line
  --help, -h

Default test files: ${DEFAULT_FILES.join(' ')}`

let opts
try {
  opts = parseArgs({
    allowPositionals: true,
    options: {
      kernels: {type: 'string', default: '5.10,6.1,6.12,host'},
      timeout: {type: 'string', default: '1200'},
      budget: {type: 'string', default: '0'},
      jobs: {type: 'string', default: '2'},
      smp: {type: 'string', default: '1'},
      mem: {type: 'string', default: '2048'},
      out: {type: 'string', default: join(REPO, 'test', 'vm', 'out')},
      cache: {type: 'string'},
      env: {type: 'string', multiple: true, default: []},
      refresh: {type: 'boolean', default: false},
      'no-install': {type: 'boolean', default: false},
      keep: {type: 'boolean', default: false},
      verbose: {type: 'boolean', short: 'v', default: false},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
} catch (e) {
  console.error(`${e.message}\n\n${USAGE}`)
  process.exit(2)
}
if (opts.values.help) {
  console.log(USAGE)
  process.exit(0)
}

const o = opts.values
const num = (name, v, min) => {
  const n = Number(v)
  if (!Number.isFinite(n) || n < min) {
    console.error(`--${name}: expected a number >= ${min}, got "${v}"`)
    process.exit(2)
  }
  return n
}
const timeoutMs = num('timeout', o.timeout, 1) * 1000
const budgetMs = num('budget', o.budget, 0) * 1000
const jobs = Math.floor(num('jobs', o.jobs, 1))
const smp = Math.floor(num('smp', o.smp, 1))
const memMiB = Math.floor(num('mem', o.mem, 256))
const cache = resolve(
  o.cache ??
    process.env.TAILCALLS_VM_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tailcalls-vm'),
)
const outDir = resolve(o.out)
const extraEnv = {}
for (const kv of o.env) {
  const i = kv.indexOf('=')
  if (i <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(kv.slice(0, i))) {
    console.error(`--env: expected NAME=VALUE, got "${kv}"`)
    process.exit(2)
  }
  extraEnv[kv.slice(0, i)] = kv.slice(i + 1)
}

let specs
try {
  const labels = o.kernels
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
  if (!labels.length) throw new Error('--kernels: empty list')
  specs = labels.map(parseKernelSpec)
  const dup = specs.map((x) => x.label).find((l, i, a) => a.indexOf(l) !== i)
  if (dup) throw new Error(`--kernels: ${dup} named twice`)
} catch (e) {
  console.error(e.message)
  process.exit(2)
}

// ---------------------------------------------------------------------------
// Test files: paths or globs relative to the repo, expanded here on the host
// (the guest sees the same paths).

function globToRegExp(glob) {
  let re = ''
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*' && glob[i + 1] === '*') {
      i++
      if (glob[i + 1] === '/') {
        i++
        re += '(?:.*/)?'
      } else re += '.*'
    } else if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '{') {
      const end = glob.indexOf('}', i)
      re +=
        '(?:' +
        glob
          .slice(i + 1, end)
          .split(',')
          .map((x) => x.replace(/[.+^$()|[\]\\]/g, '\\$&'))
          .join('|') +
        ')'
      i = end
    } else re += c.replace(/[.+^$()|[\]\\]/g, '\\$&')
  }
  return new RegExp('^' + re + '$')
}

function walk(dir, base, out) {
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    if (e.name === 'node_modules' || e.name === '.git') continue
    const p = join(dir, e.name)
    if (e.isDirectory()) walk(p, base, out)
    else if (e.isFile()) out.push(relative(base, p).split(sep).join('/'))
  }
  return out
}

function expandFiles(patterns) {
  const files = []
  let all
  for (const pat of patterns) {
    if (/[*?{]/.test(pat)) {
      all ??= walk(REPO, REPO, [])
      const rel = isAbsolute(pat) ? relative(REPO, pat) : pat.replace(/^\.\//, '')
      const re = globToRegExp(rel)
      const hits = all.filter((f) => re.test(f)).sort()
      if (!hits.length) throw new Error(`no file in ${REPO} matches "${pat}"`)
      files.push(...hits)
    } else {
      const abs = resolve(REPO, pat)
      if (!existsSync(abs) || !statSync(abs).isFile())
        throw new Error(`test file not found: ${pat} (paths are relative to ${REPO})`)
      files.push(relative(REPO, abs).startsWith('..') ? abs : relative(REPO, abs))
    }
  }
  return [...new Set(files)]
}

let files
try {
  files = expandFiles(opts.positionals.length ? opts.positionals : DEFAULT_FILES)
} catch (e) {
  console.error(e.message)
  process.exit(2)
}

// ---------------------------------------------------------------------------

const t0 = Date.now()
const deadline = budgetMs ? t0 + budgetMs : Infinity
/** The timeout for a kernel starting now: --timeout, cut to what is left of --budget. */
const kernelTimeout = () => Math.min(timeoutMs, deadline - Date.now())
const MIN_USEFUL_MS = 30_000
const budgetLeft = () => deadline - Date.now()
const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s]`
const say = (label, msg) => console.log(`${stamp()} ${label.padEnd(5)} ${msg}`)
const shares = new Set()

let stopping = false
async function cleanupAndExit(code) {
  stopping = true
  killAll('SIGKILL')
  await waitAllExited(5000) // reap them: nothing of ours is left behind, not even a zombie
  if (!o.keep) for (const d of shares) rmSync(d, {recursive: true, force: true})
  process.exit(code)
}
process.on('SIGINT', () => {
  console.error('\ninterrupted: killing the VMs and test runs this runner started')
  cleanupAndExit(130)
})
process.on('SIGTERM', () => cleanupAndExit(143))
process.on('exit', () => killAll('SIGKILL'))

const q = (x) => `'${String(x).replace(/'/g, `'\\''`)}'`

function testEnv(label) {
  const env = {}
  for (const [k, v] of Object.entries(process.env)) if (k.startsWith('TAILCALLS_') || k === 'CI') env[k] = v
  return {...env, ...extraEnv, TAILCALLS_VM_KERNEL: label}
}

function tail(text, n) {
  return text.trimEnd().split('\n').slice(-n).join('\n')
}

function emptyRow(spec) {
  return {
    kernel: spec.label,
    suite: spec.suite ?? null,
    package: null,
    release: null,
    result: 'fault',
    pass: null,
    fail: null,
    skipped: null,
    failed: [],
    prepMs: null,
    bootMs: null,
    nodeStartMs: null,
    testsMs: null,
    totalMs: null,
    reason: '',
    logs: {},
  }
}

// --- host row --------------------------------------------------------------
async function runHost(spec) {
  const row = emptyRow(spec)
  row.release = osRelease()
  const start = Date.now()
  const timeoutMs = kernelTimeout()
  if (budgetLeft() < MIN_USEFUL_MS) {
    row.reason = `not run: less than ${MIN_USEFUL_MS / 1000}s left of the --budget of ${budgetMs / 1000}s`
    say('host', `FAULT ${row.reason}`)
    return row
  }
  say('host', `node --test ${files.length} file(s) on the host kernel ${row.release}`)
  const env = {...process.env, ...testEnv('host')}
  const logFile = join(outDir, 'host.test.log')
  const {text, rc, timedOut} = await new Promise((res) => {
    const child = track(
      spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', ...files], {
        cwd: REPO,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      }),
      {group: true},
    )
    let text = ''
    let timedOut = false
    const on = (d) => {
      text += d
      if (o.verbose) for (const l of d.toString().split('\n')) if (l) console.log(`        host| ${l}`)
    }
    child.stdout.on('data', on)
    child.stderr.on('data', on)
    const timer = setTimeout(() => {
      timedOut = true
      killTracked(child, 'SIGKILL')
    }, timeoutMs)
    child.on('error', (e) => {
      clearTimeout(timer)
      res({text: text + `\n${e.message}\n`, rc: null, timedOut})
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      // Whatever the tests spawned into our process group goes with it.
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        // the group is already gone
      }
      res({
        text,
        rc: code ?? (signal ? 128 + ({SIGKILL: 9, SIGTERM: 15, SIGSEGV: 11, SIGABRT: 6}[signal] ?? 0) : null),
        timedOut,
      })
    })
  })
  if (stopping) return row // interrupted: cleanupAndExit owns the rest
  writeFileSync(logFile, text)
  row.logs.test = relative(REPO, logFile)
  row.totalMs = row.testsMs = Date.now() - start
  const sum = parseTap(text)
  Object.assign(row, sum ? {pass: sum.pass, fail: sum.fail, skipped: sum.skipped, failed: sum.failed} : {})
  if (timedOut) Object.assign(row, {result: 'fault', reason: `timed out after ${timeoutMs / 1000}s (test run killed)`})
  else Object.assign(row, judge(sum, rc))
  say(
    'host',
    `${row.result.toUpperCase()} ${row.release} in ${(row.totalMs / 1000).toFixed(1)}s${row.reason ? ` — ${row.reason}` : ''}`,
  )
  if (row.result !== 'pass' && !o.verbose) {
    const excerpt = row.result === 'fail' ? failureExcerpt(text) : tail(text, 25)
    console.log(excerpt.replace(/^/gm, '   host| '))
  }
  return row
}

// --- VM row ----------------------------------------------------------------
function jobScript(label, release) {
  const env = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    TERM: 'dumb',
    LANG: 'C.UTF-8',
    TAILCALLS_VM: '1',
    TAILCALLS_VM_RELEASE: release,
    ...testEnv(label),
  }
  return `#!/bin/sh
# Generated by test/vm/run.mjs; runs chrooted in the guest. /run/tailcalls-vm is the result share.
R=/run/tailcalls-vm
${Object.entries(env)
  .map(([k, v]) => `export ${k}=${q(v)}`)
  .join('\n')}
uname -r > $R/uname
mark() { echo "@@TAILCALLS-VM $*" > /dev/console; }
mark chroot "$(uname -r)"
cd ${q(REPO)} || { echo "cannot cd to ${REPO} in the guest" > $R/fault; exit 97; }
[ -x ${q(process.execPath)} ] || { echo "${process.execPath} is not executable in the guest" > $R/fault; exit 98; }
s=$(date +%s%N); ${q(process.execPath)} -e 0; e=$(date +%s%N)
echo $(( (e - s) / 1000000 )) > $R/node-start-ms
mark tests-start
{ ${q(process.execPath)} --import tsx --test --test-reporter=tap ${files.map(q).join(' ')}; echo $? > $R/test.rc; } 2>&1 | tee $R/test.log > /dev/console
mark tests-end "$(cat $R/test.rc 2>/dev/null)"
`
}

let prepLock = Promise.resolve()
const readMaybe = (p) => (existsSync(p) ? readFileSync(p, 'utf8') : null)

async function runVm(spec) {
  const row = emptyRow(spec)
  const label = spec.label
  const start = Date.now()
  if (budgetLeft() < MIN_USEFUL_MS) {
    row.reason = `not run: less than ${MIN_USEFUL_MS / 1000}s left of the --budget of ${budgetMs / 1000}s`
    say(label, `FAULT ${row.reason}`)
    return row
  }
  let k
  let ir
  // Package fetch and initramfs build run one kernel at a time (they share the cache).
  const prep = prepLock.then(async () => {
    k = await fetchKernel(spec, {cache, refresh: o.refresh, log: (m) => say(label, m)})
    row.package = k.pkg
    row.packageRelease = k.release
    ir = await buildInitramfs(k, {log: (m) => say(label, m)})
  })
  prepLock = prep.catch(() => {})
  try {
    await prep
  } catch (e) {
    row.prepMs = row.totalMs = Date.now() - start
    row.reason = `kernel package: ${e.message}`
    say(label, `FAULT ${row.reason}`)
    return row
  }
  row.prepMs = Date.now() - start
  const timeoutMs = kernelTimeout()
  if (budgetLeft() < MIN_USEFUL_MS) {
    row.reason = `not run: less than ${MIN_USEFUL_MS / 1000}s left of the --budget of ${budgetMs / 1000}s`
    say(label, `FAULT ${row.reason}`)
    return row
  }

  mkdirSync(join(cache, 'runs'), {recursive: true})
  // The runner's pid in the name: whoever checks that a run removed its shares (test/vm/runner.test.ts)
  // can tell them from those of another matrix run on the machine.
  const share = mkdtempSync(join(cache, 'runs', `${label}-${process.pid}-`))
  shares.add(share)
  const tmpfsDirs = ['/tmp', '/run'].filter((d) => !(REPO + '/').startsWith(d + '/'))
  writeFileSync(join(share, 'guest.conf'), `TMPFS_DIRS=${q(tmpfsDirs.join(' '))}\n`)
  writeFileSync(join(share, 'job.sh'), jobScript(label, k.release))
  const consoleLog = join(outDir, `${label}.console.log`)
  say(label, `booting ${k.release} (${k.pkg}) under qemu TCG, ${smp} vCPU, ${memMiB} MiB, timeout ${timeoutMs / 1000}s`)
  const seen = new Set()
  const vm = await bootVm({
    vmlinuz: k.vmlinuz,
    initramfs: ir.path,
    shareDir: share,
    consoleLog,
    timeoutMs,
    smp,
    memMiB,
    onLine: (l, ms) => {
      if (o.verbose) console.log(`  ${label.padStart(5)}| ${l}`)
      const m = l.match(/@@TAILCALLS-VM (\S+)/)
      if (m && !o.verbose && !seen.has(m[1]) && ['job-start', 'tests-start', 'tests-end', 'fault'].includes(m[1])) {
        seen.add(m[1])
        say(label, `${(ms / 1000).toFixed(1)}s in VM: ${l.slice(l.indexOf('@@TAILCALLS-VM ') + 15)}`)
      }
    },
  })
  if (stopping) return row // interrupted: cleanupAndExit owns the rest
  row.logs.console = relative(REPO, consoleLog)
  row.totalMs = Date.now() - start
  row.bootMs = vm.marks['job-start'] ?? null
  if (vm.marks['tests-start'] !== undefined && vm.marks['tests-end'] !== undefined)
    row.testsMs = vm.marks['tests-end'] - vm.marks['tests-start']
  else if (vm.marks['tests-start'] !== undefined) row.testsMs = vm.wallMs - vm.marks['tests-start']
  row.vmMs = vm.wallMs

  const uname = readMaybe(join(share, 'uname'))
  row.release = uname?.trim() || null
  const ns = readMaybe(join(share, 'node-start-ms'))
  row.nodeStartMs = ns ? Number(ns) : null
  const testLog = readMaybe(join(share, 'test.log'))
  if (testLog !== null) {
    const f = join(outDir, `${label}.test.log`)
    writeFileSync(f, testLog)
    row.logs.test = relative(REPO, f)
  }
  const rcText = readMaybe(join(share, 'test.rc'))
  const rc = rcText !== null && rcText.trim() !== '' ? Number(rcText) : null
  const guestFault = readMaybe(join(share, 'fault'))?.trim() || vm.fault
  const sum = testLog !== null ? parseTap(testLog) : null
  if (sum) Object.assign(row, {pass: sum.pass, fail: sum.fail, skipped: sum.skipped, failed: sum.failed})

  const trouble = vm.trouble.length ? ` [console: ${vm.trouble.slice(0, 2).join('; ')}]` : ''
  if (vm.startError) {
    row.reason = `qemu did not start: ${vm.startError}`
  } else if (vm.timedOut) {
    const stage =
      {
        'qemu-started': 'while the kernel booted (no output from the initramfs yet)',
        init: 'while loading modules',
        'modules-loaded': 'while mounting the 9p root',
        'root-mounted': 'while mounting the guest filesystems',
        'shares-mounted': 'before the job started',
        'job-start': 'before the tests (chroot)',
        chroot: 'before the tests (first node start)',
        'tests-start': 'while the tests ran',
        'tests-end': 'while powering off',
        'job-end': 'while powering off',
        poweroff: 'while powering off',
      }[vm.lastStage] ?? `after stage ${vm.lastStage}`
    row.reason = `timed out after ${timeoutMs / 1000}s ${stage}; qemu killed${trouble}`
    if (sum && vm.lastStage === 'tests-end')
      Object.assign(row, judge(sum, rc), {
        reason: `${judge(sum, rc).reason} (then hung powering off; qemu killed)`.trim(),
      })
  } else if (guestFault) {
    row.reason = `guest: ${guestFault}${trouble}`
  } else if (rcText === null) {
    const died = vm.signal ? `qemu killed by ${vm.signal}` : `qemu exited ${vm.exitCode}`
    row.reason = `guest stopped before the tests finished (last stage ${vm.lastStage}; ${died})${trouble}`
  } else {
    Object.assign(row, judge(sum, rc))
    if (trouble && row.result !== 'pass') row.reason += trouble
    if (vm.exitCode !== 0 && row.result === 'pass')
      Object.assign(row, {result: 'fault', reason: `qemu exited ${vm.exitCode}${trouble}`})
  }
  if (row.result !== 'pass' && !row.reason) row.reason = 'unknown'
  say(
    label,
    `${row.result.toUpperCase()} ${row.release ?? ''} in ${(row.totalMs / 1000).toFixed(1)}s${row.reason ? ` — ${row.reason}` : ''}`,
  )
  if (row.result !== 'pass' && !o.verbose) {
    const excerpt = row.result === 'fail' && testLog ? failureExcerpt(testLog) : tail(readMaybe(consoleLog) ?? '', 25)
    console.log(excerpt.replace(/^/gm, `  ${label.padStart(5)}| `))
  }
  if (!o.keep) {
    rmSync(share, {recursive: true, force: true})
    shares.delete(share)
  } else row.share = share
  return row
}

// ---------------------------------------------------------------------------

async function main() {
  mkdirSync(outDir, {recursive: true})
  mkdirSync(cache, {recursive: true})
  console.log(`kernel matrix: ${specs.map((x) => x.label).join(', ')}; tests: ${files.join(' ')}`)
  console.log(
    `repo ${REPO}; cache ${cache}; out ${outDir}; timeout ${timeoutMs / 1000}s per kernel; ${jobs} VM(s) at once`,
  )

  const rows = new Map()
  const vmSpecs = specs.filter((x) => !x.host)
  let toolsError = null
  if (vmSpecs.length) {
    try {
      const got = await ensureTools({log: (m) => say('setup', m), install: !o['no-install']})
      if (got.length) say('setup', `installed ${got.join(' ')}`)
    } catch (e) {
      toolsError = e.message
    }
  }
  // The host row first: it is fast, and it does not compete with the VMs for the two cores.
  for (const sp of specs.filter((x) => x.host)) rows.set(sp.label, await runHost(sp))
  if (toolsError) {
    for (const sp of vmSpecs) rows.set(sp.label, {...emptyRow(sp), reason: `host tools: ${toolsError}`})
  } else {
    const queue = [...vmSpecs]
    await Promise.all(
      Array.from({length: Math.min(jobs, queue.length)}, async () => {
        while (queue.length) {
          const sp = queue.shift()
          let row
          try {
            row = await runVm(sp)
          } catch (e) {
            row = {...emptyRow(sp), reason: `runner error: ${e.stack ?? e}`}
          }
          rows.set(sp.label, row)
        }
      }),
    )
  }
  const ordered = specs.map((x) => rows.get(x.label))

  const meta = {
    finishedAt: new Date().toISOString(),
    hostRelease: osRelease(),
    node: process.version,
    smp,
    memMiB,
    timeoutS: timeoutMs / 1000,
    files,
    wallMs: Date.now() - t0,
  }
  const ok = ordered.every((r) => r.result === 'pass')
  const json = {ok, ...meta, kernels: ordered}
  writeFileSync(join(outDir, 'matrix.json'), JSON.stringify(json, null, 2) + '\n')
  const md =
    markdownTable(ordered, meta) +
    '\n' +
    ordered
      .filter((r) => r.package || r.kernel === 'host')
      .map(
        (r) =>
          `- ${r.kernel}: ${r.kernel === 'host' ? `host kernel ${r.release}` : `Debian ${r.suite} \`${r.package}\``}${r.nodeStartMs ? `, \`node -e 0\` ${(r.nodeStartMs / 1000).toFixed(1)}s` : ''}`,
      )
      .join('\n') +
    '\n'
  writeFileSync(join(outDir, 'matrix.md'), md)

  console.log('\n' + textTable(ordered) + '\n')
  console.log(
    `report: ${relative(process.cwd(), join(outDir, 'matrix.json'))}, ${relative(process.cwd(), join(outDir, 'matrix.md'))}; wall ${(meta.wallMs / 1000).toFixed(0)}s`,
  )
  const line = {
    ok,
    kernels: Object.fromEntries(
      ordered.map((r) => [
        r.kernel,
        {
          result: r.result,
          release: r.release,
          pass: r.pass,
          fail: r.fail,
          seconds: r.totalMs === null ? null : Math.round(r.totalMs / 1000),
          reason: r.reason || undefined,
        },
      ]),
    ),
  }
  console.log(`TAILCALLS_KERNEL_MATRIX ${JSON.stringify(line)}`)
  const bad = ordered.filter((r) => r.result !== 'pass')
  if (bad.length) {
    console.error(`kernel matrix FAILED on: ${bad.map((r) => `${r.kernel} (${r.result}: ${r.reason})`).join('; ')}`)
  }
  console.log(`kernels: ${ordered.length - bad.length} passed, ${bad.length} failed`)
  // The same summary lines node --test ends with, summed over the kernels, so a CI log reader
  // that takes the last `# pass`/`# fail` sees the matrix (a kernel that faulted before its
  // tests could report counts one failure).
  const sum = (k) => ordered.reduce((a, r) => a + (Number(r[k]) || 0), 0)
  const faulted = ordered.filter((r) => r.result !== 'pass' && !(Number(r.fail) > 0)).length
  const fail = sum('fail') + faulted
  console.log(
    `# matrix: ${ordered.map((r) => r.kernel).join(', ')}\n# tests ${sum('pass') + fail + sum('skipped')}\n# pass ${sum('pass')}\n# fail ${fail}\n# skipped ${sum('skipped')}`,
  )
  cleanupAndExit(bad.length ? 1 : 0)
}

main().catch((e) => {
  console.error(`kernel matrix runner error: ${e.stack ?? e}`)
  cleanupAndExit(2)
})
