/** Flags and args shared by the list/show commands. */
import {Args, Flags} from '@oclif/core'

import {grammar} from '../cli/selector.js'
import type {SelectableKind} from '../kernel/select.js'

export const bpffsFlag = {
  bpffs: Flags.boolean({
    char: 'f',
    description: 'add `pinned` (paths under every bpffs mount), as bpftool -f; slower: it opens every pinned file',
  }),
  pids: Flags.boolean({
    allowNo: true,
    default: true,
    description:
      'add `pids` (processes holding each object, from /proc, or by a BPF iterator once 1,000 objects exist); --no-pids skips finding them',
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
