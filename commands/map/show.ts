import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {bpffsFlag, selectorArgs} from '../../src/inspect/args.js'

export default class MapShow extends BaseCommand {
  static summary = 'Show BPF maps by id, name or pin (bpftool map show)'

  static description = `MAP := id N | name NAME | pinned PATH

Works on every map in the kernel, not only ours. With --json the output is bpftool's: one object for id/pinned; for name one object if a single map matches, an array if several do. Same keys, order and conditions as bpftool 7.1: owner_prog_type/owner_jited only on a prog_array that a program has used, frozen always (0/1), btf_id when the map has BTF; plus "pids" (processes holding the map; Debian's bpftool lacks it) and, with -f, "pinned".

A map name is the kernel's (at most 15 characters). Without a selector it lists every map, like \`map list\`.`

  static examples = [
    {command: '<%= config.bin %> map show name TAIL_CALL_MAP', description: "The chain's prog array"},
    {
      command: '<%= config.bin %> map show name TAIL_CALL_MAP --json | jq .owner_prog_type',
      description: 'Which program type owns it',
    },
    {command: '<%= config.bin %> map show id 42 --json', description: 'By id'},
    {command: '<%= config.bin %> map show pinned /sys/fs/bpf/tailcalls/TAIL_CALL_MAP', description: 'A pinned map'},
  ]

  static args = selectorArgs('map')
  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MapShow)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('map', args, flags, this.jsonEnabled())
  }
}
