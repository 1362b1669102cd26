/**
 * libbpf's own messages. By default libbpf prints warnings straight to stderr, which
 * would break "one clear line per error"; we route them into memory instead and use the
 * last ones in error messages. TAILCALLS_DEBUG=1 echoes them to stderr.
 */
import {sys} from '../sys/ffi.js'

let installed = false
let sink: string[] | undefined
const line = Buffer.alloc(4096)

/** Make libbpf quiet (or debug-echoing) for the whole process. Idempotent. */
export function installLibbpfLog(): void {
  if (installed) return
  installed = true
  const {koffi, libbpf, libc} = sys()
  const debug = Boolean(process.env.TAILCALLS_DEBUG)
  // libbpf passes a va_list; on x86_64 that is a pointer, which vsnprintf takes as is.
  const cb = koffi.register((level: number, fmt: string, args: bigint) => {
    const n = libc.vsnprintf(line, line.length, fmt, args)
    const text = line.toString('utf8', 0, Math.max(0, Math.min(n, line.length - 1))).trimEnd()
    sink?.push(text)
    if (debug) process.stderr.write(`${text}\n`)
    return 0
  }, 'libbpf_print_fn *') as unknown as bigint
  libbpf.libbpf_set_print(cb)
}

/** Collect libbpf's messages from now until stop(). */
export function captureLibbpfLog(): {stop(): string[]} {
  installLibbpfLog()
  const mine: string[] = []
  sink = mine
  return {
    stop() {
      if (sink === mine) sink = undefined
      return mine
    },
  }
}
