import {commands} from '@oclif/plugin-help'

/**
 * `tailcalls help [COMMAND]`, from @oclif/plugin-help (bundled like ours rather than loaded as a
 * plugin: a plugin costs every run a search for its package and two file reads), with examples.
 */
export default class Help extends commands.help {
  static examples = [
    {command: '<%= config.bin %> help', description: 'Every command and topic, with its summary'},
    {command: '<%= config.bin %> help map', description: 'The commands of a topic'},
    {command: '<%= config.bin %> help graph', description: 'One command: usage, flags, description, examples'},
    {command: '<%= config.bin %> help --nested-commands', description: 'Every command, topics unfolded'},
  ]
}
