#!/usr/bin/env node
// Fresh-machine test: the README's two commands on a Debian 12 and a Debian 13 that have nothing
// yet. See test/fresh/README.md.
//
//   node test/fresh/run.mjs [--releases bookworm,trixie] [--jobs 2] [--timeout S] [--setup-only] …
//
// Per release: a minimal root filesystem (debootstrap --variant=minbase, cached as a tarball),
// unpacked afresh; the checkout's HEAD as a bare repository in it; test/fresh/session.sh run there
// as root in a chroot (test/fresh/enter.sh, in a mount namespace of its own). The session gets the
// repository and runs the README's commands; this runner judges what it recorded, prints a table
// and writes test/fresh/out/fresh.json. Exit 0 only if every release passed.

import {spawn, spawnSync} from 'node:child_process'
import {createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {homedir, release as osRelease} from 'node:os'
import {basename, dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'
import {parseArgs} from 'node:util'
import {debianArchiveUri} from '../vm/lib/kernel.mjs'
import {killAll, killTracked, run, runOk, track, waitAllExited} from '../vm/lib/proc.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
const REPO = resolve(HERE, '..', '..')

if (process.env.NODE_TEST_CONTEXT) {
  console.log('# test/fresh/run.mjs is the fresh-machine runner, not a test file: skipped')
  process.exit(0)
}

const RELEASES = {bookworm: 'Debian 12', trixie: 'Debian 13'}
const ROOTFS_MAX_AGE_DAYS = 14
const ROOTFS_FORMAT = 1 // bump to rebuild every cached root filesystem

const USAGE = `usage: node test/fresh/run.mjs [options]

  --releases LIST  comma-separated: bookworm,trixie (default both)
  --jobs N         releases at once (default 2)
  --timeout S      limit per release, in seconds, from entering the root to the end (default 2700;
                   with --budget, none but the budget)
  --budget S       limit for the whole run, from its start: a release's limit is cut to what is
                   left (CI passes what remains of its 90 minutes; default: none)
  --setup-only     stop after the README's first command (no npm test)
  --npm-test LIST  the releases that go on to the second command, npm test (default: every release;
                   --setup-only is --npm-test '')
  --cold           no cached .deb files and npm packages: download everything, as a new machine does
  --refresh        rebuild the cached root filesystems (else rebuilt after ${ROOTFS_MAX_AGE_DAYS} days)
  --keep           keep the unpacked roots (under the cache's roots/) for a look afterwards
  --out DIR        fresh.json, fresh.md and the logs (default test/fresh/out)
  --cache DIR      default $TAILCALLS_FRESH_CACHE, $XDG_CACHE_HOME/tailcalls-fresh or ~/.cache/tailcalls-fresh
  --help, -h`

let opts
try {
  opts = parseArgs({
    options: {
      releases: {type: 'string', default: 'bookworm,trixie'},
      jobs: {type: 'string', default: '2'},
      timeout: {type: 'string'},
      budget: {type: 'string', default: '0'},
      'setup-only': {type: 'boolean', default: false},
      'npm-test': {type: 'string'},
      cold: {type: 'boolean', default: false},
      refresh: {type: 'boolean', default: false},
      keep: {type: 'boolean', default: false},
      out: {type: 'string', default: join(REPO, 'test', 'fresh', 'out')},
      cache: {type: 'string'},
      help: {type: 'boolean', short: 'h', default: false},
    },
  })
} catch (e) {
  console.error(`${e.message}\n\n${USAGE}`)
  process.exit(2)
}
const o = opts.values
if (o.help) {
  console.log(USAGE)
  process.exit(0)
}
const releases = o.releases
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean)
for (const r of releases) {
  if (!RELEASES[r]) {
    console.error(`--releases: unknown release "${r}" (known: ${Object.keys(RELEASES).join(', ')})`)
    process.exit(2)
  }
}
const suiteIn = new Set(
  o['setup-only']
    ? []
    : (o['npm-test'] ?? releases.join(','))
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
)
for (const r of suiteIn) {
  if (!releases.includes(r)) {
    console.error(`--npm-test: "${r}" is not among --releases (${releases.join(',')})`)
    process.exit(2)
  }
}
const jobs = Math.max(1, Math.floor(Number(o.jobs)) || 1)
// Under --budget (CI) the budget alone bounds a release: a busy CI machine stretches Debian 13's
// npm test well past what it takes alone (2,345 s in one CI run), and a fixed limit per release
// would fail a run that still had time left.
const budgetMs = Math.max(0, Number(o.budget) || 0) * 1000
const timeoutMs =
  o.timeout !== undefined ? Math.max(60, Number(o.timeout) || 0) * 1000 : budgetMs > 0 ? Infinity : 2_700_000
const cache = resolve(
  o.cache ??
    process.env.TAILCALLS_FRESH_CACHE ??
    join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tailcalls-fresh'),
)
const outDir = resolve(o.out)

const t0 = Date.now()
const log = (msg) => console.error(`[fresh ${((Date.now() - t0) / 1000).toFixed(0).padStart(5)}s] ${msg}`)

if (process.getuid() !== 0) {
  console.error('test/fresh/run.mjs: needs root (debootstrap, mounts, chroot)')
  process.exit(2)
}

// ---------------------------------------------------------------------------
// Host tools.

async function ensureDebootstrap() {
  if (existsSync('/usr/sbin/debootstrap')) return
  log('installing debootstrap with apt-get')
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  await run('apt-get', ['update', '-qq'], {env, timeoutMs: 600_000})
  await runOk(
    'apt-get',
    ['install', '-y', '-qq', '-o', 'DPkg::Lock::Timeout=600', '--no-install-recommends', 'debootstrap'],
    {env, timeoutMs: 600_000},
  )
}

// ---------------------------------------------------------------------------
// Root filesystems: debootstrap once, then a tarball in the cache, unpacked afresh for every run.

async function rootfsTarball(release, mirror) {
  const dir = join(cache, 'rootfs')
  mkdirSync(dir, {recursive: true})
  const tarball = join(dir, `${release}-minbase.tar.zst`)
  const metaFile = `${tarball}.json`
  let meta = null
  try {
    meta = JSON.parse(readFileSync(metaFile, 'utf8'))
  } catch {
    // No tarball yet.
  }
  const ageDays = meta ? (Date.now() - Date.parse(meta.built)) / 86_400_000 : Infinity
  if (!o.refresh && meta?.format === ROOTFS_FORMAT && existsSync(tarball) && ageDays < ROOTFS_MAX_AGE_DAYS) {
    return {tarball, meta, built: false}
  }
  const staging = join(dir, `${release}.staging-${process.pid}`)
  rmSync(staging, {recursive: true, force: true})
  log(`${release}: debootstrap --variant=minbase from ${mirror}`)
  const started = Date.now()
  try {
    const r = await run('debootstrap', ['--variant=minbase', release, staging, mirror], {timeoutMs: 1_800_000})
    if (r.code !== 0) {
      const tail = (r.stdout + r.stderr).trim().split('\n').slice(-4).join(' | ')
      throw new Error(`debootstrap ${release} failed (${r.timedOut ? 'timed out' : `exit ${r.code}`}): ${tail}`)
    }
    await runOk('tar', ['--zstd', '--numeric-owner', '-C', staging, '-cf', `${tarball}.tmp`, '.'], {timeoutMs: 600_000})
    renameSync(`${tarball}.tmp`, tarball)
  } finally {
    rmSync(staging, {recursive: true, force: true})
    rmSync(`${tarball}.tmp`, {force: true})
  }
  meta = {
    format: ROOTFS_FORMAT,
    release,
    mirror,
    built: new Date().toISOString(),
    debootstrap_s: Math.round((Date.now() - started) / 1000),
  }
  writeFileSync(metaFile, JSON.stringify(meta, null, 2) + '\n')
  log(`${release}: root filesystem built in ${meta.debootstrap_s} s`)
  return {tarball, meta, built: true}
}

// ---------------------------------------------------------------------------
// Node for Debian 12, the README's way: its "Requirements" give the steps (a nodejs.org tarball
// unpacked into /usr/local). nodejs.org cannot be reached from here, so the download is replaced by
// a tarball of the same layout made from this machine's own Node (an official build: the same
// binary, npm and corepack nodejs.org ships); every other step runs as the README writes it.

function readmeNodeSteps() {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8')
  const req = readme.slice(readme.indexOf('\n## Requirements'))
  const block = /```sh\n([\s\S]*?)```/.exec(req.slice(0, req.indexOf('\n## ', 5)))
  if (!block || !block[1].includes('nodejs.org/dist/'))
    throw new Error("README's Requirements have no ```sh block with the nodejs.org steps")
  const lines = block[1]
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
  const url = /https:\/\/nodejs\.org\/dist\/\S+\.tar\.xz/.exec(block[1])?.[0]
  if (!url) throw new Error("README's Node steps name no nodejs.org .tar.xz")
  return {lines, url, file: basename(url)}
}

// The npm that nodejs.org bundles with this Node release: the last "upgrade npm to X" in the release
// line's changelog, which Node's packages ship. This machine's own npm may have been upgraded since.
function bundledNpmVersion() {
  const major = process.versions.node.split('.')[0]
  for (const f of [
    `/usr/share/doc/nodejs/changelogs/CHANGELOG_V${major}.md`,
    `/usr/share/doc/node/changelogs/CHANGELOG_V${major}.md`,
  ]) {
    const m = /\*\*deps\*\*: upgrade npm to (\d+\.\d+\.\d+)/.exec(read(f))
    if (m) return m[1]
  }
  return null
}

const STANDIN_FORMAT = 2 // bump to remake the cached stand-in

async function nodeStandin(file) {
  const dir = join(cache, 'node')
  mkdirSync(dir, {recursive: true})
  const tarball = join(dir, file)
  let meta = null
  try {
    meta = JSON.parse(readFileSync(`${tarball}.json`, 'utf8'))
  } catch {
    // Not made yet.
  }
  if (existsSync(tarball) && meta?.format === STANDIN_FORMAT && meta.node === process.version) return {tarball, meta}
  const top = file.replace(/\.tar\.xz$/, '')
  const nodeBin = process.execPath
  const prefix = dirname(dirname(nodeBin))
  const stage = join(dir, `stage-${process.pid}`)
  rmSync(stage, {recursive: true, force: true})
  const t = join(stage, top)
  const npmVersion = bundledNpmVersion()
  log(
    `making ${file} in nodejs.org's layout from this machine's Node ${process.version} (${nodeBin})` +
      (npmVersion ? ` and npm ${npmVersion}, the one that release bundles, from the npm registry` : ' and its npm'),
  )
  try {
    for (const d of ['bin', 'lib/node_modules', 'include']) mkdirSync(join(t, d), {recursive: true})
    await runOk('cp', ['-a', nodeBin, join(t, 'bin', 'node')])
    if (npmVersion) {
      // The npm package as published is what Node's deps/npm holds (its dependencies bundled).
      const r = await runOk('npm', ['pack', '--silent', `npm@${npmVersion}`, '--pack-destination', stage], {
        timeoutMs: 600_000,
      })
      const tgz = join(stage, r.stdout.trim().split('\n').at(-1))
      mkdirSync(join(t, 'lib', 'node_modules', 'npm'))
      await runOk('tar', ['-xzf', tgz, '-C', join(t, 'lib', 'node_modules', 'npm'), '--strip-components=1'])
    } else if (existsSync(join(prefix, 'lib', 'node_modules', 'npm'))) {
      await runOk('cp', ['-a', join(prefix, 'lib', 'node_modules', 'npm'), join(t, 'lib', 'node_modules', 'npm')])
    }
    if (existsSync(join(prefix, 'lib', 'node_modules', 'corepack')))
      await runOk('cp', [
        '-a',
        join(prefix, 'lib', 'node_modules', 'corepack'),
        join(t, 'lib', 'node_modules', 'corepack'),
      ])
    if (existsSync(join(prefix, 'include', 'node')))
      await runOk('cp', ['-a', join(prefix, 'include', 'node'), join(t, 'include', 'node')])
    const links = {
      npm: '../lib/node_modules/npm/bin/npm-cli.js',
      npx: '../lib/node_modules/npm/bin/npx-cli.js',
      corepack: '../lib/node_modules/corepack/dist/corepack.js',
    }
    for (const [name, target] of Object.entries(links)) {
      if (existsSync(join(t, 'bin', target))) await runOk('ln', ['-s', target, join(t, 'bin', name)])
    }
    await runOk('tar', ['-C', stage, '-I', 'xz -T0 -1', '--owner=0', '--group=0', '-cf', `${tarball}.tmp`, top], {
      timeoutMs: 900_000,
    })
    renameSync(`${tarball}.tmp`, tarball)
  } finally {
    rmSync(stage, {recursive: true, force: true})
    rmSync(`${tarball}.tmp`, {force: true})
  }
  meta = {
    format: STANDIN_FORMAT,
    node: process.version,
    npm: npmVersion ?? "this machine's",
    made: new Date().toISOString(),
  }
  writeFileSync(`${tarball}.json`, JSON.stringify(meta, null, 2) + '\n')
  return {tarball, meta}
}

// ---------------------------------------------------------------------------
// One release.

function parseMarkers(text) {
  const steps = []
  let ready = null
  let done = false
  for (const m of text.matchAll(/^@@FRESH (\{.*\})$/gm)) {
    let j
    try {
      j = JSON.parse(m[1])
    } catch {
      continue
    }
    if (j.step) steps.push({name: j.step, rc: j.rc, s: +(j.ms / 1000).toFixed(1), end_s: +(j.at_ms / 1000).toFixed(1)})
    if (j.ready && ready === null) ready = {step: j.ready, s: +(j.at_ms / 1000).toFixed(1)}
    if (j.done) done = true
  }
  return {steps, ready, done}
}

function readTsv(file) {
  const m = new Map()
  if (!existsSync(file)) return m
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [pkg, version, size] = line.split('\t')
    if (pkg) m.set(pkg, {version, kib: Number(size) || 0})
  }
  return m
}

function installedBetween(a, b) {
  const out = []
  for (const [pkg, v] of b) if (!a.has(pkg)) out.push({pkg, version: v.version, kib: v.kib})
  return out.sort((x, y) => x.pkg.localeCompare(y.pkg))
}

const read = (f) => (existsSync(f) ? readFileSync(f, 'utf8') : '')

async function runRelease(release, {mirror, bare, nodeSteps}) {
  const row = {release, name: RELEASES[release], ok: false, problems: []}
  const started = Date.now()
  const {tarball, meta} = await rootfsTarball(release, mirror)
  row.rootfs = {built: meta.built, debootstrap_s: meta.debootstrap_s}
  const rootsDir = join(cache, 'roots')
  mkdirSync(rootsDir, {recursive: true})
  const root = join(rootsDir, `${release}-${process.pid}`)
  liveRoots.add(root)
  rmSync(root, {recursive: true, force: true})
  mkdirSync(root)
  const logFile = join(outDir, `${release}.log`)
  try {
    await runOk('tar', ['--zstd', '--numeric-owner', '-C', root, '-xpf', tarball], {timeoutMs: 600_000})
    // Name resolution for apt and npm; and no daemon may start in a chroot (a package's service
    // would run in the host's network), so invoke-rc.d is told no, as in any chroot.
    writeFileSync(join(root, 'etc', 'resolv.conf'), readFileSync('/etc/resolv.conf'))
    writeFileSync(join(root, 'usr', 'sbin', 'policy-rc.d'), '#!/bin/sh\nexit 101\n', {mode: 0o755})
    mkdirSync(join(root, 'srv'), {recursive: true})
    await runOk('cp', ['-a', bare, join(root, 'srv', 'tailcalls.git')])
    await runOk('cp', [join(HERE, 'session.sh'), join(root, 'srv', 'session.sh')])
    const env = {
      FRESH_RELEASE: release,
      FRESH_REPO: '/srv/tailcalls.git',
    }
    if (release === 'trixie') {
      // The provisioning script as committed: what lima would run.
      const r = await runOk('git', ['-C', REPO, 'show', 'HEAD:deploy/lima/provision.sh'])
      writeFileSync(join(root, 'srv', 'provision.sh'), r.stdout, {mode: 0o755})
    } else {
      const standin = await nodeStandin(nodeSteps.file)
      row.node_standin = standin.meta
      await runOk('cp', [standin.tarball, join(root, 'srv', nodeSteps.file)])
      const script = nodeSteps.lines.map((l) =>
        l.replace(/curl\s+(?:-\w+\s+)*https:\/\/nodejs\.org\/\S+\.tar\.xz/, `cat /srv/${nodeSteps.file}`),
      )
      writeFileSync(
        join(root, 'srv', 'node-steps.sh'),
        `# The README's Node steps; the nodejs.org download is replaced by /srv/${nodeSteps.file}.\n${script.join('\n')}\n`,
      )
      env.FRESH_NODE = '/srv/node-steps.sh'
    }
    if (!suiteIn.has(release)) env.FRESH_SETUP_ONLY = '1'
    // The network's own trust, like /etc/resolv.conf: where TLS to the npm registry goes through an
    // intercepting proxy, the host names that proxy's CA to Node in NODE_EXTRA_CA_CERTS, and a
    // machine on this network needs the same. Nothing else of the host's environment goes in.
    const extraCa = process.env.NODE_EXTRA_CA_CERTS
    if (extraCa && existsSync(extraCa)) {
      writeFileSync(join(root, 'srv', 'extra-ca-certificates.crt'), readFileSync(extraCa))
      env.NODE_EXTRA_CA_CERTS = '/srv/extra-ca-certificates.crt'
    }

    const binds = []
    if (!o.cold) {
      // Downloads kept between runs: Debian's .deb files and npm's cache. Installing still happens.
      for (const [host, inRoot] of [
        [join(cache, 'debs', release), 'var/cache/apt/archives'],
        [join(cache, 'npm', release), 'root/.npm'],
      ]) {
        mkdirSync(join(host, 'partial'), {recursive: true})
        binds.push('--bind', `${host}:${inRoot}`)
      }
    }
    const passEnv = Object.entries(process.env)
      .filter(([k]) => k === 'CI' || k.startsWith('TAILCALLS_'))
      .map(([k, v]) => `${k}=${v}`)
    const chrootCmd = [
      '/usr/bin/env',
      '-i',
      'HOME=/root',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'LANG=C.UTF-8',
      'TERM=dumb',
      ...passEnv,
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      '/bin/bash',
      '/srv/session.sh',
    ]
    log(`${release}: entering ${root}`)
    const out = createWriteStream(logFile)
    const child = track(
      spawn(
        'unshare',
        ['--mount', '--propagation', 'private', 'bash', enterScript, root, ...binds, '--', ...chrootCmd],
        {stdio: ['ignore', 'pipe', 'pipe'], detached: true},
      ),
      {group: true},
    )
    let text = ''
    const onData = (d) => {
      out.write(d)
      const s = d.toString()
      text += s
      for (const line of s.split('\n')) {
        const m = /^@@FRESH \{"step":"([^"]+)","rc":(-?\d+),"ms":(\d+)/.exec(line)
        if (m) log(`${release}: ${m[1]} exit ${m[2]} in ${(m[3] / 1000).toFixed(0)} s`)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    let timedOut = false
    const limitMs = budgetMs ? Math.max(30_000, Math.min(timeoutMs, budgetMs - (Date.now() - t0))) : timeoutMs
    row.limit_s = Math.round(limitMs / 1000)
    const timer = setTimeout(() => {
      timedOut = true
      log(`${release}: timed out after ${limitMs / 1000} s; stopping it`)
      stopRoot(root, child)
    }, limitMs)
    const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? sig)))
    clearTimeout(timer)
    await new Promise((res) => out.end(res))
    stopLoads(root)

    // Judge what the session recorded.
    const fo = join(root, 'root', 'fresh-out')
    const {steps, ready, done} = parseMarkers(text)
    row.steps = steps
    row.total_s = Math.round((Date.now() - started) / 1000)
    row.setup_s = ready?.s ?? null
    const step = (n) => steps.find((s) => s.name === n)
    const problem = (p) => row.problems.push(p)
    if (timedOut) problem(`timed out after ${row.limit_s} s${budgetMs ? ' (--budget)' : ''}`)
    if (!done && !timedOut) problem(`the session did not finish (exit ${code})`)

    if (release === 'trixie') {
      if (step('provision')?.rc !== 0) problem(`deploy/lima/provision.sh failed (exit ${step('provision')?.rc})`)
    } else {
      if (step('get-repo')?.rc !== 0) problem('getting git and the clone failed')
      const first = step('readme-1-first')
      const msg = read(join(fo, 'readme-1-first.stderr')).trim().split('\n').filter(Boolean)
      row.node_message = msg.at(-1) ?? null
      if (first?.rc === 0) problem("bin/setup did not stop at Debian 12's Node 18")
      else if (!/^setup: Node\.js >= [\d.]+ is needed .*nodejs\.org/.test(row.node_message ?? ''))
        problem(`bin/setup's last line is not the one-line Node advice: ${row.node_message}`)
      if (step('node')?.rc !== 0) problem("the README's Node steps failed")
    }
    const load = step('readme-1')
    const loadOut = read(join(fo, 'readme-1.stdout'))
    const loadErr = read(join(fo, 'readme-1.stderr'))
    row.load = {
      rc: load?.rc ?? null,
      events: (loadOut.match(/\[prog\d\]/g) ?? []).length,
      summary: /^Summary: .*$/m.exec(loadErr)?.[0] ?? null,
    }
    if (load?.rc !== 0) problem(`bin/setup && bin/run.js load exited ${load?.rc}: ${loadErr.trim().split('\n').at(-1)}`)
    else if (!['prog1', 'prog2', 'prog3'].every((p) => loadOut.includes(`[${p}]`)))
      problem('load printed no whole exec (prog1, prog2, prog3)')
    else if (!row.load.summary) problem('load printed no Summary line after Ctrl-C')

    if (suiteIn.has(release)) {
      const t = step('readme-2')
      const testLog = read(join(fo, 'npm-test.log'))
      const counts = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(testLog)
      row.tests = counts
        ? {passed: +counts[1], failed: +counts[2], skipped: +counts[3], s: t?.s ?? null}
        : {passed: null, failed: null, skipped: null, s: t?.s ?? null}
      row.failing = [...new Set([...testLog.matchAll(/^\s*✖ (.+?)(?: \(\d[\d.]*ms\))?$/gm)].map((m) => m[1]))].slice(
        0,
        40,
      )
      if (t?.rc !== 0) problem(`npm test exited ${t?.rc}${counts ? '' : ' before the suite reported'}`)
    }

    const versions = read(join(fo, 'versions.txt'))
    const v = (k) => new RegExp(`^${k} (.*)$`, 'm').exec(versions)?.[1]?.trim() || null
    row.versions = {
      debian: v('debian'),
      node: v('node'),
      npm: v('npm'),
      bpftool: /bpftool (v[\d.]+)/.exec(v('bpftool') ?? '')?.[1] ?? null,
      libbpf: /libbpf (v[\d.]+)/.exec(v('bpftool') ?? '')?.[1] ?? null,
      clang: /version ([\d.]+)/.exec(v('clang') ?? '')?.[1] ?? null,
    }
    const base = readTsv(join(fo, 'dpkg-base.tsv'))
    const repo = readTsv(join(fo, 'dpkg-repo.tsv'))
    const setup = readTsv(join(fo, 'dpkg-setup.tsv'))
    const end = readTsv(join(fo, 'dpkg-end.tsv'))
    // What the README's way in installed: from the clone (Debian 12: after git) to the end of
    // the first command (bin/setup's packages, and on Debian 12 the Node steps' curl and xz-utils).
    const viaSetup = installedBetween(repo.size ? repo : base, setup.size ? setup : end)
    row.installed = {
      before_setup: repo.size ? installedBetween(base, repo).map((p) => p.pkg) : [],
      debs: viaSetup.length,
      debs_mib: Math.round(viaSetup.reduce((a, p) => a + p.kib, 0) / 1024),
      packages: viaSetup.map((p) => `${p.pkg}=${p.version}`),
      after_setup: installedBetween(setup, end).map((p) => p.pkg),
      node_from:
        release === 'trixie' ? "Debian's nodejs + npm (bin/setup)" : `${nodeSteps.file} in /usr/local (README)`,
      npm_packages: countNpmPackages(join(root, 'root', 'tailcalls')),
    }
    row.ok = row.problems.length === 0
  } catch (e) {
    row.problems.push(e.message)
  } finally {
    if (!o.keep) {
      const r = spawnSync('rm', ['-rf', '--one-file-system', root])
      if (r.status !== 0) row.problems.push(`could not remove ${root}: ${r.stderr}`)
    } else row.kept = root
    liveRoots.delete(root)
  }
  log(`${release}: ${row.ok ? 'PASS' : `FAIL: ${row.problems.join('; ')}`}`)
  return row
}

function countNpmPackages(dir) {
  try {
    const lock = JSON.parse(readFileSync(join(dir, 'node_modules', '.package-lock.json'), 'utf8'))
    return Object.keys(lock.packages ?? {}).filter((k) => k.startsWith('node_modules/')).length
  } catch {
    return null
  }
}

// A load the session started runs in its own process group (it got Ctrl-C as a terminal gives
// it): if the session was cut short, that group is stopped here, by the id the session wrote.
function stopLoads(root) {
  for (const name of ['readme-1-first', 'readme-1']) {
    const f = join(root, 'root', 'fresh-out', `${name}.pgid`)
    const pgid = Number(read(f).trim())
    if (pgid > 1) {
      try {
        process.kill(-pgid, 'SIGINT')
      } catch {
        // Gone already.
      }
    }
  }
}

function stopRoot(root, child) {
  stopLoads(root)
  killTracked(child, 'SIGTERM')
  setTimeout(() => killTracked(child, 'SIGKILL'), 15_000).unref()
}

// ---------------------------------------------------------------------------
// Report.

function table(rows) {
  const head = ['release', 'node', 'bpftool / libbpf', 'set-up', 'load', 'npm test', 'tests', 'installed', 'result']
  const body = rows.map((r) => [
    `${r.name} (${r.release})`,
    r.versions?.node ?? '-',
    r.versions?.bpftool ? `${r.versions.bpftool} / ${r.versions.libbpf}` : '-',
    r.setup_s != null ? `${r.setup_s} s` : '-',
    r.load ? `${r.load.events} events, exit ${r.load.rc}` : '-',
    r.tests?.s != null ? `${Math.round(r.tests.s)} s` : '-',
    r.tests?.passed != null ? `${r.tests.passed} passed, ${r.tests.failed} failed, ${r.tests.skipped} skipped` : '-',
    r.installed
      ? `${r.installed.debs} debs (${r.installed.debs_mib} MiB), ${r.installed.npm_packages ?? '?'} npm`
      : '-',
    r.ok ? 'PASS' : 'FAIL',
  ])
  const md = [
    `| ${head.join(' | ')} |`,
    `| ${head.map(() => '---').join(' | ')} |`,
    ...body.map((b) => `| ${b.join(' | ')} |`),
  ].join('\n')
  const w = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells) => cells.map((c, i) => c.padEnd(w[i])).join('  ')
  const text = [line(head), line(w.map((n) => '-'.repeat(n))), ...body.map(line)].join('\n')
  return {md, text}
}

// ---------------------------------------------------------------------------

// Unpacked roots and the bare repository, removed on the way out, also after SIGINT/SIGTERM (their
// mounts live in the sessions' own mount namespaces, gone once those processes are).
const liveRoots = new Set()
const enterScript = join(cache, `enter-${process.pid}.sh`)
function removeLive() {
  for (const p of liveRoots) spawnSync('rm', ['-rf', '--one-file-system', p])
  liveRoots.clear()
}

let stopping = false
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    if (stopping) return
    stopping = true
    log(`${sig}: stopping`)
    for (const root of liveRoots) stopLoads(root)
    killAll('SIGTERM')
    void waitAllExited(15_000).then(() => {
      killAll('SIGKILL')
      removeLive()
      process.exit(130)
    })
  })
}

async function main() {
  await ensureDebootstrap()
  mkdirSync(outDir, {recursive: true})
  const mirror = debianArchiveUri()
  const nodeSteps = releases.includes('bookworm') ? readmeNodeSteps() : null

  // The checkout's HEAD as a bare repository with one branch, `main`: what the root clones.
  const head = (await runOk('git', ['-C', REPO, 'rev-parse', 'HEAD'])).stdout.trim()
  const dirty = (await run('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'])).stdout.trim()
  if (dirty) log('note: the checkout has uncommitted changes; the fresh roots clone HEAD without them')
  // bash reads a script as it runs it: a private copy, so that editing the checkout's enter.sh
  // during a run cannot change what a running session does next.
  mkdirSync(cache, {recursive: true})
  writeFileSync(enterScript, readFileSync(join(HERE, 'enter.sh')))
  liveRoots.add(enterScript)
  const bare = join(cache, `repo-${process.pid}.git`)
  liveRoots.add(bare)
  rmSync(bare, {recursive: true, force: true})
  await runOk('git', ['init', '-q', '--bare', '-b', 'main', bare])
  await runOk('git', ['-C', REPO, 'push', '-q', bare, `${head}:refs/heads/main`])

  const rows = []
  try {
    const queue = [...releases]
    const worker = async () => {
      while (queue.length) {
        const r = queue.shift()
        rows.push(await runRelease(r, {mirror, bare, nodeSteps}))
      }
    }
    await Promise.all(Array.from({length: Math.min(jobs, releases.length)}, worker))
  } finally {
    // The bare repository and the private enter.sh (each release removed its own root already).
    removeLive()
  }
  rows.sort((a, b) => releases.indexOf(a.release) - releases.indexOf(b.release))

  const {md, text} = table(rows)
  console.log(text)
  const result = {
    commit: head,
    host_kernel: osRelease(),
    started: new Date(t0).toISOString(),
    wall_s: Math.round((Date.now() - t0) / 1000),
    jobs,
    cold: o.cold,
    node_standin: nodeSteps
      ? {
          replaces: nodeSteps.url,
          ...(rows.find((r) => r.node_standin)?.node_standin ?? {}),
          why: 'nodejs.org is not reachable from here: the same release of Node, in its layout, stands in',
        }
      : null,
    rows,
  }
  writeFileSync(join(outDir, 'fresh.json'), JSON.stringify(result, null, 2) + '\n')
  writeFileSync(join(outDir, 'fresh.md'), md + '\n')
  console.log(
    `TAILCALLS_FRESH ${JSON.stringify({wall_s: result.wall_s, rows: rows.map((r) => ({release: r.release, ok: r.ok, setup_s: r.setup_s, tests: r.tests}))})}`,
  )
  for (const r of rows) {
    for (const p of r.problems) console.error(`${r.release}: ${p}`)
    if (r.failing?.length) console.error(`${r.release}: failing tests:\n  ${r.failing.join('\n  ')}`)
  }
  const failed = rows.filter((r) => !r.ok).map((r) => r.release)
  console.log(`fresh machines: ${rows.length - failed.length} passed, ${failed.length} failed (${result.wall_s} s)`)
  if (failed.length) {
    console.error(`fresh-machine test FAILED on: ${failed.join(', ')}`)
    process.exit(1)
  }
}

main().catch((e) => {
  console.error(`test/fresh/run.mjs: ${e.message}`)
  killAll('SIGKILL')
  process.exit(1)
})
