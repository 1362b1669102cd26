/**
 * Small /proc files read into one reused buffer: open + read + close, without readFileSync's
 * fstat, allocation and decoding. Listing 1,000 programs reads 1,000 fdinfo files (and the pid
 * table reads one per BPF fd on the machine), so this is on the hot path.
 *
 * The files read here are fdinfo files: the kernel writes each as one seq_file record and hands
 * it over whole in the first read when it fits the buffer, so a read shorter than asked for is
 * the end of the file (no second read to see 0).
 */
import {closeSync, openSync, readSync} from 'node:fs'

import {isErrno} from '../sys/error.js'

const buf = Buffer.allocUnsafe(16_384)

/**
 * True for the answers /proc gives about something that went away: ENOENT (the process exited
 * or closed the fd: /proc/<pid>/fd/N, fdinfo/N, a whole /proc/<pid>), and ESRCH, which some
 * /proc/<pid> files answer instead when their task has exited while the file was open (the
 * kernel's comm and stat readers, for instance).
 */
export function isProcGone(error: unknown): boolean {
  return isErrno(error, 'ENOENT', 'ESRCH')
}

/**
 * The file's text (first 16 KiB: fdinfo files are far smaller), or undefined when it is gone
 * (isProcGone). Any other failure is thrown.
 */
export function tryReadProcFile(path: string): string | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    if (isProcGone(error)) return undefined
    throw error
  }

  try {
    let len = 0
    for (;;) {
      const want = buf.length - len
      const n = readSync(fd, buf, len, want, null)
      len += Math.max(n, 0)
      if (n < want || len === buf.length) break
    }

    return buf.toString('latin1', 0, len)
  } catch (error) {
    if (isProcGone(error)) return undefined
    throw error
  } finally {
    closeSync(fd)
  }
}

/**
 * The integer after `key:` at the start of a line of `text`, or undefined. Read in place (no
 * substrings): a listing calls this twice per object.
 */
export function fieldInt(text: string, key: string): number | undefined {
  let at = text.indexOf(key)
  while (at !== -1 && ((at > 0 && text.charCodeAt(at - 1) !== 0x0a) || text.charCodeAt(at + key.length) !== 0x3a)) {
    at = text.indexOf(key, at + 1)
  }

  if (at === -1) return undefined
  let i = at + key.length + 1
  while (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09) i++
  const negative = text.charCodeAt(i) === 0x2d
  if (negative) i++
  let value = 0
  let digits = 0
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i), digits++)
    value = value * 10 + (c - 0x30)
  if (digits === 0) return undefined
  return negative ? -value : value
}

/**
 * /proc/self/fdinfo/<fd> of the BPF fds a listing opens one after another: open by id, read,
 * close, next. Each object then gets the same fd number, so the fdinfo file is kept open between
 * objects and read again from offset 0, which makes the kernel look the fd up anew: one pread
 * instead of open, read and close per object. The text counts only when its id line
 * (`prog_id:`, `map_id:`, `link_id:`) names the object we hold; otherwise (another fd number, a
 * kernel without that line) the file is opened afresh, as tryReadProcFile does. `close()` when
 * the listing ends.
 */
export class OwnFdinfo {
  private handle = -1
  private handleFd = -1

  constructor(private readonly idKey: string) {}

  /** The fdinfo text of our fd `fd`, whose object has id `id`; undefined when there is none (no /proc). */
  read(fd: number, id: number): string | undefined {
    if (this.handleFd === fd) {
      const text = this.pread()
      if (text !== undefined && fieldInt(text, this.idKey) === id) return text
    }

    this.close()
    let handle: number
    try {
      handle = openSync(`/proc/self/fdinfo/${fd}`, 'r')
    } catch (error) {
      if (isProcGone(error)) return undefined
      throw error
    }

    this.handle = handle
    const text = this.pread()
    if (text !== undefined && fieldInt(text, this.idKey) === id) this.handleFd = fd
    else this.close()
    return text
  }

  close(): void {
    if (this.handle >= 0) closeSync(this.handle)
    this.handle = -1
    this.handleFd = -1
  }

  private pread(): string | undefined {
    try {
      let len = 0
      for (;;) {
        const want = buf.length - len
        const n = readSync(this.handle, buf, len, want, len)
        len += Math.max(n, 0)
        if (n < want || len === buf.length) break
      }

      return buf.toString('latin1', 0, len)
    } catch (error) {
      if (isProcGone(error)) return undefined
      throw error
    }
  }
}
