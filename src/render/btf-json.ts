/**
 * Map keys and values encoded as JSON text by their BTF type, the way bpftool's btf_dumper.c
 * does for `map dump --json` (the `formatted` object). This is output, so it lives with the
 * other output formats and reads types through src/btf/ (which only knows the byte format).
 *
 * A type is compiled once per map into a tree of small closures that read the bytes and
 * build the JSON text directly; a dump then runs them per entry (and per CPU) with no
 * per-entry type walking. The compiler never trusts the BTF: recursion depth, cycles,
 * total work and every byte read are bounded at compile time against the bytes the map
 * really has, so rendering an entry cannot throw, loop or read out of bounds. Whatever
 * cannot be decoded renders as a marker string "(cannot decode …)" and is listed in
 * `problems` with its path and byte offset.
 *
 * bpftool's rules (btf_dumper.c, v7.1 = HEAD for map dumps):
 * - INT: unsigned/signed decimal for 8/16/32/64 bits; a bitfield (a bit offset, or a bit
 *   count that is not a multiple of 8, or another width such as 24) and 128-bit ints are a
 *   hex string "0x…"; CHAR encoding is a one-character string ("\u00XX" when not printable);
 *   BOOL is true/false.
 * - STRUCT/UNION: an object keyed by member name ("" for anonymous members); kind_flag
 *   bitfields are hex strings whatever their type.
 * - ARRAY: a string when the element (modifiers stripped, typedefs not) is a 1-byte char and
 *   a NUL comes before any byte outside 0x20..0x7e; else an array.
 * - ENUM: the enumerator's name, or the signed value when none matches; ENUM64 likewise.
 * - PTR: the address as an unsigned decimal. TYPEDEF/CONST/VOLATILE/RESTRICT: the type
 *   they name. VAR: {"name": value}. DATASEC: {"section": [vars…]}.
 * Where bpftool cannot render a kind (it prints an unterminated "(unsupported-kind" and
 * stops), we differ on purpose: FLOAT renders as a JSON number (a string for NaN and
 * infinities), TYPE_TAG is skipped like the other modifiers, and FWD, FUNC, FUNC_PROTO,
 * DECL_TAG and void get the marker, so the JSON stays valid.
 */
import type {Btf} from '../btf/btf.js'
import {INT_BOOL, INT_CHAR, INT_SIGNED, KIND, MAX_RESOLVE_DEPTH, kindName} from '../btf/kinds.js'
import type {ArrayType, BtfType, CompositeType, DatasecType, Enum64Type, EnumType, IntType} from '../btf/types.js'
import {ByteWriter, TWO32} from './byte-writer.js'
import {jsonString} from './json.js'

/** Reads the value at `off` in `buf` and writes its JSON text into `w`. */
export type EmitFn = (w: ByteWriter, buf: Buffer, off: number) => void

export interface Problem {
  /** Where in the value, jq-style: `.counters[*].name`; "" is the value itself. */
  path: string
  /** Byte offset in the key or value where the undecodable part starts. */
  offset: number
  /** The BTF type id involved. */
  typeId: number
  message: string
}

export interface Renderer {
  /** Write the JSON text of the value that starts at `off` in `buf` (which holds `available` bytes from off). */
  emit: EmitFn
  /** The same, as a string (for tables and tests; dumps use emit). */
  json(buf: Buffer, off: number): string
  /** Bytes read, counted from the start of the value (at most `available`). */
  extent: number
  problems: Problem[]
  /**
   * Parts that render but lost their meaning: an anonymous struct with no members and a
   * non-zero size cannot come from C; it is what libbpf puts in place of a BTF kind the kernel
   * does not know (FLOAT before 5.13), so it renders as {} (as bpftool) and is reported here.
   */
  notes: Problem[]
}

export interface RenderOptions {
  /** A label used in problem messages: "key", "value". */
  label?: string
}

/** Nesting deeper than this is treated as malformed (the kernel itself allows 32 levels of modifiers). */
const MAX_DEPTH = 64
/** Compile work per renderer: the number of type nodes visited. */
const MAX_COMPILE_STEPS = 1 << 18

interface Node {
  fn: EmitFn
  /** Bytes this node reads, relative to its start. */
  extent: number
  /** JSON values it writes per call (for the output bound). */
  nodes: number
}

const HEX = Array.from({length: 256}, (_, i) => i.toString(16).padStart(2, '0'))
const enc = (s: string): Buffer => Buffer.from(s, 'utf8')
/** bpftool's CHAR rendering: the character when isprint(), else "\u00XX". */
const CHAR_JSON = Array.from({length: 256}, (_, b) =>
  enc(b >= 0x20 && b <= 0x7e ? JSON.stringify(String.fromCharCode(b)) : `"\\u00${HEX[b]}"`),
)
const TRUE = enc('true')
const FALSE = enc('false')

const SAFE_HI = 0x200000 // hi word below this: hi * 2^32 + lo is exactly representable

function u64(w: ByteWriter, buf: Buffer, o: number): void {
  const lo = buf.readUInt32LE(o)
  const hi = buf.readUInt32LE(o + 4)
  if (hi < SAFE_HI) w.uint(hi * TWO32 + lo)
  else w.ascii(buf.readBigUInt64LE(o).toString())
}

function s64(w: ByteWriter, buf: Buffer, o: number): void {
  const lo = buf.readUInt32LE(o)
  const hi = buf.readInt32LE(o + 4)
  if (hi < SAFE_HI && hi >= -SAFE_HI) w.int(hi * TWO32 + lo)
  else w.ascii(buf.readBigInt64LE(o).toString())
}

/** Bits [bitOff, bitOff+nrBits) of the little-endian number at o, as bpftool prints a bitfield: "0x…". */
function bitfieldFn(byteOff: number, bitOff: number, nrBits: number): EmitFn {
  const bytes = Math.ceil((bitOff + nrBits) / 8)
  if (nrBits === 0) {
    const zero = enc('"0x0"')
    return (w) => w.lit(zero)
  }

  if (bytes <= 6) {
    // Fits a double exactly: plain arithmetic.
    const div = 2 ** bitOff
    const mod = 2 ** nrBits
    return (w, buf, off) => {
      const v = Math.floor(buf.readUIntLE(off + byteOff, bytes) / div) % mod
      w.ascii(`"0x${v.toString(16)}"`)
    }
  }

  const mask = (1n << BigInt(nrBits)) - 1n
  const shift = BigInt(bitOff)
  return (w, buf, off) => {
    let v = 0n
    for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[off + byteOff + i])
    w.ascii(`"0x${((v >> shift) & mask).toString(16)}"`)
  }
}

/** A 128-bit int as bpftool prints it: hex without leading zeros, as a string. */
function int128Fn(w: ByteWriter, buf: Buffer, off: number): void {
  const lo = buf.readBigUInt64LE(off)
  const hi = buf.readBigUInt64LE(off + 8)
  w.ascii(`"0x${((hi << 64n) | lo).toString(16)}"`)
}

function floatOut(w: ByteWriter, x: number): void {
  w.ascii(Number.isFinite(x) ? String(x) : `"${x}"`)
}

/** IEEE half precision. */
function half(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1
  const exp = (bits >>> 10) & 0x1f
  const frac = bits & 0x3ff
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024)
  if (exp === 0x1f) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY
  return sign * 2 ** (exp - 15) * (1 + frac / 1024)
}

/** x87 80-bit extended precision (long double on x86_64: 16 bytes, 10 used), rounded to a double. */
function extended(buf: Buffer, o: number): number {
  const mant = buf.readBigUInt64LE(o)
  const se = buf.readUInt16LE(o + 8)
  const sign = se & 0x8000 ? -1 : 1
  const exp = se & 0x7fff
  if (exp === 0x7fff) return mant << 1n ? Number.NaN : sign * Number.POSITIVE_INFINITY
  if (exp === 0 && mant === 0n) return sign * 0
  return sign * Number(mant) * 2 ** ((exp === 0 ? 1 : exp) - 16383 - 63)
}

function jsonKey(name: string): string {
  return `${jsonString(name)}:`
}

const EMPTY_OBJECT = enc('{}')
const EMPTY_ARRAY = enc('[]')

class Compiler {
  readonly problems: Problem[] = []
  readonly notes: Problem[] = []
  private steps = 0
  private readonly onPath = new Set<number>()

  constructor(
    private readonly btf: Btf,
    private readonly label: string,
    private readonly nodeBudget: number,
  ) {}

  /** A node that renders the marker string and records why. */
  marker(typeId: number, path: string, offset: number, message: string): Node {
    if (this.problems.length < 100) this.problems.push({message, offset, path, typeId})
    const text = enc(jsonString(`(cannot decode: ${message})`))
    return {extent: 0, fn: (w) => w.lit(text), nodes: 1}
  }

  private describe(t: BtfType): string {
    const name = t.nameOff === 0 ? '' : ` ${t.name ?? '(invalid name)'}`
    return `${kindName(t.kind)}${name} [${t.id}]`
  }

  private tooShort(t: BtfType, path: string, offset: number, need: number, avail: number): Node {
    return this.marker(
      t.id,
      path,
      offset,
      `${this.describe(t)} needs ${need} bytes at ${this.label} byte ${offset}, the ${this.label} has ${Math.max(0, avail)} there`,
    )
  }

  /**
   * Compile type `id` located at byte `offset` of the key/value (`avail` bytes from there),
   * `bitOff` (0..7) bits into that byte, reached by `path`.
   */
  compile(id: number, bitOff: number, avail: number, path: string, offset: number, depth: number): Node {
    if (++this.steps > MAX_COMPILE_STEPS)
      return this.marker(id, path, offset, `type [${id}] is too complex (more than ${MAX_COMPILE_STEPS} nested parts)`)
    if (depth > MAX_DEPTH)
      return this.marker(id, path, offset, `types nest deeper than ${MAX_DEPTH} levels at type [${id}]`)
    const t = this.btf.type(id)
    if (!t)
      return this.marker(id, path, offset, `type [${id}] does not exist (the BTF has ${this.btf.typeCount} types)`)
    if (this.onPath.has(id)) return this.marker(id, path, offset, `${this.describe(t)} contains itself`)
    this.onPath.add(id)
    try {
      return this.compileType(t, bitOff, avail, path, offset, depth)
    } finally {
      this.onPath.delete(id)
    }
  }

  private compileType(t: BtfType, bitOff: number, avail: number, path: string, offset: number, depth: number): Node {
    switch (t.kind) {
      case KIND.INT:
        return this.int(t, bitOff, avail, path, offset)
      case KIND.STRUCT:
      case KIND.UNION:
        return this.composite(t, avail, path, offset, depth)
      case KIND.ARRAY:
        return this.array(t, avail, path, offset, depth)
      case KIND.ENUM:
        return this.enum32(t, avail, path, offset)
      case KIND.ENUM64:
        return this.enum64(t, avail, path, offset)
      case KIND.PTR:
        // bpftool reads an unsigned long (8 bytes on 64-bit hosts) whatever the pointee.
        if (avail < 8) return this.tooShort(t, path, offset, 8, avail)
        return {extent: 8, fn: u64, nodes: 1}
      case KIND.TYPEDEF:
      case KIND.VOLATILE:
      case KIND.CONST:
      case KIND.RESTRICT:
      case KIND.TYPE_TAG: {
        const r = this.btf.resolveType(t.id)
        if (!r.ok) return this.marker(t.id, path, offset, `${this.describe(t)}: ${r.error}`)
        return this.compile(r.value, bitOff, avail, path, offset, depth + 1)
      }

      case KIND.VAR: {
        const inner = this.compile(t.type, bitOff, avail, `${path}.${t.name ?? ''}`, offset, depth + 1)
        const key = enc(`{${jsonKey(t.name ?? '')}`)
        const inFn = inner.fn
        return {
          extent: inner.extent,
          fn(w, buf, off) {
            w.lit(key)
            inFn(w, buf, off)
            w.byte(0x7d)
          },
          nodes: inner.nodes + 1,
        }
      }

      case KIND.DATASEC:
        return this.datasec(t, avail, path, offset, depth)
      case KIND.FLOAT:
        return this.float(t, avail, path, offset)
      case KIND.UNKN:
        return this.marker(t.id, path, offset, t.id === 0 ? 'the type is void' : `type [${t.id}] has kind 0 (UNKNOWN)`)
      case KIND.FWD:
        return this.marker(t.id, path, offset, `${this.describe(t)} is a forward declaration, it has no layout`)
      default:
        return this.marker(t.id, path, offset, `${this.describe(t)} is not a data type`)
    }
  }

  private int(t: IntType, bitOff: number, avail: number, path: string, offset: number): Node {
    const bits = t.bits
    const bitfield = (): Node => {
      const total = bitOff + t.bitsOffset
      const byteOff = total >>> 3
      const need = byteOff + Math.ceil(((total & 7) + bits) / 8)
      if (need > avail) return this.tooShort(t, path, offset, need, avail)
      return {extent: need, fn: bitfieldFn(byteOff, total & 7, bits), nodes: 1}
    }

    if (bitOff || t.bitsOffset || bits % 8) return bitfield()
    if (bits === 128) {
      if (avail < 16) return this.tooShort(t, path, offset, 16, avail)
      return {extent: 16, fn: int128Fn, nodes: 1}
    }

    const fixed = (width: number, fn: EmitFn): Node =>
      avail < width ? this.tooShort(t, path, offset, width, avail) : {extent: width, fn, nodes: 1}
    switch (t.encoding) {
      case 0:
        switch (bits) {
          case 64:
            return fixed(8, u64)
          case 32:
            return fixed(4, (w, buf, off) => w.uint(buf.readUInt32LE(off)))
          case 16:
            return fixed(2, (w, buf, off) => w.uint(buf.readUInt16LE(off)))
          case 8:
            return fixed(1, (w, buf, off) => w.uint(buf[off]))
          default:
            return bitfield()
        }

      case INT_SIGNED:
        switch (bits) {
          case 64:
            return fixed(8, s64)
          case 32:
            return fixed(4, (w, buf, off) => w.int(buf.readInt32LE(off)))
          case 16:
            return fixed(2, (w, buf, off) => w.int(buf.readInt16LE(off)))
          case 8:
            return fixed(1, (w, buf, off) => w.int(buf.readInt8(off)))
          default:
            return bitfield()
        }

      case INT_CHAR:
        return fixed(1, (w, buf, off) => w.lit(CHAR_JSON[buf[off]]))
      case INT_BOOL:
        return fixed(1, (w, buf, off) => w.lit(buf[off] ? TRUE : FALSE))
      default:
        return this.marker(t.id, path, offset, `${this.describe(t)} has an invalid encoding ${t.encoding}`)
    }
  }

  private composite(t: CompositeType, avail: number, path: string, offset: number, depth: number): Node {
    if (t.members.length === 0 && t.size > 0 && t.nameOff === 0 && this.notes.length < 100) {
      this.notes.push({
        message: `an anonymous ${t.size}-byte ${t.kind === KIND.UNION ? 'union' : 'struct'} with no members: a type this kernel's BTF lacks (FLOAT before 5.13), replaced by libbpf at load; its bytes are in the raw ${this.label}`,
        offset,
        path,
        typeId: t.id,
      })
    }

    const keys: Buffer[] = []
    const fns: EmitFn[] = []
    const offs: number[] = []
    let extent = 0
    let nodes = 1
    for (const [i, m] of t.members.entries()) {
      const name = m.name ?? ''
      if (m.name === null)
        this.marker(t.id, path, offset, `${this.describe(t)} member ${i} has an invalid name offset ${m.nameOff}`)
      const byte = Math.floor(m.bitOffset / 8)
      const mPath = `${path}.${name || `(member ${i})`}`
      let node: Node
      if (m.bitfieldSize) {
        const need = byte + Math.ceil(((m.bitOffset & 7) + m.bitfieldSize) / 8)
        node =
          need > avail
            ? this.marker(
                m.type,
                mPath,
                offset + byte,
                `bitfield ${name} of ${this.describe(t)} needs ${need} bytes, the ${this.label} has ${Math.max(0, avail)}`,
              )
            : {extent: need - byte, fn: bitfieldFn(0, m.bitOffset & 7, m.bitfieldSize), nodes: 1}
      } else {
        node = this.compile(m.type, m.bitOffset & 7, Math.max(0, avail - byte), mPath, offset + byte, depth + 1)
      }

      // The opening brace and the separators travel with the keys: `{"a":`, `,"b":`.
      keys.push(enc(`${i === 0 ? '{' : ','}${jsonKey(name)}`))
      fns.push(node.fn)
      offs.push(byte)
      extent = Math.max(extent, byte + node.extent)
      nodes += node.nodes
    }

    const n = fns.length
    if (n === 0) return {extent, fn: (w) => w.lit(EMPTY_OBJECT), nodes}
    if (n === 1) {
      const [k0, f0, o0] = [keys[0], fns[0], offs[0]]
      return {
        extent,
        fn(w, buf, off) {
          w.lit(k0)
          f0(w, buf, off + o0)
          w.byte(0x7d)
        },
        nodes,
      }
    }

    if (n === 2) {
      const [k0, k1, f0, f1, o0, o1] = [keys[0], keys[1], fns[0], fns[1], offs[0], offs[1]]
      return {
        extent,
        fn(w, buf, off) {
          w.lit(k0)
          f0(w, buf, off + o0)
          w.lit(k1)
          f1(w, buf, off + o1)
          w.byte(0x7d)
        },
        nodes,
      }
    }

    return {
      extent,
      fn(w, buf, off) {
        for (let i = 0; i < n; i++) {
          w.lit(keys[i])
          fns[i](w, buf, off + offs[i])
        }

        w.byte(0x7d)
      },
      nodes,
    }
  }

  /** is_str_array()'s static half: the element, modifiers stripped (typedefs kept), is a 1-byte char. */
  private isCharElem(id: number): boolean {
    let t = this.btf.type(id)
    for (let i = 0; t && i < MAX_RESOLVE_DEPTH; i++) {
      if (t.kind === KIND.VOLATILE || t.kind === KIND.CONST || t.kind === KIND.RESTRICT || t.kind === KIND.TYPE_TAG) {
        t = this.btf.type(t.type)
        continue
      }

      return t.kind === KIND.INT && t.size === 1 && (t.encoding === INT_CHAR || t.name === 'char')
    }

    return false
  }

  private array(t: ArrayType, avail: number, path: string, offset: number, depth: number): Node {
    const n = t.nelems
    const size = this.btf.resolveSize(t.type)
    if (!size.ok) return this.marker(t.id, path, offset, `${this.describe(t)}: element type [${t.type}]: ${size.error}`)
    const elemSize = size.value
    const chars = n > 0 && this.isCharElem(t.type)
    const elem = this.compile(t.type, 0, avail, `${path}[*]`, offset, depth + 1)
    if (elem.nodes * n > this.nodeBudget) {
      return this.marker(t.id, path, offset, `${this.describe(t)} of ${n} elements is too large to render`)
    }

    // Elements that fit in the bytes the map has; the rest get the marker (malformed BTF only).
    let fit = n
    if (n > 0 && (n - 1) * elemSize + elem.extent > avail) {
      fit = elem.extent > avail ? 0 : Math.floor((avail - elem.extent) / Math.max(elemSize, 1)) + 1
      fit = Math.min(fit, n)
    }

    const rest =
      fit < n
        ? this.marker(
            t.id,
            `${path}[${fit}]`,
            offset + fit * elemSize,
            `${this.describe(t)}: elements ${fit}..${n - 1} lie past the ${avail} bytes of the ${this.label}`,
          ).fn
        : undefined
    const efn = elem.fn
    const extent = fit > 0 ? (fit - 1) * elemSize + elem.extent : 0
    const nodes = 1 + n * elem.nodes
    const list: EmitFn = (w, buf, off) => {
      if (n === 0) {
        w.lit(EMPTY_ARRAY)
        return
      }

      w.byte(0x5b)
      for (let i = 0; i < fit; i++) {
        if (i) w.byte(0x2c)
        efn(w, buf, off + i * elemSize)
      }

      for (let i = fit; i < n; i++) {
        if (i) w.byte(0x2c)
        rest!(w, buf, off)
      }

      w.byte(0x5d)
    }

    if (!chars || fit < n) return {extent, fn: list, nodes}
    // A char array whose bytes up to a NUL are all printable (0x20..0x7e) is a string.
    return {
      extent,
      fn(w, buf, off) {
        for (let i = 0; i < n; i++) {
          const b = buf[off + i]
          if (b === 0) {
            w.reserve(2 * i + 2)
            const d = w.buf
            let p = w.pos
            d[p++] = 0x22
            for (let j = 0; j < i; j++) {
              const c = buf[off + j]
              if (c === 0x22 || c === 0x5c) d[p++] = 0x5c
              d[p++] = c
            }

            d[p++] = 0x22
            w.pos = p
            return
          }

          if (b <= 0x1f || b >= 0x7f) break
        }

        list(w, buf, off)
      },
      nodes,
    }
  }

  private enum32(t: EnumType, avail: number, path: string, offset: number): Node {
    const width = t.size
    if (width !== 1 && width !== 2 && width !== 4 && width !== 8)
      return this.marker(t.id, path, offset, `${this.describe(t)} has size ${width} (1, 2, 4 or 8 expected)`)
    if (avail < width) return this.tooShort(t, path, offset, width, avail)
    // bpftool reads the value signed and takes the first enumerator equal to it.
    const names = new Map<number, Buffer>()
    for (const v of t.values) if (!names.has(v.value)) names.set(v.value, enc(jsonString(v.name ?? '')))
    if (width === 8) {
      return {
        extent: 8,
        fn(w, buf, off) {
          const lo = buf.readUInt32LE(off)
          const hi = buf.readInt32LE(off + 4)
          // Enumerators are s32: only a sign-extended s32 can match.
          const name = (hi === 0 && lo < 0x80000000) || (hi === -1 && lo >= 0x80000000) ? names.get(lo | 0) : undefined
          if (name) w.lit(name)
          else s64(w, buf, off)
        },
        nodes: 1,
      }
    }

    const read: (buf: Buffer, off: number) => number =
      width === 1
        ? (buf, off) => buf.readInt8(off)
        : width === 2
          ? (buf, off) => buf.readInt16LE(off)
          : (buf, off) => buf.readInt32LE(off)
    return {
      extent: width,
      fn(w, buf, off) {
        const v = read(buf, off)
        const name = names.get(v)
        if (name) w.lit(name)
        else w.int(v)
      },
      nodes: 1,
    }
  }

  private enum64(t: Enum64Type, avail: number, path: string, offset: number): Node {
    // bpftool reads 8 bytes whatever the size, and prints an unmatched value as signed.
    if (avail < 8) return this.tooShort(t, path, offset, 8, avail)
    const names = new Map<string, Buffer>()
    for (const v of t.values) {
      const k = `${v.hi}:${v.lo}`
      if (!names.has(k)) names.set(k, enc(jsonString(v.name ?? '')))
    }

    return {
      extent: 8,
      fn(w, buf, off) {
        const name = names.get(`${buf.readUInt32LE(off + 4)}:${buf.readUInt32LE(off)}`)
        if (name) w.lit(name)
        else s64(w, buf, off)
      },
      nodes: 1,
    }
  }

  private datasec(t: DatasecType, avail: number, path: string, offset: number, depth: number): Node {
    const fns: EmitFn[] = []
    const offs: number[] = []
    let extent = 0
    let nodes = 2
    for (const v of t.vars) {
      const node =
        v.offset > avail
          ? this.marker(
              v.type,
              path,
              offset + v.offset,
              `variable at ${this.label} byte ${v.offset} of ${this.describe(t)} lies past its ${avail} bytes`,
            )
          : this.compile(v.type, 0, Math.max(0, avail - v.offset), path, offset + v.offset, depth + 1)
      fns.push(node.fn)
      offs.push(v.offset)
      extent = Math.max(extent, v.offset + node.extent)
      nodes += node.nodes
    }

    const head = enc(`{${jsonKey(t.name ?? '')}[`)
    const tail = enc(']}')
    return {
      extent,
      fn(w, buf, off) {
        w.lit(head)
        for (let i = 0; i < fns.length; i++) {
          if (i) w.byte(0x2c)
          fns[i](w, buf, off + offs[i])
        }

        w.lit(tail)
      },
      nodes,
    }
  }

  private float(t: BtfType & {size: number}, avail: number, path: string, offset: number): Node {
    const width = t.size
    if (avail < width) return this.tooShort(t, path, offset, width, avail)
    switch (width) {
      case 2:
        return {extent: 2, fn: (w, buf, off) => floatOut(w, half(buf.readUInt16LE(off))), nodes: 1}
      case 4:
        return {extent: 4, fn: (w, buf, off) => floatOut(w, buf.readFloatLE(off)), nodes: 1}
      case 8:
        return {extent: 8, fn: (w, buf, off) => floatOut(w, buf.readDoubleLE(off)), nodes: 1}
      case 10:
      case 12:
      case 16:
        return {extent: 10, fn: (w, buf, off) => floatOut(w, extended(buf, off)), nodes: 1}
      default:
        return this.marker(t.id, path, offset, `${this.describe(t)} has size ${width} (2, 4, 8, 12 or 16 expected)`)
    }
  }
}

/**
 * Compile a renderer for type `typeId` of `btf`, for values of `available` bytes (the map's
 * key_size or value_size). Never throws on bad BTF; see `problems`.
 */
export function compileRenderer(btf: Btf, typeId: number, available: number, opts: RenderOptions = {}): Renderer {
  const compiler = new Compiler(btf, opts.label ?? 'value', Math.max(1 << 16, available * 4))
  const root = compiler.compile(typeId, 0, available, '', 0, 0)
  const emit = root.fn
  let scratch: ByteWriter | undefined
  return {
    emit,
    // A value shorter than its type renders markers for the missing part and reads no more.
    extent: Math.min(root.extent, available),
    json(buf, off) {
      scratch ??= new ByteWriter(256)
      emit(scratch, buf, off)
      return scratch.take()
    },
    notes: compiler.notes,
    problems: compiler.problems,
  }
}
