/**
 * Errors the CLI reports in one line, each with a distinct exit code and a hint that
 * says what to do. The table is documented in the README ("Exit codes").
 */
import {describeErrno, errnoName} from './sys/errno.js'

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  permission: 3,
  kernelSupport: 4,
  notFound: 5,
  invalidObject: 6,
  verifier: 7,
  attach: 8,
  conflict: 9,
  incompatible: 10,
  outOfRange: 11,
  wrongMapType: 12,
  partial: 13,
  /** The kernel refused BPF_ENABLE_STATS (`tailcalls stats`). */
  statsRefused: 14,
  /** `tailcalls doctor`: a prerequisite of the chain failed on this machine. */
  cannotRun: 15,
  /** `tailcalls graph --object`: the object has error findings (the kernel would refuse it or cut the chain short). */
  graphErrors: 16,
  /** A signal stopped a command before it finished (`load` while loading): 128 + the signal number. */
  interrupted: 130,
} as const

export type ExitName = keyof typeof EXIT

export class TailcallsError extends Error {
  readonly exitCode: number
  readonly hint?: string
  /** Extra lines printed after the one-line message (e.g. the verifier's last lines). */
  readonly details?: string[]
  readonly errno?: number

  constructor(kind: ExitName, message: string, opts: {details?: string[]; errno?: number; exitCode?: number; hint?: string} = {}) {
    super(message)
    this.name = 'TailcallsError'
    this.exitCode = opts.exitCode ?? EXIT[kind]
    this.hint = opts.hint
    this.details = opts.details
    this.errno = opts.errno
  }

  /** The single line for stderr: message, then what to do. */
  line(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message
  }
}

/** Classify a negative errno from libbpf into the error a user can act on. */
export function fromErrno(what: string, ret: number, kinds: Partial<Record<string, ExitName>> = {}): TailcallsError {
  const errno = Math.abs(ret)
  const name = errnoName(errno)
  const kind: ExitName = kinds[name] ?? (name === 'EPERM' || name === 'EACCES' ? 'permission' : 'internal')
  const hint = kind === 'permission' ? 'run as root (CAP_BPF and CAP_SYS_ADMIN are needed)' : undefined
  return new TailcallsError(kind, `${what}: ${describeErrno(errno)}`, {errno, hint})
}

/** Throw unless `ret` is >= 0. Returns it for fd-returning calls. */
export function check(what: string, ret: number, kinds?: Partial<Record<string, ExitName>>): number {
  if (ret < 0) throw fromErrno(what, ret, kinds)
  return ret
}
