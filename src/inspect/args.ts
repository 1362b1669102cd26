/** Flags and args shared by the list/show commands. */
import {Args, Flags} from '@oclif/core'

import {grammar, parseSelector} from '../cli/selector.js'
import type {SelectableKind, Selector} from '../kernel/select.js'

export const bpffsFlag = {
  bpffs: Flags.boolean({
    char: 'f',
    description: 'add `pinned` (paths under every bpffs mount), as bpftool -f; slower: it opens every pinned file',
  }),
  pids: Flags.boolean({
    allowNo: true,
    default: true,
    description: 'add `pids` (processes holding each object, read from /proc); --no-pids skips the /proc walk',
  }),
}

export function selectorArgs(kind: SelectableKind): {
  selector: ReturnType<typeof Args.string>
  value: ReturnType<typeof Args.string>
} {
  return {
    selector: Args.string({
      description: `what to select: ${grammar(kind)
        .split(' | ')
        .map((s) => s.split(' ')[0])
        .join(', ')} (abbreviations as in bpftool)`,
    }),
    value: Args.string({description: 'the id, name, tag or path'}),
  }
}

/** undefined when no selector was given (then the command lists everything, as bpftool). */
export function selectorFrom(kind: SelectableKind, args: {selector?: string; value?: string}): Selector | undefined {
  if (args.selector === undefined) return undefined
  return parseSelector(kind, args.selector, args.value)
}
