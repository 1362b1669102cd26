/**
 * What the kernel will let this process do with BPF. Read from /proc/self/status so the
 * answer does not depend on trying (and half-doing) an operation.
 */
import {readFileSync} from 'node:fs'

import {TailcallsError} from './errors.js'

const CAP_SYS_ADMIN = 21
const CAP_PERFMON = 38
const CAP_BPF = 39

export function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8')
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)
  return m ? BigInt(`0x${m[1]}`) : 0n
}

const has = (caps: bigint, cap: number) => (caps & (1n << BigInt(cap))) !== 0n

/** Loading and attaching tracing programs needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
export function missingBpfPrivileges(caps = effectiveCapabilities()): string | undefined {
  if (has(caps, CAP_SYS_ADMIN)) return undefined
  if (has(caps, CAP_BPF) && has(caps, CAP_PERFMON)) return undefined
  if (has(caps, CAP_BPF)) return 'CAP_PERFMON'
  return 'CAP_BPF (or CAP_SYS_ADMIN)'
}

export function requireBpfPrivileges(): void {
  const missing = missingBpfPrivileges()
  if (missing) {
    throw new TailcallsError('permission', `permission denied: this process lacks ${missing}`, {
      hint: 'run as root, e.g. sudo tailcalls …',
    })
  }
}
