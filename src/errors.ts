/**
 * Errors the CLI reports in one line, each with a distinct exit code and a hint that
 * says what to do. The table is documented in the README ("Exit codes").
 *
 * Below the CLI, a failed system or libbpf call is a SysError (src/sys/error.ts). Code that
 * knows what an errno means for the user wraps it here (fromErrno with its own `kinds`, or a
 * TailcallsError with the SysError as `cause`); whatever is left is classified by
 * toTailcallsError when it reaches the command (src/cli/base.ts).
 */
import {LibraryLoadError, SysError} from './sys/error.js'

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
  /** The errno of the failed call behind this error (its `cause`), if there was one. */
  readonly errno?: number
  /** The failed call behind this error, when there was one. */
  declare readonly cause?: SysError

  constructor(
    kind: ExitName,
    message: string,
    opts: {cause?: SysError; details?: string[]; exitCode?: number; hint?: string} = {},
  ) {
    super(message, opts.cause ? {cause: opts.cause} : undefined)
    this.name = 'TailcallsError'
    this.exitCode = opts.exitCode ?? EXIT[kind]
    this.hint = opts.hint
    this.details = opts.details
    this.errno = opts.cause?.errno
  }

  /** The single line for stderr: message, then what to do. */
  line(): string {
    return this.hint ? `${this.message}; ${this.hint}` : this.message
  }
}

/** Errno names a caller understands, mapped to the exit kind they mean there. */
export type ErrnoKinds = Partial<Record<string, ExitName>>

const PERMISSION_HINT = 'run as root (CAP_BPF and CAP_SYS_ADMIN are needed)'

/**
 * Classify a failed call into the error a user can act on. `kinds` reclassifies the errnos
 * this caller understands; otherwise EPERM/EACCES is `permission` and anything else
 * `internal` (exit 1), with the call's own message ("<what>: ENAME: description").
 */
export function fromErrno(error: SysError, kinds: ErrnoKinds = {}): TailcallsError {
  const kind: ExitName =
    kinds[error.code] ?? (error.code === 'EPERM' || error.code === 'EACCES' ? 'permission' : 'internal')
  const hint = kind === 'permission' ? PERMISSION_HINT : undefined
  return new TailcallsError(kind, error.message, {cause: error, hint})
}

/**
 * Throw unless `ret` is >= 0, classified for the user right here (for callers that know
 * what an errno means, e.g. EINVAL from a resize is a bad --ringbuf-size). Returns `ret`.
 */
export function check(op: string, ret: number, what: string, kinds?: ErrnoKinds): number {
  if (ret < 0) throw fromErrno(new SysError(op, -ret, what), kinds)
  return ret
}

/**
 * Any error that reaches the CLI, as the TailcallsError to report; undefined for a bug
 * (anything that is neither ours nor a failed call), which the CLI reports as internal.
 */
export function toTailcallsError(error: unknown): TailcallsError | undefined {
  if (error instanceof TailcallsError) return error
  if (error instanceof SysError) return fromErrno(error)
  if (error instanceof LibraryLoadError) {
    return new TailcallsError('kernelSupport', error.message, {hint: `install it: ${error.install}`})
  }

  return undefined
}

/** True when `error` is a TailcallsError of one of these kinds (e.g. 'notFound' for "it vanished"). */
export function isKind(error: unknown, ...kinds: ExitName[]): boolean {
  return error instanceof TailcallsError && kinds.some((k) => error.exitCode === EXIT[k])
}
