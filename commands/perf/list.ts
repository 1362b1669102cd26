import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'

export default class PerfList extends BaseCommand {
  static aliases = ['perf:show']

  static summary = 'List programs attached through perf-event or raw-tracepoint fds (bpftool perf list)'

  static description = `Asks every fd of every process with BPF_TASK_FD_QUERY, as bpftool does (needs CAP_SYS_ADMIN). It finds kprobe/uprobe/tracepoint programs attached through perf events, and raw-tracepoint attachments: the chain's tp_btf prog1 appears here as fd_type raw_tracepoint on sched_process_exec, held by the loading process.

Not here: attachments that are BPF links without such an fd (fentry/fexit, cgroup, xdp, tcx, netfilter, kprobe_multi, iter, …). A tp_btf attachment is itself a link: \`tailcalls link list\`
shows every link.

--json prints bpftool's array: pid, fd, prog_id, fd_type, then tracepoint | func + offset |
addr | filename + offset (u64 values exact).`

  static examples = [
    {command: '<%= config.bin %> perf list', description: 'A table of perf-style attachments'},
    {command: '<%= config.bin %> perf list --json | jq .', description: "The seed's recipe"},
    {
      command: `<%= config.bin %> perf list --json | jq '.[] | select(.tracepoint == "sched_process_exec") | .prog_id'`,
      description: 'The program on sched_process_exec',
    },
    {command: '<%= config.bin %> link list', description: 'Link-based attachments (fentry, cgroup, xdp, …)'},
  ]

  static needs: Needs = {caps: 'admin', doing: 'querying perf-event attachments (BPF_TASK_FD_QUERY)'}

  async run(): Promise<void> {
    await this.parse(PerfList)
    const {runPerf} = await import('../../src/inspect/perf-run.js')
    await runPerf(this.jsonEnabled())
  }
}
