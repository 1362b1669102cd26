import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {TailcallsError} from '../src/errors.js'
import {toJson} from '../src/render/json.js'

export default class Autocomplete extends BaseCommand {
  static summary = 'Set up shell completion (bash or zsh) for every command, topic and flag'

  static description = `Writes the completion functions for every command and flag into tailcalls' cache folder ($XDG_CACHE_HOME/tailcalls/autocomplete, by default ~/.cache/tailcalls/autocomplete) and prints the line to add to ~/.bashrc or ~/.zshrc: that line sources the functions when the file exists. Completion covers the command \`tailcalls\` on your PATH (\`npm install -g\`); it needs no privileges, so run it as the user whose shell completes. Run it again after an upgrade (--refresh-cache) so that new commands and flags complete. From oclif's @oclif/plugin-autocomplete.`

  static examples = [
    {
      command: '<%= config.bin %> autocomplete bash',
      description: 'Write the bash completion and show how to enable it',
    },
    {
      command: 'printf "$(<%= config.bin %> autocomplete script bash)" >> ~/.bashrc; source ~/.bashrc',
      description: 'Enable it in bash (what the command above prints)',
    },
    {
      command: 'printf "$(<%= config.bin %> autocomplete script zsh)" >> ~/.zshrc; source ~/.zshrc',
      description: 'Enable it in zsh, after `tailcalls autocomplete zsh`',
    },
    {command: '<%= config.bin %> autocomplete --refresh-cache', description: 'Rewrite the functions after an upgrade'},
    {command: '<%= config.bin %> autocomplete bash --json', description: 'Where the functions are, and the setup line'},
  ]

  static args = {
    shell: Args.string({description: 'the shell to complete in (default: from $SHELL)', options: ['bash', 'zsh']}),
  }

  static flags = {
    'refresh-cache': Flags.boolean({char: 'r', description: 'only rewrite the completion functions, print nothing'}),
  }

  static needs: Needs = {caps: 'none'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Autocomplete)
    // The functions for both shells are written either way; the shell picks the instructions.
    const shell = args.shell ?? shellFromEnv() ?? (flags['refresh-cache'] ? 'bash' : undefined)
    if (shell !== 'bash' && shell !== 'zsh')
      throw new TailcallsError(
        'usage',
        `no shell given, and $SHELL (${process.env.SHELL ?? 'unset'}) is neither bash nor zsh`,
        {
          hint: 'use: autocomplete bash, or autocomplete zsh',
        },
      )
    const {runAutocomplete, writeCompletion} = await import('../src/cli/completion.js')
    if (this.jsonEnabled()) this.out(`${toJson(await writeCompletion(this.config, shell))}\n`)
    else await runAutocomplete(this.config, shell, flags['refresh-cache'])
  }
}

/** The user's login shell, as oclif reads it. */
function shellFromEnv(): string | undefined {
  return (process.env.SHELL ?? '').split('/').pop() || undefined
}
