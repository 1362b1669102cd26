import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {bpffsFlag, selectorArgs} from '../../src/inspect/args.js'

export default class LinkShow extends BaseCommand {
  static summary = 'Show a BPF link by id or pin (bpftool link show)'

  static description = `LINK := id N | pinned PATH

A link is what keeps a program attached (our chain's prog1 → tp_btf/sched_process_exec is a raw_tracepoint link). --json prints bpftool 7.1's object: id, type, prog_id, then per type tp_name (raw_tracepoint), prog_type + attach_type (tracing), cgroup_id + attach_type (cgroup), target_name … (iter), netns_ino + attach_type (netns); plus "pids" and, with -f, "pinned".

Without a selector it lists every link, like \`link list\`.`

  static examples = [
    {command: '<%= config.bin %> link show id 12', description: 'One link as a table'},
    {
      command: '<%= config.bin %> link show id 12 --json | jq .tp_name',
      description: 'The tracepoint a raw_tracepoint link is on',
    },
    {command: '<%= config.bin %> link show pinned /sys/fs/bpf/tailcalls/link --json', description: 'A pinned link'},
  ]

  static args = selectorArgs('link')
  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(LinkShow)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('link', args, flags, this.jsonEnabled())
  }
}
