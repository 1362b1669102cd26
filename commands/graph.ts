import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {EXIT, TailcallsError} from '../src/errors.js'
import {grammar, parseSelector} from '../src/cli/selector.js'
import type {GraphFormat} from '../src/graph/render.js'

export default class Graph extends BaseCommand {
  static summary = 'Draw the tail-call graph: which program jumps where, through which prog array slot'

  static description = `Reads every program's translated instructions (or those of PROG and what it reaches), finds each bpf_tail_call, works out the prog array (r2 = map[id:N]) and the key (r3), and resolves it through the array's current contents to the program that runs next. Shows where the entry programs are attached (from BPF links).

PROG := ${grammar('prog')}

It flags what bites: a call site whose slot is empty (the tail call falls through), a non-constant key or one at or above max_entries (the kernel's slower indirect path; the filled slots are shown as possible targets), cycles, chains longer than the kernel's limit of 33 tail calls, and prog arrays that no attached program uses. A prog array passed to a subprogram as an argument is followed per call site. Works on any program in the kernel, not only the bundled chain. Exit status 16 when there is an error finding (a chain longer than 33 tail calls), as with --object.

--format tree (default) draws a tree; dot and mermaid are for Graphviz and Markdown; svg is the picture, drawn by Graphviz built in (WebAssembly: no Graphviz to install), the same boxes, arrows and labels as dot, problems in red; json (or --json) is the whole graph: programs, sites, maps, edges, chains and findings. --output FILE writes any format to FILE instead of stdout.

--object FILE.o draws the graph of an object file before it is loaded, with no privileges and no kernel calls: programs and subprograms from the ELF, each tail call's prog array from the relocation of the instruction that loads it, static slots from .values, and --slot MAP[KEY]=PROG (repeatable) for the slots a loader fills. Programs are named as in the object (PROG := name NAME); programs no slot holds are the entry points. On top of the live graph's findings it reports what the kernel would refuse, each with its rule and where (program, instruction, source line): programs of different type, attach target or attach type in one prog array, a subprogram's tail call under 256 bytes or more of callers' stack, tail calls and bpf-to-bpf calls on kernels before 5.10, a tail call while a lock or RCU read section is held; and programs in a slot no tail call reaches. Exit status 16 when there is an error finding, so it can gate a CI.`

  static examples = [
    {command: '<%= config.bin %> graph', description: 'Every tail-call chain in the kernel, as a tree'},
    {command: '<%= config.bin %> graph prog name prog1', description: 'The chain that starts at prog1'},
    {
      command: '<%= config.bin %> graph --format svg --output chain.svg',
      description: 'The picture, to open in a browser',
    },
    {
      command: '<%= config.bin %> graph --format dot | dot -Tpng > chain.png',
      description: "With the system's Graphviz",
    },
    {command: '<%= config.bin %> graph --format mermaid', description: 'A Mermaid flowchart for Markdown'},
    {
      command: '<%= config.bin %> graph --json | jq \'.findings[] | select(.kind == "empty-slot")\'',
      description: 'Call sites that would fall through',
    },
    {
      command: '<%= config.bin %> graph prog pinned /sys/fs/bpf/tailcalls/prog1 --json',
      description: 'Start from a pinned program',
    },
    {
      command:
        '<%= config.bin %> graph --object bpf/tailcalls.bpf.o --slot TAIL_CALL_MAP[0]=prog2 --slot TAIL_CALL_MAP[1]=prog3',
      description: 'The bundled chain before loading it (no root needed)',
    },
    {
      command:
        '<%= config.bin %> graph --object bpf/tailcalls.bpf.o --slot TAIL_CALL_MAP[0]=prog2 --format svg --output object.svg',
      description: "The object's picture: prog2 → prog3's empty slot drawn in red",
    },
  ]

  static args = {
    object: Args.string({
      description: 'prog: start from one program (else every chain in the kernel)',
      options: ['prog'],
    }),
    selector: Args.string({description: 'id, name, tag or pinned'}),
    value: Args.string({description: 'the id, name, tag or path'}),
  }

  static flags = {
    format: Flags.string({
      description: 'output format (--json is the same as --format json)',
      options: ['tree', 'dot', 'mermaid', 'svg', 'json'],
    }),
    output: Flags.string({char: 'o', description: 'write the graph to FILE instead of stdout', helpValue: 'FILE'}),
    object: Flags.string({description: 'read this BPF object file instead of the kernel (no privileges needed)'}),
    slot: Flags.string({
      description: 'with --object: MAP[KEY]=PROG, a slot the loader fills (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
    }),
  }

  static needs: Needs = {caps: 'admin', offKernelFlag: '--object'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Graph)
    if (args.object === undefined && args.selector !== undefined) {
      throw new TailcallsError('usage', `unexpected '${args.selector}'`, {hint: `use: graph [prog ${grammar('prog')}]`})
    }

    const format = (this.jsonEnabled() ? 'json' : (flags.format ?? 'tree')) as GraphFormat
    const {runGraph} = await import('../src/graph/run.js')
    if (flags.object !== undefined) {
      // An object's programs have names only: no id, tag or pin yet.
      if (args.object !== undefined && (args.selector !== 'name' || args.value === undefined)) {
        throw new TailcallsError(
          'usage',
          "with --object, PROG is 'name NAME' (the object's programs have no id, tag or pin yet)",
          {hint: 'use: graph --object FILE.o [prog name NAME]'},
        )
      }

      const {errors} = await runGraph({
        format,
        object: flags.object,
        output: flags.output,
        programs: args.value === undefined ? undefined : [args.value],
        slots: flags.slot,
      })
      if (errors > 0) process.exitCode = EXIT.graphErrors
      return
    }

    if (flags.slot !== undefined)
      throw new TailcallsError('usage', '--slot needs --object', {
        hint: 'the live graph reads the slots from the kernel',
      })
    const selector = args.object === undefined ? undefined : parseSelector('prog', args.selector, args.value)
    const {errors} = await runGraph({format, output: flags.output, selector})
    if (errors > 0) process.exitCode = EXIT.graphErrors
  }
}
