/**
 * Pin paths per object id (bpftool's `-f/--bpffs`): walk every bpf filesystem mount listed
 * in /proc/mounts, open each regular file with bpf_obj_get, keep those of the wanted kind.
 * Symlinks are not followed (bpftool's nftw FTW_PHYS). An id can have several paths.
 */
import {type Dirent, opendirSync, readFileSync} from 'node:fs'

import {SysError, isVanished} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {type ObjectKind, closeFd, fdKind} from './ids.js'

/** id → paths, in walk order. */
export type PinTable = Map<number, string[]>

export function bpffsMounts(): string[] {
  // /proc/mounts always exists where /proc is mounted; without /proc nothing else works either.
  const text = readFileSync('/proc/mounts', 'utf8')

  const out: string[] = []
  for (const line of text.split('\n')) {
    const [, dir, type] = line.split(' ')
    // /proc/mounts escapes spaces etc. as octal (\040).
    if (type?.startsWith('bpf'))
      out.push(dir.replaceAll(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
  }

  return out
}

function idOfPinnedFd(fd: number): number {
  // id is at offset 4 of every bpf_*_info struct; 16 bytes is enough for all of them.
  const info = Buffer.alloc(16)
  const ret = sys().libbpf.bpf_obj_get_info_by_fd(fd, info, [info.length])
  if (ret < 0) throw new SysError('BPF_OBJ_GET_INFO_BY_FD', -ret, 'reading the id of a pinned object')
  return info.readUInt32LE(4)
}

const SLASH = Buffer.from('/')
const NUL = Buffer.from([0])

/**
 * Names are walked as bytes: bpffs accepts any byte but '/' and NUL in a name, and a name that is
 * not UTF-8 would be mangled by a string path (and its pin silently missed). Callers show the
 * path decoded (invalid bytes as U+FFFD) but open it by its real bytes.
 */
function walk(dir: Buffer, visit: (path: Buffer) => void, depth = 0): void {
  if (depth > 64) return
  let d
  try {
    // opendir (not readdir) keeps the filesystem's own order, as nftw does.
    // 'buffer' works at run time (Dir yields Buffer names); @types/node only lists string encodings.
    d = opendirSync(dir, {encoding: 'buffer' as BufferEncoding})
  } catch (error) {
    if (isVanished(error)) return // removed while we walked
    throw error
  }

  try {
    let e: Dirent<Buffer> | null
    while ((e = d.readSync() as Dirent<Buffer> | null) !== null) {
      const path = Buffer.concat([dir, SLASH, e.name])
      if (e.isDirectory()) walk(path, visit, depth + 1)
      else if (e.isFile()) visit(path)
    }
  } finally {
    d.closeSync()
  }
}

/** Every pinned object of `kind`: id → paths. */
export function buildPinTable(kind: ObjectKind): PinTable {
  const table: PinTable = new Map()
  const {libbpf} = sys()
  for (const mount of bpffsMounts()) {
    walk(Buffer.from(mount.replace(/\/+$/, '')), (bytes) => {
      // koffi passes a NUL-terminated Buffer as the char * unchanged.
      const fd = libbpf.bpf_obj_get(Buffer.concat([bytes, NUL]) as unknown as string)
      const path = bytes.toString('utf8')
      if (fd < 0) {
        const error = new SysError('bpf_obj_get', -fd, `opening pinned object ${path}`)
        if (isVanished(error)) return // unpinned while we walked
        throw error
      }

      try {
        if (fdKind(fd) !== kind) return
        const id = idOfPinnedFd(fd)
        const paths = table.get(id)
        if (paths) paths.push(path)
        else table.set(id, [path])
      } finally {
        closeFd(fd)
      }
    })
  }

  return table
}
