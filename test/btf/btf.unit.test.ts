// The BTF decoder and value renderer (src/btf/) without a kernel or bpftool: blobs built type by
// type (src/btf/builder.ts) and BTF captured from the kernel (test/fixtures/btf), rendered
// as bpftool's btf_dumper.c would, byte for byte with the map entries bpftool formatted when they
// were captured (test/fixtures/btf/dumps.json); malformed BTF never crashes, hangs or reads out
// of bounds. btf.test.ts compares the parser with bpftool on live vmlinux BTF and runs the fuzz.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {Btf, BtfError} from '../../src/btf/btf.js'
import {BTF_MAGIC} from '../../src/btf/kinds.js'
import {describeType} from '../../src/btf/describe.js'
import {compileRenderer} from '../../src/render/btf-json.js'
import type {IntType} from '../../src/btf/types.js'
import {EntryJsonWriter, type Formatter} from '../../src/inspect/dump.js'
import {isPerCpu} from '../../src/inspect/map-read.js'
import {OutBuffer} from '../../src/inspect/out-buffer.js'
import type {MapInfo} from '../../src/kernel/info.js'
import {parseJson} from '../../src/render/parse.js'
import {type BpftoolEntry, readDumps} from '../fixtures/btf/dumps.js'
import {BtfBuilder} from '../../src/btf/builder.js'

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'btf')

/** Render type `id` of a builder's BTF over `bytes`, parsed back (BigInt-exact). */
function render(bb: BtfBuilder, id: number, bytes: Buffer, avail = bytes.length) {
  const btf = Btf.parse(bb.bytes())
  const r = compileRenderer(btf, id, avail)
  // The value's shape is the type's: each test reads the fields it built.
  const value: any = parseJson(r.json(bytes, 0))
  return {notes: r.notes, problems: r.problems, text: r.json(bytes, 0), value}
}

test('a FLOAT that libbpf replaced (kernel before 5.13: anonymous sized struct, no members) renders {} and is noted', () => {
  // What libbpf's BTF sanitizer makes of `struct {float f; double d;}` on a kernel without FLOAT.
  const bb = new BtfBuilder()
  const f = bb.struct('', 4, [])
  const d = bb.struct('', 8, [])
  const s = bb.struct('pair', 16, [
    {bitOffset: 0, name: 'f', type: f},
    {bitOffset: 64, name: 'd', type: d},
  ])
  const r = render(bb, s, Buffer.alloc(16, 1))
  assert.deepEqual(r.value, {d: {}, f: {}})
  assert.deepEqual(r.problems, [])
  assert.deepEqual(
    r.notes.map((n) => [n.path, n.offset, n.typeId]),
    [
      ['.f', 0, f],
      ['.d', 8, d],
    ],
  )
  assert.match(r.notes[0].message, /anonymous 4-byte struct with no members.*FLOAT before 5\.13/)
  // A named empty struct, or one of size 0, is ordinary C: no note.
  const bb2 = new BtfBuilder()
  const named = bb2.struct('empty', 0, [])
  const outer = bb2.struct('o', 4, [{bitOffset: 0, name: 'e', type: named}])
  assert.deepEqual(render(bb2, outer, Buffer.alloc(4)).notes, [])
})

const le = (...parts) => Buffer.concat(parts.map((p) => (Buffer.isBuffer(p) ? p : Buffer.from(p))))
const u32 = (n) => {
  const b = Buffer.alloc(4)
  b.writeUInt32LE(n >>> 0)
  return b
}

describe('renderer vs bpftool on map entries captured from the kernel', () => {
  const dumps = readDumps()
  const blobs: Record<string, Btf> = {
    'chain.btf': Btf.parse(readFileSync(join(FIX, 'chain.btf'))),
    'maps.btf': Btf.parse(readFileSync(join(FIX, 'maps.btf'))),
  }
  for (const [name, m] of Object.entries(dumps.maps)) {
    if (!m.bpftool) continue
    test(`${name}: formatted values and whole entries, byte for byte`, () => {
      const entries = parseJson(m.bpftool!) as unknown as BpftoolEntry[]
      assert.ok(entries.length > 0, 'the fixture has entries')
      // The fields of MapInfo the writer reads; the rest of a live map's info plays no part here.
      const info = {
        btfKeyTypeId: m.btfKeyTypeId,
        btfValueTypeId: m.btfValueTypeId,
        id: 1,
        keySize: m.keySize,
        maxEntries: m.maxEntries,
        type: m.type,
        valueSize: m.valueSize,
      } as MapInfo
      const perCpu = isPerCpu(m.type)
      const stride = perCpu ? Math.ceil(m.valueSize / 8) * 8 : m.valueSize
      const layout = {
        info,
        ncpus: perCpu ? dumps.ncpus : 1,
        perCpu,
        stride,
        valueBytes: perCpu ? stride * dumps.ncpus : m.valueSize,
      }
      let fmt: Formatter | undefined
      if (m.btf && m.btfValueTypeId) {
        const btf = blobs[m.btf]!
        fmt = {
          btf,
          key: m.btfKeyTypeId ? compileRenderer(btf, m.btfKeyTypeId, m.keySize, {label: 'key'}) : undefined,
          value: compileRenderer(btf, m.btfValueTypeId, m.valueSize),
          valueTypeId: m.btfValueTypeId,
        }
        assert.deepEqual(fmt.value.problems, [])
      }

      // Rebuild the raw batch from bpftool's hex bytes, then write it back out as JSON.
      const bytes = (a: string[]) => Buffer.from(a.map((x) => Number.parseInt(x, 16)))
      const keys = Buffer.concat(entries.map((e) => bytes(e.key)))
      const values = Buffer.concat(
        entries.map((e) =>
          perCpu
            ? Buffer.concat(e.values!.map((c) => Buffer.concat([bytes(c.value), Buffer.alloc(stride - m.valueSize)])))
            : bytes(e.value!),
        ),
      )
      const chunks: Buffer[] = []
      // The little of a writable stream OutBuffer uses: write (with its callback), once, removeListener.
      const sink = {
        write: (c: Uint8Array, cb?: () => void) => (chunks.push(Buffer.from(c)), cb?.(), true),
        once() {},
        removeListener() {},
      }
      const o = new OutBuffer(sink as unknown as NodeJS.WritableStream)
      const w = new EntryJsonWriter(o, layout, fmt, null)
      o.ascii('[')
      for (let i = 0; i < entries.length; i++) w.entry({keys, n: entries.length, values}, i, i === 0)
      o.ascii(']\n')
      return o.flush().then(() => {
        const text = Buffer.concat(chunks).toString('utf8')
        assert.equal(text, m.bpftool)
        if (fmt) {
          for (const [i, e] of entries.entries()) {
            const v = perCpu ? e.formatted!.values![0]!.value : e.formatted!.value
            assert.deepEqual(parseJson(fmt.value.json(values, i * layout.valueBytes)), v)
          }
        }
      })
    })
  }

  test('SharedState renders as {"per_event_count": 3, "total_count": N} per CPU', () => {
    const m = dumps.maps.PER_CPU_MAP
    const r = compileRenderer(blobs['chain.btf'], m.btfValueTypeId, m.valueSize)
    const v = Buffer.alloc(8)
    v.writeUInt32LE(3, 0)
    v.writeUInt32LE(18, 4)
    assert.equal(r.json(v, 0), '{"per_event_count":3,"total_count":18}')
  })

  test('floats (bpftool 7.1 cannot render FLOAT): JSON numbers, strings for NaN and infinities', () => {
    const m = dumps.maps.array_floats
    const r = compileRenderer(blobs['maps.btf'], m.btfValueTypeId, m.valueSize)
    const v = Buffer.alloc(16)
    v.writeFloatLE(1.5, 0)
    v.writeDoubleLE(-2.25, 8)
    assert.equal(r.json(v, 0), '{"f":1.5,"d":-2.25}')
    v.writeFloatLE(Number.NaN, 0)
    v.writeDoubleLE(Number.NEGATIVE_INFINITY, 8)
    assert.equal(r.json(v, 0), '{"f":"NaN","d":"-Infinity"}')
  })
})

describe('btf_dumper rules', () => {
  test('ints of every width and sign; odd widths and int offsets as hex strings; 128-bit', () => {
    const bb = new BtfBuilder()
    const ids = {
      s16: bb.int('short', 2, {signed: true}),
      s32: bb.int('int', 4, {signed: true}),
      s64: bb.int('long', 8, {signed: true}),
      s8: bb.int('signed char', 1, {signed: true}),
      u128: bb.int('__int128 unsigned', 16),
      u16: bb.int('u16', 2),
      u24: bb.int('u24', 3, {bits: 24}),
      u32: bb.int('u32', 4),
      u64: bb.int('u64', 8),
      u8: bb.int('u8', 1),
      uoff: bb.int('uoff', 4, {bits: 4, offset: 4}),
    }
    const ff = Buffer.alloc(16, 0xff)
    assert.equal(render(bb, ids.u8, ff).text, '255')
    assert.equal(render(bb, ids.u16, ff).text, '65535')
    assert.equal(render(bb, ids.u32, ff).text, '4294967295')
    assert.equal(render(bb, ids.u64, ff).text, '18446744073709551615')
    assert.equal(render(bb, ids.s8, ff).text, '-1')
    assert.equal(render(bb, ids.s16, ff).text, '-1')
    assert.equal(render(bb, ids.s32, ff).text, '-1')
    assert.equal(render(bb, ids.s64, ff).text, '-1')
    const min = Buffer.from('0000000000000080', 'hex')
    assert.equal(render(bb, ids.s64, min).text, '-9223372036854775808')
    assert.equal(render(bb, ids.u64, Buffer.from('0100000000002000', 'hex')).text, '9007199254740993')
    assert.equal(render(bb, ids.u24, Buffer.from([0x01, 0x02, 0x03])).text, '"0x30201"')
    assert.equal(render(bb, ids.uoff, Buffer.from([0xab, 0, 0, 0])).text, '"0xa"')
    assert.equal(render(bb, ids.u128, Buffer.from('0100000000000000' + '0000000000000000', 'hex')).text, '"0x1"')
    assert.equal(
      render(bb, ids.u128, Buffer.from('efcdab8967452301' + '0100000000000080', 'hex')).text,
      '"0x80000000000000010123456789abcdef"',
    )
  })

  test('char, bool and invalid encodings', () => {
    const bb = new BtfBuilder()
    const ch = bb.int('char', 1, {char: true})
    const b = bb.int('_Bool', 1, {bool: true})
    const bad = bb.int('weird', 4, {encoding: 3})
    assert.equal(render(bb, ch, Buffer.from('A')).text, '"A"')
    assert.equal(render(bb, ch, Buffer.from([0x22])).text, '"\\""', 'a quote is escaped (bpftool 7.1 writes it raw)')
    assert.equal(render(bb, ch, Buffer.from([0x0a])).text, '"\\u000a"')
    assert.equal(render(bb, ch, Buffer.from([0xff])).text, '"\\u00ff"')
    assert.equal(render(bb, b, Buffer.from([0])).text, 'false')
    assert.equal(render(bb, b, Buffer.from([2])).text, 'true')
    const r = render(bb, bad, Buffer.alloc(4))
    assert.match(r.value, /^\(cannot decode: INT weird \[3\] has an invalid encoding 3\)$/)
    assert.equal(r.problems.length, 1)
  })

  test('enums: names, unknown values signed, ENUM64 unmatched printed as signed 64-bit', () => {
    const bb = new BtfBuilder()
    const e = bb.enum('color', 4, [
      ['RED', 0],
      ['GREEN', 1],
      ['NEG', -3],
    ])
    const e1 = bb.enum('small', 1, [['B', 200]])
    const e64 = bb.enum64('wide', 8, [
      ['BIG', 1n << 63n],
      ['ONE', 1n],
    ])
    assert.equal(render(bb, e, u32(1)).text, '"GREEN"')
    assert.equal(render(bb, e, u32(-3)).text, '"NEG"')
    assert.equal(render(bb, e, u32(9)).text, '9')
    assert.equal(render(bb, e, u32(0xfffffff0)).text, '-16')
    // bpftool reads a 1-byte enum as s8: 200 is -56 and never matches the enumerator 200.
    assert.equal(render(bb, e1, Buffer.from([200])).text, '-56')
    assert.equal(render(bb, e64, Buffer.from('0000000000000080', 'hex')).text, '"BIG"')
    assert.equal(render(bb, e64, Buffer.from('0100000000000000', 'hex')).text, '"ONE"')
    assert.equal(render(bb, e64, Buffer.from('ffffffffffffffff', 'hex')).text, '-1')
  })

  test('structs, unions, anonymous members and kind_flag bitfields', () => {
    const bb = new BtfBuilder()
    const u32t = bb.int('unsigned int', 4)
    const i32 = bb.int('int', 4, {signed: true})
    const e = bb.enum('color', 4, [
      ['RED', 0],
      ['GREEN', 1],
    ])
    const inner = bb.struct('', 4, [{bitOffset: 0, name: 'x', type: u32t}])
    const un = bb.union('num', 4, [
      {bitOffset: 0, name: 'u', type: u32t},
      {bitOffset: 0, name: 'i', type: i32},
    ])
    const s = bb.struct('s', 16, [
      {bitOffset: 0, bitfieldSize: 3, name: 'a', type: u32t},
      {bitOffset: 3, bitfieldSize: 5, name: 'b', type: i32},
      {bitOffset: 8, bitfieldSize: 2, name: 'c', type: e},
      {bitOffset: 32, name: '', type: inner},
      {bitOffset: 64, name: 'n', type: un},
    ])
    const v = le([0b10101_110, 0x01, 0, 0], u32(7), u32(-1), u32(0))
    assert.equal(render(bb, s, v).text, '{"a":"0x6","b":"0x15","c":"0x1","":{"x":7},"n":{"u":4294967295,"i":-1}}')
  })

  test('old-style bitfields (int member at a bit offset, kind_flag off) and bitfields past 48 bits', () => {
    const bb = new BtfBuilder()
    const b3 = bb.int('unsigned int', 4, {bits: 3})
    const b40 = bb.int('unsigned long', 8, {bits: 40})
    const s = bb.struct(
      's',
      16,
      [
        {bitOffset: 5, name: 'x', type: b3},
        {bitOffset: 67, name: 'y', type: b40},
      ],
      {kflag: false},
    )
    const v = Buffer.alloc(16)
    v[0] = 0b1010_0000
    v.writeBigUInt64LE(0xffffffffffn << 3n, 8)
    assert.equal(render(bb, s, v).text, '{"x":"0x5","y":"0xffffffffff"}')
  })

  test('arrays: char strings, typedef-char elements, unprintable bytes, no NUL, nesting, empty', () => {
    const bb = new BtfBuilder()
    const ch = bb.int('char', 1, {signed: true})
    const cch = bb.const(ch)
    const tch = bb.typedef('char_t', ch)
    const u8 = bb.int('unsigned char', 1)
    const a = bb.array(ch, 8)
    const ac = bb.array(cch, 4)
    const at = bb.array(tch, 4)
    const a2 = bb.array(bb.array(u8, 2), 3)
    const a0 = bb.array(ch, 0)
    assert.equal(render(bb, a, Buffer.from('hi \\"x\0\0', 'latin1')).text, '"hi \\\\\\"x"')
    assert.equal(render(bb, a, Buffer.from('\0bcdefgh')).text, '""')
    assert.equal(render(bb, a, Buffer.from('abcdefgh')).text, '[97,98,99,100,101,102,103,104]', 'no NUL: an array')
    assert.equal(
      render(bb, a, Buffer.from([0x61, 0x0a, 0, 0, 0, 0, 0, 0])).text,
      '[97,10,0,0,0,0,0,0]',
      'unprintable: an array',
    )
    assert.equal(render(bb, ac, Buffer.from('ab\0\0')).text, '"ab"', 'const char is still char')
    assert.equal(
      render(bb, at, Buffer.from('ab\0\0')).text,
      '[97,98,0,0]',
      'a typedef of char is not (bpftool keeps typedefs)',
    )
    assert.equal(render(bb, a2, Buffer.from([1, 2, 3, 4, 5, 6])).text, '[[1,2],[3,4],[5,6]]')
    assert.equal(render(bb, a0, Buffer.alloc(0)).text, '[]')
  })

  test('modifiers, type tags, pointers, floats, VAR and DATASEC', () => {
    const bb = new BtfBuilder()
    const u32t = bb.int('unsigned int', 4)
    const cv = bb.const(bb.volatile(bb.typedef('u32_t', u32t)))
    const tagged = bb.typeTag('user', u32t)
    const p = bb.ptr(bb.typeTag('user', u32t))
    const h = bb.float('_Float16', 2)
    const ld = bb.float('long double', 16)
    const v1 = bb.var('answer', u32t)
    const v2 = bb.var('version', bb.array(bb.int('char', 1, {signed: true}), 4))
    const sec = bb.datasec('.rodata', 8, [
      {offset: 0, size: 4, type: v1},
      {offset: 4, size: 4, type: v2},
    ])
    assert.equal(render(bb, cv, u32(5)).text, '5')
    assert.equal(render(bb, tagged, u32(6)).text, '6')
    assert.equal(render(bb, p, Buffer.from('7856341280889fff', 'hex')).text, '18419591084611229304')
    assert.equal(render(bb, h, Buffer.from([0x00, 0x3e])).text, '1.5')
    const x87 = Buffer.alloc(16)
    x87.writeBigUInt64LE(0xc000000000000000n, 0) // 1.5 × 2^0
    x87.writeUInt16LE(16383, 8)
    assert.equal(render(bb, ld, x87).text, '1.5')
    assert.equal(
      render(bb, sec, le(u32(42), Buffer.from('1.2\0'))).text,
      '{".rodata":[{"answer":42},{"version":"1.2"}]}',
    )
  })

  test('what bpftool cannot render gets a marker and a problem naming the path and offset', () => {
    const bb = new BtfBuilder()
    const i32 = bb.int('int', 4, {signed: true})
    const fwd = bb.fwd('later')
    const proto = bb.funcProto(i32, [])
    const s = bb.struct('holder', 16, [
      {bitOffset: 0, name: 'ok', type: i32},
      {bitOffset: 32, name: 'f', type: fwd},
      {bitOffset: 64, name: 'fp', type: proto},
      {bitOffset: 96, name: 'v', type: 0},
      {bitOffset: 96, name: 'gone', type: 999},
    ])
    const r = render(bb, s, Buffer.alloc(16))
    assert.equal(r.value.ok, 0)
    assert.match(r.value.f, /^\(cannot decode: FWD later \[2\] is a forward declaration/)
    assert.match(r.value.fp, /FUNC_PROTO \[3\] is not a data type/)
    assert.match(r.value.v, /the type is void/)
    assert.match(r.value.gone, /type \[999\] does not exist/)
    assert.deepEqual(
      r.problems.map((p) => [p.path, p.offset]),
      [
        ['.f', 4],
        ['.fp', 8],
        ['.v', 12],
        ['.gone', 12],
      ],
    )
  })
})

describe('malformed BTF: no crash, no hang, no read out of bounds', () => {
  test('bad headers throw BtfError naming the offset', () => {
    const good = new BtfBuilder()
    good.int('int', 4)
    const blob = good.bytes()
    const cases: [Buffer, RegExp][] = [
      [Buffer.alloc(10), /too short for a BTF header.*at byte 0/],
      [le([0x12, 0x34], blob.subarray(2)), /bad magic 0x3412.*at byte 0/],
      [
        (() => {
          const b = Buffer.from(blob)
          b.writeUInt32LE(8, 4)
          return b
        })(),
        /header length 8 is less than 24 \(at byte 4\)/,
      ],
      [
        (() => {
          const b = Buffer.from(blob)
          b.writeUInt32LE(1 << 20, 4)
          return b
        })(),
        /header length 1048576 exceeds/,
      ],
      [
        (() => {
          const b = Buffer.from(blob)
          b.writeUInt32LE(1000, 12)
          return b
        })(),
        /type section 0\+1000 ends past the data.*at byte 8/,
      ],
      [
        (() => {
          const b = Buffer.from(blob)
          b.writeUInt32LE(0xfffffff0, 16)
          return b
        })(),
        /string section .* ends past the data.*at byte 16/,
      ],
    ]
    for (const [bytes, re] of cases) {
      assert.throws(
        () => Btf.parse(bytes),
        (e) => e instanceof BtfError && re.test(e.message),
        String(re),
      )
    }
  })

  test('a bad record stops the type section: earlier types stay usable, the problem names the byte', () => {
    const bb = new BtfBuilder()
    const i32 = bb.int('int', 4, {signed: true})
    bb.raw('mystery', 25) // unknown kind
    bb.int('lost', 4)
    const btf = Btf.parse(bb.bytes())
    assert.equal(btf.typeCount, 2)
    assert.equal(btf.type(i32)!.name, 'int')
    assert.match(btf.problems[0], /type \[2\] at byte 40: unknown kind 25/)
    const bb2 = new BtfBuilder()
    bb2.int('int', 4)
    const blob = bb2.bytes()
    blob.writeUInt32LE(((4 << 24) | 1000) >>> 0, 24 + 4) // a struct with 1000 members that are not there
    const btf2 = Btf.parse(blob)
    assert.equal(btf2.typeCount, 1)
    assert.match(btf2.problems[0], /type \[1\] at byte 24: STRUCT with vlen 1000 runs past the type section end/)
  })

  test('strings: a bad offset is (invalid), an unterminated section is reported', () => {
    const bb = new BtfBuilder()
    const id = bb.raw(5000, 1, {extra: [32], sizeOrType: 4})
    const btf = Btf.parse(bb.bytes())
    assert.equal(btf.type(id)!.name, null)
    assert.match(describeType(btf, btf.type(id)!), /"name":"\(invalid\)"/)
    const blob = bb.bytes()
    blob[blob.length - 1] = 0x41
    assert.match(Btf.parse(blob).problems.join('\n'), /does not end with a NUL byte/)
  })

  test('big-endian BTF is decoded', () => {
    const bb = new BtfBuilder()
    bb.int('int', 4, {signed: true})
    const le4 = bb.bytes()
    const be = Buffer.from(le4)
    be.writeUInt16BE(BTF_MAGIC, 0)
    for (const off of [4, 8, 12, 16, 20, 24, 28, 32, 36]) be.writeUInt32BE(le4.readUInt32LE(off), off)
    const btf = Btf.parse(be)
    assert.equal(btf.littleEndian, false)
    const int = btf.type(1) as IntType
    assert.deepEqual({bits: int.bits, name: int.name, size: int.size}, {bits: 32, name: 'int', size: 4})
  })

  test('cycles, loops, deep nesting, huge arrays and short values end in markers', () => {
    const bb = new BtfBuilder()
    const self = bb.struct('self', 8, [{bitOffset: 0, name: 'me', type: 1}])
    const loop = bb.typedef('a', 3)
    bb.typedef('b', loop)
    const u8 = bb.int('u8', 1)
    const empty = bb.struct('empty', 0, [])
    const huge = bb.array(empty, 0xffffffff)
    const big = bb.array(u8, 1 << 30)
    const long = bb.array(u8, 1000)
    let deep = u8
    for (let i = 0; i < 100; i++) deep = bb.struct(`d${i}`, 1, [{bitOffset: 0, name: 'x', type: deep}])
    const u64 = bb.int('u64', 8)
    const wide = bb.struct('wide', 16, [
      {bitOffset: 0, name: 'a', type: u64},
      {bitOffset: 512, name: 'far', type: u64},
    ])
    const btf = Btf.parse(bb.bytes())
    const check = (id, avail, re) => {
      const r = compileRenderer(btf, id, avail)
      const text = r.json(Buffer.alloc(avail), 0)
      parseJson(text)
      assert.match(text, re)
      assert.ok(r.problems.length > 0)
    }

    check(self, 8, /SELF|contains itself/i)
    check(loop, 4, /type chain longer than 32 links/)
    check(huge, 0, /too large to render/)
    check(big, 16, /of 1073741824 elements is too large to render/)
    check(long, 16, /elements 16\.\.999 lie past the 16 bytes/)
    check(deep, 1, /nest deeper than 64 levels/)
    check(wide, 16, /needs 8 bytes at value byte 64, the value has 0 there/)
    check(u64, 4, /needs 8 bytes/)
  })
})
