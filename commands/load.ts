import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'

export default class Load extends BaseCommand {
  static summary = 'Load the tail-call chain, attach it to sched_process_exec and stream its log lines'

  static description = `Loads the bundled BPF object (or --object), fills TAIL_CALL_MAP (slot 0 = prog2, slot 1 = prog3),
then attaches prog1 to the BTF tracepoint sched_process_exec, so every exec runs prog1 → prog2 → prog3.
One line per program per exec goes to stdout (NDJSON with --json); status and the final summary go
to stderr. Ctrl-C, SIGTERM or SIGHUP detaches, frees everything and prints the summary.`

  static examples = [
    {command: '<%= config.bin %> load', description: 'Stream the seed\'s log lines until Ctrl-C'},
    {command: '<%= config.bin %> load --json | jq -c \'select(.prog == "prog3")\'', description: 'NDJSON for jq'},
    {command: '<%= config.bin %> load --count 30 --duration 10', description: 'Stop after 30 events or 10 seconds'},
    {command: '<%= config.bin %> load --object ./my.bpf.o', description: 'Another object with the same programs and maps'},
  ]

  static flags = {
    count: Flags.integer({description: 'stop after this many events', min: 1}),
    duration: Flags.integer({description: 'stop after this many seconds', min: 1}),
    object: Flags.string({description: 'BPF object file to load instead of the bundled one', helpValue: 'PATH'}),
    'ringbuf-size': Flags.integer({
      description: 'EVENTS ring buffer size in bytes (power of two, at least 4096); small values provoke counted drops',
      helpValue: 'BYTES',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Load)
    const {runLoad} = await import('../src/chain/load.js')
    const json = this.jsonEnabled()
    const summary = await runLoad({
      count: flags.count,
      durationSec: flags.duration,
      json,
      object: flags.object,
      ringbufSize: flags['ringbuf-size'],
      status: (line) => this.status(line),
    })
    this.status(json ? JSON.stringify({summary}) : (await import('../src/chain/stream.js')).formatSummary(summary))
    this.status('Exiting...')
  }
}
