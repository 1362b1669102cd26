// The BTF builder (src/btf/builder.ts) against the one parser (src/btf/btf.ts): whatever is built
// reads back as the same types, for every kind (FLOAT, DECL_TAG, TYPE_TAG and ENUM64 included,
// which kernels before 5.13/5.16/5.17/6.0 lack), for split BTF on a base, and for the blobs the
// kernel feature probes offer to BPF_BTF_LOAD. Needs no root and no kernel.
import assert from 'node:assert/strict'
import {test} from 'node:test'

import {Btf} from '../../src/btf/btf.js'
import {BtfBuilder} from '../../src/btf/builder.js'
import {BTF_HEADER_SIZE, BTF_MAGIC, INT_BOOL, INT_CHAR, INT_SIGNED, KIND} from '../../src/btf/kinds.js'
import type {BtfType} from '../../src/btf/types.js'
import {type BtfKindProbe, btfKindBlob} from '../../src/kernel/features.js'

/** The decoded fields that carry meaning (not where the record sits in the blob). */
function fields(t: BtfType | undefined): Record<string, unknown> {
  assert.ok(t, 'type exists')
  const {at: _at, nameOff: _nameOff, ...rest} = t as BtfType & Record<string, unknown>
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map((e) =>
          e && typeof e === 'object' ? Object.fromEntries(Object.entries(e).filter(([k]) => k !== 'nameOff')) : e,
        )
      : v
  return Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, strip(v)]))
}

test('every kind built reads back as the same type', () => {
  const b = new BtfBuilder()
  const int = b.int('int', 4, {signed: true})
  const u8 = b.int('unsigned char', 1, {char: true})
  const bool = b.int('_Bool', 1, {bool: true})
  const bits = b.int('u24', 4, {bits: 24, offset: 8})
  const ptr = b.ptr(int)
  const arr = b.array(u8, 16, int)
  const st = b.struct('pair', 8, [
    {bitOffset: 0, name: 'a', type: int},
    {bitOffset: 32, name: 'b', type: int},
  ])
  const bf = b.struct('flags', 4, [
    {bitOffset: 0, bitfieldSize: 3, name: 'x', type: int},
    {bitOffset: 3, bitfieldSize: 5, name: '', type: int},
  ])
  const un = b.union('u', 4, [
    {bitOffset: 0, name: 'i', type: int},
    {bitOffset: 0, name: 'c', type: u8},
  ])
  const en = b.enum(
    'color',
    4,
    [
      ['RED', 0],
      ['BLUE', -1],
    ],
    {signed: true},
  )
  const fwd = b.fwd('later', true)
  const td = b.typedef('int_t', int)
  const vol = b.volatile(td)
  const cst = b.const(vol)
  const rst = b.restrict(ptr)
  const proto = b.funcProto(int, [
    ['x', int],
    ['', 0],
  ])
  const fn = b.func('main_fn', proto, 1)
  const v = b.var('counter', int, 1)
  const ds = b.datasec('.data', 4, [{offset: 0, size: 4, type: v}])
  // The kinds older kernels lack.
  const flt = b.float('double', 8)
  const dtag = b.declTag('user', st, 1)
  const ttag = b.typeTag('rcu', int)
  const e64 = b.enum64(
    'big',
    8,
    [
      ['MAX', 0xffff_ffff_ffff_ffffn],
      ['NEG', -2n],
    ],
    {signed: false},
  )

  const btf = Btf.parse(b.bytes(), {name: 'built'})
  assert.deepEqual(btf.problems, [])
  assert.equal(btf.typeCount, e64 + 1)
  const common = {kflag: false, vlen: 0}
  const expect: [number, Record<string, unknown>][] = [
    [int, {...common, bits: 32, bitsOffset: 0, encoding: INT_SIGNED, id: int, kind: KIND.INT, name: 'int', size: 4}],
    [
      u8,
      {...common, bits: 8, bitsOffset: 0, encoding: INT_CHAR, id: u8, kind: KIND.INT, name: 'unsigned char', size: 1},
    ],
    [bool, {...common, bits: 8, bitsOffset: 0, encoding: INT_BOOL, id: bool, kind: KIND.INT, name: '_Bool', size: 1}],
    [bits, {...common, bits: 24, bitsOffset: 8, encoding: 0, id: bits, kind: KIND.INT, name: 'u24', size: 4}],
    [ptr, {...common, id: ptr, kind: KIND.PTR, name: '', type: int}],
    [arr, {...common, id: arr, indexType: int, kind: KIND.ARRAY, name: '', nelems: 16, type: u8}],
    [
      st,
      {
        id: st,
        kflag: false,
        kind: KIND.STRUCT,
        members: [
          {bitOffset: 0, bitfieldSize: 0, name: 'a', type: int},
          {bitOffset: 32, bitfieldSize: 0, name: 'b', type: int},
        ],
        name: 'pair',
        size: 8,
        vlen: 2,
      },
    ],
    [
      bf,
      {
        id: bf,
        kflag: true,
        kind: KIND.STRUCT,
        members: [
          {bitOffset: 0, bitfieldSize: 3, name: 'x', type: int},
          {bitOffset: 3, bitfieldSize: 5, name: '', type: int},
        ],
        name: 'flags',
        size: 4,
        vlen: 2,
      },
    ],
    [
      un,
      {
        id: un,
        kflag: false,
        kind: KIND.UNION,
        members: [
          {bitOffset: 0, bitfieldSize: 0, name: 'i', type: int},
          {bitOffset: 0, bitfieldSize: 0, name: 'c', type: u8},
        ],
        name: 'u',
        size: 4,
        vlen: 2,
      },
    ],
    [
      en,
      {
        id: en,
        kflag: true,
        kind: KIND.ENUM,
        name: 'color',
        signed: true,
        size: 4,
        values: [
          {name: 'RED', value: 0},
          {name: 'BLUE', value: -1},
        ],
        vlen: 2,
      },
    ],
    [fwd, {id: fwd, kflag: true, kind: KIND.FWD, name: 'later', union: true, vlen: 0}],
    [td, {...common, id: td, kind: KIND.TYPEDEF, name: 'int_t', type: int}],
    [vol, {...common, id: vol, kind: KIND.VOLATILE, name: '', type: td}],
    [cst, {...common, id: cst, kind: KIND.CONST, name: '', type: vol}],
    [rst, {...common, id: rst, kind: KIND.RESTRICT, name: '', type: ptr}],
    [
      proto,
      {
        id: proto,
        kflag: false,
        kind: KIND.FUNC_PROTO,
        name: '',
        params: [
          {name: 'x', type: int},
          {name: '', type: 0},
        ],
        type: int,
        vlen: 2,
      },
    ],
    [fn, {id: fn, kflag: false, kind: KIND.FUNC, name: 'main_fn', type: proto, vlen: 1}],
    [v, {...common, id: v, kind: KIND.VAR, linkage: 1, name: 'counter', type: int}],
    [
      ds,
      {
        id: ds,
        kflag: false,
        kind: KIND.DATASEC,
        name: '.data',
        size: 4,
        vars: [{offset: 0, size: 4, type: v}],
        vlen: 1,
      },
    ],
    [flt, {...common, id: flt, kind: KIND.FLOAT, name: 'double', size: 8}],
    [dtag, {...common, componentIdx: 1, id: dtag, kind: KIND.DECL_TAG, name: 'user', type: st}],
    [ttag, {...common, id: ttag, kind: KIND.TYPE_TAG, name: 'rcu', type: int}],
    [
      e64,
      {
        id: e64,
        kflag: false,
        kind: KIND.ENUM64,
        name: 'big',
        signed: false,
        size: 8,
        values: [
          {hi: 0xffff_ffff, lo: 0xffff_ffff, name: 'MAX', value: 0xffff_ffff_ffff_ffffn},
          {hi: 0xffff_ffff, lo: 0xffff_fffe, name: 'NEG', value: 0xffff_ffff_ffff_fffen},
        ],
        vlen: 2,
      },
    ],
  ]
  for (const [id, want] of expect) assert.deepEqual(fields(btf.type(id)), want, `type [${id}]`)
  // Sizes resolve through every modifier, as they would for a map value of that type.
  assert.deepEqual(btf.resolveSize(cst), {ok: true, value: 4})
  assert.deepEqual(btf.resolveSize(arr), {ok: true, value: 16})
  assert.deepEqual(btf.resolveType(ttag), {ok: true, value: int})
})

test('the header: magic, version 1, sections right after it; strings interned once', () => {
  const b = new BtfBuilder()
  const a = b.str('name')
  assert.equal(b.str('name'), a)
  assert.equal(b.str(''), 0)
  b.int('name', 4)
  const blob = b.bytes()
  assert.equal(blob.readUInt16LE(0), BTF_MAGIC)
  assert.equal(blob[2], 1)
  const btf = Btf.parse(blob)
  assert.deepEqual(
    {...btf.header},
    {flags: 0, hdrLen: BTF_HEADER_SIZE, magic: BTF_MAGIC, strLen: 6, strOff: 16, typeLen: 16, typeOff: 0, version: 1},
  )
  assert.equal(btf.str(a), 'name')
  assert.equal(btf.type(1)?.name, 'name')
  // A version the parser does not know is flagged, not refused.
  assert.match(Btf.parse(b.bytes({version: 2})).problems.join('\n'), /version 2/)
})

test("split BTF continues the base's type ids and string offsets", () => {
  const base = new BtfBuilder()
  const int = base.int('int', 4, {signed: true})
  const baseBtf = Btf.parse(base.bytes(), {name: 'base'})
  for (const spec of [baseBtf, {strLen: baseBtf.header.strLen, typeCount: baseBtf.typeCount}]) {
    const b = new BtfBuilder({base: spec})
    const p = b.ptr(int)
    const s = b.struct('on_top', 8, [{bitOffset: 0, name: 'p', type: p}])
    assert.equal(p, baseBtf.typeCount)
    const split = Btf.parse(b.bytes(), {base: baseBtf, name: 'split'})
    assert.deepEqual(split.problems, [])
    assert.equal(split.startId, baseBtf.typeCount)
    assert.equal(split.type(int)?.name, 'int')
    assert.deepEqual(fields(split.type(s)), {
      id: s,
      kflag: false,
      kind: KIND.STRUCT,
      members: [{bitOffset: 0, bitfieldSize: 0, name: 'p', type: p}],
      name: 'on_top',
      size: 8,
      vlen: 1,
    })
    assert.deepEqual(split.resolveSize(s), {ok: true, value: 8})
  }
})

test('raw records: any kind number and name offset, read back as the parser sees them', () => {
  const b = new BtfBuilder()
  const int = b.int('int', 4)
  b.raw(9999, KIND.INT, {extra: [32], sizeOrType: 4}) // a name offset past the strings
  b.raw('mystery', 25) // a kind this format does not define
  b.int('after', 4)
  const btf = Btf.parse(b.bytes())
  assert.equal(btf.type(int + 1)?.name, null)
  assert.equal(btf.displayName(btf.type(int + 1)!), '(invalid)')
  // The record's length depends on its kind: nothing after an unknown kind can be read.
  assert.equal(btf.typeCount, int + 2)
  assert.equal(btf.type(int + 3), undefined)
  assert.match(btf.problems.join('\n'), /unknown kind 25/)
})

test("the kernel feature probes' blobs hold the kind they probe, and nothing malformed", () => {
  const want: Record<BtfKindProbe, number> = {
    decl_tag: KIND.DECL_TAG,
    enum64: KIND.ENUM64,
    float: KIND.FLOAT,
    type_tag: KIND.TYPE_TAG,
  }
  for (const [probe, kind] of Object.entries(want) as [BtfKindProbe, number][]) {
    const btf = Btf.parse(btfKindBlob(probe), {name: probe})
    assert.deepEqual(btf.problems, [], probe)
    const kinds = Array.from({length: btf.typeCount - 1}, (_, i) => btf.type(i + 1)!.kind as number)
    assert.ok(kinds.includes(kind), `${probe}: ${kinds.join(',')}`)
    // Every reference points at a type of the blob.
    for (let id = 1; id < btf.typeCount; id++) {
      const t = btf.type(id) as BtfType & {type?: number}
      if (t.type !== undefined) assert.ok(t.type > 0 && t.type < btf.typeCount, `${probe}: [${id}] → [${t.type}]`)
    }
  }
})
