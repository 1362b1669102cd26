// The CLI run as an unprivileged user: uid/gid 65534, no groups, no capabilities unless asked
// (setpriv). A root user's checkout may sit where that user cannot read it — a clone under /root
// (mode 700) on a fresh Debian — so the child runs from a world-readable copy of what an install
// holds (package.json's `files`, the production node_modules) when the checkout is out of its
// reach. The copy and the child's HOME are removed when the test process exits.
import {execFileSync} from 'node:child_process'
import {chmodSync, cpSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {BIN, type CliResult, ROOT, runCli} from './cli.js'

const UID = '65534'
const setprivUser = ['--reuid=' + UID, '--regid=' + UID, '--clear-groups']

let tree: string | undefined
const temps: string[] = []
process.on('exit', () => {
  for (const dir of temps) rmSync(dir, {force: true, recursive: true})
})

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  temps.push(dir)
  chmodSync(dir, 0o755)
  return dir
}

/** Whether uid 65534 can read the checkout's entry point (every folder above it searchable). */
function checkoutReadable() {
  try {
    execFileSync('setpriv', [...setprivUser, '--inh-caps=-all', 'test', '-r', BIN], {stdio: 'ignore'})
    return true
  } catch {
    return false
  }
}

/** Copy what an installed package holds, plus the production dependencies the lock file names. */
function readableCopy() {
  const dir = tempDir('tailcalls-nobody-tree-')
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
  for (const entry of ['package.json', ...pkg.files]) cpSync(join(ROOT, entry), join(dir, entry), {recursive: true})
  const lock: {packages: Record<string, {dev?: boolean; optional?: boolean}>} = JSON.parse(
    readFileSync(join(ROOT, 'package-lock.json'), 'utf8'),
  )
  for (const [path, meta] of Object.entries(lock.packages)) {
    if (!path.startsWith('node_modules/') || meta.dev) continue
    try {
      cpSync(join(ROOT, path), join(dir, path), {recursive: true})
    } catch (error) {
      // Optional dependencies for other platforms (koffi's, say) are in the lock, not on disk.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !meta.optional) throw error
    }
  }

  execFileSync('chmod', ['-R', 'a+rX', dir])
  return dir
}

/** The folder the unprivileged child runs the CLI from: the checkout, or a readable copy of it. */
export function nobodyTree(): string {
  tree ??= checkoutReadable() ? ROOT : readableCopy()
  return tree
}

let home: string | undefined
/** Run `bin/run.js ARGS` as uid 65534 with `caps` (setpriv syntax: '-all', '+bpf,+perfmon'). */
export function runAsNobody(
  args: string[],
  {caps = '-all', env = {}}: {caps?: string; env?: Record<string, string | undefined>} = {},
): Promise<CliResult> {
  const root = nobodyTree()
  // oclif reads its data and cache folders under HOME; nobody cannot use root's.
  home ??= tempDir('tailcalls-nobody-home-')
  chmodSync(home, 0o777)
  const ambient = caps === '-all' ? [] : [`--ambient-caps=${caps}`]
  return runCli(args, {
    command: 'setpriv',
    cwd: root,
    env: {HOME: home, XDG_CACHE_HOME: home, XDG_CONFIG_HOME: home, XDG_DATA_HOME: home, ...env},
    prefix: [...setprivUser, `--inh-caps=${caps}`, ...ambient, process.execPath, join(root, 'bin', 'run.js')],
  })
}
