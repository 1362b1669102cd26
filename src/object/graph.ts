/**
 * `tailcalls graph --object FILE.o`: the tail-call graph of an object file before it is loaded.
 * No privileges and no bpf() calls: the ELF is decoded (decode.ts), each program's linked code
 * goes through the same site analysis as the live graph (graph/sites.ts), the prog arrays hold
 * their static `.values` slots plus the `--slot MAP[KEY]=PROG` a loader would fill, and the
 * same graph builder (graph/graph.ts) draws it. Programs and maps are numbered in object order
 * (stand-in ids: nothing is in the kernel); every program no slot holds counts as an entry point
 * attached where its section says.
 *
 * On top of the live graph's findings come the ones only the object can show, before the kernel
 * refuses them (checks.ts), each with its rule and where: program, instruction, source line.
 */
import {readFileSync} from 'node:fs'

import {TailcallsError} from '../errors.js'
import type {SnapMap, SnapProg, Snapshot} from '../graph/collect.js'
import {type Attachment, type Finding, type Graph, MAX_TAIL_CALLS, buildGraph} from '../graph/graph.js'
import {emitGraph} from '../graph/emit.js'
import type {GraphFormat} from '../graph/render.js'
import {findTailCallSites} from '../graph/sites.js'
import {attachTypeName, progTypeId, progTypeName} from '../kernel/names.js'
import {TAIL_CALL_STACK_LIMIT, lockProblems, mixesCallsAndTailCalls, stackProblems} from './checks.js'
import {type DecodedObject, type ObjProgram, PROG_ARRAY, decodeObject} from './decode.js'
import {ElfObject, ObjectError} from './elf.js'

export interface SlotSpec {
  map: string
  key: number
  prog: string
}

/** `MAP[KEY]=PROG`: KEY decimal or 0x hex; MAP and PROG named as in the object. */
export function parseSlotSpec(text: string): SlotSpec {
  const m = /^([^[\]=\s]+)\[(\d+|0x[0-9a-f]+)\]=(\S+)$/i.exec(text)
  if (!m)
    throw new TailcallsError('usage', `can't parse --slot '${text}'`, {
      hint: 'write --slot MAP[KEY]=PROG, e.g. --slot jmp_table[0]=stage1',
    })
  const key = Number(m[2])
  if (!Number.isSafeInteger(key) || key > 0xffff_ffff)
    throw new TailcallsError('usage', `--slot '${text}': key ${m[2]} is not a u32`)
  return {key, map: m[1], prog: m[3]}
}

/** What each finding kind enforces: the rule a reader can check the kernel against. */
export const RULES: Record<Finding['kind'], string> = {
  analysis: 'the site analysis could not follow every instruction',
  'bpf2bpf-tail-call-kernel':
    'tail calls in a program with bpf-to-bpf calls need Linux 5.10+ and a JIT that supports it (x86-64 5.10, arm64 6.0); the interpreter never allows it',
  cycle: `a chain that returns to a program loops until the kernel stops it after ${MAX_TAIL_CALLS} tail calls`,
  'empty-slot': 'bpf_tail_call into an empty slot returns and the code after it runs',
  'incompatible-programs':
    'every program using or put in a prog array must match its owner: program type; attach function prototype (tracing, LSM, ext, struct_ops: 6.12+); expected attach type (6.18+)',
  'indirect-key':
    'only a constant key and map on every path get a patched direct jump; anything else is the indirect path',
  'over-limit': `the kernel allows ${MAX_TAIL_CALLS} tail calls in one chain; the next one falls through`,
  'out-of-range': 'a key at or above max_entries finds no slot: the tail call falls through (indirect path)',
  'subprog-stack': `a subprogram with a tail call may be called only while its callers' frames total less than ${TAIL_CALL_STACK_LIMIT} bytes`,
  'tail-call-in-lock':
    'no tail call while a bpf_spin_lock, an RCU read section, disabled preemption or saved IRQs are held',
  'unreached-program': 'a program in a prog array runs only if some tail call can reach its slot',
  'unresolved-site': 'the prog array of a tail call must be known to draw its edge',
  'unused-map': 'a prog array no entry point can reach is never used',
}

export interface ObjectGraphOptions {
  slots?: SlotSpec[]
  /** Program names to start from (else every program). */
  selected?: string[]
}

/** Decode `path`; malformed input is one TailcallsError naming the byte offset. */
export function readObject(path: string): DecodedObject {
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new TailcallsError(
      code === 'ENOENT' ? 'notFound' : 'invalidObject',
      `cannot read ${path}: ${code ?? (error as Error).message}`,
    )
  }

  try {
    return decodeObject(ElfObject.parse(bytes))
  } catch (error) {
    if (error instanceof ObjectError) throw new TailcallsError('invalidObject', `${path}: ${error.message}`)
    throw error
  }
}

/**
 * `graph --object`: print the object's graph in `format`; returns the number of error findings
 * (the command's exit status says whether there are any).
 */
export async function runObjectGraph(opts: {
  /** Write to stdout's file descriptor, not process.stdout (the direct path, src/object/main.ts). */
  directStdout?: boolean
  format: GraphFormat
  object: string
  output?: string
  programs?: string[]
  slots?: string[]
}): Promise<{errors: number}> {
  const g = objectGraph(opts.object, {
    selected: opts.programs,
    slots: (opts.slots ?? []).map((s) => parseSlotSpec(s)),
  })
  return emitGraph(g, opts)
}

export function objectGraph(path: string, opts: ObjectGraphOptions = {}): Graph {
  const obj = readObject(path)
  return graphOfObject(obj, path, opts)
}

export function graphOfObject(obj: DecodedObject, path: string, opts: ObjectGraphOptions = {}): Graph {
  const progByName = new Map(obj.programs.map((p) => [p.name, p]))
  const progs = new Map<number, SnapProg>()
  for (const p of obj.programs) {
    const a = findTailCallSites(p.insns)
    progs.set(p.id, {
      display: p.name,
      id: p.id,
      jited: true,
      mapIds: a.mapRefs,
      name: p.name,
      siteNotes: a.problems.length > 0 ? a.problems : undefined,
      sites: a.sites,
      tag: '',
      type: p.kind.progType ?? 0,
    })
  }

  const maps = new Map<number, SnapMap>()
  for (const m of obj.maps) {
    if (m.type !== PROG_ARRAY) continue
    const slots = new Map<number, number>()
    for (const [slot, name] of m.staticSlots) slots.set(slot, progByName.get(name)!.id)
    maps.set(m.id, {
      id: m.id,
      maxEntries: m.maxEntries,
      name: m.name,
      slotErrors: new Map(),
      slots,
      slotsRead: m.maxEntries,
    })
  }

  for (const s of opts.slots ?? []) {
    const m = obj.maps.find((x) => x.name === s.map)
    if (!m)
      throw new TailcallsError('notFound', `--slot ${s.map}[${s.key}]=${s.prog}: the object has no map ${s.map}`, {
        hint: `its maps: ${obj.maps.map((x) => x.name).join(', ') || 'none'}`,
      })
    const sm = maps.get(m.id)
    if (!sm)
      throw new TailcallsError('wrongMapType', `--slot ${s.map}[${s.key}]=${s.prog}: ${s.map} is not a prog array`)
    if (s.key >= m.maxEntries)
      throw new TailcallsError(
        'outOfRange',
        `--slot ${s.map}[${s.key}]=${s.prog}: key ${s.key} is outside ${s.map} (max_entries ${m.maxEntries})`,
      )
    const p = progByName.get(s.prog)
    if (!p)
      throw new TailcallsError('notFound', `--slot ${s.map}[${s.key}]=${s.prog}: the object has no program ${s.prog}`, {
        hint: `its programs: ${obj.programs.map((x) => x.name).join(', ') || 'none'}`,
      })
    sm.slots.set(s.key, p.id)
  }

  // Entry points: programs no slot holds; a loader attaches them where their section says.
  const inSlot = new Set([...maps.values()].flatMap((m) => [...m.slots.values()]))
  const attachments = new Map<number, Attachment[]>()
  for (const p of obj.programs) {
    if (!inSlot.has(p.id)) attachments.set(p.id, [{description: p.section, linkId: 0, linkType: 'section'}])
  }

  let selected: number[] | undefined
  if (opts.selected) {
    selected = opts.selected.map((name) => {
      const p = progByName.get(name)
      if (!p)
        throw new TailcallsError('notFound', `the object has no program ${name}`, {
          hint: `its programs: ${obj.programs.map((x) => x.name).join(', ') || 'none'}`,
        })
      return p.id
    })
  }

  const snap: Snapshot = {links: [], maps, progs}
  const g = buildGraph(snap, {attachments, selected})
  g.object = path
  const shown = new Set(g.programs.map((p) => p.id))
  const extra: Finding[] = []

  // Prog arrays whose users and members do not match the owner.
  for (const m of maps.values()) {
    const users = obj.programs.filter((p) => progs.get(p.id)!.mapIds.includes(m.id))
    const members = [...new Set(m.slots.values())].map((id) => obj.programs[id - 1])
    const all = [...users, ...members.filter((p) => !users.includes(p))]
    const owner = users[0] ?? members[0]
    if (!owner) continue
    for (const p of all) {
      if (p === owner) continue
      const why = incompatibleWith(owner, p)
      if (!why) continue
      const slots = [...m.slots].filter(([, id]) => id === p.id).map(([k]) => k)
      const how =
        slots.length > 0
          ? `putting it in ${m.name}[${slots.join('], [')}] fails (EINVAL)`
          : `loading it fails (EINVAL: it uses ${m.name})`
      extra.push({
        kind: 'incompatible-programs',
        mapId: m.id,
        message: `${p.name} cannot share prog array ${m.name} with ${owner.name} (its owner, the first program that uses it): ${why}; ${how}`,
        progId: p.id,
        severity: 'error',
        slot: slots[0],
      })
    }
  }

  for (const p of obj.programs) {
    for (const s of stackProblems(p)) {
      const frames = s.frames.map((f) => `${f.name} ${f.stack} B`).join(' → ')
      const refusedEverywhere = s.depthJit >= TAIL_CALL_STACK_LIMIT
      extra.push({
        insn: s.callInsn,
        kind: 'subprog-stack',
        message:
          `${p.name} insn ${s.callInsn}: calls ${s.func}, which makes a tail call, under ${s.depthJit} bytes of callers' stack (${frames}; ${s.depthOld} B counted in 32-byte frames): ` +
          (refusedEverywhere
            ? `the verifier refuses it (tail_calls are not allowed when call stack of previous frames is ${s.depthJit} bytes)`
            : `the interpreter and kernels that count 32-byte frames refuse it (${s.depthOld} ≥ ${TAIL_CALL_STACK_LIMIT})`),
        progId: p.id,
        severity: refusedEverywhere ? 'error' : 'warning',
      })
    }

    if (mixesCallsAndTailCalls(p)) {
      const subs = p.funcs
        .slice(1)
        .map((f) => f.func.name)
        .join(', ')
      extra.push({
        kind: 'bpf2bpf-tail-call-kernel',
        message: `${p.name} mixes tail calls and bpf-to-bpf calls (${subs}): kernels before 5.10 refuse it (tail_calls are not allowed in programs with bpf-to-bpf calls); since then it needs a JIT that supports it (x86-64 from 5.10, arm64 from 6.0), never the interpreter`,
        progId: p.id,
        severity: 'info',
      })
    }

    for (const l of lockProblems(p)) {
      extra.push({
        insn: l.insn,
        kind: 'tail-call-in-lock',
        message: `${p.name} insn ${l.insn}: tail call while ${l.held.join(' and ')} ${l.held.length === 1 ? 'is' : 'are'} held${l.always ? '' : ' on some path'}: the verifier refuses it (a tail call never returns to release it)`,
        progId: p.id,
        severity: l.always ? 'error' : 'warning',
      })
    }
  }

  // Programs in a slot no tail call can reach.
  const reachedTargets = new Set(g.edges.map((e) => e.to))
  for (const p of obj.programs) {
    if (!inSlot.has(p.id) || reachedTargets.has(p.id) || (selected && !shown.has(p.id))) continue
    const where = [...maps.values()].flatMap((m) =>
      [...m.slots].filter(([, id]) => id === p.id).map(([k]) => `${m.name}[${k}]`),
    )
    extra.push({
      kind: 'unreached-program',
      message: `${p.name} sits in ${where.join(', ')}, but no tail call reaches ${where.length === 1 ? 'that slot' : 'those slots'} and, being in a slot, it is no entry point: it never runs`,
      progId: p.id,
      severity: 'warning',
    })
  }

  for (const f of extra) if (f.progId === undefined || !selected || shown.has(f.progId)) g.findings.push(f)

  // Name maps as in the object (no kernel ids), and say where each finding is.
  for (const f of g.findings) {
    if (f.kind === 'unused-map' && f.mapId !== undefined) {
      const m = g.maps.find((x) => x.id === f.mapId)!
      f.message =
        m.referencedBy.length === 0
          ? `prog array ${m.name}: no program references it, so nothing can tail call through it`
          : `prog array ${m.name}: only ${m.referencedBy.map((id) => obj.programs[id - 1].name).join(', ')} ${m.referencedBy.length === 1 ? 'uses' : 'use'} it, and no entry point reaches ${m.referencedBy.length === 1 ? 'it' : 'them'}`
    }

    f.rule = RULES[f.kind]
    if (f.progId !== undefined && f.insn !== undefined) {
      const p = obj.programs[f.progId - 1]
      const o = p.origin[f.insn]
      if (o) {
        if (o.func.name !== p.name) f.function = o.func.name
        const line = obj.lineOf(o.func.section.name, o.insn)
        if (line) f.line = `${line.file.split('/').at(-1)}:${line.line}`
      }
    }
  }

  const severity = {error: 0, info: 2, warning: 1}
  g.findings.sort((a, b) => severity[a.severity] - severity[b.severity])
  for (const n of obj.notes) g.findings.push({kind: 'analysis', message: n, severity: 'info', rule: RULES.analysis})
  return g
}

/** Why `p` may not share a prog array with `owner`, from what the sections say. */
function incompatibleWith(owner: ObjProgram, p: ObjProgram): string | undefined {
  const a = owner.kind
  const b = p.kind
  if (b.progType === undefined || a.progType === undefined) return undefined
  const ext =
    p.kind.progType === progTypeId('ext')
      ? 'an ext (freplace) program: the kernel never puts one in a prog array'
      : undefined
  if (ext) return ext
  if (a.progType !== b.progType)
    return `it is a ${progTypeName(b.progType)} program (SEC("${p.section}")), the owner a ${progTypeName(a.progType)} program (SEC("${owner.section}"))`
  if (a.targetIsFunction && (a.target ?? '') !== (b.target ?? '')) {
    return `it attaches to ${b.target ?? '(nothing)'}, the owner to ${a.target ?? '(nothing)'}: the kernel (6.12+) requires the same attach function prototype`
  }

  if (a.attachType !== b.attachType && a.attachType !== undefined && b.attachType !== undefined) {
    return `its expected attach type is ${attachTypeName(b.attachType)}, the owner's ${attachTypeName(a.attachType)}: kernels 6.18+ (and stable backports) require the same`
  }

  return undefined
}
