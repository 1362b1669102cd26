/**
 * Small /proc files read into one reused buffer: open + read + close, without readFileSync's
 * fstat, allocation and decoding. Listing 1,000 programs reads 1,000 fdinfo files (and the pid
 * table reads one per BPF fd on the machine), so this is on the hot path.
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
      const n = readSync(fd, buf, len, buf.length - len, null)
      if (n <= 0) break
      len += n
      if (len === buf.length) break
    }

    return buf.toString('latin1', 0, len)
  } catch (error) {
    if (isProcGone(error)) return undefined
    throw error
  } finally {
    closeSync(fd)
  }
}

/** The integer after `key:` at the start of a line of `text`, or undefined. */
export function fieldInt(text: string, key: string): number | undefined {
  let at: number
  if (text.startsWith(`${key}:`)) {
    at = 0
  } else {
    const i = text.indexOf(`\n${key}:`)
    if (i === -1) return undefined
    at = i + 1
  }

  const value = Number.parseInt(text.slice(at + key.length + 1, at + key.length + 40).trim(), 10)
  return Number.isNaN(value) ? undefined : value
}
