import {bpffsFlag, selectorArgs} from '../../src/inspect/args.js'
import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'

export default class ProgShow extends BaseCommand {
  static summary = 'Show BPF programs by id, name, tag or pin (bpftool prog show)'

  static description = `PROG := id N | name NAME | tag TAG | pinned PATH

Works on every program in the kernel, not only ours. With --json the output is bpftool's: one object for id/pinned; for name/tag one object if a single program matches, an array if several do. Same keys, order and conditions as bpftool 7.1 (run_time_ns/run_cnt only while stats are enabled, bytes_jited only when jited, map_ids only when non-empty, btf_id when set, metadata when the program has bpf_metadata_* variables), plus "pids" (processes holding the program; Debian's bpftool lacks it) and, with -f, "pinned". u64 counters keep every digit.

Without a selector it lists every program, like \`prog list\`. A name is the full (BTF) function name, so names longer than 15 characters match too.`

  static examples = [
    {command: '<%= config.bin %> prog show name prog1', description: 'A table of one program'},
    {command: '<%= config.bin %> prog show id 42 --json | jq .map_ids', description: 'The maps a program uses'},
    {
      command: '<%= config.bin %> prog show tag 9deeef4ddf1dd0c8 --json',
      description: 'By tag (an array if several programs share it)',
    },
    {command: '<%= config.bin %> prog show pinned /sys/fs/bpf/tailcalls/prog1 --json', description: 'A pinned program'},
  ]

  static args = selectorArgs('prog')
  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ProgShow)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('prog', args, flags, this.jsonEnabled())
  }
}
