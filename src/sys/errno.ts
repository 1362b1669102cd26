/**
 * errno numbers to names and plain words. Node's table covers libc's errnos; the kernel's
 * internal ones (ENOTSUPP 524, seen from BPF_MAP_LOOKUP_BATCH on prog arrays) are added here.
 */
import {constants} from 'node:os'

const KERNEL_ONLY: Record<number, [string, string]> = {
  512: ['ERESTARTSYS', 'interrupted system call'],
  524: ['ENOTSUPP', 'operation not supported by this kernel object'],
}

const byNumber = new Map<number, string>()
for (const [name, value] of Object.entries(constants.errno)) {
  // Several names share a number (EWOULDBLOCK = EAGAIN): keep the first, the canonical one.
  if (!byNumber.has(value)) byNumber.set(value, name)
}

/** `ENOENT` for 2 (or -2); `E524` for an unknown number. */
export function errnoName(errno: number): string {
  const n = Math.abs(errno)
  return KERNEL_ONLY[n]?.[0] ?? byNumber.get(n) ?? `E${n}`
}

const DESCRIPTIONS: Record<string, string> = {
  E2BIG: 'argument list too long',
  EACCES: 'permission denied',
  EAGAIN: 'resource temporarily unavailable',
  EBADF: 'bad file descriptor',
  EBUSY: 'device or resource busy',
  EEXIST: 'file exists',
  EFAULT: 'bad address',
  EINVAL: 'invalid argument',
  ENOENT: 'no such file or directory',
  ENOMEM: 'cannot allocate memory',
  ENOSPC: 'no space left on device',
  ENOTDIR: 'not a directory',
  ENOTSUP: 'operation not supported',
  EOPNOTSUPP: 'operation not supported',
  EPERM: 'operation not permitted',
  ESRCH: 'no such process',
  ENOEXEC: 'exec format error',
}

/** "ENOENT: no such file or directory" */
export function describeErrno(errno: number): string {
  const name = errnoName(errno)
  const text = KERNEL_ONLY[Math.abs(errno)]?.[1] ?? DESCRIPTIONS[name]
  return text ? `${name}: ${text}` : name
}
