/**
 * An ELF64 relocatable object as a BPF compiler writes it: section headers, the symbol table and
 * SHT_REL relocations, read without loading anything.
 *
 * Every read is bounds-checked against the file: a truncated or foreign file is an ObjectError
 * naming the byte offset of the field that does not fit, never an exception from a Buffer read
 * and never a loop that runs past what the headers promise (counts are checked against the file
 * size before anything is iterated).
 */
import {safeText} from '../render/table.js'

export class ObjectError extends Error {
  /** Byte offset in the file of the field that is wrong. */
  readonly offset: number

  constructor(message: string, offset: number) {
    // Messages quote names read from the file (symbols, sections), which may hold anything: a
    // newline or a terminal escape there must not break the one error line.
    super(`${safeText(message).replaceAll('\n', '\\n')} (at byte offset ${offset})`)
    this.name = 'ObjectError'
    this.offset = offset
  }
}

const ELF_MAGIC = 0x7f454c46 // \x7fELF
const ELFCLASS64 = 2
const ELFDATA2LSB = 1
const ELFDATA2MSB = 2
/** e_machine of eBPF objects. */
export const EM_BPF = 247
const EHDR_SIZE = 64
const SHDR_SIZE = 64
const SYM_SIZE = 24
const REL_SIZE = 16
const RELA_SIZE = 24

export const SHT = {progbits: 1, symtab: 2, strtab: 3, rela: 4, nobits: 8, rel: 9} as const
export const SHF_EXECINSTR = 0x4
export const STT = {notype: 0, object: 1, func: 2, section: 3} as const
export const STB = {local: 0, global: 1, weak: 2} as const
export const SHN_UNDEF = 0
/** Section indices from here on are special (SHN_ABS, SHN_COMMON, …), not real sections. */
const SHN_LORESERVE = 0xff00

export interface ElfSection {
  index: number
  name: string
  type: number
  flags: number
  offset: number
  size: number
  link: number
  info: number
  entsize: number
  /** Offset of this section's header in the file (for messages). */
  headerAt: number
}

export interface ElfSymbol {
  index: number
  readonly name: string
  type: number
  bind: number
  shndx: number
  value: number
  size: number
  /** Offset of the symbol's entry in the file. */
  at: number
}

export interface ElfRel {
  /** Byte offset in the section the relocation applies to. */
  offset: number
  symbol: number
  type: number
  addend: number
  /** Offset of the entry in the file. */
  at: number
}

export class ElfObject {
  readonly bytes: Buffer
  readonly littleEndian: boolean
  readonly machine: number
  readonly sections: ElfSection[] = []
  readonly symbols: ElfSymbol[] = []
  /** Relocations by the index of the section they apply to, as read so far (relocationsOf). */
  private readonly relocations = new Map<number, ElfRel[]>()

  private constructor(bytes: Buffer) {
    this.bytes = bytes
    if (bytes.length < EHDR_SIZE)
      throw new ObjectError(`not an ELF file: ${bytes.length} bytes is shorter than an ELF header`, 0)
    if (bytes.readUInt32BE(0) !== ELF_MAGIC) throw new ObjectError('not an ELF file (no \\x7fELF magic)', 0)
    if (bytes[4] !== ELFCLASS64) throw new ObjectError('a 32-bit ELF file (BPF objects are ELF64)', 4)
    if (bytes[5] !== ELFDATA2LSB && bytes[5] !== ELFDATA2MSB)
      throw new ObjectError(`unknown ELF data encoding ${bytes[5]}`, 5)
    this.littleEndian = bytes[5] === ELFDATA2LSB
    this.machine = this.u16(0x12)
    this.readSections()
    this.readSymbols()
    this.checkRelocationSections()
  }

  /** Parse an object file's bytes. Throws ObjectError only. */
  static parse(bytes: Buffer): ElfObject {
    return new ElfObject(bytes)
  }

  u16(o: number): number {
    this.need(o, 2)
    return this.littleEndian ? this.bytes.readUInt16LE(o) : this.bytes.readUInt16BE(o)
  }

  u32(o: number): number {
    this.need(o, 4)
    return this.littleEndian ? this.bytes.readUInt32LE(o) : this.bytes.readUInt32BE(o)
  }

  /** A u64 that must be a usable file offset or size (a larger value cannot fit in any file). */
  u64(o: number): number {
    this.need(o, 8)
    // Two u32 halves, not a BigInt (read for every symbol and relocation): exact below 2^53.
    const b = this.bytes
    const lo = this.littleEndian ? b.readUInt32LE(o) : b.readUInt32BE(o + 4)
    const hi = this.littleEndian ? b.readUInt32LE(o + 4) : b.readUInt32BE(o)
    return hi >= 0x20_0000 ? Number.MAX_SAFE_INTEGER : hi * 0x1_0000_0000 + lo
  }

  private need(o: number, n: number): void {
    if (o < 0 || o + n > this.bytes.length)
      throw new ObjectError(`file truncated: ${n} bytes needed at ${o}, the file has ${this.bytes.length}`, o)
  }

  /** The bytes of a section (empty for SHT_NOBITS), checked to lie inside the file. */
  data(s: ElfSection): Buffer {
    if (s.type === SHT.nobits) return Buffer.alloc(0)
    if (s.offset + s.size > this.bytes.length) {
      throw new ObjectError(
        `section ${s.name || s.index} (${s.size} bytes at ${s.offset}) lies outside the ${this.bytes.length}-byte file`,
        s.headerAt + 24,
      )
    }

    return this.bytes.subarray(s.offset, s.offset + s.size)
  }

  section(name: string): ElfSection | undefined {
    return this.sections.find((s) => s.name === name)
  }

  /** A NUL-terminated string at `off` of string table section `strtab`. */
  str(strtab: ElfSection, off: number, at: number): string {
    const data = this.data(strtab)
    if (off >= data.length)
      throw new ObjectError(
        `name offset ${off} is past the ${data.length}-byte string table ${strtab.name || strtab.index}`,
        at,
      )
    const end = data.indexOf(0, off)
    if (end === -1)
      throw new ObjectError(`name at ${off} of string table ${strtab.name || strtab.index} is not NUL-terminated`, at)
    return data.toString('latin1', off, end)
  }

  private readSections(): void {
    const shoff = this.u64(0x28)
    const shentsize = this.u16(0x3a)
    let shnum = this.u16(0x3c)
    let shstrndx = this.u16(0x3e)
    if (shoff === 0) throw new ObjectError('the file has no section headers', 0x28)
    if (shentsize !== SHDR_SIZE)
      throw new ObjectError(`section header size ${shentsize} (ELF64 uses ${SHDR_SIZE})`, 0x3a)
    // Extended numbering: a count or string-table index that does not fit in 16 bits sits in section 0.
    if (shnum === 0) shnum = this.u64(shoff + 32)
    if (shstrndx === 0xffff) shstrndx = this.u32(shoff + 40)
    if (shoff + shnum * SHDR_SIZE > this.bytes.length) {
      throw new ObjectError(
        `section headers (${shnum} × ${SHDR_SIZE} bytes at ${shoff}) lie outside the ${this.bytes.length}-byte file`,
        0x28,
      )
    }

    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR_SIZE
      this.sections.push({
        entsize: this.u64(at + 56),
        flags: this.u64(at + 8),
        headerAt: at,
        index: i,
        info: this.u32(at + 44),
        link: this.u32(at + 40),
        name: '',
        offset: this.u64(at + 24),
        size: this.u64(at + 32),
        type: this.u32(at + 4),
      })
    }

    if (shstrndx >= shnum)
      throw new ObjectError(`section-name table index ${shstrndx} is past the ${shnum} sections`, 0x3e)
    const names = this.sections[shstrndx]
    for (const s of this.sections) {
      if (s.index === 0) continue
      s.name = this.str(names, this.u32(s.headerAt), s.headerAt)
    }
  }

  private readSymbols(): void {
    const symtabs = this.sections.filter((s) => s.type === SHT.symtab)
    if (symtabs.length === 0) return
    if (symtabs.length > 1)
      throw new ObjectError(`${symtabs.length} symbol tables (a relocatable object has one)`, symtabs[1].headerAt)
    const symtab = symtabs[0]
    const data = this.data(symtab)
    if (symtab.entsize !== SYM_SIZE)
      throw new ObjectError(`symbol entry size ${symtab.entsize} (ELF64 uses ${SYM_SIZE})`, symtab.headerAt + 56)
    const strtab = this.sections[symtab.link]
    if (!strtab || strtab.type !== SHT.strtab)
      throw new ObjectError(
        `the symbol table links to section ${symtab.link}, which is not a string table`,
        symtab.headerAt + 40,
      )
    // The whole table lies inside the file (data() checked it): entries are read without a check
    // each. A name is read when something asks for it (most symbols are local labels nobody
    // names), and a bad one is refused then, with the entry's offset.
    const n = Math.floor(data.length / SYM_SIZE)
    for (let i = 0; i < n; i++) {
      const at = symtab.offset + i * SYM_SIZE
      const info = this.bytes[at + 4]
      this.symbols.push(
        new LazySymbol(this, strtab, {
          at,
          bind: info >> 4,
          index: i,
          nameOff: this.u32(at),
          shndx: this.u16(at + 6),
          size: this.u64(at + 16),
          type: info & 0xf,
          value: this.u64(at + 8),
        }),
      )
    }
  }

  /**
   * The relocations that apply to section `index`, read on first use. Only the sections the
   * decoder asks about (code and .maps) are read, as libbpf skips relocation sections for
   * anything else (debug info, BTF.ext): those need not even be well-formed.
   */
  relocationsOf(index: number): ElfRel[] {
    let list = this.relocations.get(index)
    if (list) return list
    list = []
    for (const s of this.sections) {
      if ((s.type !== SHT.rel && s.type !== SHT.rela) || s.info !== index) continue
      list.push(...this.readRelocationSection(s))
    }

    this.relocations.set(index, list)
    return list
  }

  private readRelocationSection(s: ElfSection): ElfRel[] {
    const size = s.type === SHT.rel ? REL_SIZE : RELA_SIZE
    if (s.entsize !== size)
      throw new ObjectError(
        `relocation section ${s.name} has entry size ${s.entsize}, expected ${size}`,
        s.headerAt + 56,
      )
    const data = this.data(s)
    const list: ElfRel[] = []
    const n = Math.floor(data.length / size)
    for (let i = 0; i < n; i++) {
      const at = s.offset + i * size
      const symbol = this.u32(at + (this.littleEndian ? 12 : 8))
      const type = this.u32(at + (this.littleEndian ? 8 : 12))
      if (symbol >= this.symbols.length) {
        throw new ObjectError(
          `relocation ${i} of ${s.name} names symbol ${symbol}; the symbol table has ${this.symbols.length}`,
          at + 8,
        )
      }

      const addend =
        s.type === SHT.rela
          ? Number(this.littleEndian ? this.bytes.readBigInt64LE(at + 16) : this.bytes.readBigInt64BE(at + 16))
          : 0
      list.push({addend, at, offset: this.u64(at), symbol, type})
    }

    return list
  }

  private checkRelocationSections(): void {
    for (const s of this.sections) {
      if (s.type !== SHT.rel && s.type !== SHT.rela) continue
      if (s.info === 0 || s.info >= this.sections.length) {
        throw new ObjectError(
          `relocation section ${s.name} applies to section ${s.info}, which does not exist`,
          s.headerAt + 44,
        )
      }
    }
  }

  /** The section a symbol is defined in, or undefined (undefined/absolute/common symbols). */
  sectionOf(sym: ElfSymbol): ElfSection | undefined {
    if (sym.shndx === SHN_UNDEF || sym.shndx >= SHN_LORESERVE) return undefined
    const s = this.sections[sym.shndx]
    if (!s)
      throw new ObjectError(
        `symbol ${sym.name || sym.index} is in section ${sym.shndx}, which does not exist`,
        sym.at + 6,
      )
    return s
  }
}

/** A symbol whose name is read from the string table when first asked for. */
class LazySymbol implements ElfSymbol {
  readonly index: number
  readonly type: number
  readonly bind: number
  readonly shndx: number
  readonly value: number
  readonly size: number
  readonly at: number
  private readonly nameOff: number
  private cachedName?: string

  constructor(
    private readonly elf: ElfObject,
    private readonly strtab: ElfSection,
    f: Omit<ElfSymbol, 'name'> & {nameOff: number},
  ) {
    this.at = f.at
    this.bind = f.bind
    this.index = f.index
    this.nameOff = f.nameOff
    this.shndx = f.shndx
    this.size = f.size
    this.type = f.type
    this.value = f.value
  }

  get name(): string {
    this.cachedName ??= this.nameOff === 0 ? '' : this.elf.str(this.strtab, this.nameOff, this.at)
    return this.cachedName
  }
}
