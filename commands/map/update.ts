import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {grammar} from '../../src/cli/selector.js'

export default class MapUpdate extends BaseCommand {
  static summary = 'Put a program into a prog array slot, live (a tail-call target swap)'

  static usage = ['map update MAP key K prog PROG [--json]', 'map update MAP key K value V [--json]']

  static description = `MAP  := ${grammar('map')}
PROG := ${grammar('prog')}
K    := the slot: a number (decimal or 0x hex), or bpftool's 4 key bytes (key 1 0 0 0, key hex 01 00 00 00)
bpftool's "value PROG" is accepted for "prog PROG".

Before touching the kernel it checks what the kernel would refuse, and names the reason: MAP must be a prog_array (exit 12), K below its max_entries (exit 11), and PROG must match the array's owner: same program type, both JIT-compiled or both not, and for tracing/LSM programs the same attach target prototype and attach type as the programs already in the array (exit 10). If the kernel still refuses, its errno is decoded. The swap is atomic: a program running through the chain sees the old or the new target, never neither.

On a map that holds data (an array or hash, e.g. a program's .bss with its global variables), \`value V\` writes V at K, as bpftool's map update: K and V as bytes (\`1 0 0 0\`, \`hex 01 00 00 00\`) or, for a 1-, 2-, 4- or 8-byte key or value, one number (little-endian). Sizes are checked against the map first.

A prog array is emptied by the kernel when its last user reference (an open fd, or a pin) goes away. If no other process holds MAP and it is not pinned, the change is lost when this command exits: a warning says so (as bpftool's does).`

  static examples = [
    {
      command: '<%= config.bin %> map update name TAIL_CALL_MAP key 1 prog name prog3_v2',
      description: 'Swap stage 3 of the running chain for prog3_v2',
    },
    {command: '<%= config.bin %> map update name TAIL_CALL_MAP key 1 prog name prog3', description: 'And back'},
    {
      command:
        '<%= config.bin %> map update pinned /sys/fs/bpf/tailcalls/TAIL_CALL_MAP key 1 prog pinned /sys/fs/bpf/tailcalls/prog3_v2',
      description: 'On a pinned chain',
    },
    {
      command: '<%= config.bin %> map update id 61 key 0 prog id 175 --json',
      description: 'By ids; prints {map, key, prog, previous}',
    },
    {
      command: '<%= config.bin %> map update pinned /sys/fs/bpf/tailcalls-x/bss_key.bss key 0 value 2',
      description: "Set a program's global variable (its .bss holds one u32) to 2",
    },
  ]

  static strict = false

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    await this.parse(MapUpdate)
    // The raw words: oclif's non-strict argv does not keep their order when words repeat (`id … id …`).
    const words = this.argv.filter((w) => w !== '--json')
    const {toJson} = await import('../../src/render/json.js')
    const values = await import('../../src/slots/values.js')
    if (values.isDataValue(words)) {
      const result = values.updateValue(values.parseValueArgs(words))
      this.out(this.jsonEnabled() ? `${toJson(result)}\n` : `${values.describeValueUpdate(result)}\n`)
      return
    }

    const {parseSlotArgs} = await import('../../src/slots/args.js')
    const {describeUpdate, updateSlot} = await import('../../src/slots/slots.js')
    const args = parseSlotArgs(words, true)
    const result = updateSlot(args.map, args.key, args.prog!)
    if (result.warning) this.status(`tailcalls: warning: ${result.warning}`)
    this.out(this.jsonEnabled() ? `${toJson(result)}\n` : `${describeUpdate(result)}\n`)
  }
}
