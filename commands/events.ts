import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJson} from '../src/render/json.js'

export default class Events extends BaseCommand {
  static summary = 'Stream the events of a pinned chain (same lines as `load`)'

  static description = `Reads the EVENTS ring buffer of a chain pinned by \`tailcalls load --pin\` (default folder /sys/fs/bpf/tailcalls) and prints the seed's log lines (NDJSON with --json), exactly as \`load\` does. Status and the final summary go to stderr. Ctrl-C, SIGTERM, SIGHUP, --count or --duration stop reading; the chain itself keeps running.

Events that happened while nobody was reading wait in the ring buffer (up to its size; beyond that the chain counts drops) and are printed first, unless --since-now. A ring buffer has one read position: two readers of the same chain share its events, so run one reader at a time.`

  static examples = [
    {command: '<%= config.bin %> events', description: 'Follow the chain pinned at /sys/fs/bpf/tailcalls'},
    {command: '<%= config.bin %> events --json --count 30', description: '30 events as NDJSON'},
    {
      command: '<%= config.bin %> events --pin-path /sys/fs/bpf/tailcalls-web --duration 10 --since-now',
      description: 'Only new events, for 10 seconds',
    },
  ]

  static flags = {
    count: Flags.integer({description: 'stop after this many events', min: 1}),
    duration: Flags.integer({description: 'stop after this many seconds', min: 1}),
    'pin-path': Flags.string({
      description: 'bpffs folder of the chain, default /sys/fs/bpf/tailcalls',
      helpValue: 'DIR',
    }),
    'since-now': Flags.boolean({description: 'discard the events queued before this command started'}),
  }

  static needs: Needs = {caps: 'bpf', doing: 'reading a pinned chain'}

  async run(): Promise<void> {
    const {flags} = await this.parse(Events)
    const {runEvents} = await import('../src/chain/pinned-events.js')
    const json = this.jsonEnabled()
    const {abandonedOutput, ...summary} = await runEvents({
      count: flags.count,
      durationSec: flags.duration,
      json,
      pinPath: flags['pin-path'],
      sinceNow: flags['since-now'],
      status: (line) => this.status(line),
    })
    this.status(json ? toJson({summary}) : (await import('../src/chain/stream.js')).formatSummary(summary))
    this.status('Exiting...')
    // stdout holds output nobody will read (src/chain/stream.ts settleOutput): leave without it.
    if (abandonedOutput) process.stderr.write('', () => process.exit())
  }
}
