import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJsonPretty} from '../src/render/json.js'

export default class Doctor extends BaseCommand {
  static summary = 'Check that the tail-call chain can run on this machine, and say how to fix what is missing'

  static description = `Checks the prerequisites live: kernel version, kernel BTF, the sched_process_exec tracepoint in BTF (btf_trace_sched_process_exec, what tp_btf attaches to), bpffs, capabilities, libbpf version, the BPF JIT, ring buffer / prog array / per-CPU array map support (probed by creating one), and the chain itself: the bundled object is loaded, its prog array filled, prog1 attached, one exec run through prog1 → prog2 → prog3, and everything released. BPF_ENABLE_STATS is probed too.

It also probes what moved between kernel versions, so you know what degrades here and why: BTF kinds (FLOAT 5.13, DECL_TAG 5.16, TYPE_TAG 5.17, ENUM64 6.0: BPF_BTF_LOAD of a tiny blob each), batch map reads per map type (5.10 has none for per-CPU arrays: map dump then reads one element per syscall and says so), the bpf_prog_info fields the kernel fills (verified_insns 5.16, …), and whether the chain's tp_btf link answers BPF_TASK_FD_QUERY (what perf list relies on).

Each check is PASS, WARN (works, with a caveat), FAIL (the chain cannot run) or SKIP (an earlier check failed), with the fix. The kernel facts the tool relies on are listed as probed. Exit code 0 when the chain can run here (warnings allowed), 15 when a check failed.`

  static examples = [
    {command: '<%= config.bin %> doctor', description: 'A table of checks and fixes'},
    {
      command: '<%= config.bin %> doctor --json | jq \'.checks[] | select(.status != "pass")\'',
      description: 'What is not a pass',
    },
    {
      command:
        "<%= config.bin %> doctor --json | jq -c '.facts | {kernel_release, btf_kinds, lookup_batch, prog_info_fields}'",
      description: 'The probed kernel facts',
    },
  ]

  static needs: Needs = {caps: 'none'}

  async run(): Promise<void> {
    await this.parse(Doctor)
    const {runDoctor} = await import('../src/doctor/checks.js')
    const report = runDoctor()
    if (this.jsonEnabled()) {
      this.out(`${toJsonPretty(report)}\n`)
    } else {
      const {formatDoctor} = await import('../src/doctor/render.js')
      this.out(formatDoctor(report))
    }

    if (!report.ok) {
      const {EXIT} = await import('../src/errors.js')
      const failed = report.checks.filter((c) => c.status === 'fail')
      this.status(
        `tailcalls: error: the chain cannot run here: ${failed.map((c) => `${c.id} (${c.detail})`).join('; ')}; ${failed[0].fix ?? 'see the fixes above'}`,
      )
      process.exitCode = EXIT.cannotRun
    }
  }
}
