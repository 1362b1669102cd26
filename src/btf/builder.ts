/**
 * The BTF writer: raw BTF blobs built type by type, the inverse of the parser in btf.ts (what one
 * builds, the other reads back as the same types). It is the only code that writes BTF bytes:
 * the kernel feature probes (src/kernel/features.ts: a blob per kind, offered to BPF_BTF_LOAD),
 * and the tests, which need shapes clang does not emit (ENUM64, signed enums, type tags, odd
 * int widths), split BTF on top of a base, and deliberately malformed records (`raw` writes any
 * kind number, name offset and trailing words, and nothing checks them).
 *
 * Layout written: the 24-byte version-1 header, the type section right after it, then the
 * string section (which starts with the empty string unless this is split BTF, whose offsets
 * continue from the base's). Little-endian, as on every architecture the tool runs on.
 */
import type {Btf} from './btf.js'
import {BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, INT_BOOL, INT_CHAR, INT_SIGNED, KIND} from './kinds.js'

/** What split BTF continues from: the base's type count (btf__type_cnt) and string section end. */
export interface BuilderBase {
  typeCount: number
  strLen: number
}

export interface RawOptions {
  vlen?: number
  kflag?: boolean | number
  /** The third word of the record: a size or a type id, depending on the kind. */
  sizeOrType?: number
  /** Kind-specific data after the 12-byte record: u32 words, or bytes as they are. */
  extra?: number[] | Buffer
}

export interface IntOptions {
  signed?: boolean
  char?: boolean
  bool?: boolean
  /** BTF_INT_BITS; the whole size by default. */
  bits?: number
  /** BTF_INT_OFFSET. */
  offset?: number
  /** The raw BTF_INT_ENCODING nibble, overriding signed/char/bool (malformed values included). */
  encoding?: number
}

export interface MemberSpec {
  name?: string | null
  type: number
  bitOffset: number
  /** Non-zero makes the struct a kind_flag struct (bitfield sizes in the offset word). */
  bitfieldSize?: number
}

export interface VarSpec {
  type: number
  offset: number
  size: number
}

/** Wider than u32 or negative: stored as its low 32 bits (two's complement), as C would. */
const u32 = (n: number): number => n >>> 0

export class BtfBuilder {
  private readonly base?: BuilderBase
  private readonly records: Buffer[] = []
  private readonly strs: Buffer[]
  private strLen: number
  private readonly strIndex: Map<string, number>
  private nextId: number

  /**
   * `base`: the BTF this one is split from: a parsed Btf, or its type count and string length
   * (type ids and string offsets of this blob then continue from there).
   */
  constructor({base}: {base?: BuilderBase | Btf} = {}) {
    if (base && 'header' in base) base = {strLen: base.startStrOff + base.header.strLen, typeCount: base.typeCount}
    this.base = base
    this.strs = base ? [] : [Buffer.from([0])]
    this.strLen = base ? 0 : 1
    this.strIndex = new Map(base ? [] : [['', 0]])
    this.nextId = base ? base.typeCount : 1
  }

  /** The string's offset, adding it to the string section the first time. */
  str(s: string): number {
    if (s === '' && this.base) return 0 // the base's empty string
    const known = this.strIndex.get(s)
    if (known !== undefined) return known
    const off = (this.base ? this.base.strLen : 0) + this.strLen
    const b = Buffer.from(`${s}\0`, 'utf8')
    this.strs.push(b)
    this.strLen += b.length
    this.strIndex.set(s, off)
    return off
  }

  /** A record as given: a name (or a raw name offset), any kind number, vlen, kind_flag, size/type and trailing data. Returns its type id. */
  raw(
    name: string | number | null | undefined,
    kind: number,
    {extra = [], kflag = false, sizeOrType = 0, vlen = 0}: RawOptions = {},
  ): number {
    const nameOff = typeof name === 'number' ? name : this.str(name ?? '')
    const head = Buffer.alloc(BTF_TYPE_SIZE)
    head.writeUInt32LE(u32(nameOff), 0)
    head.writeUInt32LE(u32(((kflag ? 1 : 0) << 31) | ((kind & 0x1f) << 24) | (vlen & 0xffff)), 4)
    head.writeUInt32LE(u32(sizeOrType), 8)
    let tail: Buffer
    if (Buffer.isBuffer(extra)) {
      tail = extra
    } else {
      tail = Buffer.alloc(extra.length * 4)
      for (const [i, w] of extra.entries()) tail.writeUInt32LE(u32(w), i * 4)
    }

    this.records.push(Buffer.concat([head, tail]))
    return this.nextId++
  }

  int(
    name: string,
    size: number,
    {bits = size * 8, bool = false, char = false, encoding, offset = 0, signed = false}: IntOptions = {},
  ): number {
    const enc = encoding ?? (signed ? INT_SIGNED : 0) | (char ? INT_CHAR : 0) | (bool ? INT_BOOL : 0)
    return this.raw(name, KIND.INT, {extra: [(enc << 24) | (offset << 16) | bits], sizeOrType: size})
  }

  ptr(type: number): number {
    return this.raw('', KIND.PTR, {sizeOrType: type})
  }

  typedef(name: string, type: number): number {
    return this.raw(name, KIND.TYPEDEF, {sizeOrType: type})
  }

  volatile(type: number): number {
    return this.raw('', KIND.VOLATILE, {sizeOrType: type})
  }

  const(type: number): number {
    return this.raw('', KIND.CONST, {sizeOrType: type})
  }

  restrict(type: number): number {
    return this.raw('', KIND.RESTRICT, {sizeOrType: type})
  }

  typeTag(name: string, type: number): number {
    return this.raw(name, KIND.TYPE_TAG, {sizeOrType: type})
  }

  /** A forward declaration; kind_flag marks a union. */
  fwd(name: string, union = false): number {
    return this.raw(name, KIND.FWD, {kflag: union})
  }

  float(name: string, size: number): number {
    return this.raw(name, KIND.FLOAT, {sizeOrType: size})
  }

  /** A function: its linkage goes in vlen (0 static, 1 global, 2 extern). */
  func(name: string, proto: number, linkage = 1): number {
    return this.raw(name, KIND.FUNC, {sizeOrType: proto, vlen: linkage})
  }

  /** A tag on a type (componentIdx -1) or on one of its members/parameters. */
  declTag(name: string, type: number, componentIdx = -1): number {
    return this.raw(name, KIND.DECL_TAG, {extra: [componentIdx], sizeOrType: type})
  }

  var(name: string, type: number, linkage = 1): number {
    return this.raw(name, KIND.VAR, {extra: [linkage], sizeOrType: type})
  }

  array(type: number, nelems: number, indexType = 0): number {
    return this.raw('', KIND.ARRAY, {extra: [type, indexType, nelems]})
  }

  /** kind_flag is set when any member has a bitfieldSize (or as `kflag` says). */
  struct(
    name: string,
    size: number,
    members: MemberSpec[],
    {kflag, union = false}: {kflag?: boolean; union?: boolean} = {},
  ): number {
    const kf = kflag ?? members.some((m) => m.bitfieldSize)
    const extra = members.flatMap((m) => [
      this.str(m.name ?? ''),
      m.type,
      kf ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset,
    ])
    return this.raw(name, union ? KIND.UNION : KIND.STRUCT, {extra, kflag: kf, sizeOrType: size, vlen: members.length})
  }

  union(name: string, size: number, members: MemberSpec[]): number {
    return this.struct(name, size, members, {union: true})
  }

  /** values: [name, value] with value a (signed or unsigned) 32-bit number. */
  enum(name: string, size: number, values: [string, number][], {signed = false} = {}): number {
    const extra = values.flatMap(([n, v]) => [this.str(n), v])
    return this.raw(name, KIND.ENUM, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  /** values: [name, value] with value any 64-bit number (negative ones as two's complement). */
  enum64(name: string, size: number, values: [string, bigint | number][], {signed = false} = {}): number {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, BigInt(v))
      return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)]
    })
    return this.raw(name, KIND.ENUM64, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  /** params: [name, type]; a trailing [``, 0] is C's `...`. */
  funcProto(ret: number, params: [string, number][]): number {
    return this.raw('', KIND.FUNC_PROTO, {
      extra: params.flatMap(([n, t]) => [this.str(n), t]),
      sizeOrType: ret,
      vlen: params.length,
    })
  }

  datasec(name: string, size: number, vars: VarSpec[]): number {
    return this.raw(name, KIND.DATASEC, {
      extra: vars.flatMap((v) => [v.type, v.offset, v.size]),
      sizeOrType: size,
      vlen: vars.length,
    })
  }

  /** The blob. `version` and `flags` are for tests of headers the parser must refuse or flag. */
  bytes({flags = 0, version = 1}: {flags?: number; version?: number} = {}): Buffer {
    const types = Buffer.concat(this.records)
    const strs = Buffer.concat(this.strs)
    const hdr = Buffer.alloc(BTF_HEADER_SIZE)
    hdr.writeUInt16LE(BTF_MAGIC, 0)
    hdr[2] = version
    hdr[3] = flags
    hdr.writeUInt32LE(BTF_HEADER_SIZE, 4) // hdr_len
    hdr.writeUInt32LE(0, 8) // type_off
    hdr.writeUInt32LE(types.length, 12) // type_len
    hdr.writeUInt32LE(types.length, 16) // str_off
    hdr.writeUInt32LE(strs.length, 20) // str_len
    return Buffer.concat([hdr, types, strs])
  }
}
