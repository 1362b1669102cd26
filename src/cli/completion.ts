/**
 * Shell completion from @oclif/plugin-autocomplete: its commands write the completion functions
 * (every command id, topic and flag from the manifest) into tailcalls' cache folder and print the
 * line a shell's start-up file sources. Bundled like @oclif/plugin-help rather than loaded as a
 * plugin, and only when `tailcalls autocomplete` runs (commands/autocomplete.ts imports this
 * module in run()): the plugin brings a template engine no other command needs at start-up.
 *
 * The plugin's package exports no module path (oclif finds a plugin's commands by folder), so
 * its command classes are imported by their file path in node_modules; esbuild bundles them.
 */
import type {Config} from '@oclif/core'
import {join} from 'node:path'

import Create from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/create.js'
import Instructions from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/index.js'
import Script from '../../node_modules/@oclif/plugin-autocomplete/lib/commands/autocomplete/script.js'

export type Shell = 'bash' | 'zsh'

/** Writes the completion functions, then prints how to enable them (the plugin's own text). */
export async function runAutocomplete(config: Config, shell: Shell, refreshOnly: boolean): Promise<void> {
  await Instructions.run([shell, ...(refreshOnly ? ['--refresh-cache'] : [])], config)
}

/** The plugin's line for a shell's start-up file: it sources the setup script in the cache. */
export async function runScript(config: Config, shell: Shell): Promise<void> {
  await Script.run([shell], config)
}

export interface Completion {
  /** The folder the completion functions were written to. */
  cache: string
  shell: Shell
  /** The line for ~/.bashrc or ~/.zshrc (what `autocomplete script SHELL` prints). */
  setup: string
}

/** Writes the completion functions and says where they are, for --json. */
export async function writeCompletion(config: Config, shell: Shell): Promise<Completion> {
  await Create.run([], config)
  return {cache: join(config.cacheDir, 'autocomplete'), setup: setupLine(config, shell), shell}
}

/** What `autocomplete script SHELL` prints: the plugin's variable and setup file (its AutocompleteBase, Script). */
export function setupLine(config: Config, shell: Shell): string {
  const variable = `${config.bin.toUpperCase().replaceAll('-', '_')}_AC_${shell.toUpperCase()}_SETUP_PATH`
  const file = join(config.cacheDir, 'autocomplete', `${shell}_setup`)
  return `${variable}=${file} && test -f $${variable} && source $${variable};`
}
