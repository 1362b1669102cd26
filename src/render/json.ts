/**
 * JSON output as bpftool writes it: compact, one trailing newline, u64 values exact.
 *
 * Every JSON the CLI prints goes through here (data on stdout, status lines and errors on
 * stderr), so every string is terminal-safe the same way.
 *
 * - `toJson(value)`: one value as a string. BigInts are written as bare digits (JSON numbers
 *   with every digit kept; JSON.stringify would throw and Number would round above 2^53).
 * - `writeJsonArray(items)`: a list streamed element by element, pulling from a (lazy)
 *   iterable, so memory stays flat however long the list is.
 * - `RawJson`: JSON text produced elsewhere (a BTF renderer, say) embedded verbatim.
 * - Both end quietly when the reader goes away (`| head`): EPIPE is not an error for a CLI
 *   whose output was cut short on purpose. They return false in that case so callers can stop.
 */
import {stdout} from './stdout.js'

/** True for the errors a closed reader produces on stdout. */
export function isBrokenPipe(error: unknown): boolean {
  const code = (error as {code?: string} | null)?.code
  return (
    code === 'EPIPE' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    code === 'ERR_STREAM_DESTROYED' ||
    code === 'ERR_STREAM_WRITE_AFTER_END'
  )
}

/** Thrown by RawJson.toJSON to stop JSON.stringify (toJson's fast path); a constant: no stack to capture. */
const NOT_NATIVE = new Error('RawJson cannot be written by JSON.stringify')

/** JSON text that toJson writes as is (it must be valid JSON: nothing checks it). */
export class RawJson {
  constructor(readonly text: string) {}
  /** JSON.stringify would write {"text": …}: stop it, toJson embeds the text itself. */
  toJSON(): never {
    throw NOT_NATIVE
  }
}

/**
 * JSON.stringify escapes C0 controls, quotes and backslashes but passes DEL, C1 controls, the
 * Unicode bidi controls and U+2028/2029 through raw. They are valid JSON, but `tailcalls … --json`
 * read on a terminal would hand them to it (a process's comm or a pin name can hold any of them):
 * strings escape them too (`\u009b`), which is the same JSON value.
 */
const RAW_UNSAFE = /[\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/
const RAW_UNSAFE_ALL = /[\u007F-\u009F\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069]/g

export function jsonString(s: string): string {
  const j = JSON.stringify(s)
  return RAW_UNSAFE.test(j)
    ? j.replaceAll(RAW_UNSAFE_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : j
}

/**
 * Compact JSON with exact BigInts; keys whose value is undefined are left out (as JSON.stringify).
 * An object or array is written by JSON.stringify itself when that gives the same text (see
 * nativeJson), by the walk below otherwise.
 */
export function toJson(value: unknown): string {
  if (typeof value === 'object' && value !== null && !(value instanceof RawJson)) {
    const text = nativeJson(value)
    if (text !== undefined) return text
  }

  return walkJson(value)
}

/**
 * JSON.stringify's text for an object or array when it is exactly what walkJson would write,
 * else undefined: native code writes a list's elements several times faster than a walk in
 * JavaScript that has not been optimised yet (a listing is over before V8 optimises it). The two
 * agree on everything but what this rules out: a BigInt (JSON.stringify throws a TypeError: a
 * top-level one is looked for first, as a u64 counter is where they occur, to skip the throw), a
 * RawJson (its toJSON throws), and the characters jsonString escapes (searched for in the text).
 * They would also differ on a symbol value or an object with a toJSON of its own (a Date, a
 * Buffer), which no output holds.
 */
function nativeJson(value: object): string | undefined {
  if (!Array.isArray(value)) {
    for (const k in value) if (typeof (value as Record<string, unknown>)[k] === 'bigint') return undefined
  }

  let text: string
  try {
    text = JSON.stringify(value)
  } catch (error) {
    if (error === NOT_NATIVE || error instanceof TypeError) return undefined
    throw error
  }

  return RAW_UNSAFE.test(text) ? undefined : text
}

function walkJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint': {
      return value.toString()
    }

    case 'number': {
      return Number.isFinite(value) ? String(value) : 'null'
    }

    case 'string': {
      return jsonString(value)
    }

    case 'boolean': {
      return value ? 'true' : 'false'
    }

    case 'object': {
      if (value === null) return 'null'
      if (value instanceof RawJson) return value.text
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : walkJson(v))).join(',')}]`
      const parts: string[] = []
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function') continue
        parts.push(`${jsonString(k)}:${walkJson(v)}`)
      }

      return `{${parts.join(',')}}`
    }

    default: {
      return 'null'
    }
  }
}

/**
 * toJson laid out as JSON.stringify(value, null, indent) lays it out (doctor's report), with
 * the same terminal-safe strings and exact BigInts.
 */
export function toJsonPretty(value: unknown, indent = 2, depth = 0): string {
  if (typeof value !== 'object' || value === null || value instanceof RawJson) return toJson(value)
  const inner = '\n' + ' '.repeat(indent * (depth + 1))
  const outer = '\n' + ' '.repeat(indent * depth)
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    return `[${inner}${value.map((v) => (v === undefined ? 'null' : toJsonPretty(v, indent, depth + 1))).join(`,${inner}`)}${outer}]`
  }

  const parts: string[] = []
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined || typeof v === 'function') continue
    parts.push(`${jsonString(k)}: ${toJsonPretty(v, indent, depth + 1)}`)
  }

  return parts.length === 0 ? '{}' : `{${inner}${parts.join(`,${inner}`)}${outer}}`
}

/**
 * Write a string to stdout (fd 1, src/render/stdout.ts) or `out`, resolving when it is flushed. Resolves false when
 * the reader has gone away.
 */
export function writeOut(text: string | Uint8Array, out: NodeJS.WritableStream = stdout()): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      if (isBrokenPipe(error)) resolve(false)
      else reject(error)
    }

    out.once('error', onError)
    try {
      out.write(text, (error) => {
        if (!error) {
          out.removeListener('error', onError)
          resolve(true)
          return
        }

        // The stream emits 'error' after this callback: onError stays to take it (an 'error'
        // event nobody listens to kills the process with a stack trace, e.g. under `| head`).
        if (isBrokenPipe(error)) resolve(false)
        else reject(error)
      })
    } catch (error) {
      out.removeListener('error', onError)
      if (isBrokenPipe(error)) resolve(false)
      else reject(error)
    }
  })
}

/** One JSON value and a newline. */
export function writeJson(value: unknown, out: NodeJS.WritableStream = stdout()): Promise<boolean> {
  return writeOut(`${toJson(value)}\n`, out)
}

/** Batch size for streamed arrays: few write(2) calls, bounded memory. */
const CHUNK = 65_536

/** Write one chunk, waiting for 'drain' when the stream asks for it; false once the reader is gone. */
function writeChunk(out: NodeJS.WritableStream, text: string): Promise<boolean> | boolean {
  let ok: boolean
  try {
    ok = out.write(text)
  } catch (error) {
    if (isBrokenPipe(error)) return false
    throw error
  }

  if (ok) return true
  return new Promise((resolve, reject) => {
    const done = (result: boolean | Error): void => {
      out.removeListener('drain', onDrain)
      out.removeListener('error', onError)
      out.removeListener('close', onClose)
      if (result instanceof Error) reject(result)
      else resolve(result)
    }

    const onDrain = (): void => done(true)
    const onClose = (): void => done(false)
    const onError = (error: Error): void => done(isBrokenPipe(error) ? false : error)
    out.on('drain', onDrain)
    out.on('error', onError)
    out.on('close', onClose)
  })
}

/**
 * A JSON array streamed from a lazy iterable (a generator that opens one kernel object at a
 * time, say), then a newline: elements are serialised one by one with toJson (exact BigInts,
 * RawJson passed through) and written in 64 KiB batches with backpressure, so memory stays
 * flat however long the list. Resolves false if the reader went away; the iterable is then
 * closed (its finally blocks run, releasing whatever it holds open).
 *
 * Not json-stream-stringify: measured here, it costs ~45 µs per listed program on a cold
 * start (token-by-token walking through stream machinery), four times all the kernel and
 * decoding work for that program; this writer costs ~10 µs with the same streaming behaviour
 * (bench/json-writer.mjs compares the two; the README gives the figures).
 */
export async function writeJsonArray(
  items: AsyncIterable<unknown> | Iterable<unknown>,
  out: NodeJS.WritableStream = stdout(),
): Promise<boolean> {
  let chunk = '['
  let first = true
  const swallow = (): void => {
    // A late EPIPE 'error' event after we stopped: handled by the return value.
  }

  out.on('error', swallow)
  try {
    if (Symbol.asyncIterator in items) {
      for await (const item of items as AsyncIterable<unknown>) {
        chunk += first ? toJson(item) : `,${toJson(item)}`
        first = false
        if (chunk.length >= CHUNK) {
          if (!(await writeChunk(out, chunk))) return false
          chunk = ''
        }
      }
    } else {
      for (const item of items as Iterable<unknown>) {
        chunk += first ? toJson(item) : `,${toJson(item)}`
        first = false
        if (chunk.length >= CHUNK) {
          if (!(await writeChunk(out, chunk))) return false
          chunk = ''
        }
      }
    }

    return await writeOut(`${chunk}]\n`, out)
  } finally {
    out.removeListener('error', swallow)
  }
}
