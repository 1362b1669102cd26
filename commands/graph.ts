import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {TailcallsError} from '../src/errors.js'
import {grammar, parseSelector} from '../src/cli/selector.js'

export default class Graph extends BaseCommand {
  static summary = 'Draw the tail-call graph: which program jumps where, through which prog array slot'

  static description = `Reads every program's translated instructions (or those of PROG and what it reaches), finds each bpf_tail_call, works out the prog array (r2 = map[id:N]) and the key (r3), and resolves it through the array's current contents to the program that runs next. Shows where the entry programs are attached (from BPF links).

PROG := ${grammar('prog')}

It flags what bites: a call site whose slot is empty (the tail call falls through), a non-constant key (the kernel's slower indirect path; the filled slots are shown as possible targets), cycles, chains longer than the kernel's limit of 33 tail calls, and prog arrays that no attached program uses. Works on any program in the kernel, not only the bundled chain.

--format tree (default) draws a tree; dot and mermaid are for Graphviz and Markdown; json (or --json) is the whole graph: programs, sites, maps, edges, chains and findings.`

  static examples = [
    {command: '<%= config.bin %> graph', description: 'Every tail-call chain in the kernel, as a tree'},
    {command: '<%= config.bin %> graph prog name prog1', description: 'The chain that starts at prog1'},
    {command: '<%= config.bin %> graph --format dot | dot -Tsvg > chain.svg', description: 'Graphviz'},
    {command: '<%= config.bin %> graph --format mermaid', description: 'A Mermaid flowchart for Markdown'},
    {command: '<%= config.bin %> graph --json | jq \'.findings[] | select(.kind == "empty-slot")\'', description: 'Call sites that would fall through'},
    {command: '<%= config.bin %> graph prog pinned /sys/fs/bpf/tailcalls/prog1 --json', description: 'Start from a pinned program'},
  ]

  static args = {
    object: Args.string({description: 'prog: start from one program (else every chain in the kernel)', options: ['prog']}),
    selector: Args.string({description: 'id, name, tag or pinned'}),
    value: Args.string({description: 'the id, name, tag or path'}),
  }

  static flags = {
    format: Flags.string({
      description: 'output format (--json is the same as --format json)',
      options: ['tree', 'dot', 'mermaid', 'json'],
    }),
  }

  static needs: Needs = {caps: 'admin'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Graph)
    if (args.object === undefined && args.selector !== undefined) {
      throw new TailcallsError('usage', `unexpected '${args.selector}'`, {hint: `use: graph [prog ${grammar('prog')}]`})
    }

    const selector = args.object === undefined ? undefined : parseSelector('prog', args.selector, args.value)
    const format = this.jsonEnabled() ? 'json' : (flags.format ?? 'tree')
    const {runGraph} = await import('../src/graph/run.js')
    await runGraph({format: format as 'dot' | 'json' | 'mermaid' | 'tree', selector})
  }
}
