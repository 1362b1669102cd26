// A small BTF encoder for tests: builds raw BTF blobs type by type (every kind, split BTF,
// and deliberately malformed records), so the decoder can be checked on shapes clang does
// not emit (ENUM64, signed enums, type tags, odd int widths) and on hostile input.
const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10, RESTRICT: 11,
  FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
}
export {KIND}

export class BtfBuilder {
  /** base: {typeCount, strLen} of the BTF this one is split from (e.g. a parsed vmlinux). */
  constructor({base} = {}) {
    this.base = base
    this.types = [] // Buffers, one per type record
    this.strs = base ? [] : [Buffer.from([0])]
    this.strLen = base ? 0 : 1
    this.strIndex = new Map(base ? [] : [['', 0]])
    this.nextId = base ? base.typeCount : 1
  }

  str(s) {
    if (s === '' && this.base) return 0 // the base's empty string
    if (this.strIndex.has(s)) return this.strIndex.get(s)
    const off = (this.base ? this.base.strLen : 0) + this.strLen
    const b = Buffer.from(`${s}\0`, 'utf8')
    this.strs.push(b)
    this.strLen += b.length
    this.strIndex.set(s, off)
    return off
  }

  /** A raw record: name, kind, vlen, kflag, size/type, then extra u32 words (or a Buffer). */
  raw(name, kind, {vlen = 0, kflag = 0, sizeOrType = 0, extra = []} = {}) {
    const nameOff = typeof name === 'number' ? name : this.str(name ?? '')
    const head = Buffer.alloc(12)
    head.writeUInt32LE(nameOff >>> 0, 0)
    head.writeUInt32LE(((kflag ? 1 : 0) << 31 | (kind & 0x1f) << 24 | (vlen & 0xffff)) >>> 0, 4)
    head.writeUInt32LE(sizeOrType >>> 0, 8)
    const tail = Buffer.isBuffer(extra) ? extra : Buffer.alloc(extra.length * 4)
    if (!Buffer.isBuffer(extra)) extra.forEach((w, i) => tail.writeUInt32LE(w >>> 0, i * 4))
    this.types.push(Buffer.concat([head, tail]))
    return this.nextId++
  }

  int(name, size, {signed = false, char = false, bool = false, bits = size * 8, offset = 0, encoding} = {}) {
    const enc = encoding ?? ((signed ? 1 : 0) | (char ? 2 : 0) | (bool ? 4 : 0))
    return this.raw(name, KIND.INT, {extra: [(enc << 24) | (offset << 16) | bits], sizeOrType: size})
  }

  ptr(type) { return this.raw('', KIND.PTR, {sizeOrType: type}) }
  typedef(name, type) { return this.raw(name, KIND.TYPEDEF, {sizeOrType: type}) }
  volatile(type) { return this.raw('', KIND.VOLATILE, {sizeOrType: type}) }
  const(type) { return this.raw('', KIND.CONST, {sizeOrType: type}) }
  restrict(type) { return this.raw('', KIND.RESTRICT, {sizeOrType: type}) }
  typeTag(name, type) { return this.raw(name, KIND.TYPE_TAG, {sizeOrType: type}) }
  fwd(name, union = false) { return this.raw(name, KIND.FWD, {kflag: union}) }
  float(name, size) { return this.raw(name, KIND.FLOAT, {sizeOrType: size}) }
  func(name, proto, linkage = 1) { return this.raw(name, KIND.FUNC, {sizeOrType: proto, vlen: linkage}) }
  declTag(name, type, componentIdx = -1) { return this.raw(name, KIND.DECL_TAG, {extra: [componentIdx], sizeOrType: type}) }
  var(name, type, linkage = 1) { return this.raw(name, KIND.VAR, {extra: [linkage], sizeOrType: type}) }

  array(type, nelems, indexType = 0) {
    return this.raw('', KIND.ARRAY, {extra: [type, indexType, nelems]})
  }

  /** members: [{name, type, bitOffset, bitfieldSize?}]; kind_flag is set when any member has a bitfieldSize. */
  struct(name, size, members, {union = false, kflag} = {}) {
    const kf = kflag ?? members.some((m) => m.bitfieldSize)
    const extra = members.flatMap((m) => [this.str(m.name ?? ''), m.type, kf ? ((m.bitfieldSize ?? 0) << 24) | m.bitOffset : m.bitOffset])
    return this.raw(name, union ? KIND.UNION : KIND.STRUCT, {extra, kflag: kf, sizeOrType: size, vlen: members.length})
  }

  union(name, size, members) { return this.struct(name, size, members, {union: true}) }

  enum(name, size, values, {signed = false} = {}) {
    const extra = values.flatMap(([n, v]) => [this.str(n), v])
    return this.raw(name, KIND.ENUM, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  enum64(name, size, values, {signed = false} = {}) {
    const extra = values.flatMap(([n, v]) => {
      const u = BigInt.asUintN(64, BigInt(v))
      return [this.str(n), Number(u & 0xffffffffn), Number(u >> 32n)]
    })
    return this.raw(name, KIND.ENUM64, {extra, kflag: signed, sizeOrType: size, vlen: values.length})
  }

  funcProto(ret, params) {
    return this.raw('', KIND.FUNC_PROTO, {extra: params.flatMap(([n, t]) => [this.str(n), t]), sizeOrType: ret, vlen: params.length})
  }

  datasec(name, size, vars) {
    return this.raw(name, KIND.DATASEC, {extra: vars.flatMap((v) => [v.type, v.offset, v.size]), sizeOrType: size, vlen: vars.length})
  }

  /** The blob: 24-byte header, types, strings. */
  bytes({version = 1, flags = 0} = {}) {
    const types = Buffer.concat(this.types)
    const strs = Buffer.concat(this.strs)
    const hdr = Buffer.alloc(24)
    hdr.writeUInt16LE(0xeb9f, 0)
    hdr[2] = version
    hdr[3] = flags
    hdr.writeUInt32LE(24, 4)
    hdr.writeUInt32LE(0, 8)
    hdr.writeUInt32LE(types.length, 12)
    hdr.writeUInt32LE(types.length, 16)
    hdr.writeUInt32LE(strs.length, 20)
    return Buffer.concat([hdr, types, strs])
  }
}
