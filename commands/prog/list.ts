import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {bpffsFlag} from '../../src/inspect/args.js'

export default class ProgList extends BaseCommand {
  static summary = 'List every BPF program in the kernel (bpftool prog list)'

  static description = `One row per program (id order). --json prints bpftool's array, key for key: existing jq recipes keep working. Extra keys: "pids" (processes holding the program; Debian's bpftool lacks them) and, with -f, "pinned". The list is streamed: memory stays flat with thousands of programs, and \`| head\` ends quietly.`

  static examples = [
    {command: '<%= config.bin %> prog list', description: 'A table of every program'},
    {
      command: `<%= config.bin %> prog list --json | jq -c '[.[] | select(.name | contains("prog"))] | sort_by(.name) | .[]'`,
      description: "The seed's recipe: our chain's programs, one line each",
    },
    {
      command: `<%= config.bin %> prog list --json | jq '.[] | select(.type == "tracing") | .id'`,
      description: 'Ids of tracing programs',
    },
    {
      command: "<%= config.bin %> prog list -f --json | jq '.[] | select(.pinned != []) | {id, pinned}'",
      description: 'Pinned programs',
    },
  ]

  static flags = bpffsFlag

  static needs: Needs = {caps: 'admin'}

  async run(): Promise<void> {
    const {flags} = await this.parse(ProgList)
    const {runInspectCommand} = await import('../../src/inspect/command.js')
    await runInspectCommand('prog', {}, flags, this.jsonEnabled())
  }
}
