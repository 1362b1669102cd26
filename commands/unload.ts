import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJson} from '../src/render/json.js'

export default class Unload extends BaseCommand {
  static summary = 'Remove a pinned chain: unpin its link, programs and maps so the kernel frees them'

  static description = `Removes exactly the chain pinned by \`tailcalls load --pin\` in one bpffs folder (default /sys/fs/bpf/tailcalls): prog1's link first (no new events), then the programs and the maps, then the folder. A folder that holds anything a chain does not pin is refused before anything is removed. Unfinished pinnings left next to it by a crashed \`load --pin\` are removed too. The kernel frees each object once nothing else holds it; the command waits for that (briefly) and names any object another process still holds (e.g. a running \`tailcalls events\`).`

  static examples = [
    {command: '<%= config.bin %> unload', description: 'Remove the chain pinned at /sys/fs/bpf/tailcalls'},
    {
      command: '<%= config.bin %> unload --pin-path /sys/fs/bpf/tailcalls-web',
      description: 'Remove a chain pinned elsewhere',
    },
    {command: '<%= config.bin %> unload --json', description: 'What was removed, as JSON'},
  ]

  static flags = {
    'pin-path': Flags.string({
      description: 'bpffs folder of the chain, default /sys/fs/bpf/tailcalls',
      helpValue: 'DIR',
    }),
  }

  static needs: Needs = {caps: 'bpf', doing: 'opening a pinned chain'}

  async run(): Promise<void> {
    const {flags} = await this.parse(Unload)
    const {runUnload, formatUnload} = await import('../src/chain/unload.js')
    const result = runUnload(flags['pin-path'])
    this.out(`${this.jsonEnabled() ? toJson(result) : formatUnload(result)}\n`)
  }
}
