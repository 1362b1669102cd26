import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {grammar} from '../../src/cli/selector.js'

export default class MapDelete extends BaseCommand {
  static summary = 'Empty a prog array slot: tail calls through it then fall through'

  static usage = 'map delete MAP key K [--json]'

  static description = `MAP := ${grammar('map')}
K   := the slot: a number (decimal or 0x hex), or bpftool's 4 key bytes (key 1 0 0 0)

The program that called bpf_tail_call() through this slot then continues after the call (a failed tail call); the bundled chain counts and reports those. MAP must be a prog_array (exit 12), K below its max_entries (exit 11); an already empty slot is exit 5.`

  static examples = [
    {command: '<%= config.bin %> map delete name TAIL_CALL_MAP key 1', description: 'Cut the chain after prog2'},
    {
      command: '<%= config.bin %> map delete pinned /sys/fs/bpf/tailcalls/TAIL_CALL_MAP key 0 --json',
      description: 'On a pinned chain; prints {map, key, removed}',
    },
  ]

  static strict = false

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    await this.parse(MapDelete)
    // The raw words: oclif's non-strict argv does not keep their order when words repeat (`id … id …`).
    const words = this.argv.filter((w) => w !== '--json')
    const {parseSlotArgs} = await import('../../src/slots/args.js')
    const {deleteSlot, describeDelete} = await import('../../src/slots/slots.js')
    const {toJson} = await import('../../src/render/json.js')
    const args = parseSlotArgs(words, false)
    const result = deleteSlot(args.map, args.key)
    if (result.warning) this.status(`tailcalls: warning: ${result.warning}`)
    this.out(this.jsonEnabled() ? `${toJson(result)}\n` : `${describeDelete(result)}\n`)
  }
}
