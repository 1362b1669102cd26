import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {bpffsFlag, selectorArgs} from '../../src/inspect/args.js'

export default class MapList extends BaseCommand {
  static summary = 'List BPF maps (bpftool map list)'

  static description = `One row per map (id order); with a selector (id N | name NAME | pinned PATH) only the matching maps, exactly like \`map show\` (bpftool treats list and show alike). --json prints bpftool's JSON key for key, so jq recipes written for bpftool keep working; extras: "pids" and, with -f, "pinned". The full list is streamed (memory stays flat; \`| head\` ends quietly).`

  static examples = [
    {command: '<%= config.bin %> map list', description: 'A table of every map'},
    {
      command: '<%= config.bin %> map list name TAIL_CALL_MAP --json | jq .',
      description: "The seed's recipe: the chain's prog array",
    },
    {
      command: `<%= config.bin %> map list --json | jq -c '.[] | select(.type == "prog_array") | {id, name, owner_prog_type}'`,
      description: 'Every prog array and its owner type',
    },
  ]

  static args = selectorArgs('map')
  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MapList)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('map', args, flags, this.jsonEnabled())
  }
}
