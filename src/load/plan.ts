/**
 * Everything `load FILE.o` decides before the kernel sees anything: which object path it is
 * (the bundled chain's or a generic one), the slots to fill and whether the kernel would take
 * them, which programs get attached where, the interface and the event type. Every refusal
 * here is one TailcallsError naming the tail-call rule, and nothing has been created yet.
 */
import {TailcallsError} from '../errors.js'
import {mapTypeId, progTypeName} from '../kernel/names.js'
import {CHAIN_MAPS, CHAIN_PROGRAMS} from '../chain/chain.js'
import {type DecodedObject, PROG_ARRAY} from '../object/decode.js'
import {RULES, type SlotSpec, graphOfObject, parseSlotSpec, readObject} from '../object/graph.js'
import {sys} from '../sys/ffi.js'
import {BPF_PROG_TYPE} from '../sys/uapi.js'

const RINGBUF = mapTypeId('ringbuf')

/**
 * SEC() prefixes libbpf attaches by itself (bpf_program__attach) when a target follows the
 * slash: tracepoints, raw and BTF tracepoints, fentry/fexit/fmod_ret, LSM hooks, kprobes.
 */
const AUTO_ATTACH =
  /^(tp|tracepoint|raw_tp|raw_tracepoint|raw_tp\.w|raw_tracepoint\.w|tp_btf|fentry|fexit|fmod_ret|fentry\.s|fexit\.s|fmod_ret\.s|lsm|lsm\.s|kprobe|kretprobe|ksyscall|kretsyscall)\/\S+$/

/** How an entry program is attached. */
export type AttachHow = {kind: 'auto'} | {kind: 'xdp'; iface: string; ifindex: number} | TcAttach

export interface TcAttach {
  kind: 'tc'
  iface: string
  ifindex: number
  direction: 'ingress' | 'egress'
}

export interface AttachPlan {
  prog: string
  section: string
  how: AttachHow
}

export interface LoadPlan {
  path: string
  object: DecodedObject
  slots: SlotSpec[]
  /** Programs some slot holds (from .values or --slot): never attached by default. */
  inSlots: Set<string>
  attach: AttachPlan[]
  events?: {map: string; type: string}
}

export interface PlanOptions {
  slots: string[]
  attach?: string[]
  noAttach: boolean
  xdp?: string
  tc?: string
  events?: string
  eventType?: string
}

/** The flags only the generic loader has: any of them sends even a chain-shaped object there. */
export function wantsGeneric(opts: PlanOptions): boolean {
  return (
    opts.slots.length > 0 ||
    (opts.attach?.length ?? 0) > 0 ||
    opts.noAttach ||
    opts.xdp !== undefined ||
    opts.tc !== undefined ||
    opts.events !== undefined ||
    opts.eventType !== undefined
  )
}

/**
 * An object with the bundled chain's programs and maps keeps the chain's own path. So does one
 * with the chain's entry and prog array (prog1, TAIL_CALL_MAP) but not all of the rest: it is a
 * build of the chain missing parts, and the chain's loader names what is missing (any generic
 * flag, e.g. --attach prog1, loads it as an object of its own instead).
 */
export function isChainShaped(object: DecodedObject): boolean {
  const progs = new Set(object.programs.map((p) => p.name))
  const maps = new Set(object.maps.map((m) => m.name))
  const whole = CHAIN_PROGRAMS.every((p) => progs.has(p)) && CHAIN_MAPS.every((m) => maps.has(m))
  return whole || (progs.has(CHAIN_PROGRAMS[0]) && maps.has(CHAIN_MAPS[0]))
}

export {readObject}

const list = (names: string[]) => names.join(', ') || 'none'

/** `--slot` checked against the object: the map, the key, the program. */
function checkSlot(obj: DecodedObject, s: SlotSpec): void {
  const where = `--slot ${s.map}[${s.key}]=${s.prog}`
  const m = obj.maps.find((x) => x.name === s.map)
  if (!m) {
    throw new TailcallsError('notFound', `${where}: the object has no map ${s.map}`, {
      hint: `its prog arrays: ${list(obj.maps.filter((x) => x.type === PROG_ARRAY).map((x) => x.name))}`,
    })
  }

  if (m.type !== PROG_ARRAY) {
    throw new TailcallsError(
      'wrongMapType',
      `${where}: ${s.map} is not a prog array, and only a prog array holds tail-call targets`,
      {
        hint: `its prog arrays: ${list(obj.maps.filter((x) => x.type === PROG_ARRAY).map((x) => x.name))}`,
      },
    )
  }

  if (s.key >= m.maxEntries) {
    throw new TailcallsError(
      'outOfRange',
      `${where}: key ${s.key} is outside ${s.map} (max_entries ${m.maxEntries}): ${RULES['out-of-range']}`,
      {hint: `use a key from 0 to ${m.maxEntries - 1}, or raise max_entries in the source`},
    )
  }

  if (!obj.programs.some((p) => p.name === s.prog)) {
    throw new TailcallsError('notFound', `${where}: the object has no program ${s.prog}`, {
      hint: `its programs (C function names): ${list(obj.programs.map((p) => p.name))}`,
    })
  }
}

/** The interface's index, or a notFound error naming it. */
function ifindexOf(iface: string, flag: string): number {
  const ifindex = sys().libc.if_nametoindex(iface)
  if (ifindex === 0) {
    throw new TailcallsError('notFound', `${flag} ${iface}: no network interface is called ${iface}`, {
      hint: '`ip -br link` lists the interfaces of this network namespace',
    })
  }

  return ifindex
}

/** Refuse an interface that already has an XDP program: the kernel would refuse it too (EBUSY). */
function checkNoXdp(iface: string, ifindex: number): void {
  const id = [0]
  const ret = sys().libbpf.bpf_xdp_query_id(ifindex, 0, id)
  if (ret === 0 && id[0] !== 0) {
    throw new TailcallsError('conflict', `--xdp ${iface}: ${iface} already has an XDP program (id ${id[0]})`, {
      hint: `detach it first (\`ip link set dev ${iface} xdp off\`) or choose another interface; tailcalls never replaces an XDP program it did not attach`,
    })
  }
}

export function makePlan(path: string, opts: PlanOptions): LoadPlan {
  if ((opts.events === undefined) !== (opts.eventType === undefined)) {
    throw new TailcallsError(
      'usage',
      `--${opts.events === undefined ? 'event-type' : 'events'} needs --${opts.events === undefined ? 'events MAP' : 'event-type TYPE'}`,
      {
        hint: 'give both: --events MAP --event-type TYPE (the ring buffer and the C struct of its records)',
      },
    )
  }

  if (opts.noAttach && ((opts.attach?.length ?? 0) > 0 || opts.xdp !== undefined || opts.tc !== undefined)) {
    throw new TailcallsError('usage', '--no-attach cannot be combined with --attach, --xdp or --tc', {
      hint: 'drop --no-attach to attach, or drop the attach flags to only load, wire and pin',
    })
  }

  if (opts.xdp !== undefined && opts.tc !== undefined) {
    throw new TailcallsError('usage', '--xdp and --tc in one run are not supported', {
      hint: 'load the object twice, or attach one with tc/ip yourself',
    })
  }

  const slots = opts.slots.map((s) => parseSlotSpec(s))
  const object = readObject(path)
  for (const s of slots) checkSlot(object, s)

  // The object graph's own preflight: programs a prog array's owner would refuse (type, attach
  // target, attach type), from .values and --slot alike, before the kernel answers EINVAL.
  const g = graphOfObject(object, path, {slots})
  const refused = g.findings.find((f) => f.kind === 'incompatible-programs' && f.severity === 'error')
  if (refused) {
    throw new TailcallsError('incompatible', refused.message, {
      hint: `${RULES['incompatible-programs']}; put programs of one kind in one prog array`,
    })
  }

  const inSlots = new Set<string>()
  for (const m of object.maps) for (const name of m.staticSlots.values()) inSlots.add(name)
  for (const s of slots) inSlots.add(s.prog)

  const byName = new Map(object.programs.map((p) => [p.name, p]))
  let xdp: AttachHow | undefined
  let tc: TcAttach | undefined
  if (opts.xdp !== undefined) {
    const ifindex = ifindexOf(opts.xdp, '--xdp')
    checkNoXdp(opts.xdp, ifindex)
    xdp = {iface: opts.xdp, ifindex, kind: 'xdp'}
  }

  if (opts.tc !== undefined) {
    const m = /^([^:]+)(?::(ingress|egress))?$/.exec(opts.tc)
    if (!m)
      throw new TailcallsError('usage', `can't parse --tc '${opts.tc}'`, {
        hint: 'write --tc IFACE, --tc IFACE:ingress or --tc IFACE:egress',
      })
    tc = {
      direction: (m[2] as 'egress' | 'ingress' | undefined) ?? 'ingress',
      iface: m[1],
      ifindex: ifindexOf(m[1], '--tc'),
      kind: 'tc',
    }
  }

  const howFor = (name: string, chosen: boolean): AttachHow | undefined => {
    const p = byName.get(name)!
    if (p.kind.progType === BPF_PROG_TYPE.XDP) return xdp
    if (p.kind.progType === BPF_PROG_TYPE.SCHED_CLS) return tc
    if (AUTO_ATTACH.test(p.section)) return {kind: 'auto'}
    if (chosen) {
      throw new TailcallsError('usage', `--attach ${name}: libbpf cannot attach SEC("${p.section}") by itself`, {
        hint: `${name} is a ${progTypeName(p.kind.progType ?? 0)} program: use --xdp IFACE or --tc IFACE for XDP and tc programs, or --no-attach and attach it yourself (or run it with \`tailcalls prog run\`)`,
      })
    }

    return undefined
  }

  const attach: AttachPlan[] = []
  if (!opts.noAttach) {
    if ((opts.attach?.length ?? 0) > 0) {
      for (const name of new Set(opts.attach)) {
        if (!byName.has(name)) {
          throw new TailcallsError('notFound', `--attach ${name}: the object has no program ${name}`, {
            hint: `its programs (C function names): ${list(object.programs.map((p) => p.name))}`,
          })
        }

        const how = howFor(name, true)
        if (!how) {
          const p = byName.get(name)!
          throw new TailcallsError(
            'usage',
            `--attach ${name}: ${name} is ${p.kind.progType === BPF_PROG_TYPE.XDP ? 'an XDP' : 'a tc'} program`,
            {
              hint: `give the interface: ${p.kind.progType === BPF_PROG_TYPE.XDP ? '--xdp' : '--tc'} IFACE`,
            },
          )
        }

        attach.push({how, prog: name, section: byName.get(name)!.section})
      }
    } else {
      for (const p of object.programs) {
        if (inSlots.has(p.name)) continue
        const how = howFor(p.name, false)
        if (how) attach.push({how, prog: p.name, section: p.section})
      }
    }

    for (const [flag, kind] of [
      ['--xdp', 'xdp'],
      ['--tc', 'tc'],
    ] as const) {
      const on = attach.filter((a) => a.how.kind === kind)
      if ((kind === 'xdp' ? xdp : tc) && on.length === 0) {
        throw new TailcallsError(
          'usage',
          `${flag}: the object has no ${kind === 'xdp' ? 'XDP' : 'tc'} program outside a prog array to attach`,
          {
            hint: `its programs: ${list(object.programs.map((p) => `${p.name} (SEC("${p.section}"))`))}`,
          },
        )
      }

      if (on.length > 1) {
        throw new TailcallsError(
          'usage',
          `${flag}: ${on.map((a) => a.prog).join(', ')} could each be the entry, and an interface takes one ${kind === 'xdp' ? 'XDP' : 'tc'} program here`,
          {
            hint: `choose one with --attach PROG`,
          },
        )
      }
    }
  }

  let events: LoadPlan['events']
  if (opts.events !== undefined) {
    const m = object.maps.find((x) => x.name === opts.events)
    if (!m)
      throw new TailcallsError('notFound', `--events ${opts.events}: the object has no map ${opts.events}`, {
        hint: `its maps: ${list(object.maps.map((x) => x.name))}`,
      })
    if (m.type !== RINGBUF)
      throw new TailcallsError(
        'wrongMapType',
        `--events ${opts.events}: ${opts.events} is not a ring buffer (BPF_MAP_TYPE_RINGBUF)`,
        {hint: 'give the ring buffer the programs write their records to'},
      )
    events = {map: opts.events, type: opts.eventType!}
  }

  return {attach, events, inSlots, object, path, slots}
}
