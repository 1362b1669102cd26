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

/**
 * What each command needs before it touches the kernel, checked once up front (BaseCommand.init)
 * so a user without privileges gets one line naming the missing capability instead of whatever
 * the first failing call says (bpffs being unreadable looks like "no pinned chain" otherwise).
 * CAP_SYS_ADMIN covers everything. `--help` and `--version` never get here.
 *   load     CAP_BPF + CAP_PERFMON (loading and attaching tracing programs)
 *   bpf      CAP_BPF: any bpf() call, with unprivileged BPF disabled (opening pins, reading maps)
 *   admin    CAP_SYS_ADMIN: listing objects and opening them by id (BPF_*_GET_NEXT_ID / _FD_BY_ID)
 * Commands that select objects by id need `admin`; with a `pinned PATH` selector, `bpf` is enough.
 */
type Need = 'load' | 'bpf' | 'admin'
const NEEDS: Record<string, Need | 'admin-or-pinned'> = {
  events: 'bpf',
  graph: 'admin',
  'link:list': 'admin',
  'link:show': 'admin-or-pinned',
  load: 'load',
  'map:delete': 'admin-or-pinned',
  'map:dump': 'admin-or-pinned',
  'map:list': 'admin',
  'map:show': 'admin-or-pinned',
  'map:update': 'admin-or-pinned',
  'perf:list': 'admin',
  'prog:list': 'admin',
  'prog:show': 'admin-or-pinned',
  stats: 'bpf',
  unload: 'bpf',
}

const WHAT: Record<string, string> = {
  events: 'reading a pinned chain',
  graph: 'listing BPF objects by id',
  'perf:list': 'querying perf-event attachments (BPF_TASK_FD_QUERY)',
  stats: 'reading a chain\'s counters',
  unload: 'opening a pinned chain',
}

/** Flags that keep a command away from the kernel: `graph --object` reads a file only. */
const NO_KERNEL: Record<string, string> = {graph: '--object'}

/** The capability a command lacks here, as a phrase, or undefined when it may run. */
export function missingFor(commandId: string, argv: string[], caps = effectiveCapabilities()): string | undefined {
  const flag = NO_KERNEL[commandId]
  if (flag && argv.some((a) => a === flag || a.startsWith(`${flag}=`))) return undefined
  const rule = NEEDS[commandId]
  if (!rule || has(caps, CAP_SYS_ADMIN)) return undefined
  const need: Need = rule === 'admin-or-pinned' ? (argv.includes('pinned') ? 'bpf' : 'admin') : rule
  if (need === 'load') return missingBpfPrivileges(caps)
  if (need === 'bpf') return has(caps, CAP_BPF) ? undefined : 'CAP_BPF (or CAP_SYS_ADMIN)'
  return 'CAP_SYS_ADMIN'
}

export function requirePrivilegesFor(commandId: string | undefined, argv: string[]): void {
  if (!commandId) return
  const missing = missingFor(commandId, argv)
  if (!missing) return
  const cmd = commandId.replaceAll(':', ' ')
  const rule = NEEDS[commandId]
  const what = WHAT[commandId] ??
    (rule === 'load' ? 'loading and attaching the chain'
    : rule === 'admin' ? 'listing BPF objects by id'
    : missing === 'CAP_SYS_ADMIN' ? 'opening BPF objects by id' : 'opening a pinned BPF object')
  throw new TailcallsError('permission', `permission denied: ${what} needs ${missing}, which this process lacks (tailcalls ${cmd})`, {
    hint: missing === 'CAP_SYS_ADMIN' && rule === 'admin-or-pinned' ? 'run as root, or select the object with `pinned PATH` (needs CAP_BPF)' : 'run as root, e.g. sudo tailcalls …',
  })
}
