/**
 * What the direct path (src/cli/direct.ts) knows of the commands it takes, read from their oclif
 * classes (src/cli/commands.ts) when the bundle is built (bin/bundle.js) so that the flags, their
 * short forms and defaults, the arguments and the privileges are declared once, in commands/.
 */
import type {Command} from '@oclif/core'

import type {SelectableKind} from '../kernel/select.js'
import type {Needs} from './privileges.js'

/** The commands the direct path takes (the list/show commands of src/inspect/command.ts), by oclif id. */
const DIRECT_KINDS: Record<string, SelectableKind> = {
  'link:list': 'link',
  'link:show': 'link',
  'map:list': 'map',
  'map:show': 'map',
  'prog:list': 'prog',
  'prog:show': 'prog',
}

export interface DirectFlag {
  /** The one-letter form (`-f`), if any. */
  char?: string
  /** `--no-NAME` is accepted too. */
  allowNo: boolean
  default: boolean
}

export interface DirectCommand {
  kind: SelectableKind
  /** The positional arguments' names, in order (oclif's strict parsing: no more than these). */
  args: string[]
  /** Every flag, --json included; all boolean. */
  flags: Record<string, DirectFlag>
  needs: Needs
}

export type DirectTable = Record<string, DirectCommand>

/** The flags runInspectCommand takes, and oclif's --json. */
const KNOWN_FLAGS = ['bpffs', 'json', 'pids']

/** Flag properties that change parsing in ways the direct path does not follow. */
const UNFOLLOWED = ['aliases', 'charAliases', 'dependsOn', 'env', 'exclusive', 'multiple', 'relationships', 'required']

/**
 * The table, from the command classes. Throws when a command has something the direct path
 * would not parse as oclif does (a new flag, a flag with a value): the build fails instead of
 * the two paths drifting apart.
 */
export function directTable(commands: Record<string, Command.Class>): DirectTable {
  const table: DirectTable = {}
  for (const [id, kind] of Object.entries(DIRECT_KINDS)) {
    const cls = commands[id] as Command.Class & {needs?: Needs}
    if (!cls?.needs) throw new Error(`direct path: ${id} is not a command declaring its needs`)
    if (cls.strict === false) throw new Error(`direct path: ${id} is not strict`)
    const flags: Record<string, DirectFlag> = {}
    if (cls.enableJsonFlag) flags.json = {allowNo: false, default: false}
    for (const [name, f] of Object.entries(cls.flags ?? {})) {
      const unfollowed = UNFOLLOWED.filter((p) => (f as Record<string, unknown>)[p] !== undefined)
      if (!KNOWN_FLAGS.includes(name) || f.type !== 'boolean' || unfollowed.length > 0)
        throw new Error(`direct path: flag --${name} of ${id} is not one src/cli/direct.ts parses`)
      flags[name] = {allowNo: Boolean(f.allowNo), char: f.char, default: f.default === true}
    }

    table[id] = {args: Object.keys(cls.args ?? {}), flags, kind, needs: cls.needs}
  }

  return table
}
