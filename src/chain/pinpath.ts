/**
 * Where a chain may be pinned: a folder on a bpf filesystem, nowhere else.
 *
 * The path is checked before anything is written: no `..` component, a folder name that
 * bpffs accepts (no dots: bpffs reserves them) and that names the project (`tailcalls`, so
 * unload and leak checks recognise it), a parent folder that really is on bpffs once every
 * symlink is resolved, and the folder itself not a symlink. Everything after the check uses
 * the resolved path, never the user's spelling.
 */
import {existsSync, lstatSync, realpathSync, statfsSync} from 'node:fs'
import {basename, dirname, join, resolve} from 'node:path'

import {TailcallsError} from '../errors.js'
import {sys} from '../sys/ffi.js'
import {SysError, errorCode, isErrno} from '../sys/error.js'
import {BPF_FS_MAGIC} from '../sys/uapi.js'

export const BPFFS_ROOT = '/sys/fs/bpf'
export const DEFAULT_PIN_PATH = '/sys/fs/bpf/tailcalls'

/** Folder names bpffs accepts (it refuses dots) and that name the project. */
const NAME = /^[A-Za-z0-9_-]+$/

export function isBpffs(path: string): boolean {
  try {
    return statfsSync(path).type === BPF_FS_MAGIC
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false // nothing there, so no bpffs either
    throw error
  }
}

/** statfs magic numbers of filesystems a user may point at by mistake (for the error line). */
const FS_NAMES: Record<number, string> = {
  0x01_02_19_94: 'tmpfs',
  0xef_53: 'ext4',
  0x62_65_65_72: 'sysfs',
  0x9f_a0: 'proc',
  0x58_46_53_42: 'xfs',
  0x94_19_83_27: 'btrfs',
  0x79_4c_76_30: 'overlayfs',
  0x64_62_67_20: 'debugfs',
}

function fsName(path: string): string {
  try {
    const type = statfsSync(path).type
    return FS_NAMES[type] ?? `filesystem 0x${type.toString(16)}`
  } catch (error) {
    // Only words for an error line being built: a failed statfs must not replace that error.
    if (errorCode(error) === undefined) throw error
    return 'an unknown filesystem'
  }
}

/**
 * Mount bpffs at /sys/fs/bpf when it is not one (as systemd does at boot). Returns true
 * when this call mounted it. Only /sys/fs/bpf is ever mounted: other places are the
 * user's business.
 */
export function ensureBpffsMounted(): boolean {
  if (isBpffs(BPFFS_ROOT)) return false
  if (!existsSync(BPFFS_ROOT)) {
    throw new TailcallsError('kernelSupport', `${BPFFS_ROOT} does not exist, so bpffs cannot be mounted there`, {
      hint: 'this kernel lacks sysfs or CONFIG_BPF_SYSCALL; run `tailcalls doctor`',
    })
  }

  const ret = sys().libc.mount('bpf', BPFFS_ROOT, 'bpf', 0, null)
  if (ret !== 0) {
    const cause = new SysError('mount', sys().errno(), `mounting bpffs at ${BPFFS_ROOT} failed`)
    throw new TailcallsError(cause.code === 'EPERM' ? 'permission' : 'kernelSupport', cause.message, {
      cause,
      hint: `mount it yourself (mount -t bpf bpf ${BPFFS_ROOT}) or run as root`,
    })
  }

  return true
}

export interface PinDir {
  /** The folder, every symlink of its parent resolved: what all later calls use. */
  path: string
  /** Its parent folder (on bpffs). */
  parent: string
  /** The folder's own name. */
  name: string
  /** The folder exists (as a real folder). */
  exists: boolean
  /** This call mounted bpffs at /sys/fs/bpf. */
  mounted: boolean
}

export interface ResolveOptions {
  /** Mount bpffs at /sys/fs/bpf when the path is under it and it is not mounted (load --pin). */
  mount?: boolean
}

/**
 * Check a pin folder path and resolve it. Throws `usage` for a path that is not allowed,
 * `notFound` when its parent folder is missing; nothing is created.
 */
export function resolvePinDir(input: string, opts: ResolveOptions = {}): PinDir {
  const where = 'give a folder under a bpffs mount, e.g. --pin-path /sys/fs/bpf/tailcalls'
  if (!input) throw new TailcallsError('usage', 'the pin path is empty', {hint: where})
  if (input.split('/').includes('..')) {
    throw new TailcallsError('usage', `the pin path ${input} contains '..'`, {hint: `${where} (no '..' components)`})
  }

  const abs = resolve(input)
  const name = basename(abs)
  if (!NAME.test(name) || !name.includes('tailcalls')) {
    throw new TailcallsError(
      'usage',
      `the pin folder name '${name}' is not allowed: it must contain 'tailcalls' and only letters, digits, '_' and '-'`,
      {
        hint: 'bpffs refuses dots in names, and the name marks the folder as a tailcalls chain, e.g. /sys/fs/bpf/tailcalls-web',
      },
    )
  }

  let mounted = false
  if (opts.mount && (abs === BPFFS_ROOT || abs.startsWith(`${BPFFS_ROOT}/`))) mounted = ensureBpffsMounted()

  const parentInput = dirname(abs)
  let parent: string
  try {
    parent = realpathSync(parentInput)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new TailcallsError('notFound', `the folder ${parentInput} does not exist`, {
        hint:
          abs.startsWith(`${BPFFS_ROOT}/`) && !isBpffs(BPFFS_ROOT)
            ? `bpffs is not mounted at ${BPFFS_ROOT}; \`tailcalls load --pin\` mounts it`
            : `create it first (mkdir -p ${parentInput}) on a bpffs mount`,
      })
    }

    throw new TailcallsError('usage', `cannot resolve ${parentInput}: ${code}`, {hint: where})
  }

  if (!isBpffs(parent)) {
    const via = parent === parentInput ? '' : ` (${parentInput} resolves to ${parent})`
    const hint =
      abs.startsWith(`${BPFFS_ROOT}/`) && !isBpffs(BPFFS_ROOT)
        ? `bpffs is not mounted at ${BPFFS_ROOT}: mount it (mount -t bpf bpf ${BPFFS_ROOT}); \`tailcalls load --pin\` does this itself`
        : where
    throw new TailcallsError(
      'usage',
      `${parent}${via} is not on a bpf filesystem (it is on ${fsName(parent)}); pins can only live on bpffs`,
      {hint},
    )
  }

  const path = join(parent, name)
  let exists = false
  try {
    const st = lstatSync(path)
    if (st.isSymbolicLink()) {
      throw new TailcallsError('usage', `${path} is a symbolic link; refusing to follow it`, {
        hint: 'give the real folder, not a link to it',
      })
    }

    if (!st.isDirectory()) {
      throw new TailcallsError('conflict', `${path} exists and is not a folder (a pinned object?)`, {
        hint: 'choose another --pin-path; inspect it with `bpftool map show pinned` or `prog show pinned`',
      })
    }

    exists = true
  } catch (error) {
    if (error instanceof TailcallsError) throw error
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new TailcallsError('usage', `cannot inspect ${path}: ${(error as NodeJS.ErrnoException).code}`, {
        hint: where,
      })
    }
  }

  return {exists, mounted, name, parent, path}
}
