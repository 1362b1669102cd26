// A small BTF encoder for tests: builds raw BTF blobs type by type (every kind, split BTF,
// and deliberately malformed records), so the decoder can be checked on shapes clang does
// not emit (ENUM64, signed enums, type tags, odd int widths) and on hostile input.
import {BTF_HEADER_SIZE, BTF_MAGIC, INT_BOOL, INT_CHAR, INT_SIGNED, KIND} from '../../src/btf/kinds.js'

export {KIND}

/** One struct/union member: bitOffset, and bitfieldSize when it is a bitfield. */
export interface MemberSpec {
  bitOffset: number
  bitfieldSize?: number
  name?: string
  type: number
}

export class BtfBuilder {
  /** {typeCount, strLen} of the BTF this one is split from (e.g. a parsed vmlinux). */
  readonly base: {strLen: number; typeCount: number} | undefined
  /** Buffers, one per type record. */
  readonly types: Buffer[] = []
  readonly strs: Buffer[]
  strLen: number
  readonly strIndex: Map<string, number>
  nextId: number

  constructor({base}: {base?: {strLen: number; typeCount: number}} = {}) {
    this.base = base
    this.strs = base ? [] : [Buffer.from([0])]
    this.strLen = base ? 0 : 1
    this.strIndex = new Map(base ? [] : [['', 0]])
    this.nextId = base ? base.typeCount : 1
  }

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

  /** A raw record: name, kind, vlen, kflag, size/type, then extra u32 words (or a Buffer). */
  raw(name: string | number | null | undefined, kind: number, {vlen = 0, kflag = false, sizeOrType = 0, extra = []}: {extra?: number[] | Buffer; kflag?: boolean | number; sizeOrType?: number; vlen?: number} = {}): number {
    const nameOff = typeof name === 'number' ? name : this.str(name ?? '')
    const head = Buffer.alloc(12)
    head.writeUInt32LE(nameOff >>> 0, 0)
    head.writeUInt32LE(((kflag ? 1 : 0) << 31 | (kind & 0x1f) << 24 | (vlen & 0xffff)) >>> 0, 4)
    head.writeUInt32LE(sizeOrType >>> 0, 8)
    const tail = Buffer.isBuffer(extra) ? extra : Buffer.alloc(extra.length * 4)
    if (!Buffer.isBuffer(extra)) for (const [i, w] of extra.entries()) tail.writeUInt32LE(w >>> 0, i * 4)
    this.types.push(Buffer.concat([head, tail]))
    return this.nextId++
  }

  int(name: string, size: number, {signed = false, char = false, bool = false, bits = size * 8, offset = 0, encoding}: {bits?: number; bool?: boolean; char?: boolean; encoding?: number; offset?: number; signed?: boolean} = {}): number {
    const enc = encoding ?? ((signed ? INT_SIGNED : 0) | (char ? INT_CHAR : 0) | (bool ? INT_BOOL : 0))
    return this.raw(name, KIND.INT, {extra: [(enc << 24) | (offset << 16) | bits], sizeOrType: size})
  }

  ptr(type: number): number { return this.raw('', KIND.PTR, {sizeOrType: type}) }
  typedef(name: string, type: number): number { return this.raw(name, KIND.TYPEDEF, {sizeOrType: type}) }
  volatile(type: number): number { return this.raw('', KIND.VOLATILE, {sizeOrType: type}) }
  const(type: number): number { return this.raw('', KIND.CONST, {sizeOrType: type}) }
  restrict(type: number): number { return this.raw('', KIND.RESTRICT, {sizeOrType: type}) }
  typeTag(name: string, type: number): number { return this.raw(name, KIND.TYPE_TAG, {sizeOrType: type}) }
  fwd(name: string, union = false): number { return this.raw(name, KIND.FWD, {kflag: union}) }
  float(name: string, size: number): number { return this.raw(name, KIND.FLOAT, {sizeOrType: size}) }
  func(name: string, proto: number, linkage = 1): number { return this.raw(name, KIND.FUNC, {sizeOrType: proto, vlen: linkage}) }
  declTag(name: string, type: number, componentIdx = -1): number { return this.raw(name, KIND.DECL_TAG, {extra: [componentIdx], sizeOrType: type}) }
  var(name: string, type: number, linkage = 1): number { return this.raw(name, KIND.VAR, {extra: [linkage], sizeOrType: type}) }

  array(type: number, nelems: number, indexType = 0): number {
    return this.raw('', KIND.ARRAY, {extra: [type, indexType, nelems]})
  }

  /** members: [{name, type, bitOffset, bitfieldSize?}]; kind_flag is set when any member has a bitfieldSize. */
  struct(name: string, size: number, members: MemberSpec[], {union = false, kflag}: {kflag?: boolean; union?: boolean} = {}): number {
    const kf = kflag ?? members.some((m) => m.bitfieldSize)
    const extra = members.flatMap((m) => [this.str(m.name ?? ''), m.type, kf ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset])
    return this.raw(name, union ? KIND.UNION : KIND.STRUCT, {extra, kflag: kf, sizeOrType: size, vlen: members.length})
  }

  union(name: string, size: number, members: MemberSpec[]): number { return this.struct(name, size, members, {union: true}) }

  enum(name: string, size: number, values: [string, number][], {signed = false}: {signed?: boolean} = {}): number {
    const extra = values.flatMap(([n, v]) => [this.str(n), v])
    return this.raw(name, KIND.ENUM, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  enum64(name: string, size: number, values: [string, bigint | number][], {signed = false}: {signed?: boolean} = {}): number {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, BigInt(v))
      return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)]
    })
    return this.raw(name, KIND.ENUM64, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  funcProto(ret: number, params: [string, number][]): number {
    return this.raw('', KIND.FUNC_PROTO, {extra: params.flatMap(([n, t]) => [this.str(n), t]), sizeOrType: ret, vlen: params.length})
  }

  datasec(name: string, size: number, vars: {offset: number; size: number; type: number}[]): number {
    return this.raw(name, KIND.DATASEC, {extra: vars.flatMap((v) => [v.type, v.offset, v.size]), sizeOrType: size, vlen: vars.length})
  }

  /** The blob: 24-byte header, types, strings. */
  bytes({version = 1, flags = 0}: {flags?: number; version?: number} = {}): Buffer {
    const types = Buffer.concat(this.types)
    const strs = Buffer.concat(this.strs)
    const hdr = Buffer.alloc(BTF_HEADER_SIZE)
    hdr.writeUInt16LE(BTF_MAGIC, 0)
    hdr[2] = version
    hdr[3] = flags
    hdr.writeUInt32LE(BTF_HEADER_SIZE, 4)
    hdr.writeUInt32LE(0, 8)
    hdr.writeUInt32LE(types.length, 12)
    hdr.writeUInt32LE(types.length, 16)
    hdr.writeUInt32LE(strs.length, 20)
    return Buffer.concat([hdr, types, strs])
  }
}
