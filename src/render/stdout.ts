/**
 * Standard output as fd 1, written with write(2): where the renderers (json.ts) write unless
 * given another stream.
 *
 * Why not process.stdout: its first use builds a stream (a net.Socket for a pipe, a
 * SyncWriteStream for a file, a tty.WriteStream) and loads Node's stream machinery with it, ~8 ms
 * of CPU: more than a short listing costs in all. On Linux process.stdout writes synchronously
 * to pipes, files and terminals alike, so writing fd 1 directly writes the same bytes in the
 * same order, also when other code writes to process.stdout in between.
 *
 * A closed reader (`| head`) throws EPIPE from write(), which the callers in json.ts treat as the
 * end of the output. If fd 1 was left non-blocking by whoever opened it and the reader is slow
 * (EAGAIN), the rest goes through process.stdout, which waits for the reader.
 */
import {EventEmitter} from 'node:events'
import {writeSync} from 'node:fs'

class FdStdout extends EventEmitter {
  /** Set after EAGAIN: process.stdout takes everything from then on, in order. */
  private stream?: NodeJS.WritableStream

  write(chunk: string | Uint8Array, cb?: (error?: Error | null) => void): boolean {
    if (this.stream) return this.stream.write(chunk, cb)
    let bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    try {
      while (bytes.length > 0) bytes = bytes.subarray(writeSync(1, bytes))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error
      this.stream = process.stdout
      // The stream reports a closed reader as an 'error' event after the write's callback; the
      // callers (json.ts) listen on this object, so it is passed on to them. With nobody
      // listening any more, a closed reader only means the output is over.
      this.stream.on('error', (e: NodeJS.ErrnoException) => {
        if (this.listenerCount('error') > 0) this.emit('error', e)
        else if (e.code !== 'EPIPE') throw e
      })
      return this.stream.write(bytes, cb)
    }

    cb?.(null)
    return true
  }
}

let out: NodeJS.WritableStream | undefined

/** The one fd-1 writer of the process. */
export function stdout(): NodeJS.WritableStream {
  out ??= new FdStdout() as unknown as NodeJS.WritableStream
  return out
}
