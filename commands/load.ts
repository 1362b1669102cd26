import {resolve} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'
import {toJson} from '../src/render/json.js'

export default class Load extends BaseCommand {
  static summary =
    'Load a BPF object (the bundled chain by default): load, wire its prog arrays, attach, show, and hold until Ctrl-C (or pin it)'

  static description = `Loads the bundled BPF object (or --object), fills TAIL_CALL_MAP (slot 0 = prog2, slot 1 = prog3), then attaches prog1 to the BTF tracepoint sched_process_exec, so every exec runs prog1 → prog2 → prog3. One line per program per exec goes to stdout (NDJSON with --json); status and the final summary go to stderr. Ctrl-C, SIGTERM or SIGHUP detaches, frees everything and prints the summary.

With --pin the chain stays in the kernel after this process exits: the programs, the maps and prog1's link are pinned in one bpffs folder (default /sys/fs/bpf/tailcalls; bpffs is mounted at /sys/fs/bpf if it is not). The folder appears complete or not at all: the pins go into a sibling folder that is renamed into place last, and what a crash leaves behind is removed by the next \`load --pin\` or \`unload\`. An existing pinned chain is never overwritten unless --force is given. The pin folder must be on bpffs (no '..', no symlink out of it) and its name must contain 'tailcalls'. Without --follow the command returns once pinned; \`tailcalls events\` streams the pinned chain's events, \`tailcalls stats\` counts them, \`tailcalls unload\` removes it.

ANY OTHER OBJECT (FILE.o, or --object FILE.o without the bundled chain's programs and maps; or any object with one of the flags below) goes through the generic loader:
  1. libbpf opens it and loads every program; prog arrays initialised in the source (\`__array(values, …)\` with \`.values = { [K] = &prog }\`) are filled by libbpf at load ("set by the object");
  2. every --slot MAP[KEY]=PROG is filled (PROG is a program of the object by its C function name), after checking the map, the key and that the program matches the prog array's owner (type, attach target) as the kernel will;
  3. only then are the entry programs attached: by default every program libbpf can attach by itself (tp_btf, raw_tp, tracepoint, fentry/fexit, lsm, kprobe with a target after the slash) that no slot holds; --attach PROG chooses instead; --xdp IFACE attaches the object's XDP entry through a BPF link, --tc IFACE[:ingress|:egress] its tc entry (clsact, direct action); --no-attach attaches nothing;
  4. it prints what was loaded, wired (slot → program, set by the object or by --slot) and attached, then the tail-call graph's findings for it (an empty slot a call site uses, a cycle, depth against the kernel's 33), all on stderr (one {"loaded": …} line with --json);
  5. it holds everything until Ctrl-C, SIGTERM or SIGHUP (or --duration), then detaches and frees it all. --events MAP --event-type TYPE meanwhile streams the records of the object's ring buffer MAP decoded as TYPE from the object's BTF: one line each on stdout (NDJSON with --json); a record whose size is not sizeof(TYPE) is skipped and counted in the summary.
With --pin/--pin-path DIR it pins instead of holding: DIR/<program> for every program, DIR/<map> for every map (dots become '_': obj.bss → obj_bss), DIR/<program>_link for every link, with the same folder rules as the chain; --json prints {"object", "pin", "programs", "maps", "slots", "links", "findings"} on stdout. \`tailcalls unload --pin-path DIR\` removes it; \`graph\`, \`map dump pinned DIR/MAP\` and the other commands address it by its pins.
Errors name the tail-call rule (a --slot outside the array, a program the array's owner refuses, a verifier refusal of a tail call in a subprogram or under a lock, an interface that does not exist or already has an XDP program), and nothing stays loaded, attached or pinned.`

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
    {
      command: '<%= config.bin %> load exec_chain.bpf.o',
      description: 'Your own object: load it, fill its .values slots, attach its tp_btf entry, hold until Ctrl-C',
    },
    {
      command:
        '<%= config.bin %> load xdp_chain.bpf.o --slot jmp_table[0]=parse_ip --slot jmp_table[1]=count --xdp eth1',
      description: 'Fill two slots, then attach the XDP entry to eth1',
    },
    {
      command: '<%= config.bin %> load exec_chain.bpf.o --events events --event-type exec_event --json',
      description: "Stream the object's ring buffer, each record decoded with its BTF as NDJSON",
    },
    {
      command: '<%= config.bin %> load prog.bpf.o --no-attach --pin-path /sys/fs/bpf/tailcalls-mine --json',
      description: 'Load, wire and pin only (for `tailcalls prog run`); `unload --pin-path` removes it',
    },
  ]

  static args = {
    file: Args.string({description: 'BPF object file to load (default: the bundled chain); same as --object'}),
  }

  static flags = {
    count: Flags.integer({
      description: 'stop after this many events (with --pin: implies --follow; generic object: --events records)',
      min: 1,
    }),
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
    slot: Flags.string({
      description: 'generic object: fill a prog array slot before attaching, MAP[KEY]=PROG (repeatable)',
      helpValue: 'MAP[KEY]=PROG',
      multiple: true,
      multipleNonGreedy: true,
    }),
    attach: Flags.string({
      description:
        'generic object: attach this program (repeatable; default: every program libbpf can attach that no slot holds)',
      helpValue: 'PROG',
      multiple: true,
      multipleNonGreedy: true,
    }),
    'no-attach': Flags.boolean({description: 'generic object: load, wire (and pin) only, attach nothing'}),
    xdp: Flags.string({
      description: 'generic object: attach its XDP entry program to this interface',
      helpValue: 'IFACE',
    }),
    tc: Flags.string({
      description: 'generic object: attach its tc entry program to this interface (default ingress)',
      helpValue: 'IFACE[:ingress|:egress]',
    }),
    events: Flags.string({
      description: 'generic object: stream this ring buffer of the object (needs --event-type)',
      helpValue: 'MAP',
    }),
    'event-type': Flags.string({
      description: "generic object: the C type of each --events record, decoded with the object's BTF",
      helpValue: 'TYPE',
    }),
    'ringbuf-size': Flags.integer({
      description: 'EVENTS ring buffer size in bytes (power of two, at least 4096); small values provoke counted drops',
      helpValue: 'BYTES',
    }),
  }

  static needs: Needs = {caps: 'load'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Load)
    const json = this.jsonEnabled()
    const pin = flags.pin || flags['pin-path'] !== undefined
    if (!pin && (flags.follow || flags.force)) {
      const {TailcallsError} = await import('../src/errors.js')
      throw new TailcallsError('usage', `--${flags.follow ? 'follow' : 'force'} only applies to a pinned chain`, {
        hint: 'add --pin',
      })
    }
    if (args.file !== undefined && flags.object !== undefined && args.file !== flags.object) {
      const {TailcallsError} = await import('../src/errors.js')
      throw new TailcallsError('usage', `two objects given: ${args.file} and --object ${flags.object}`, {
        hint: 'give one',
      })
    }

    const object = args.file ?? flags.object
    const plan = {
      attach: flags.attach,
      eventType: flags['event-type'],
      events: flags.events,
      noAttach: flags['no-attach'],
      slots: flags.slot ?? [],
      tc: flags.tc,
      xdp: flags.xdp,
    }
    const {isChainShaped, readObject, wantsGeneric} = await import('../src/load/plan.js')
    if (object === undefined && wantsGeneric(plan)) {
      const {TailcallsError} = await import('../src/errors.js')
      throw new TailcallsError(
        'usage',
        '--slot, --attach, --no-attach, --xdp, --tc and --events apply to an object you give',
        {
          hint: 'name it: tailcalls load FILE.o …',
        },
      )
    }

    if (object !== undefined) {
      const {checkElf} = await import('../src/libbpf/object.js')
      checkElf(object)
      if (wantsGeneric(plan) || !isChainShaped(readObject(object))) {
        if (flags['ringbuf-size'] !== undefined || flags.follow) {
          const {TailcallsError} = await import('../src/errors.js')
          throw new TailcallsError(
            'usage',
            `--${flags.follow ? 'follow' : 'ringbuf-size'} applies to the bundled chain only`,
            {
              hint: "use --events MAP --event-type TYPE to stream your object's ring buffer",
            },
          )
        }

        const {describeReport, runGenericLoad} = await import('../src/load/generic.js')
        const result = await runGenericLoad({
          ...plan,
          count: flags.count,
          durationSec: flags.duration,
          force: flags.force,
          json,
          object: resolve(object),
          out: (text) => process.stdout.write(text),
          pinPath: pin ? (flags['pin-path'] ?? (await import('../src/chain/pinpath.js')).DEFAULT_PIN_PATH) : undefined,
          status: (line) => this.status(line),
        })
        if (result.pinned) {
          const p = result.pinned
          const doc = {
            ...result.report,
            cleaned: p.cleaned.map((c) => ({objects: c.objects, path: c.path, pid: c.pid})),
            mounted_bpffs: p.mounted,
            replaced: p.replaced ?? null,
          }
          this.out(
            json
              ? `${toJson(doc)}\n`
              : `${describeReport(result.report)}\nPinned at ${p.pinned.path}: ${p.pinned.objects.map((o) => o.pin).join(', ')}.\n` +
                  `It stays loaded after this process exits; \`tailcalls unload --pin-path ${p.pinned.path}\` removes it.\n`,
          )
        } else {
          const ev = result.events
          if (json) this.status(toJson({summary: {events: ev ?? null, stopped_by: result.signal}}))
          else if (ev)
            this.status(
              `Received ${ev.received} ${ev.type} records; skipped ${ev.skipped} whose size was not sizeof(${ev.type}).`,
            )
          this.status('Detached and freed everything. Exiting...')
        }

        return
      }
    }

    const {runLoad} = await import('../src/chain/load.js')

    const follow = flags.follow || flags.count !== undefined || flags.duration !== undefined
    const result = await runLoad({
      count: flags.count,
      durationSec: flags.duration,
      follow,
      force: flags.force,
      json,
      object,
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
