import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {grammar, parseSelector} from '../../src/cli/selector.js'
import {TailcallsError} from '../../src/errors.js'
import {selectorArgs} from '../../src/inspect/args.js'

export default class ProgRun extends BaseCommand {
  static summary =
    'Test-run a loaded program on an input (bpftool prog run): return value, duration, output, tail calls'

  static usage =
    'prog run PROG [--data-in FILE|-] [--ctx-in FILE|-] [--data-out FILE|-] [--ctx-out FILE|-] [--repeat N]'

  static description = `PROG := ${grammar('prog')}

Runs the program once (or --repeat N times) in the kernel with BPF_PROG_TEST_RUN, without attaching it: a socket filter, tc or XDP program on the packet in --data-in, a raw_tp or syscall program on the context in --ctx-in, an fentry/fexit program on nothing. Tail calls run as they would for real: the return value is the one of the last program in the chain, and the kernel's limit of 33 tail calls applies.

Prints bpftool's line "Return value: N, duration: Nns" (the average over the runs), the sizes of the data and context the program left, and, for a program that makes tail calls, the prog arrays it goes through with their slots, the programs it can reach, the longest chain and any cycle (the live graph, as \`tailcalls graph prog …\` draws it).

--data-out/--ctx-out write the output to a file, or with - to stdout (a hex dump, or with --json bpftool's "data_out"/"ctx_out" arrays of byte values). --json keys as bpftool's ("retval", "duration", "data_out", "ctx_out"), then ours: "data_size_out", "ctx_size_out", "repeat", "prog" and "tail_calls" (null when the program makes none).

Program types the kernel cannot test-run (kprobe, tracepoint, tp_btf, lsm, perf_event, …) are refused in one line (exit 4) that says what to do instead; an input the kernel refuses for the type (EINVAL) says what that type takes (exit 2).`

  static examples = [
    {
      command: '<%= config.bin %> prog run pinned /sys/fs/bpf/tailcalls-x/entry --data-in pkt.bin',
      description: 'Run a tc program on a packet; prints the return value and the chain it goes through',
    },
    {
      command: 'head -c 64 /dev/zero | <%= config.bin %> prog run name entry --data-in - --repeat 1000000',
      description: 'The packet from stdin; average duration over a million runs',
    },
    {
      command: '<%= config.bin %> prog run id 42 --data-in pkt.bin --data-out out.bin',
      description: 'Keep the packet the program left (an XDP program that rewrites headers)',
    },
    {
      command: '<%= config.bin %> prog run id 42 --data-in pkt.bin --data-out - --json | jq .data_out',
      description: "bpftool's JSON, with the output bytes",
    },
    {
      command:
        "<%= config.bin %> prog run name entry --data-in pkt.bin --json | jq '.retval, .tail_calls.longest_chain'",
      description: 'The return value and the longest tail-call chain behind it',
    },
  ]

  static args = selectorArgs('prog')

  static flags = {
    'ctx-in': Flags.string({description: 'the context to run on (e.g. a struct __sk_buff), a file or - for stdin'}),
    'ctx-out': Flags.string({description: 'write the context the program left to this file, or - for stdout'}),
    'ctx-size-out': Flags.integer({description: 'room for the output context, bytes (default 32768)', min: 1}),
    'data-in': Flags.string({description: 'the packet (or data) to run on, a file or - for stdin'}),
    'data-out': Flags.string({description: 'write the data the program left to this file, or - for stdout'}),
    'data-size-out': Flags.integer({description: 'room for the output data, bytes (default 32768)', min: 1}),
    'no-graph': Flags.boolean({description: 'leave out the tail-call reach (skips reading the prog arrays)'}),
    repeat: Flags.integer({default: 1, description: 'runs; the duration is their average', max: 2_147_483_647, min: 1}),
  }

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(ProgRun)
    if (args.selector === undefined)
      throw new TailcallsError('usage', 'missing PROG', {
        hint: `give ${grammar('prog')}, e.g. prog run id 42 --data-in pkt.bin`,
      })
    const selector = parseSelector('prog', args.selector, args.value)
    const {progRun, reportJson, reportText} = await import('../../src/run/prog-run.js')
    const {writeOut} = await import('../../src/render/json.js')
    const json = this.jsonEnabled()
    const report = await progRun({
      ctxIn: flags['ctx-in'],
      ctxOut: flags['ctx-out'],
      ctxSizeOut: flags['ctx-size-out'],
      dataIn: flags['data-in'],
      dataOut: flags['data-out'],
      dataSizeOut: flags['data-size-out'],
      json,
      noGraph: flags['no-graph'],
      repeat: flags.repeat,
      selector,
    })
    await writeOut(json ? reportJson(report) : reportText(report))
  }
}
