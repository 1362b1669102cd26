/**
 * Small /proc files read into one reused buffer: open + read + close, without readFileSync's
 * fstat, allocation and decoding. Listing 1,000 programs reads 1,000 fdinfo files (and the pid
 * table reads one per BPF fd on the machine), so this is on the hot path.
 */
import {closeSync, openSync, readSync} from 'node:fs'

const buf = Buffer.allocUnsafe(16_384)

/** The file's text (first 16 KiB: fdinfo files are far smaller), or undefined if unreadable. */
export function readProcFile(path: string): string | undefined {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return undefined
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
  } catch {
    return undefined
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
