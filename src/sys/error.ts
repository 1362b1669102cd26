/**
 * The one error type for a failed system or libbpf call, and the one test for "it is not
 * there any more".
 *
 * Every wrapper around a binding of ./ffi.ts reports failure the same way: it throws a
 * `SysError` naming the call (`op`: a libbpf function such as 'bpf_object__load', or the
 * bpf(2) command it issues such as 'BPF_OBJ_GET_INFO_BY_FD') and the errno, as a number and
 * as its name. Wrappers never return a negative errno or `undefined` for a failure. Where
 * "gone" is an ordinary answer, the function says so in its name (`tryOpenById`) and returns
 * `undefined` for that errno only; anything else is still thrown.
 *
 * The layer that knows what an errno means to the user (a feature, or the CLI in the end)
 * turns a SysError into a TailcallsError with an exit code and a hint (src/errors.ts).
 */
import {constants} from 'node:os'

import {describeErrno, errnoName} from './errno.js'

export class SysError extends Error {
  /** The call that failed: a libbpf or libc function name, or a bpf(2) command. */
  readonly op: string
  /** Positive errno. */
  readonly errno: number
  /** The errno's name: 'ENOENT', 'EPERM', 'ENOTSUPP' (kernel-internal 524)… */
  readonly code: string

  /**
   * @param what what we were doing, in words, for the message ("reading prog info");
   *   defaults to `op`. The message is "<what>: <ENAME>: <description>".
   */
  constructor(op: string, errno: number, what: string = op) {
    const n = Math.abs(errno)
    super(`${what}: ${describeErrno(n)}`)
    this.name = 'SysError'
    this.op = op
    this.errno = n
    this.code = errnoName(n)
  }
}

/**
 * A shared library the bindings need could not be loaded (libbpf.so.1 not installed, or
 * not found by the dynamic loader). Not an errno: dlopen reports a text.
 */
export class LibraryLoadError extends Error {
  readonly library: string
  /** What to install, as a command. */
  readonly install: string

  constructor(library: string, reason: string, install: string) {
    super(`cannot load ${library} (${reason})`)
    this.name = 'LibraryLoadError'
    this.library = library
    this.install = install
  }
}

/** `ret` when it is >= 0 (a count or an fd); otherwise throw SysError(op) for errno -ret. */
export function checkRet(op: string, ret: number, what?: string): number {
  if (ret < 0) throw new SysError(op, -ret, what)
  return ret
}

/**
 * `ptr` unless NULL; otherwise throw SysError(op) with the call's errno (libbpf >= 1.0 sets
 * errno for pointer-returning functions). `errno` must be read right after the call.
 */
export function checkPtr<T>(op: string, ptr: T | null, errno: () => number, what?: string): T {
  if (ptr !== null && ptr !== undefined && ptr !== 0n) return ptr
  // A NULL without errno set would be a libbpf bug; still report it as a failed call.
  throw new SysError(op, errno() || constants.errno.EINVAL, what)
}

/**
 * The errno name behind `error`, whichever side produced it: a SysError (libbpf, bpf(2)) or
 * a Node fs error (`code: 'ENOENT'`). undefined for anything else (a TypeError is a bug).
 */
export function errorCode(error: unknown): string | undefined {
  if (error instanceof SysError) return error.code
  if (error instanceof Error && 'syscall' in error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    return (error as NodeJS.ErrnoException).code
  }

  return undefined
}

/** True when `error` is a failed call that answered one of `codes`. */
export function isErrno(error: unknown, ...codes: string[]): boolean {
  const code = errorCode(error)
  return code !== undefined && codes.includes(code)
}

/**
 * True when `error` only says the thing is gone: ENOENT. The single failure callers may
 * skip (an object or a /proc entry that vanished between listing and reading it); use
 * isErrno for the few kernel paths that say "gone" with another errno, and say why there.
 */
export function isVanished(error: unknown): boolean {
  return isErrno(error, 'ENOENT')
}
