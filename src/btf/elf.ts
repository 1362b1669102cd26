/**
 * The raw `.BTF` section of an ELF object file (what clang -g emits for a BPF object), found
 * through the section headers. Bounds-checked: a truncated or foreign file is a BtfError
 * naming the offset, never an exception from a Buffer read.
 */
import {readFileSync} from 'node:fs'

import {Btf, BtfError} from './btf.js'

const ELF_MAGIC = 0x7f454c46 // \x7fELF
const ELFCLASS64 = 2
const ELFDATA2MSB = 2

/** The bytes of section `name` (default ".BTF") of an ELF64 file, or undefined if it has none. */
export function elfSection(elf: Buffer, name = '.BTF', label = 'object'): Buffer | undefined {
  if (elf.length < 64 || elf.readUInt32BE(0) !== ELF_MAGIC) throw new BtfError(`${label} is not an ELF file`, 0)
  if (elf[4] !== ELFCLASS64) throw new BtfError(`${label} is a 32-bit ELF file (BPF objects are ELF64)`, 4)
  const le = elf[5] !== ELFDATA2MSB
  const u16 = (o: number): number => (le ? elf.readUInt16LE(o) : elf.readUInt16BE(o))
  const u32 = (o: number): number => (le ? elf.readUInt32LE(o) : elf.readUInt32BE(o))
  const u64 = (o: number): number => Number(le ? elf.readBigUInt64LE(o) : elf.readBigUInt64BE(o))
  const shoff = u64(0x28)
  const shentsize = u16(0x3a)
  const shnum = u16(0x3c)
  const shstrndx = u16(0x3e)
  if (shentsize < 64 || shoff + shnum * shentsize > elf.length) {
    throw new BtfError(
      `${label}: section headers (${shnum} × ${shentsize} bytes at ${shoff}) lie outside the ${elf.length}-byte file`,
      0x28,
    )
  }

  const section = (i: number): {name: number; offset: number; size: number; at: number} => {
    const at = shoff + i * shentsize
    return {at, name: u32(at), offset: u64(at + 24), size: u64(at + 32)}
  }

  if (shstrndx >= shnum)
    throw new BtfError(`${label}: section-name table index ${shstrndx} is past the ${shnum} sections`, 0x3e)
  const names = section(shstrndx)
  if (names.offset + names.size > elf.length)
    throw new BtfError(`${label}: the section-name table lies outside the file`, names.at)
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    const from = names.offset + s.name
    if (from >= names.offset + names.size) continue
    const end = elf.indexOf(0, from)
    if (end === -1 || end > names.offset + names.size) continue
    if (elf.toString('latin1', from, end) !== name) continue
    if (s.offset + s.size > elf.length)
      throw new BtfError(`${label}: section ${name} (${s.size} bytes at ${s.offset}) lies outside the file`, s.at)
    return elf.subarray(s.offset, s.offset + s.size)
  }

  return undefined
}

/** Parse the `.BTF` section of the object file at `path`. */
export function btfFromObjectFile(path: string): Btf {
  const bytes = elfSection(readFileSync(path), '.BTF', path)
  if (!bytes) throw new BtfError(`${path} has no .BTF section (build it with clang -g)`, 0)
  return Btf.parse(bytes, {name: `${path} .BTF`})
}
