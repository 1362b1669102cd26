/**
 * `tailcalls load FILE.o` for any BPF object (the bundled chain keeps src/chain/):
 *
 *   plan (plan.ts: slots, attach targets, interface, event type; nothing created yet)
 *   → open and load every program with libbpf (it fills the `.values` slots at load)
 *   → fill every `--slot` (preflighted against the array's owner)
 *   → attach the entry programs (attach.ts)
 *   → report what was loaded, wired and attached, and the graph's findings for it
 *   → pin and return (--pin), or hold until Ctrl-C/SIGTERM/SIGHUP and free everything.
 *
 * Every prog array is filled before anything is attached, so no event sees an empty slot the
 * user meant to fill. On any failure, and on a signal between phases, everything created so far
 * is released (links, tc filters, the object) before the error propagates.
 */
import {TailcallsError, check} from '../errors.js'
import {requireKernelBtf} from '../chain/chain.js'
import {SignalGuard, STOP_SIGNALS} from '../chain/interrupt.js'
import {type PinReport, type StaleFolder, checkPinTarget, cleanStale, pinFolder, pinName} from '../chain/pins.js'
import {resolvePinDir} from '../chain/pinpath.js'
import {collect, readSlots} from '../graph/collect.js'
import {type Finding, buildGraph} from '../graph/graph.js'
import {type ObjectKind, waitFreed} from '../kernel/ids.js'
import {linkInfo, mapFdinfo, mapInfo, progInfo} from '../kernel/info.js'
import {mapTypeName, progTypeName} from '../kernel/names.js'
import {requireBpfPrivileges} from '../kernel/privileges.js'
import {LoadedObject} from '../libbpf/object.js'
import {lockProblems} from '../object/checks.js'
import {toJson} from '../render/json.js'
import {renderTable} from '../render/table.js'
import {incompatibility} from '../slots/compat.js'
import {checkRet} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE, BPF_UPDATE_FLAG} from '../sys/uapi.js'
import {type Attached, attachOne} from './attach.js'
import {type EventDecoder, type EventStream, eventDecoder, streamRecords} from './events.js'
import {type LoadPlan, type PlanOptions, makePlan} from './plan.js'
import {explainVerifier} from './verifier.js'

export interface GenericOptions extends PlanOptions {
  object: string
  json: boolean
  pinPath?: string
  force?: boolean
  /** Stop after this many seconds (else at a signal). */
  durationSec?: number
  /** With events: stop after this many records. */
  count?: number
  status: (line: string) => void
  out: (text: string) => void
}

export interface ProgramRow {
  name: string
  id: number
  type: string | number
  section: string
  pinned: string | null
  attached: string | null
}

export interface MapRow {
  name: string
  id: number
  type: string | number
  max_entries: number
  pinned: string | null
}

export interface SlotRow {
  map: string
  key: number
  prog: string
  prog_id: number
  by: 'object' | '--slot'
}

export interface LinkRow {
  prog: string
  id: number | null
  target: string
  pinned: string | null
}

export interface LoadReport {
  object: string
  pin: string | null
  programs: ProgramRow[]
  maps: MapRow[]
  slots: SlotRow[]
  links: LinkRow[]
  findings: Array<Pick<Finding, 'kind' | 'message' | 'severity'>>
}

export interface GenericResult {
  report: LoadReport
  pinned?: {pinned: PinReport; replaced?: PinReport; cleaned: StaleFolder[]; mounted: boolean}
  events?: {received: number; skipped: number; type: string}
  signal?: string
}

const u32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n)
  return b
}

/** A loaded generic object and what was attached to it; close() frees all of it. */
class Loaded {
  readonly progFds = new Map<string, number>()
  readonly mapFds = new Map<string, number>()
  readonly attached: Attached[] = []
  private closed = false
  pinned = false

  constructor(readonly object: LoadedObject) {}

  collectFds(): void {
    const {libbpf} = sys()
    for (const name of this.object.programNames())
      this.progFds.set(
        name,
        checkRet('bpf_program__fd', libbpf.bpf_program__fd(this.object.program(name)!), `the fd of ${name}`),
      )
    for (const name of this.object.mapNames())
      this.mapFds.set(name, checkRet('bpf_map__fd', libbpf.bpf_map__fd(this.object.map(name)!), `the fd of ${name}`))
  }

  detach(): void {
    for (const a of this.attached.splice(0).reverse()) a.detach()
  }

  /** Detach, close every fd, then wait (bounded) until the prog arrays are gone (see Chain.close). */
  close(): void {
    if (this.closed) return
    this.closed = true
    const progArrays: Array<{id: number; kind: ObjectKind}> = []
    try {
      // Also after a failed load: libbpf may have created a prog array before a program failed.
      const {libbpf} = sys()
      for (const name of this.object.mapNames()) {
        const fd = libbpf.bpf_map__fd(this.object.map(name)!)
        if (fd < 0) continue
        const info = mapInfo(fd)
        if (info.type === BPF_MAP_TYPE.PROG_ARRAY) progArrays.push({id: info.id, kind: 'map'})
      }
    } finally {
      this.detach()
      this.object.close()
    }

    if (!this.pinned) waitFreed(progArrays)
  }
}

/** Fill `--slot`s, after checking each program against the array's owner as the kernel will. */
function fillSlots(plan: LoadPlan, loaded: Loaded): void {
  const {libbpf} = sys()
  for (const s of plan.slots) {
    const mapFd = loaded.mapFds.get(s.map)!
    const progFd = loaded.progFds.get(s.prog)!
    const m = mapInfo(mapFd)
    const owner = mapFdinfo(mapFd)
    const p = progInfo(progFd)
    const why = incompatibility(
      {id: m.id, name: m.name, ownerJited: owner.ownerJited, ownerProgType: owner.ownerProgType, references: []},
      {
        attachBtfId: p.attachBtfId || undefined,
        attachBtfObjId: p.attachBtfObjId || undefined,
        id: p.id,
        jited: p.jitedProgLen > 0,
        name: p.name ?? s.prog,
        type: p.type,
      },
    )
    const where = `--slot ${s.map}[${s.key}]=${s.prog}`
    if (why)
      throw new TailcallsError('incompatible', `${where}: ${why}`, {
        hint: "put programs of the prog array owner's kind in it",
      })
    check(
      'bpf_map_update_elem',
      libbpf.bpf_map_update_elem(mapFd, u32(s.key), u32(progFd), BPF_UPDATE_FLAG.ANY),
      `filling ${s.map}[${s.key}] with ${s.prog}`,
      {
        E2BIG: 'outOfRange',
        EINVAL: 'incompatible',
      },
    )
  }
}

/** The slots now in the object's prog arrays, and who set them. */
function readWiring(plan: LoadPlan, loaded: Loaded, progNameById: Map<number, string>): SlotRow[] {
  const rows: SlotRow[] = []
  for (const m of plan.object.maps) {
    const fd = loaded.mapFds.get(m.name)
    if (fd === undefined || mapInfo(fd).type !== BPF_MAP_TYPE.PROG_ARRAY) continue
    const {slots} = readSlots(fd, m.maxEntries)
    for (const [key, progId] of [...slots].sort((a, b) => a[0] - b[0])) {
      const byCli = plan.slots.some((s) => s.map === m.name && s.key === key)
      rows.push({
        by: byCli ? '--slot' : 'object',
        key,
        map: m.name,
        prog: progNameById.get(progId) ?? `id ${progId}`,
        prog_id: progId,
      })
    }
  }

  return rows
}

/** The live graph's findings about the programs and prog arrays just loaded. */
function findingsFor(progIds: number[], mapIds: Set<number>, entries: number[]): LoadReport['findings'] {
  const mine = new Set(progIds)
  const g = buildGraph(collect(), {selected: entries.length > 0 ? entries : progIds})
  return g.findings
    .filter(
      (f) =>
        (f.progId !== undefined && mine.has(f.progId)) ||
        (f.mapId !== undefined && mapIds.has(f.mapId)) ||
        (f.progId === undefined && f.mapId === undefined),
    )
    .map((f) => ({kind: f.kind, message: f.message, severity: f.severity}))
}

/**
 * EPERM from the load although this process passed the privilege check: with programs that
 * need BPF trampolines (fentry/fexit/fmod_ret/LSM), that is the kernel refusing trampolines
 * here (lockdown, a hardened config), which "run as root" would not fix.
 */
function explainLoadError(error: unknown, plan: LoadPlan): unknown {
  if (!(error instanceof TailcallsError) || error.errno === undefined || error.cause?.code !== 'EPERM') return error
  const trampolines = plan.object.programs.filter((p) => /^(fentry|fexit|fmod_ret|lsm)(\.s)?\//.test(p.section))
  if (trampolines.length === 0) return error
  return new TailcallsError(
    'kernelSupport',
    `the kernel refused to load ${plan.path} (EPERM) although this process has the BPF privileges: ${trampolines.map((p) => `${p.name} (SEC("${p.section}"))`).join(', ')} need${trampolines.length === 1 ? 's' : ''} a BPF trampoline, which this kernel does not allow here`,
    {
      cause: error.cause,
      hint: 'use a tp_btf or raw_tp entry instead (every program of one prog array must share it), or check lockdown (/sys/kernel/security/lockdown) and `tailcalls doctor`',
    },
  )
}

export async function runGenericLoad(opts: GenericOptions): Promise<GenericResult> {
  const plan = makePlan(opts.object, opts)
  if (opts.pinPath !== undefined && plan.attach.some((a) => a.how.kind === 'tc')) {
    throw new TailcallsError(
      'usage',
      '--tc with --pin is not supported: a tc filter has no BPF link to pin, so unload could not detach it',
      {
        hint: 'pin with --no-attach and add the filter with `tc filter add … bpf pinned DIR/PROG`, or run without --pin',
      },
    )
  }

  const decoder: EventDecoder | undefined = plan.events ? eventDecoder(opts.object, plan.events.type) : undefined
  if (decoder && opts.pinPath !== undefined)
    throw new TailcallsError(
      'usage',
      '--events streams while this process holds the object; it does not combine with --pin',
      {hint: 'drop --pin, or read the pinned ring buffer with your own reader'},
    )
  const target = opts.pinPath === undefined ? undefined : resolvePinDir(opts.pinPath, {mount: true})
  let cleaned: StaleFolder[] = []
  if (target) {
    cleaned = cleanStale(target)
    checkPinTarget(target, opts.force ?? false)
  }

  requireBpfPrivileges()
  requireKernelBtf()
  const guard = new SignalGuard()
  const before = (phase: string) => guard.before(phase, opts.status, opts.json)
  let loaded: Loaded | undefined
  let stream: EventStream | undefined
  try {
    await before('open')
    loaded = new Loaded(LoadedObject.open(opts.object))
    await before('load')
    try {
      loaded.object.load()
    } catch (error) {
      throw explainLoadError(
        explainVerifier(
          error,
          new Set(plan.object.programs.filter((p) => lockProblems(p).length > 0).map((p) => p.name)),
        ),
        plan,
      )
    }

    loaded.collectFds()
    await before('wire')
    fillSlots(plan, loaded)
    await before('attach-entries')
    const {libbpf} = sys()
    for (const a of plan.attach) loaded.attached.push(attachOne(a, loaded.object.program(a.prog)!))

    // What is in the kernel now.
    const progIds = new Map<string, number>()
    const progNameById = new Map<number, string>()
    const programs: ProgramRow[] = []
    for (const [name, fd] of loaded.progFds) {
      const info = progInfo(fd)
      progIds.set(name, info.id)
      progNameById.set(info.id, name)
      const att = loaded.attached.find((a) => a.prog === name)
      programs.push({
        attached: att?.target ?? null,
        id: info.id,
        name,
        pinned: target ? `${target.path}/${name}` : null,
        section: libbpf.bpf_program__section_name(loaded.object.program(name)!),
        type: progTypeName(info.type),
      })
    }

    const maps: MapRow[] = []
    for (const [name, fd] of loaded.mapFds) {
      const info = mapInfo(fd)
      maps.push({
        id: info.id,
        max_entries: info.maxEntries,
        name,
        pinned: target ? `${target.path}/${pinName(name)}` : null,
        type: mapTypeName(info.type),
      })
    }

    const slots = readWiring(plan, loaded, progNameById)
    const links: LinkRow[] = loaded.attached.map((a) => ({
      id: a.linkFd === undefined ? null : linkInfo(a.linkFd).id,
      pinned: target && a.linkFd !== undefined ? `${target.path}/${a.prog}_link` : null,
      prog: a.prog,
      target: a.target,
    }))
    const entries = plan.attach.map((a) => progIds.get(a.prog)!)
    const report: LoadReport = {
      findings: findingsFor([...progIds.values()], new Set(maps.map((m) => m.id)), entries),
      links,
      maps,
      object: opts.object,
      pin: target?.path ?? null,
      programs,
      slots,
    }

    if (target) {
      await before('pin')
      const names = new Set<string>()
      const order: Array<[string, number]> = []
      const add = (name: string, fd: number) => {
        if (names.has(name))
          throw new TailcallsError('conflict', `two objects would be pinned as ${name} in ${target.path}`, {
            hint: 'rename one of them in the source',
          })
        names.add(name)
        order.push([name, fd])
      }

      for (const [name, fd] of loaded.mapFds) add(pinName(name), fd)
      for (const [name, fd] of loaded.progFds) add(name, fd)
      // Links last: until they are pinned, everything still dies with this process.
      for (const a of loaded.attached) if (a.linkFd !== undefined) add(`${a.prog}_link`, a.linkFd)
      const {pinned, replaced} = pinFolder(order, target, opts.force ?? false)
      loaded.pinned = true
      return {pinned: {cleaned, mounted: target.mounted, pinned, replaced}, report}
    }

    opts.status(opts.json ? toJson({loaded: report}) : describeReport(report))
    await before('stream')
    guard.dispose()
    let stop: (why: string) => void = () => {}
    const stopped = new Promise<string>((resolve) => {
      stop = resolve
    })
    if (decoder) {
      stream = streamRecords(loaded.mapFds.get(plan.events!.map)!, decoder, opts.json, (text) => {
        opts.out(text)
        if (opts.count !== undefined && stream && stream.received() >= opts.count) stop('count')
      })
    }

    // Listen before saying so: a reader may signal as soon as it sees the line, and with the
    // guard's listeners gone a signal nobody listens for kills Node outright.
    for (const s of STOP_SIGNALS) process.on(s, stop)
    opts.status('Waiting for Ctrl-C...')
    const timer =
      opts.durationSec === undefined ? undefined : setTimeout(() => stop('duration'), opts.durationSec * 1000)
    const signal = await stopped
    for (const s of STOP_SIGNALS) process.off(s, stop)
    if (timer) clearTimeout(timer)
    // Stop producing first, then take what is still in the ring.
    loaded.detach()
    let events: GenericResult['events']
    if (stream && decoder) {
      stream.reader.drain()
      events = {received: stream.received(), skipped: stream.reader.malformed, type: decoder.type}
    }

    return {events, report, signal}
  } finally {
    guard.dispose()
    stream?.reader.close()
    loaded?.close()
  }
}

const none = (s: string | null) => s ?? '-'

/** The tables people read: programs, slots, links, then the findings. */
export function describeReport(r: LoadReport): string {
  const out: string[] = []
  out.push(`Loaded ${r.object}:`)
  out.push(
    renderTable(
      [{header: 'PROGRAM'}, {header: 'ID', right: true}, {header: 'TYPE'}, {header: 'SECTION'}, {header: 'ATTACHED'}],
      r.programs.map((p) => [p.name, String(p.id), String(p.type), p.section, none(p.attached)]),
    ).trimEnd(),
  )
  const arrays = r.maps.filter((m) => m.type === 'prog_array')
  if (arrays.length > 0) {
    out.push('Wired:')
    out.push(
      r.slots.length === 0
        ? '  (every prog array slot is empty)'
        : renderTable(
            [{header: 'SLOT'}, {header: 'PROGRAM'}, {header: 'ID', right: true}, {header: 'SET BY'}],
            r.slots.map((s) => [
              `${s.map}[${s.key}]`,
              s.prog,
              String(s.prog_id),
              s.by === 'object' ? 'the object (.values)' : '--slot',
            ]),
          ).trimEnd(),
    )
  }

  out.push(
    r.links.length === 0
      ? 'Attached: nothing (every program waits for a tail call, `tailcalls prog run`, or your own attach)'
      : `Attached: ${r.links.map((l) => `${l.prog} → ${l.target}${l.id === null ? '' : ` (link id ${l.id})`}`).join(', ')}`,
  )
  out.push(
    r.findings.length === 0
      ? 'Graph: no findings.'
      : ['Graph findings:', ...r.findings.map((f) => `  ${f.severity}: ${f.message}`)].join('\n'),
  )
  return out.join('\n')
}
