// Fetch a Debian kernel package by name into the cache, unpack it with dpkg -x
// and build a small initramfs for it (busybox + the 9p/virtio/overlay modules).
//
// apt is driven with its own sources dir, lists dir and cache dir under the
// runner's cache, so the machine's /etc/apt and /var/lib/apt are never changed.

import {createHash} from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import {join, relative, dirname} from 'node:path'
import {fileURLToPath} from 'node:url'
import {run, runOk} from './proc.mjs'

const HERE = dirname(fileURLToPath(import.meta.url))
export const GUEST_INIT = join(HERE, '..', 'guest', 'init')
const BUSYBOX = '/bin/busybox'
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg'
const INITRAMFS_FORMAT = 3 // bump to force a rebuild of every cached initramfs

// Which Debian suite carries which kernel series.  `linux-image-amd64` (the
// generic flavour; the -cloud- flavour has no 9p) is resolved in that suite to
// the concrete package, e.g. linux-image-6.1.0-47-amd64.
export const DEFAULT_KERNELS = {
  '5.10': {suite: 'bullseye'},
  '6.1': {suite: 'bookworm'},
  '6.12': {suite: 'trixie'},
}

// Modules the guest needs before it can mount its root.  Their dependencies are
// added by modprobe --show-depends, in load order.  Optional ones may be absent.
const WANTED_MODULES = [
  {name: 'virtio_pci'},
  {name: 'virtio_rng', optional: true},
  {name: '9pnet_virtio'},
  {name: '9p'},
  {name: 'overlay'},
]

/** Parse "LABEL[=SUITE[/PACKAGE]]" into { label, suite, pkg }. "host" is the host itself. */
export function parseKernelSpec(spec) {
  const [label, rest] = spec.split('=', 2)
  if (label === 'host') return {label: 'host', host: true}
  let suite = DEFAULT_KERNELS[label]?.suite
  let pkg
  if (rest) {
    const [s, p] = rest.split('/', 2)
    if (s) suite = s
    if (p) pkg = p
  }
  if (!suite) throw new Error(`kernel "${label}": no default Debian suite; say ${label}=SUITE[/PACKAGE]`)
  if (!/^[a-z0-9-]+$/.test(suite)) throw new Error(`kernel "${label}": bad suite name "${suite}"`)
  if (pkg && !/^linux-image-[A-Za-z0-9.+~-]+$/.test(pkg))
    throw new Error(`kernel "${label}": bad package name "${pkg}"`)
  return {label, suite, pkg}
}

// ---------------------------------------------------------------------------
// The Debian archive the machine's own apt is set up with.

function parseSources() {
  const out = []
  const files = []
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list')
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const f of readdirSync('/etc/apt/sources.list.d')) files.push(join('/etc/apt/sources.list.d', f))
  }
  for (const f of files) {
    let text
    try {
      text = readFileSync(f, 'utf8')
    } catch {
      continue
    }
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k) => stanza.match(new RegExp(`^${k}:\\s*(.+)$`, 'mi'))?.[1].trim()
        const uris = field('URIs')
        const suites = field('Suites')
        const types = field('Types') ?? 'deb'
        if (!uris || !suites || !types.split(/\s+/).includes('deb')) continue
        for (const uri of uris.split(/\s+/)) out.push({uri, suites: suites.split(/\s+/)})
      }
    } else if (f.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = line.match(/^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/)
        if (m) out.push({uri: m[1], suites: [m[2]]})
      }
    }
  }
  return out
}

const DEBIAN_CODENAMES = ['buster', 'bullseye', 'bookworm', 'trixie', 'forky', 'sid']

/** The URI of the Debian archive (not -security, not a third-party repo) in the machine's apt sources. */
export function debianArchiveUri() {
  if (process.env.TAILCALLS_VM_DEBIAN_MIRROR) return process.env.TAILCALLS_VM_DEBIAN_MIRROR
  for (const {uri, suites} of parseSources()) {
    if (!/\/debian\/?$/.test(uri)) continue
    if (suites.some((s) => DEBIAN_CODENAMES.includes(s.split('-')[0]) && !s.includes('security'))) {
      return uri.replace(/\/$/, '')
    }
  }
  throw new Error("no Debian archive found in the machine's apt sources; set TAILCALLS_VM_DEBIAN_MIRROR to its URI")
}

// ---------------------------------------------------------------------------
// apt with a private state per suite.

function aptDirs(cache, suite) {
  const base = join(cache, 'apt', suite)
  const d = {
    base,
    sources: join(base, 'sources'),
    lists: join(base, 'lists'),
    cache: join(base, 'cache'),
  }
  for (const p of [d.sources, join(d.lists, 'partial'), join(d.cache, 'archives', 'partial')])
    mkdirSync(p, {recursive: true})
  return d
}

function aptOpts(d) {
  return [
    '-o',
    'Dir::Etc::SourceList=/dev/null',
    '-o',
    `Dir::Etc::SourceParts=${d.sources}`,
    '-o',
    `Dir::State::Lists=${d.lists}`,
    '-o',
    `Dir::Cache=${d.cache}`,
    '-o',
    'Dir::Etc::Preferences=/dev/null',
    '-o',
    `Dir::Etc::PreferencesParts=${d.sources}`, // holds no .pref file: no pinning from the machine
    '-o',
    'APT::Architectures::=amd64',
    '-o',
    'Acquire::Languages=none',
    '-o',
    'APT::Sandbox::User=root',
    '-o',
    'Debug::NoLocking=1', // our own private dirs; never wait on the machine's apt lock
  ]
}

const LISTS_MAX_AGE_MS = 6 * 3600 * 1000

// apt's messages name the archive's URI; reports say "the archive" instead.
const noUri = (text) => text.replace(/\bhttps?:\/\/\S+/g, '<archive>')

async function aptUpdate(cache, suite, {refresh, log}) {
  const d = aptDirs(cache, suite)
  const uri = debianArchiveUri()
  const signedBy = existsSync(KEYRING) ? `Signed-By: ${KEYRING}\n` : ''
  writeFileSync(
    join(d.sources, 'tailcalls-vm.sources'),
    `Types: deb\nURIs: ${uri}\nSuites: ${suite}\nComponents: main\n${signedBy}`,
  )
  const stamp = join(d.base, 'updated')
  const fresh = existsSync(stamp) && Date.now() - statSync(stamp).mtimeMs < LISTS_MAX_AGE_MS
  if (fresh && !refresh) return {d, updated: false}
  log(`apt-get update (private lists) for suite ${suite}`)
  const r = await run('apt-get', [...aptOpts(d), 'update', '-q'], {timeoutMs: 300_000})
  const text = (r.stdout + r.stderr).trim()
  // apt-get update exits 0 even when a suite does not exist; look for its errors.
  const bad =
    r.code !== 0 ||
    r.timedOut ||
    /^(E:|Err:)/m.test(text) ||
    /^W: .*(does not have a Release file|Failed to fetch)/m.test(text)
  if (bad) {
    const why = r.timedOut
      ? 'timed out'
      : text
          .split('\n')
          .filter((l) => /^(E|W|Err):/.test(l))
          .slice(0, 3)
          .join(' | ') || `exit ${r.code}`
    if (!existsSync(stamp)) rmSync(d.base, {recursive: true, force: true}) // never worked: leave no empty state behind
    return {d, updated: false, error: `apt-get update for suite "${suite}" failed: ${noUri(why)}`}
  }
  writeFileSync(stamp, new Date().toISOString() + '\n')
  return {d, updated: true}
}

async function resolvePackage(d, suite) {
  const r = await run('apt-cache', [...aptOpts(d), 'show', '--no-all-versions', 'linux-image-amd64'])
  if (r.code !== 0)
    throw new Error(`linux-image-amd64 not found in suite "${suite}": ${r.stderr.trim().split('\n').pop()}`)
  const dep = r.stdout.match(/^Depends:\s*(.+)$/m)?.[1] ?? ''
  const pkg = dep
    .split(/,\s*/)
    .map((x) => x.split(/\s/)[0])
    .find((x) => /^linux-image-\d/.test(x))
  if (!pkg) throw new Error(`cannot resolve linux-image-amd64 in suite "${suite}" (Depends: ${dep})`)
  return pkg
}

function findDeb(dir, pkg) {
  if (!existsSync(dir)) return null
  const f = readdirSync(dir).find((n) => n.startsWith(`${pkg}_`) && n.endsWith('.deb'))
  return f ? join(dir, f) : null
}

/**
 * Make sure the kernel package for `spec` is in the cache and unpacked.
 * Returns { pkg, deb, root, release, vmlinuz, moddir }.  Throws with a reason.
 */
export async function fetchKernel(spec, {cache, refresh = false, log}) {
  const {label, suite} = spec
  const debs = join(cache, 'debs')
  mkdirSync(debs, {recursive: true})
  const pinFile = join(cache, 'apt', suite, 'resolved-linux-image-amd64')

  const up = await aptUpdate(cache, suite, {refresh, log})
  let pkg = spec.pkg
  if (!pkg) {
    if (up.error) {
      // Offline or archive trouble: fall back to the last package resolved in this suite, if cached.
      const prev = existsSync(pinFile) ? readFileSync(pinFile, 'utf8').trim() : null
      if (prev && findDeb(debs, prev)) {
        log(`${up.error}; using the cached ${prev}`)
        pkg = prev
      } else throw new Error(up.error)
    } else {
      pkg = await resolvePackage(up.d, suite)
      const prev = existsSync(pinFile) ? readFileSync(pinFile, 'utf8').trim() : null
      writeFileSync(pinFile, pkg + '\n')
      if (prev && prev !== pkg && /^linux-image-[A-Za-z0-9.+~-]+$/.test(prev)) {
        // Debian moved the suite to a newer kernel ABI: drop the superseded one from the cache.
        log(`suite ${suite} moved from ${prev} to ${pkg}; removing ${prev} from the cache`)
        rmSync(join(cache, 'kernels', prev), {recursive: true, force: true})
        const old = findDeb(debs, prev)
        if (old) rmSync(old, {force: true})
      }
    }
  }
  if (!pkg.endsWith('-amd64') || pkg.includes('-cloud-') || pkg.includes('-rt-')) {
    throw new Error(`package ${pkg} is not the generic -amd64 flavour (the cloud kernel has no 9p)`)
  }
  const kver = pkg.replace(/^linux-image-/, '')
  if (!spec.pkg && !kver.startsWith(`${label}.`) && !kver.startsWith(`${label}-`)) {
    throw new Error(
      `suite "${suite}" resolves linux-image-amd64 to ${pkg}, not a ${label} kernel; name the package: ${label}=${suite}/linux-image-${label}…-amd64`,
    )
  }

  let deb = findDeb(debs, pkg)
  if (!deb) {
    if (up.error) throw new Error(`${up.error}; and ${pkg} is not in the cache`)
    log(`apt-get download ${pkg} (suite ${suite})`)
    // Download into a private directory and move the finished file: an interrupted
    // download never leaves a partial .deb where the next run would take it.
    const tmp = join(debs, `.download-${process.pid}-${suite}`)
    rmSync(tmp, {recursive: true, force: true})
    mkdirSync(tmp)
    const r = await run('apt-get', [...aptOpts(up.d), 'download', '-q', pkg], {cwd: tmp, timeoutMs: 900_000})
    const got = findDeb(tmp, pkg)
    if (r.code === 0 && got) renameSync(got, join(debs, got.slice(tmp.length + 1)))
    rmSync(tmp, {recursive: true, force: true})
    deb = findDeb(debs, pkg)
    if (r.code !== 0 || !deb) {
      const why = r.timedOut
        ? 'timed out'
        : (r.stderr || r.stdout)
            .trim()
            .split('\n')
            .filter((l) => /^(E|W|Err):/.test(l))
            .slice(0, 2)
            .join(' | ') || `exit ${r.code}`
      throw new Error(`cannot fetch ${pkg} from suite "${suite}": ${noUri(why)}`)
    }
  }

  const kdir = join(cache, 'kernels', pkg)
  const root = join(kdir, 'root')
  if (!existsSync(join(kdir, 'unpacked'))) {
    log(`dpkg -x ${relative(cache, deb)}`)
    const tmp = join(kdir, `root.tmp-${process.pid}`)
    rmSync(tmp, {recursive: true, force: true})
    mkdirSync(tmp, {recursive: true})
    try {
      await runOk('dpkg', ['-x', deb, tmp], {timeoutMs: 600_000})
    } catch (e) {
      rmSync(tmp, {recursive: true, force: true})
      rmSync(deb, {force: true}) // damaged: fetch it again next time
      throw new Error(`${e.message} (removed ${pkg}'s .deb from the cache)`, {cause: e})
    }
    rmSync(root, {recursive: true, force: true})
    renameSync(tmp, root)
    writeFileSync(join(kdir, 'unpacked'), deb + '\n')
  }
  const boot = join(root, 'boot')
  const vm = readdirSync(boot).find((n) => n.startsWith('vmlinuz-'))
  if (!vm) throw new Error(`${pkg}: no /boot/vmlinuz-* in the package`)
  const release = vm.slice('vmlinuz-'.length)
  // Debian moved modules to /usr/lib/modules (trixie); kmod's -d/-b look in DIR/lib/modules.
  if (!existsSync(join(root, 'lib', 'modules', release)) && existsSync(join(root, 'usr', 'lib', 'modules', release))) {
    if (!existsSync(join(root, 'lib'))) symlinkSync('usr/lib', join(root, 'lib'))
  }
  const moddir = join(root, 'lib', 'modules', release)
  if (!existsSync(moddir)) throw new Error(`${pkg}: no modules directory for ${release}`)
  return {pkg, deb, kdir, root, release, vmlinuz: join(boot, vm), moddir, config: join(boot, `config-${release}`)}
}

// ---------------------------------------------------------------------------
// initramfs

/** Module files (relative to moddir) in load order, via depmod + modprobe --show-depends. */
export async function moduleLoadOrder(k) {
  if (!existsSync(join(k.moddir, 'modules.dep.bin')) || !existsSync(join(k.kdir, 'depmod-done'))) {
    await runOk('depmod', ['-b', k.root, k.release], {timeoutMs: 300_000})
    writeFileSync(join(k.kdir, 'depmod-done'), '')
  }
  const order = []
  for (const {name, optional} of WANTED_MODULES) {
    const r = await run('modprobe', ['-d', k.root, '-S', k.release, '--show-depends', name])
    if (r.code !== 0) {
      if (optional) continue
      throw new Error(`${k.pkg}: module ${name} not available: ${r.stderr.trim()}`)
    }
    for (const line of r.stdout.split('\n')) {
      const m = line.match(/^insmod\s+(\S+)/)
      if (!m) continue // "builtin X" lines: nothing to load
      const rel = relative(k.moddir, m[1].replace(/^\/+/, '/'))
      if (rel.startsWith('..')) throw new Error(`${k.pkg}: unexpected module path ${m[1]}`)
      if (!order.includes(rel)) order.push(rel)
    }
  }
  return order
}

// newc cpio writer: enough for regular files, directories, symlinks and device nodes.
function cpioEntry(name, {mode, data = Buffer.alloc(0), rdevmajor = 0, rdevminor = 0}, ino) {
  const nameBuf = Buffer.from(name + '\0')
  const hex = (n) => n.toString(16).padStart(8, '0')
  const hdr =
    '070701' + [ino, mode, 0, 0, 1, 0, data.length, 0, 0, rdevmajor, rdevminor, nameBuf.length, 0].map(hex).join('')
  const pad = (len) => Buffer.alloc((4 - (len % 4)) % 4)
  const head = Buffer.concat([Buffer.from(hdr), nameBuf])
  return Buffer.concat([head, pad(head.length), data, pad(data.length)])
}

function buildCpio(entries) {
  const parts = []
  let ino = 1
  for (const [name, e] of entries) parts.push(cpioEntry(name, e, ino++))
  parts.push(cpioEntry('TRAILER!!!', {mode: 0}, 0))
  const buf = Buffer.concat(parts)
  return Buffer.concat([buf, Buffer.alloc((512 - (buf.length % 512)) % 512)])
}

async function moduleBytes(file) {
  if (file.endsWith('.xz')) return (await runOk('xz', ['-dc', file], {timeoutMs: 120_000, binary: true})).stdout
  if (file.endsWith('.zst')) return (await runOk('zstd', ['-dc', file], {timeoutMs: 120_000, binary: true})).stdout
  if (file.endsWith('.gz')) return (await import('node:zlib')).gunzipSync(readFileSync(file))
  return readFileSync(file)
}

/** Build (or reuse) the initramfs for kernel k. Returns { path, modules }. */
export async function buildInitramfs(k, {log}) {
  const modules = await moduleLoadOrder(k)
  const init = readFileSync(GUEST_INIT)
  const bb = statSync(BUSYBOX)
  const key = createHash('sha256')
    .update(JSON.stringify({INITRAMFS_FORMAT, modules, bb: [bb.size, bb.mtimeMs]}))
    .update(init)
    .digest('hex')
    .slice(0, 16)
  const path = join(k.kdir, `initramfs-${key}.cpio`)
  if (existsSync(path)) return {path, modules}
  log(`building initramfs for ${k.release} (${modules.length} modules)`)
  const dir = 0o040755
  const entries = [
    ['bin', {mode: dir}],
    ['sbin', {mode: dir}],
    ['dev', {mode: dir}],
    ['dev/console', {mode: 0o020600, rdevmajor: 5, rdevminor: 1}],
    ['dev/null', {mode: 0o020666, rdevmajor: 1, rdevminor: 3}],
    ['proc', {mode: dir}],
    ['sys', {mode: dir}],
    ['mnt', {mode: dir}],
    ['lib', {mode: dir}],
    ['lib/modules', {mode: dir}],
    ['bin/busybox', {mode: 0o100755, data: readFileSync(BUSYBOX)}],
    ['init', {mode: 0o100755, data: init}],
  ]
  const listed = []
  const dirs = new Set()
  for (const rel of modules) {
    const plain = rel.replace(/\.(xz|zst|gz)$/, '')
    const parts = plain.split('/')
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/')
      if (!dirs.has(d)) {
        dirs.add(d)
        entries.push([`lib/modules/${d}`, {mode: dir}])
      }
    }
    entries.push([`lib/modules/${plain}`, {mode: 0o100644, data: await moduleBytes(join(k.moddir, rel))}])
    listed.push(plain)
  }
  entries.push(['modules.list', {mode: 0o100644, data: Buffer.from(listed.join('\n') + '\n')}])
  const tmp = `${path}.tmp-${process.pid}`
  writeFileSync(tmp, buildCpio(entries))
  renameSync(tmp, path)
  // Old initramfs images of this kernel are stale now.
  for (const n of readdirSync(k.kdir)) {
    if (n.startsWith('initramfs-') && n.endsWith('.cpio') && join(k.kdir, n) !== path)
      rmSync(join(k.kdir, n), {force: true})
  }
  return {path, modules}
}
