/**
 * What the kernel will let this process do with BPF. Read from /proc/self/status so the
 * answer does not depend on trying (and half-doing) an operation. The capability bits and the
 * rule for loading the chain live here once: the CLI checks them before a command runs
 * (src/cli/privileges.ts), the chain before it loads, and `doctor` reports them.
 */
import {readFileSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import {CAP} from '../sys/uapi.js'

/** The capabilities BPF cares about (SYS_ADMIN, PERFMON, BPF: the order `doctor` lists them). */
export {CAP}

export function effectiveCapabilities(): bigint {
  const status = readFileSync('/proc/self/status', 'utf8')
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)
  return m ? BigInt(`0x${m[1]}`) : 0n
}

export const hasCap = (caps: bigint, cap: number): boolean => (caps & (1n << BigInt(cap))) !== 0n

/** The CAP values held, by name ("CAP_BPF", …). */
export function heldCapabilities(caps: bigint): string[] {
  return Object.entries(CAP)
    .filter(([, bit]) => hasCap(caps, bit))
    .map(([name]) => `CAP_${name}`)
}

/** Loading and attaching tracing programs needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN. */
export function missingBpfPrivileges(caps = effectiveCapabilities()): string | undefined {
  if (hasCap(caps, CAP.SYS_ADMIN)) return undefined
  if (hasCap(caps, CAP.BPF) && hasCap(caps, CAP.PERFMON)) return undefined
  if (hasCap(caps, CAP.BPF)) return 'CAP_PERFMON'
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
