// Host tools the matrix needs, installed with apt-get when missing.

import {existsSync} from 'node:fs'
import {run} from './proc.mjs'

// Debian package -> files that prove it is installed.
export const NEEDED = [
  {pkg: 'qemu-system-x86', files: ['/usr/bin/qemu-system-x86_64']},
  {pkg: 'busybox-static', files: ['/bin/busybox'], dpkg: true},
  {pkg: 'cpio', files: ['/usr/bin/cpio']},
  {pkg: 'kmod', files: ['/usr/sbin/depmod', '/usr/sbin/modprobe']},
  {pkg: 'xz-utils', files: ['/usr/bin/xz']},
  {pkg: 'zstd', files: ['/usr/bin/zstd']},
]

async function dpkgInstalled(pkg) {
  const r = await run('dpkg-query', ['-W', '-f=${Status}', pkg]).catch(() => null)
  return !!r && r.code === 0 && r.stdout.includes('install ok installed')
}

export async function missingPackages() {
  const missing = []
  for (const n of NEEDED) {
    const filesOk = n.files.every((f) => existsSync(f))
    // /bin/busybox may come from the dynamic `busybox` package; the initramfs needs the static one.
    const ok = filesOk && (!n.dpkg || (await dpkgInstalled(n.pkg)))
    if (!ok) missing.push(n.pkg)
  }
  return missing
}

/** Install missing tools with apt-get. Returns the list installed; throws with a reason on failure. */
export async function ensureTools({log, install = true}) {
  const missing = await missingPackages()
  if (missing.length === 0) return []
  if (!install)
    throw new Error(`missing Debian packages: ${missing.join(' ')} (run without --no-install, or apt-get install them)`)
  if (process.getuid && process.getuid() !== 0) {
    throw new Error(
      `missing Debian packages: ${missing.join(' ')}; installing needs root: sudo apt-get install ${missing.join(' ')}`,
    )
  }
  log(`installing host tools with apt-get: ${missing.join(' ')}`)
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  const upd = await run('apt-get', ['update', '-qq'], {env, timeoutMs: 600_000})
  if (upd.code !== 0)
    log(`apt-get update failed (continuing with the lists at hand): ${upd.stderr.trim().split('\n').pop()}`)
  const inst = await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    env,
    timeoutMs: 1_200_000,
  })
  if (inst.code !== 0) {
    throw new Error(
      `apt-get install ${missing.join(' ')} failed: ${(inst.stderr || inst.stdout).trim().split('\n').slice(-3).join(' | ')}`,
    )
  }
  const still = await missingPackages()
  if (still.length) throw new Error(`still missing after apt-get install: ${still.join(' ')}`)
  return missing
}
