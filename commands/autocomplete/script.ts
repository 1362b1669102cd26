import {Args} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {toJson} from '../../src/render/json.js'

export default class AutocompleteScript extends BaseCommand {
  static summary = "Print the line that enables completion in a shell's start-up file"

  static description = `The line sources the setup script \`tailcalls autocomplete SHELL\` wrote into the cache folder, when it is there. \`tailcalls autocomplete\` prints how to use it.`

  static hidden = true

  static examples = [
    {
      command: 'printf "$(<%= config.bin %> autocomplete script bash)" >> ~/.bashrc',
      description: 'Enable completion in every new bash',
    },
  ]

  static args = {
    shell: Args.string({description: 'bash or zsh', options: ['bash', 'zsh'], required: true}),
  }

  static needs: Needs = {caps: 'none'}

  async run(): Promise<void> {
    const {args} = await this.parse(AutocompleteScript)
    const shell = args.shell as 'bash' | 'zsh'
    const {runScript, setupLine} = await import('../../src/cli/completion.js')
    if (this.jsonEnabled()) this.out(`${toJson({setup: setupLine(this.config, shell), shell})}\n`)
    else await runScript(this.config, shell)
  }
}
