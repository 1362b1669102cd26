import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJson} from '../src/render/json.js'

export default class Load extends BaseCommand {
  static summary = 'Load the tail-call chain, attach it to sched_process_exec and stream its log lines (or pin it)'

  static description = `Loads the bundled BPF object (or --object), fills TAIL_CALL_MAP (slot 0 = prog2, slot 1 = prog3), then attaches prog1 to the BTF tracepoint sched_process_exec, so every exec runs prog1 → prog2 → prog3. One line per program per exec goes to stdout (NDJSON with --json); status and the final summary go to stderr. Ctrl-C, SIGTERM or SIGHUP detaches, frees everything and prints the summary.

With --pin the chain stays in the kernel after this process exits: the programs, the maps and prog1's link are pinned in one bpffs folder (default /sys/fs/bpf/tailcalls; bpffs is mounted at /sys/fs/bpf if it is not). The folder appears complete or not at all: the pins go into a sibling folder that is renamed into place last, and what a crash leaves behind is removed by the next \`load --pin\` or \`unload\`. An existing pinned chain is never overwritten unless --force is given. The pin folder must be on bpffs (no '..', no symlink out of it) and its name must contain 'tailcalls'. Without --follow the command returns once pinned; \`tailcalls events\` streams the pinned chain's events, \`tailcalls stats\` counts them, \`tailcalls unload\` removes it.`

  static examples = [
    {command: '<%= config.bin %> load', description: "Stream the seed's log lines until Ctrl-C"},
    {command: '<%= config.bin %> load --json | jq -c \'select(.prog == "prog3")\'', description: 'NDJSON for jq'},
    {command: '<%= config.bin %> load --count 30 --duration 10', description: 'Stop after 30 events or 10 seconds'},
    {
      command: '<%= config.bin %> load --object ./my.bpf.o',
      description: 'Another object with the same programs and maps',
    },
    {
      command: '<%= config.bin %> load --pin',
      description: 'Pin the chain at /sys/fs/bpf/tailcalls and return; it keeps running',
    },
    {
      command: '<%= config.bin %> load --pin --pin-path /sys/fs/bpf/tailcalls-web --follow',
      description: 'Pin it elsewhere and also stream its events (Ctrl-C stops streaming, the chain stays)',
    },
    {command: '<%= config.bin %> load --pin --force', description: 'Replace the chain pinned at /sys/fs/bpf/tailcalls'},
  ]

  static flags = {
    count: Flags.integer({description: 'stop after this many events (with --pin: implies --follow)', min: 1}),
    duration: Flags.integer({description: 'stop after this many seconds (with --pin: implies --follow)', min: 1}),
    follow: Flags.boolean({description: 'with --pin: stream the events too, until Ctrl-C (the chain stays pinned)'}),
    force: Flags.boolean({description: 'with --pin: replace a chain already pinned at the pin path'}),
    object: Flags.string({description: 'BPF object file to load instead of the bundled one', helpValue: 'PATH'}),
    pin: Flags.boolean({description: 'pin the chain in bpffs so it outlives this process'}),
    'pin-path': Flags.string({
      description:
        'bpffs folder for --pin, default /sys/fs/bpf/tailcalls (its name must contain "tailcalls"; implies --pin)',
      helpValue: 'DIR',
    }),
    'ringbuf-size': Flags.integer({
      description: 'EVENTS ring buffer size in bytes (power of two, at least 4096); small values provoke counted drops',
      helpValue: 'BYTES',
    }),
  }

  static needs: Needs = {caps: 'load'}

  async run(): Promise<void> {
    const {flags} = await this.parse(Load)
    const {runLoad} = await import('../src/chain/load.js')
    const json = this.jsonEnabled()
    const pin = flags.pin || flags['pin-path'] !== undefined
    if (!pin && (flags.follow || flags.force)) {
      const {TailcallsError} = await import('../src/errors.js')
      throw new TailcallsError('usage', `--${flags.follow ? 'follow' : 'force'} only applies to a pinned chain`, {
        hint: 'add --pin',
      })
    }

    const follow = flags.follow || flags.count !== undefined || flags.duration !== undefined
    const result = await runLoad({
      count: flags.count,
      durationSec: flags.duration,
      follow,
      force: flags.force,
      json,
      object: flags.object,
      pinPath: pin ? (flags['pin-path'] ?? (await import('../src/chain/pinpath.js')).DEFAULT_PIN_PATH) : undefined,
      ringbufSize: flags['ringbuf-size'],
      status: (line) => this.status(line),
    })
    if (result.summary) {
      this.status(
        json
          ? toJson({summary: result.summary})
          : (await import('../src/chain/stream.js')).formatSummary(result.summary),
      )
      this.status('Exiting...')
      // stdout holds output nobody will read (see settleOutput): leave without it.
      if (result.abandonedOutput) process.stderr.write('', () => process.exit())
    } else if (result.pin) {
      const {describePinned, pinJson} = await import('../src/chain/load.js')
      this.out(`${json ? toJson(pinJson(result.pin)) : describePinned(result.pin)}\n`)
    }
  }
}
