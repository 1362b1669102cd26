/**
 * Kernel run-time stats (run_cnt, run_time_ns) switched on through a held BPF_ENABLE_STATS
 * fd: on while the fd is open, off when the last holder closes it. The sysctl
 * kernel.bpf_stats_enabled is never written: it shows only what was last written to it (it
 * reads 0 while fds hold stats on), so it cannot tell who else has them on, and writing it
 * would switch stats on or off for everyone.
 *
 * Stats are host-wide: while held, every BPF program on the machine pays two clock reads
 * per run (measured at about 40 ns per run on the development machine).
 */
import {TailcallsError} from '../errors.js'
import {closeFd} from '../kernel/ids.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_STATS_TYPE} from '../sys/uapi.js'

export class StatsFd {
  private constructor(readonly fd: number) {}

  /** Enable run-time stats; throws `statsRefused` (exit 14) with the reason. */
  static enable(): StatsFd {
    const fd = sys().libbpf.bpf_enable_stats(BPF_STATS_TYPE.RUN_TIME)
    if (fd >= 0) return new StatsFd(fd)
    const cause = new SysError(
      'BPF_ENABLE_STATS',
      -fd,
      'the kernel refused to enable BPF run-time stats (BPF_ENABLE_STATS)',
    )
    const name = cause.code
    const why =
      name === 'EPERM' || name === 'EACCES'
        ? 'it needs CAP_SYS_ADMIN; run as root (sudo tailcalls stats …)'
        : name === 'EINVAL' || name === 'ENOSYS'
          ? "this kernel has no BPF_ENABLE_STATS (Linux 5.8+); the chain's own per-stage counters still work: `tailcalls stats --no-kernel-stats`"
          : 'run `tailcalls doctor` to see what this kernel supports'
    throw new TailcallsError('statsRefused', cause.message, {
      cause,
      hint: why,
    })
  }

  close(): void {
    closeFd(this.fd)
  }
}
