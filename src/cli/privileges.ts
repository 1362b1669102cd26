/**
 * What a command needs before it touches the kernel, checked once up front (BaseCommand.init)
 * so a user without privileges gets one line naming the missing capability instead of whatever
 * the first failing call says (bpffs being unreadable looks like "no pinned chain" otherwise).
 * Each command declares its needs next to its flags (`static needs`); a command that declares
 * none is refused as an internal error, so a new command cannot go unchecked by omission.
 * CAP_SYS_ADMIN covers everything. `--help` and `--version` never get here.
 */
import {TailcallsError} from '../errors.js'
import {CAP, effectiveCapabilities, hasCap, missingBpfPrivileges} from '../kernel/privileges.js'

export interface Needs {
  /**
   * load             CAP_BPF + CAP_PERFMON (loading and attaching tracing programs)
   * bpf              CAP_BPF: any bpf() call, with unprivileged BPF disabled (opening pins, reading maps)
   * admin            CAP_SYS_ADMIN: listing objects and opening them by id (BPF_*_GET_NEXT_ID / _FD_BY_ID)
   * admin-or-pinned  `admin`, or only `bpf` when the object is selected with `pinned PATH`
   * none             nothing checked up front (`doctor`, whose job is to report what is missing)
   */
  caps: 'load' | 'bpf' | 'admin' | 'admin-or-pinned' | 'none'
  /** What the command does that needs them, for the error line; derived from `caps` when absent. */
  doing?: string
  /** A flag that keeps the command away from the kernel (`graph --object` reads a file only): with it, nothing is needed. */
  offKernelFlag?: string
}

/** The capability a command lacks here, as a phrase, or undefined when it may run. */
export function missingFor(needs: Needs, argv: string[], caps = effectiveCapabilities()): string | undefined {
  if (needs.caps === 'none' || hasCap(caps, CAP.SYS_ADMIN)) return undefined
  const flag = needs.offKernelFlag
  if (flag && argv.some((a) => a === flag || a.startsWith(`${flag}=`))) return undefined
  const need = needs.caps === 'admin-or-pinned' ? (argv.includes('pinned') ? 'bpf' : 'admin') : needs.caps
  if (need === 'load') return missingBpfPrivileges(caps)
  if (need === 'bpf') return hasCap(caps, CAP.BPF) ? undefined : 'CAP_BPF (or CAP_SYS_ADMIN)'
  return 'CAP_SYS_ADMIN'
}

export function requirePrivileges(commandId: string, needs: Needs, argv: string[]): void {
  const missing = missingFor(needs, argv)
  if (!missing) return
  const cmd = commandId.replaceAll(':', ' ')
  const rule = needs.caps
  const what =
    needs.doing ??
    (rule === 'load'
      ? 'loading and attaching the chain'
      : rule === 'admin'
        ? 'listing BPF objects by id'
        : missing === 'CAP_SYS_ADMIN'
          ? 'opening BPF objects by id'
          : 'opening a pinned BPF object')
  throw new TailcallsError(
    'permission',
    `permission denied: ${what} needs ${missing}, which this process lacks (tailcalls ${cmd})`,
    {
      hint:
        missing === 'CAP_SYS_ADMIN' && rule === 'admin-or-pinned'
          ? 'run as root, or select the object with `pinned PATH` (needs CAP_BPF)'
          : 'run as root, e.g. sudo tailcalls …',
    },
  )
}
