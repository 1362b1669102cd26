/**
 * JSON output as bpftool writes it: compact, one trailing newline, u64 values exact.
 *
 * - `toJson(value)`: one value as a string. BigInts are written as bare digits (JSON numbers
 *   with every digit kept; JSON.stringify would throw and Number would round above 2^53).
 * - `writeJsonArray(items)`: a list streamed element by element with json-stream-stringify,
 *   pulling from a (lazy) iterable, so memory stays flat however long the list is.
 * - Both end quietly when the reader goes away (`| head`): EPIPE is not an error for a CLI
 *   whose output was cut short on purpose. They return false in that case so callers can stop.
 */
import {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {JsonStreamStringify} from 'json-stream-stringify'

/** True for the errors a closed reader produces on stdout. */
export function isBrokenPipe(error: unknown): boolean {
  const code = (error as {code?: string} | null)?.code
  return code === 'EPIPE' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ERR_STREAM_DESTROYED' || code === 'ERR_STREAM_WRITE_AFTER_END'
}

/** Compact JSON with exact BigInts; keys whose value is undefined are left out (as JSON.stringify). */
export function toJson(value: unknown): string {
  switch (typeof value) {
    case 'bigint': {
      return value.toString()
    }

    case 'number': {
      return Number.isFinite(value) ? String(value) : 'null'
    }

    case 'string': {
      return JSON.stringify(value)
    }

    case 'boolean': {
      return value ? 'true' : 'false'
    }

    case 'object': {
      if (value === null) return 'null'
      if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : toJson(v))).join(',')}]`
      const parts: string[] = []
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function') continue
        parts.push(`${JSON.stringify(k)}:${toJson(v)}`)
      }

      return `{${parts.join(',')}}`
    }

    default: {
      return 'null'
    }
  }
}

/**
 * Write a string to stdout (or `out`), resolving when it is flushed. Resolves false when
 * the reader has gone away.
 */
export function writeOut(text: string | Uint8Array, out: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      if (isBrokenPipe(error)) resolve(false)
      else reject(error)
    }

    out.once('error', onError)
    try {
      out.write(text, (error) => {
        out.removeListener('error', onError)
        if (!error) resolve(true)
        else if (isBrokenPipe(error)) resolve(false)
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
export function writeJson(value: unknown, out: NodeJS.WritableStream = process.stdout): Promise<boolean> {
  return writeOut(`${toJson(value)}\n`, out)
}

/**
 * A JSON array streamed from a lazy iterable (a generator that opens one kernel object at a
 * time, say), then a newline. Items are stringified by json-stream-stringify, which writes
 * BigInt as bare numbers. Resolves false if the reader went away; the iterable is then
 * returned (its finally blocks run, closing whatever it holds open).
 */
export async function writeJsonArray(
  items: AsyncIterable<unknown> | Iterable<unknown>,
  out: NodeJS.WritableStream = process.stdout,
): Promise<boolean> {
  const source = Readable.from(items as Iterable<unknown>, {highWaterMark: 16, objectMode: true})
  // 64 KiB chunks: fewer write(2) calls than JSS's default of one chunk per token.
  const json = new JsonStreamStringify(source, undefined, undefined, false, 65_536)
  // Never end the real stdout: wrap it so the pipeline only ends our wrapper.
  const sink = new Writable({
    write(chunk, _enc, done) {
      out.write(chunk, (error) => done(error ?? undefined))
    },
  })
  const onError = (): void => {
    // Handled through the pipeline; this listener only keeps an 'error' event on stdout
    // from being unhandled.
  }

  out.on('error', onError)
  try {
    await pipeline(json, sink)
  } catch (error) {
    source.destroy()
    if (isBrokenPipe(error)) return false
    throw error
  } finally {
    out.removeListener('error', onError)
  }

  return writeOut('\n', out)
}
