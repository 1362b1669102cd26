/**
 * A BTF blob decoded in TypeScript: header, type section, string section, and split BTF
 * (module or program BTF on top of vmlinux: type ids and string offsets continue from the
 * base). Raw blobs come from the kernel (src/kernel/btf.ts), /sys/kernel/btf/*, or an ELF
 * object's .BTF section.
 *
 * The parser never trusts the blob: every read is bounds-checked, a malformed header throws
 * a BtfError naming the offset, and a malformed type record stops the type section there
 * (the types before it stay usable; `problems` says what was dropped and where). Types are
 * indexed in one pass and decoded on first use, so vmlinux (~5 MB) opens in milliseconds.
 */
import {BTF_HEADER_SIZE, BTF_MAGIC, BTF_TYPE_SIZE, KIND, MAX_RESOLVE_DEPTH, kindName, trailingSize} from './kinds.js'
import type {BtfType, CompositeType, Enum64Value, EnumValue, Member, Param, VarSecinfo} from './types.js'

export class BtfError extends Error {
  /** Byte offset in the blob where decoding failed. */
  readonly offset: number

  constructor(message: string, offset: number) {
    super(`${message} (at byte ${offset})`)
    this.name = 'BtfError'
    this.offset = offset
  }
}

export interface BtfHeader {
  magic: number
  version: number
  flags: number
  hdrLen: number
  typeOff: number
  typeLen: number
  strOff: number
  strLen: number
}

export interface ParseOptions {
  /** The BTF this one is split from (vmlinux for module BTF). */
  base?: Btf
  /** A label for messages ("vmlinux", "btf id 42", a file name). */
  name?: string
}

/** Result of resolve*(): a value, or why it could not be computed. */
export type Resolved = {ok: true; value: number} | {ok: false; error: string}

const VOID: BtfType = {at: -1, id: 0, kflag: false, kind: KIND.UNKN, name: '', nameOff: 0, vlen: 0}

export class Btf {
  readonly name: string
  readonly base?: Btf
  readonly header: BtfHeader
  readonly littleEndian: boolean
  /** First type id of this blob: 1, or the base's type count for split BTF. */
  readonly startId: number
  /** First string offset of this blob: 0, or the base's string section length. */
  readonly startStrOff: number
  /** Non-fatal findings: dropped types, inconsistent sections. Empty for well-formed BTF. */
  readonly problems: string[] = []

  private readonly bytes: Buffer
  private readonly view: DataView
  private readonly strStart: number
  private readonly strEnd: number
  private readonly typeAt: Uint32Array
  private readonly types: (BtfType | undefined)[]
  private readonly strings = new Map<number, string | null>()

  private constructor(bytes: Buffer, opts: ParseOptions) {
    this.name = opts.name ?? 'BTF'
    this.base = opts.base
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    if (bytes.length < BTF_HEADER_SIZE) {
      throw new BtfError(
        `${this.name}: ${bytes.length} bytes is too short for a BTF header (${BTF_HEADER_SIZE} bytes)`,
        0,
      )
    }

    const magicLe = this.view.getUint16(0, true)
    if (magicLe === BTF_MAGIC) this.littleEndian = true
    else if (this.view.getUint16(0, false) === BTF_MAGIC) this.littleEndian = false
    else
      throw new BtfError(
        `${this.name}: bad magic 0x${magicLe.toString(16).padStart(4, '0')} (BTF starts with 0xeb9f)`,
        0,
      )

    const le = this.littleEndian
    const h: BtfHeader = {
      flags: bytes[3],
      hdrLen: this.view.getUint32(4, le),
      magic: BTF_MAGIC,
      strLen: this.view.getUint32(20, le),
      strOff: this.view.getUint32(16, le),
      typeLen: this.view.getUint32(12, le),
      typeOff: this.view.getUint32(8, le),
      version: bytes[2],
    }
    this.header = h
    if (h.version !== 1)
      this.problems.push(`BTF version ${h.version} (only version 1 is defined; at byte 2); decoding it as version 1`)
    if (h.hdrLen < BTF_HEADER_SIZE)
      throw new BtfError(`${this.name}: header length ${h.hdrLen} is less than ${BTF_HEADER_SIZE}`, 4)
    if (h.hdrLen > bytes.length)
      throw new BtfError(`${this.name}: header length ${h.hdrLen} exceeds the ${bytes.length}-byte blob`, 4)
    const dataLen = bytes.length - h.hdrLen
    if (h.typeOff + h.typeLen > dataLen) {
      throw new BtfError(
        `${this.name}: type section ${h.typeOff}+${h.typeLen} ends past the data (${dataLen} bytes after the header)`,
        8,
      )
    }

    if (h.strOff + h.strLen > dataLen) {
      throw new BtfError(
        `${this.name}: string section ${h.strOff}+${h.strLen} ends past the data (${dataLen} bytes after the header)`,
        16,
      )
    }

    if (h.typeOff + h.typeLen > h.strOff && h.strOff + h.strLen > h.typeOff) {
      this.problems.push(
        `the type section (${h.typeOff}+${h.typeLen}) overlaps the string section (${h.strOff}+${h.strLen}; at byte ${h.hdrLen + Math.max(h.typeOff, h.strOff)})`,
      )
    }

    this.strStart = h.hdrLen + h.strOff
    this.strEnd = this.strStart + h.strLen
    if (this.base) {
      this.startId = this.base.typeCount
      this.startStrOff = this.base.startStrOff + this.base.header.strLen
    } else {
      this.startId = 1
      this.startStrOff = 0
      if (h.strLen > 0 && bytes[this.strStart] !== 0)
        this.problems.push(`the string section does not start with an empty string (at byte ${this.strStart})`)
    }

    if (h.strLen > 0 && bytes[this.strEnd - 1] !== 0) {
      this.problems.push(
        `the string section does not end with a NUL byte (at byte ${this.strEnd - 1}); its last string is unreadable`,
      )
    }

    this.typeAt = this.indexTypes(h.hdrLen + h.typeOff, h.hdrLen + h.typeOff + h.typeLen)
    this.types = new Array(this.typeAt.length)
  }

  /** Decode a raw blob. Throws BtfError when the header is unusable. */
  static parse(bytes: Uint8Array, opts: ParseOptions = {}): Btf {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return new Btf(buf, opts)
  }

  /** One pass over the type section: where each type record starts. */
  private indexTypes(start: number, end: number): Uint32Array {
    const le = this.littleEndian
    let at = new Uint32Array(Math.max(16, Math.floor((end - start) / BTF_TYPE_SIZE) + 1))
    let n = 0
    let pos = start
    while (pos < end) {
      const id = this.startId + n
      if (end - pos < BTF_TYPE_SIZE) {
        this.problems.push(
          `type [${id}] at byte ${pos}: ${end - pos} trailing bytes are too short for a type record; ignored`,
        )
        break
      }

      const info = this.view.getUint32(pos + 4, le)
      const kind = (info >>> 24) & 0x1f
      const vlen = info & 0xffff
      const extra = trailingSize(kind, vlen)
      if (extra < 0) {
        this.problems.push(
          `type [${id}] at byte ${pos}: unknown kind ${kind}; the rest of the type section (${end - pos} bytes) is dropped`,
        )
        break
      }

      if (pos + BTF_TYPE_SIZE + extra > end) {
        this.problems.push(
          `type [${id}] at byte ${pos}: ${kindName(kind)} with vlen ${vlen} runs past the type section end (byte ${end}); dropped`,
        )
        break
      }

      if (n === at.length) {
        const bigger = new Uint32Array(at.length * 2)
        bigger.set(at)
        at = bigger
      }

      at[n++] = pos
      pos += BTF_TYPE_SIZE + extra
    }

    return at.slice(0, n)
  }

  /** btf__type_cnt(): one past the last valid type id (void counts as id 0). */
  get typeCount(): number {
    return this.startId + this.typeAt.length
  }

  /** Number of types this blob itself defines (not counting the base's). */
  get ownTypeCount(): number {
    return this.typeAt.length
  }

  /** The raw bytes this Btf was parsed from. */
  get raw(): Buffer {
    return this.bytes
  }

  /** A type by id (0 is void), looking into the base for lower ids; undefined past the end. */
  type(id: number): BtfType | undefined {
    if (!Number.isInteger(id) || id < 0) return undefined
    if (id === 0) return VOID
    if (id < this.startId) return this.base?.type(id)
    const i = id - this.startId
    if (i >= this.typeAt.length) return undefined
    return (this.types[i] ??= this.decode(id, this.typeAt[i]))
  }

  /** The kind of type `id` of this blob, read without decoding the type (a scan for one kind). */
  kindOf(id: number): number | undefined {
    const i = id - this.startId
    if (!Number.isInteger(i) || i < 0 || i >= this.typeAt.length) return undefined
    return (this.u32(this.typeAt[i] + 4) >>> 24) & 0x1f
  }

  /** A string by offset (btf__str_by_offset); null when the offset is outside the section. */
  str(off: number): string | null {
    if (off < this.startStrOff) return this.base ? this.base.str(off) : null
    let s = this.strings.get(off)
    if (s === undefined) {
      s = this.readStr(off - this.startStrOff)
      this.strings.set(off, s)
    }

    return s
  }

  private readStr(rel: number): string | null {
    if (rel >= this.header.strLen) return null
    const from = this.strStart + rel
    const nul = this.bytes.indexOf(0, from)
    if (nul === -1 || nul >= this.strEnd) return null
    return this.bytes.toString('utf8', from, nul)
  }

  /** The name bpftool prints: "(anon)" for offset 0, "(invalid)" for a bad offset. */
  displayName(t: BtfType): string {
    if (t.nameOff === 0) return '(anon)'
    return t.name ?? '(invalid)'
  }

  private u32(pos: number): number {
    return this.view.getUint32(pos, this.littleEndian)
  }

  private decode(id: number, at: number): BtfType {
    const nameOff = this.u32(at)
    const info = this.u32(at + 4)
    const sizeOrType = this.u32(at + 8)
    const kind = (info >>> 24) & 0x1f
    const vlen = info & 0xffff
    const kflag = info >>> 31 === 1
    const common = {at, id, kflag, name: this.str(nameOff), nameOff, vlen}
    const p = at + BTF_TYPE_SIZE
    switch (kind) {
      case KIND.INT: {
        const v = this.u32(p)
        return {
          ...common,
          bits: v & 0xff,
          bitsOffset: (v >>> 16) & 0xff,
          encoding: (v >>> 24) & 0x0f,
          kind,
          size: sizeOrType,
        }
      }

      case KIND.PTR:
      case KIND.TYPEDEF:
      case KIND.VOLATILE:
      case KIND.CONST:
      case KIND.RESTRICT:
      case KIND.TYPE_TAG:
      case KIND.FUNC:
        return {...common, kind, type: sizeOrType}
      case KIND.ARRAY:
        return {...common, indexType: this.u32(p + 4), kind, nelems: this.u32(p + 8), type: this.u32(p)}
      case KIND.STRUCT:
      case KIND.UNION: {
        const members: Member[] = []
        for (let i = 0; i < vlen; i++) {
          const m = p + i * 12
          const mNameOff = this.u32(m)
          const off = this.u32(m + 8)
          members.push({
            bitOffset: kflag ? off & 0xffffff : off,
            bitfieldSize: kflag ? off >>> 24 : 0,
            name: this.str(mNameOff),
            nameOff: mNameOff,
            type: this.u32(m + 4),
          })
        }

        return {...common, kind, members, size: sizeOrType} satisfies CompositeType
      }

      case KIND.ENUM: {
        const values: EnumValue[] = []
        for (let i = 0; i < vlen; i++) {
          const e = p + i * 8
          const vNameOff = this.u32(e)
          values.push({
            name: this.str(vNameOff),
            nameOff: vNameOff,
            value: this.view.getInt32(e + 4, this.littleEndian),
          })
        }

        return {...common, kind, signed: kflag, size: sizeOrType, values}
      }

      case KIND.ENUM64: {
        const values: Enum64Value[] = []
        for (let i = 0; i < vlen; i++) {
          const e = p + i * 12
          const vNameOff = this.u32(e)
          const lo = this.u32(e + 4)
          const hi = this.u32(e + 8)
          values.push({hi, lo, name: this.str(vNameOff), nameOff: vNameOff, value: (BigInt(hi) << 32n) | BigInt(lo)})
        }

        return {...common, kind, signed: kflag, size: sizeOrType, values}
      }

      case KIND.FWD:
        return {...common, kind, union: kflag}
      case KIND.FUNC_PROTO: {
        const params: Param[] = []
        for (let i = 0; i < vlen; i++) {
          const q = p + i * 8
          const pNameOff = this.u32(q)
          params.push({name: this.str(pNameOff), nameOff: pNameOff, type: this.u32(q + 4)})
        }

        return {...common, kind, params, type: sizeOrType}
      }

      case KIND.VAR:
        return {...common, kind, linkage: this.u32(p), type: sizeOrType}
      case KIND.DATASEC: {
        const vars: VarSecinfo[] = []
        for (let i = 0; i < vlen; i++) {
          const v = p + i * 12
          vars.push({offset: this.u32(v + 4), size: this.u32(v + 8), type: this.u32(v)})
        }

        return {...common, kind, size: sizeOrType, vars}
      }

      case KIND.FLOAT:
        return {...common, kind, size: sizeOrType}
      case KIND.DECL_TAG:
        return {...common, componentIdx: this.view.getInt32(p, this.littleEndian), kind, type: sizeOrType}
      default:
        // indexTypes() only admits known kinds; kind 0 records (UNKN) land here.
        return {...common, kind: KIND.UNKN}
    }
  }

  /**
   * btf__resolve_type(): skip typedefs, modifiers (const/volatile/restrict/type_tag) and
   * vars, at most MAX_RESOLVE_DEPTH steps; void or a missing type is an error.
   */
  resolveType(id: number): Resolved {
    let t = this.type(id)
    let depth = 0
    while (depth < MAX_RESOLVE_DEPTH && t && t.kind !== KIND.UNKN && isSkippable(t.kind)) {
      id = (t as {type: number}).type
      t = this.type(id)
      depth++
    }

    if (depth === MAX_RESOLVE_DEPTH)
      return {error: `type chain longer than ${MAX_RESOLVE_DEPTH} links (a loop?)`, ok: false}
    if (!t) return {error: `type [${id}] does not exist (${this.typeCount} types)`, ok: false}
    if (t.kind === KIND.UNKN)
      return {error: id === 0 ? 'resolves to void' : `type [${id}] has kind 0 (UNKNOWN)`, ok: false}
    return {ok: true, value: id}
  }

  /** btf__resolve_size(): the byte size of a type, arrays multiplied out, capped at 2^32-1. */
  resolveSize(id: number): Resolved {
    let nelems = 1
    let t = this.type(id)
    for (let i = 0; i < MAX_RESOLVE_DEPTH; i++) {
      if (!t) return {error: `type [${id}] does not exist (${this.typeCount} types)`, ok: false}
      let size = -1
      switch (t.kind) {
        case KIND.UNKN:
          return {error: id === 0 ? 'void has no size' : `type [${id}] has kind 0 (UNKNOWN)`, ok: false}
        case KIND.INT:
        case KIND.STRUCT:
        case KIND.UNION:
        case KIND.ENUM:
        case KIND.ENUM64:
        case KIND.DATASEC:
        case KIND.FLOAT:
          size = t.size
          break
        case KIND.PTR:
          size = 8
          break
        case KIND.TYPEDEF:
        case KIND.VOLATILE:
        case KIND.CONST:
        case KIND.RESTRICT:
        case KIND.VAR:
        case KIND.DECL_TAG:
        case KIND.TYPE_TAG:
          id = t.type
          break
        case KIND.ARRAY:
          if (nelems && t.nelems > Math.floor(0xffffffff / nelems))
            return {error: 'array size overflows 32 bits', ok: false}
          nelems *= t.nelems
          id = t.type
          break
        default:
          return {error: `${kindName(t.kind)} [${id}] has no size`, ok: false}
      }

      if (size >= 0) {
        if (nelems && size > Math.floor(0xffffffff / nelems)) return {error: 'array size overflows 32 bits', ok: false}
        return {ok: true, value: nelems * size}
      }

      t = this.type(id)
    }

    return {error: `type chain longer than ${MAX_RESOLVE_DEPTH} links (a loop?)`, ok: false}
  }
}

function isSkippable(kind: number): boolean {
  return (
    kind === KIND.TYPEDEF ||
    kind === KIND.VOLATILE ||
    kind === KIND.CONST ||
    kind === KIND.RESTRICT ||
    kind === KIND.TYPE_TAG ||
    kind === KIND.VAR
  )
}
