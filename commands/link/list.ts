import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {bpffsFlag} from '../../src/inspect/args.js'

export default class LinkList extends BaseCommand {
  static summary = 'List every BPF link in the kernel (bpftool link list)'

  static description = `Every attachment made through a BPF link, in id order: raw_tracepoint/tp_btf, fentry/fexit, cgroup, iter, netns, xdp, perf_event, kprobe_multi, tcx, netfilter… This is where tp_btf attachments such as the chain's prog1 show up (\`perf list\` only sees perf-event style fds). --json prints bpftool 7.1's array; extras "pids" and, with -f, "pinned".`

  static examples = [
    {command: '<%= config.bin %> link list', description: 'A table of every link'},
    {
      command: `<%= config.bin %> link list --json | jq -c '.[] | select(.tp_name == "sched_process_exec")'`,
      description: 'What is attached to sched_process_exec',
    },
    {
      command: `<%= config.bin %> link list --json | jq '[.[].prog_id]'`,
      description: 'Programs attached through links',
    },
  ]

  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin'}

  async run(): Promise<void> {
    const {flags} = await this.parse(LinkList)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('link', {}, flags, this.jsonEnabled())
  }
}
