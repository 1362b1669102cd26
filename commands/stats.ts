import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJson} from '../src/render/json.js'

export default class Stats extends BaseCommand {
  static summary = 'Per-program and per-stage run counts and timings of a chain'

  static description = `For each program of the chain: the kernel's run_cnt and run_time_ns, the average ns per run and events/s (Δrun_cnt per second), next to the chain's own per-stage counters (CHAIN_STATS): runs per stage, failed tail calls per slot and ring-buffer drops.

The kernel charges a whole tail-call chain to the entry program (prog1): tail-called programs always report run_cnt 0 there, which is why the per-stage counters are shown too.

Kernel stats are switched on through a held BPF_ENABLE_STATS fd only while this command runs (the kernel.bpf_stats_enabled sysctl is never touched). They are host-wide: every BPF program pays ~40 ns per run meanwhile. Counters are cumulative while anyone has stats on; the per-interval columns (AVG NS/RUN, EVENTS/S, STAGE RUNS/S) are exact for the interval.

Which chain: --pid N (a running \`tailcalls load\`: the CHAIN_STATS map among the fds that process holds), --pin-path DIR (a pinned chain), or by default the chain pinned at /sys/fs/bpf/tailcalls, else the one chain a process is running (several → choose with --pid).

Without --watch: one sample over one interval. With --watch: one sample per interval until Ctrl-C (or --count ticks); --json prints one JSON object per tick (NDJSON).`

  static examples = [
    {command: '<%= config.bin %> stats', description: 'One 1-second sample of the pinned (or the running) chain'},
    {command: '<%= config.bin %> stats --watch --interval 2', description: 'A table every 2 seconds until Ctrl-C'},
    {
      command: '<%= config.bin %> stats --watch --json --count 10 | jq .programs[0].avg_ns_interval',
      description: 'NDJSON per tick',
    },
    {
      command: '<%= config.bin %> stats --pid $(pgrep -f "tailcalls load")',
      description: 'The chain of a running `tailcalls load`',
    },
    {
      command: '<%= config.bin %> stats --pin-path /sys/fs/bpf/tailcalls-web --no-kernel-stats',
      description: "Only the chain's own counters; kernel stats stay off",
    },
  ]

  static flags = {
    count: Flags.integer({description: 'with --watch: stop after this many ticks', min: 1}),
    interval: Flags.string({default: '1', description: 'seconds per sample (0.01–3600)', helpValue: 'S'}),
    'kernel-stats': Flags.boolean({
      allowNo: true,
      default: true,
      description: "enable kernel run-time stats while running (--no-kernel-stats: only the chain's counters)",
    }),
    pid: Flags.integer({description: 'the chain of this running process (e.g. `tailcalls load`)', helpValue: 'N'}),
    'pin-path': Flags.string({description: 'the chain pinned in this bpffs folder', helpValue: 'DIR'}),
    watch: Flags.boolean({char: 'w', description: 'sample every interval until Ctrl-C'}),
  }

  static needs: Needs = {caps: 'bpf', doing: "reading a chain's counters"}

  async run(): Promise<void> {
    const {flags} = await this.parse(Stats)
    const {runStats} = await import('../src/stats/run.js')
    const {formatTick} = await import('../src/stats/render.js')
    const json = this.jsonEnabled()
    const interval = Number(flags.interval)
    await runStats({
      count: flags.count,
      intervalS: Number.isNaN(interval) ? Number.NaN : interval,
      kernelStats: flags['kernel-stats'],
      onTick: (tick, i) => {
        this.out(json ? `${toJson(tick)}\n` : `${i > 0 ? '\n' : ''}${formatTick(tick, {header: i === 0})}`)
      },
      pid: flags.pid,
      pinPath: flags['pin-path'],
      watch: flags.watch,
    })
  }
}
