/**
 * A BPF object file decoded the way libbpf would load it, without loading it: its programs (FUNC
 * symbols in executable sections other than .text), subprograms (FUNC symbols in .text), maps
 * (BTF-defined in `.maps`, or legacy `struct bpf_map_def` in `maps`), static prog-array slots
 * (`__array(values, …)`: relocations in `.rel.maps`), and BTF line info.
 *
 * Each program is linked as libbpf links it before BPF_PROG_LOAD: the subprograms it calls are
 * appended after its own code in the order the calls are first met, and every call is re-aimed
 * at the appended copy; each `ld_imm64` relocated against a map becomes `r = map[id:N]`
 * (BPF_PSEUDO_MAP_FD with a stand-in id) and against global data a map-value pointer. So the
 * linked buffer looks like what the kernel hands back as xlated code, and the live graph's site
 * analysis (graph/sites.ts) runs on it unchanged; instruction indices are comparable with
 * bpftool's `prog dump xlated` (the verifier may still insert instructions before a site).
 *
 * Malformed input throws ObjectError naming the byte offset in the file; nothing here loops more
 * than the file's own counts allow.
 */
import {Btf} from '../btf/btf.js'
import {KIND} from '../btf/kinds.js'
import type {BtfType, CompositeType} from '../btf/types.js'
import {mapTypeId} from '../kernel/names.js'
import {
  type ElfObject,
  type ElfSection,
  type ElfSymbol,
  EM_BPF,
  ObjectError,
  SHF_EXECINSTR,
  SHT,
  STB,
  STT,
} from './elf.js'
import {type SectionKind, sectionKind} from './sections.js'

export const INSN = 8
const LD_IMM64 = 0x18
const CALL = 0x85
const PSEUDO = {mapFd: 1, mapValue: 2, btfId: 3, func: 4, call: 1, kfunc: 2} as const
/** bpf_map_def in a legacy `maps` section: type, key_size, value_size, max_entries, map_flags. */
const LEGACY_MAP_DEF = 20
export const PROG_ARRAY = mapTypeId('prog_array')!

export interface ObjMap {
  id: number
  name: string
  type?: number
  maxEntries: number
  /** Slot → program name, from `.values` initialisers. */
  staticSlots: Map<number, string>
}

export interface ObjFunc {
  name: string
  section: ElfSection
  /** First instruction in its section. */
  start: number
  /** Instructions. */
  length: number
  /** A program (an entry point) rather than a subprogram. */
  program: boolean
  /** Bytes of stack it uses (the deepest r10-relative access), as the verifier counts it. */
  readonly stackDepth: number
  hasTailCall: boolean
}

/** Where a linked instruction came from. */
export interface Origin {
  func: ObjFunc
  /** Instruction index in the function's section. */
  insn: number
}

export interface ObjProgram {
  id: number
  name: string
  section: string
  kind: SectionKind
  /** The linked instructions (the program, then the subprograms it calls). */
  insns: Buffer
  origin: Origin[]
  /** Functions in the linked buffer, by start index (the program first). */
  funcs: {func: ObjFunc; at: number}[]
  /** Linked instruction index → kfunc name, for calls to kernel functions. */
  kfuncs: Map<number, string>
}

export interface SourceLine {
  file: string
  line: number
  col: number
  text?: string
}

export interface DecodedObject {
  programs: ObjProgram[]
  maps: ObjMap[]
  funcs: ObjFunc[]
  /** The source line of instruction `insn` of section `section`, from .BTF.ext, when present. */
  lineOf: (section: string, insn: number) => SourceLine | undefined
  /** Things that limit the analysis but are no error (no BTF line info, …). */
  notes: string[]
}

function isExec(s: ElfSection): boolean {
  return s.type === SHT.progbits && (s.flags & SHF_EXECINSTR) !== 0 && s.size > 0
}

/** The deepest stack slot a function touches: r10-relative accesses and r10-derived pointers. */
function stackDepthOf(code: Buffer): number {
  let min = 0
  const fp = new Map<number, number>()
  for (let p = 0; p + INSN <= code.length; p += INSN) {
    const op = code[p]
    const dst = code[p + 1] & 0xf
    const src = code[p + 1] >> 4
    const off = code.readInt16LE(p + 2)
    const imm = code.readInt32LE(p + 4)
    const cls = op & 7
    if (cls === 1) {
      // ldx
      const b = src === 10 ? 0 : fp.get(src)
      if (b !== undefined) min = Math.min(min, b + off)
      fp.delete(dst)
    } else if (cls === 2 || cls === 3) {
      // st, stx
      const b = dst === 10 ? 0 : fp.get(dst)
      if (b !== undefined) min = Math.min(min, b + off)
    } else if (cls === 7 || cls === 4) {
      // alu
      const aop = op & 0xf0
      if (cls === 7 && aop === 0xb0 && op & 8 && src === 10) fp.set(dst, 0)
      else if (cls === 7 && aop === 0xb0 && op & 8 && fp.has(src)) fp.set(dst, fp.get(src)!)
      else if (cls === 7 && (aop === 0x00 || aop === 0x10) && !(op & 8) && fp.has(dst)) {
        const v = fp.get(dst)! + (aop === 0 ? imm : -imm)
        fp.set(dst, v)
        min = Math.min(min, v)
      } else {
        fp.delete(dst)
      }
    } else if (cls === 5 && (op & 0xf0) === 0x80) {
      for (let r = 0; r <= 5; r++) fp.delete(r)
    } else if (cls === 0) {
      fp.delete(dst)
      p += INSN // ld_imm64 is two slots
    }

    // A jump target may join other paths: forget derived pointers there (a conservative reset).
    if (cls === 5 || cls === 6) fp.clear()
  }

  return -min
}

function hasTailCall(code: Buffer): boolean {
  for (let p = 0; p + INSN <= code.length; p += INSN) {
    if (code[p] === CALL && code[p + 1] >> 4 === 0 && code.readInt32LE(p + 4) === 12) return true
    if (code[p] === LD_IMM64) p += INSN
  }

  return false
}

/** Members of a BTF map definition: `type`, `max_entries` (int (*)[N]) and where `values` sits. */
function btfMapDef(
  btf: Btf,
  typeId: number,
  at: number,
  name: string,
): {maxEntries?: number; type?: number; valuesOff?: number} {
  const resolved = btf.resolveType(typeId)
  const t = resolved.ok ? btf.type(resolved.value) : undefined
  if (!t || t.kind !== KIND.STRUCT)
    throw new ObjectError(`map ${name}: its BTF type is not a struct (BTF-defined maps are)`, at)
  const out: {maxEntries?: number; type?: number; valuesOff?: number} = {}
  const nelemsOf = (id: number): number | undefined => {
    const p = btf.type(id)
    if (!p || p.kind !== KIND.PTR) return undefined
    const a: BtfType | undefined = btf.type(p.type)
    return a?.kind === KIND.ARRAY ? a.nelems : undefined
  }

  for (const m of (t as CompositeType).members) {
    if (m.name === 'type') out.type = nelemsOf(m.type)
    else if (m.name === 'max_entries') out.maxEntries = nelemsOf(m.type)
    else if (m.name === 'values') out.valuesOff = m.bitOffset / 8
  }

  return out
}

interface LineRec {
  insnOff: number
  fileOff: number
  lineOff: number
  lineCol: number
}

/**
 * .BTF.ext line info: section name → records sorted by instruction offset. A section's records
 * are decoded when a finding first asks for a line there (most runs ask for few or none).
 */
function readLineInfo(ext: Buffer, btf: Btf, notes: string[]): Map<string, () => LineRec[]> {
  const out = new Map<string, () => LineRec[]>()
  if (ext.length < 24 || ext.readUInt16LE(0) !== 0xeb9f) {
    notes.push('.BTF.ext is malformed: no source lines')
    return out
  }

  const hdrLen = ext.readUInt32LE(4)
  const lineOff = ext.readUInt32LE(16)
  const lineLen = ext.readUInt32LE(20)
  const from = hdrLen + lineOff
  const end = from + lineLen
  if (lineLen === 0) return out
  if (end > ext.length || lineLen < 4) {
    notes.push('.BTF.ext line info lies outside the section: no source lines')
    return out
  }

  const recSize = ext.readUInt32LE(from)
  if (recSize < 16) {
    notes.push(`.BTF.ext line info record size ${recSize} is too small: no source lines`)
    return out
  }

  let p = from + 4
  while (p + 8 <= end) {
    const secName = btf.str(ext.readUInt32LE(p)) ?? ''
    const n = ext.readUInt32LE(p + 4)
    p += 8
    if (p + n * recSize > end) {
      notes.push('.BTF.ext line info is truncated: some source lines missing')
      break
    }

    const start = p
    let recs: LineRec[] | undefined
    out.set(secName, () => {
      if (recs) return recs
      recs = []
      let sorted = true
      for (let i = 0, q = start; i < n; i++, q += recSize) {
        const insnOff = ext.readUInt32LE(q)
        if (i > 0 && insnOff < recs[i - 1].insnOff) sorted = false
        recs.push({
          fileOff: ext.readUInt32LE(q + 4),
          insnOff,
          lineCol: ext.readUInt32LE(q + 12),
          lineOff: ext.readUInt32LE(q + 8),
        })
      }

      // Compilers write them in order; a comparator called n·log n times costs more than the
      // reading when it runs once, interpreted.
      if (!sorted) recs.sort((a, b) => a.insnOff - b.insnOff)
      return recs
    })
    p += n * recSize
  }

  return out
}

export function decodeObject(elf: ElfObject): DecodedObject {
  if (elf.machine !== EM_BPF)
    throw new ObjectError(`not a BPF object: ELF machine ${elf.machine} (eBPF is ${EM_BPF})`, 0x12)
  const notes: string[] = []
  const btfSec = elf.section('.BTF')
  let btf: Btf | undefined
  if (btfSec) {
    try {
      btf = Btf.parse(elf.data(btfSec), {name: '.BTF'})
    } catch (error) {
      if (error instanceof ObjectError) throw error
      throw new ObjectError(
        `.BTF section: ${(error as Error).message}`,
        btfSec.offset + ((error as {offset?: number}).offset ?? 0),
      )
    }
  }

  // Functions: every FUNC symbol in an executable section.
  const funcs: ObjFunc[] = []
  for (const sym of elf.symbols) {
    if (sym.type !== STT.func) continue
    const sec = elf.sectionOf(sym)
    if (!sec || !isExec(sec)) continue
    if (sym.value % INSN !== 0 || sym.size % INSN !== 0 || sym.value + sym.size > sec.size) {
      throw new ObjectError(
        `function ${sym.name}: ${sym.size} bytes at ${sym.value} do not fit section ${sec.name} (${sec.size} bytes) in whole instructions`,
        sym.at + 8,
      )
    }

    const code = elf.data(sec).subarray(sym.value, sym.value + sym.size)
    let stackDepth: number | undefined
    funcs.push({
      hasTailCall: hasTailCall(code),
      length: sym.size / INSN,
      name: sym.name,
      program: sec.name !== '.text',
      section: sec,
      // Only the stack check of programs with subprograms reads it: worked out on first use.
      get stackDepth() {
        stackDepth ??= stackDepthOf(code)
        return stackDepth
      },
      start: sym.value / INSN,
    })
  }

  // Maps.
  const maps: ObjMap[] = []
  const mapBySymbol = new Map<number, ObjMap>()
  const mapsSec = elf.section('.maps')
  const legacySec = elf.section('maps')
  const symbolsIn = (sec: ElfSection | undefined): ElfSymbol[] =>
    sec
      ? elf.symbols
          .filter((s) => s.shndx === sec.index && s.type !== STT.section && s.name !== '')
          .sort((a, b) => a.value - b.value)
      : []
  const mapVars = new Map<string, {offset: number; type: number}>()
  if (mapsSec && btf) {
    for (let id = 1; id < btf.typeCount; id++) {
      // Only the data sections are decoded: an object's BTF is mostly its functions' types.
      if (btf.kindOf(id) !== KIND.DATASEC) continue
      const t = btf.type(id)
      if (t?.kind !== KIND.DATASEC || t.name !== '.maps') continue
      for (const v of t.vars) {
        const vt = btf.type(v.type)
        if (vt?.kind === KIND.VAR && vt.name) mapVars.set(vt.name, {offset: v.offset, type: vt.type})
      }
    }
  }

  const valuesAt: {map: ObjMap; from: number; to: number; valuesOff?: number}[] = []
  for (const sym of symbolsIn(mapsSec)) {
    const v = mapVars.get(sym.name)
    if (!v) throw new ObjectError(`map ${sym.name} in .maps has no BTF definition (build with clang -g)`, sym.at)
    const def = btfMapDef(btf!, v.type, sym.at, sym.name)
    const m: ObjMap = {
      id: maps.length + 1,
      maxEntries: def.maxEntries ?? 0,
      name: sym.name,
      staticSlots: new Map(),
      type: def.type,
    }
    maps.push(m)
    mapBySymbol.set(sym.index, m)
    valuesAt.push({from: sym.value, map: m, to: sym.value + sym.size, valuesOff: def.valuesOff})
  }

  for (const sym of symbolsIn(legacySec)) {
    const data = elf.data(legacySec!)
    if (sym.value + LEGACY_MAP_DEF > data.length)
      throw new ObjectError(`legacy map ${sym.name}: its definition lies outside section maps`, sym.at + 8)
    const m: ObjMap = {
      id: maps.length + 1,
      maxEntries: data.readUInt32LE(sym.value + 12),
      name: sym.name,
      staticSlots: new Map(),
      type: data.readUInt32LE(sym.value),
    }
    maps.push(m)
    mapBySymbol.set(sym.index, m)
  }

  // Static slots: `.values = {[K] = &prog}` is a relocation at values + 8*K against the program.
  if (mapsSec) {
    const programAt = new Map<string, ObjFunc>()
    for (const f of funcs) {
      const k = `${f.section.index}:${f.start * INSN}`
      // Two symbols at one address: the first, as a search in symbol order finds it.
      if (f.program && !programAt.has(k)) programAt.set(k, f)
    }
    for (const rel of elf.relocationsOf(mapsSec.index)) {
      const owner = valuesAt.find((x) => rel.offset >= x.from && rel.offset < x.to)
      const sym = elf.symbols[rel.symbol]
      if (!owner || owner.valuesOff === undefined || rel.offset < owner.from + owner.valuesOff) {
        throw new ObjectError(`relocation at ${rel.offset} of .maps is not inside a map's .values`, rel.at)
      }

      const slot = (rel.offset - owner.from - owner.valuesOff) / 8
      if (!Number.isInteger(slot))
        throw new ObjectError(`relocation at ${rel.offset} of .maps is not on a .values slot boundary`, rel.at)
      const fn = programAt.get(`${sym.shndx}:${sym.value}`)
      if (!fn)
        throw new ObjectError(
          `.values of ${owner.map.name}[${slot}] names ${sym.name || `symbol ${sym.index}`}, which is not a program`,
          rel.at,
        )
      owner.map.staticSlots.set(slot, fn.name)
    }
  }

  // Global data sections get stand-in map ids after the real maps (their pointers are map values).
  const dataIds = new Map<number, number>()
  let nextId = maps.length + 1
  const dataId = (shndx: number) => {
    if (!dataIds.has(shndx)) dataIds.set(shndx, nextId++)
    return dataIds.get(shndx)!
  }

  const relocsBySection = new Map<number, Map<number, {at: number; sym: ElfSymbol}>>()
  for (const sec of elf.sections) {
    if (!isExec(sec)) continue
    const byOff = new Map<number, {at: number; sym: ElfSymbol}>()
    for (const rel of elf.relocationsOf(sec.index)) {
      if (rel.offset % INSN !== 0 || rel.offset + INSN > sec.size) {
        throw new ObjectError(
          `relocation at ${rel.offset} of ${sec.name} is not on an instruction of the ${sec.size}-byte section`,
          rel.at,
        )
      }

      byOff.set(rel.offset, {at: rel.at, sym: elf.symbols[rel.symbol]})
    }

    relocsBySection.set(sec.index, byOff)
  }

  const funcAt = (sec: ElfSection, insn: number) =>
    funcs.find((f) => f.section.index === sec.index && insn >= f.start && insn < f.start + f.length)

  const programs: ObjProgram[] = []
  for (const f of funcs) {
    if (!f.program) continue
    const chunks: Buffer[] = []
    const origin: Origin[] = []
    const placed = new Map<ObjFunc, number>()
    const fnList: {func: ObjFunc; at: number}[] = []
    const kfuncs = new Map<number, string>()
    const place = (g: ObjFunc) => {
      placed.set(g, origin.length)
      fnList.push({at: origin.length, func: g})
      const code = Buffer.from(elf.data(g.section).subarray(g.start * INSN, (g.start + g.length) * INSN))
      chunks.push(code)
      for (let k = 0; k < g.length; k++) origin.push({func: g, insn: g.start + k})
    }

    place(f)
    // Walk the growing buffer: calls into functions not yet placed append them.
    for (let ci = 0; ci < chunks.length; ci++) {
      const chunk = chunks[ci]
      const base = fnList[ci].at
      const g = fnList[ci].func
      const relocs = relocsBySection.get(g.section.index)!
      for (let k = 0; k < g.length; k++) {
        const p = k * INSN
        const code = chunk[p]
        const src = chunk[p + 1] >> 4
        const rel = relocs.get((g.start + k) * INSN)
        const insnAt = g.section.offset + (g.start + k) * INSN
        const isCall = code === CALL && src === PSEUDO.call
        const isFuncRef = code === LD_IMM64 && src === PSEUDO.func
        if (isCall && rel && elf.sectionOf(rel.sym) === undefined) {
          // A call to an extern (`__ksym` function): libbpf turns it into a kfunc call.
          chunk[p + 1] = (PSEUDO.kfunc << 4) | (chunk[p + 1] & 0xf)
          kfuncs.set(base + k, rel.sym.name)
          continue
        }

        if (isCall || isFuncRef) {
          // Target: the relocation's symbol (plus the encoded offset), or, unrelocated, this section.
          const imm = chunk.readInt32LE(p + 4)
          let sec = g.section
          let target = g.start + k + imm + 1
          if (rel) {
            const tsec = elf.sectionOf(rel.sym)
            if (!tsec || !isExec(tsec))
              throw new ObjectError(
                `call at insn ${g.start + k} of ${g.section.name} is relocated against ${rel.sym.name || `symbol ${rel.sym.index}`}, which is not code`,
                rel.at,
              )
            sec = tsec
            target = rel.sym.value / INSN + (isCall ? imm + 1 : imm / INSN)
          }

          const callee = funcAt(sec, target)
          if (!callee)
            throw new ObjectError(
              `call at insn ${g.start + k} of ${g.section.name} goes to insn ${target} of ${sec.name}, where no function is`,
              insnAt,
            )
          if (!placed.has(callee)) place(callee)
          const linked = placed.get(callee)! + (target - callee.start)
          chunk.writeInt32LE(linked - (base + k) - 1, p + 4)
          if (isFuncRef) k++
          continue
        }

        if (code === CALL && src === PSEUDO.kfunc && rel) {
          kfuncs.set(base + k, rel.sym.name)
          continue
        }

        if (code === LD_IMM64) {
          if (k + 1 >= g.length)
            throw new ObjectError(
              `ld_imm64 at insn ${g.start + k} of ${g.section.name} is cut off by the end of ${g.name}`,
              insnAt,
            )
          if (rel) {
            const m = mapBySymbol.get(rel.sym.index)
            const tsec = elf.sectionOf(rel.sym)
            const dst = chunk[p + 1] & 0xf
            if (m) {
              chunk[p + 1] = (PSEUDO.mapFd << 4) | dst
              chunk.writeInt32LE(m.id, p + 4)
            } else if (tsec && (tsec.name === '.maps' || tsec.name === 'maps')) {
              throw new ObjectError(
                `ld_imm64 at insn ${g.start + k} of ${g.section.name} points into ${tsec.name} but at no map`,
                rel.at,
              )
            } else if (tsec) {
              // Global data (.data, .bss, .rodata): a pointer into a map's value.
              chunk[p + 1] = (PSEUDO.mapValue << 4) | dst
              chunk.writeInt32LE(dataId(tsec.index), p + 4)
            } else {
              // An extern (__ksym, __kconfig): resolved by libbpf against the kernel; unknown here.
              chunk[p + 1] = (PSEUDO.btfId << 4) | dst
            }
          }

          k++
          continue
        }

        if (rel && code !== CALL) {
          throw new ObjectError(
            `relocation against ${rel.sym.name || `symbol ${rel.sym.index}`} at insn ${g.start + k} of ${g.section.name} is on an instruction (opcode 0x${code.toString(16)}) that takes none`,
            rel.at,
          )
        }
      }
    }

    programs.push({
      funcs: fnList,
      id: programs.length + 1,
      insns: Buffer.concat(chunks),
      kfuncs,
      kind: sectionKind(f.section.name),
      name: f.name,
      origin,
      section: f.section.name,
    })
  }

  // Source lines.
  const extSec = elf.section('.BTF.ext')
  let lines = new Map<string, () => LineRec[]>()
  if (extSec && btf) lines = readLineInfo(elf.data(extSec), btf, notes)
  else notes.push('no .BTF.ext line info (build with clang -g): findings name instructions, not source lines')
  const lineOf = (section: string, insn: number): SourceLine | undefined => {
    const recs = lines.get(section)?.()
    if (!recs || !btf) return undefined
    // The last record at or before the instruction (records are sorted by offset).
    let lo = 0
    let hi = recs.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (recs[mid].insnOff <= insn * INSN) lo = mid + 1
      else hi = mid
    }

    const best = lo === 0 ? undefined : recs[lo - 1]
    if (!best) return undefined
    const file = btf.str(best.fileOff) ?? '?'
    const text = btf.str(best.lineOff)?.trim() || undefined
    return {col: best.lineCol & 0x3ff, file, line: best.lineCol >>> 10, text}
  }

  if (programs.length === 0)
    notes.push('the object has no programs (no functions in executable sections other than .text)')
  for (const sym of elf.symbols) {
    if (
      sym.type === STT.func &&
      sym.bind === STB.local &&
      funcs.some((f) => f.program && f.name === sym.name && f.section.index === sym.shndx)
    ) {
      notes.push(`program ${sym.name} is static: libbpf refuses static programs`)
    }
  }

  return {funcs, lineOf, maps, notes, programs}
}
