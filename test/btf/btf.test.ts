// The BTF decoder and value renderer (src/btf/), against bpftool as the oracle:
// - the parser gives the same types as `bpftool --json btf dump` on vmlinux, on program BTF
//   captured from the kernel (test/fixtures/btf/*.btf), on synthetic BTF with every kind, and
//   on split BTF based on vmlinux;
// - malformed BTF never crashes, hangs or reads out of bounds (bounded fuzz slice in a worker).
// The renderer's rules and the decoder on malformed blobs, which need neither, are in
// btf.unit.test.ts.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {after, describe, test} from 'node:test'
import {fileURLToPath} from 'node:url'

import {Btf, BtfError} from '../../src/btf/btf.js'
import {KIND} from '../../src/btf/kinds.js'
import {describeTypes} from '../../src/btf/describe.js'
import {btfFromObjectFile, elfSection} from '../../src/btf/elf.js'
import {compileRenderer} from '../../src/render/btf-json.js'
import {parseJson} from '../../src/render/parse.js'
import type {RefType} from '../../src/btf/types.js'
import {BtfBuilder} from '../../src/btf/builder.js'
import {compileBpf} from '../helpers/clang.js'
import {runFuzzInWorker} from '../helpers/fuzz-btf.js'

const FIX = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'btf')
const VMLINUX = '/sys/kernel/btf/vmlinux'
const tmp = mkdtempSync(join(tmpdir(), 'tailcalls-btf-test-'))
after(() => rmSync(tmp, {force: true, recursive: true}))

/** bpftool's raw type dump of a BTF file, as one JSON text of the types array's elements. */
function bpftoolTypes(file: string, base?: string): string {
  const args = ['--json', ...(base ? ['-B', base] : []), 'btf', 'dump', 'file', file]
  const text = execFileSync('bpftool', args, {encoding: 'utf8', maxBuffer: 1 << 30}).trim()
  assert.ok(text.startsWith('{"types":['), text.slice(0, 200))
  return text.slice('{"types":['.length, -2)
}

function ours(btf: Btf): string {
  return [...describeTypes(btf)].join(',')
}

function firstDiff(a: string, b: string): string {
  let i = 0
  while (i < a.length && a[i] === b[i]) i++
  return `ours …${a.slice(Math.max(0, i - 150), i + 150)}…\nbpftool …${b.slice(Math.max(0, i - 150), i + 150)}…`
}

describe('parser vs bpftool btf dump', () => {
  test('vmlinux: every type, same JSON as bpftool', () => {
    const btf = Btf.parse(readFileSync(VMLINUX), {name: 'vmlinux'})
    assert.deepEqual(btf.problems, [])
    assert.ok(btf.typeCount > 1000)
    const a = ours(btf)
    const b = bpftoolTypes(VMLINUX)
    assert.ok(a === b, firstDiff(a, b))
  })

  for (const f of ['maps.btf', 'chain.btf']) {
    test(`kernel-captured program BTF ${f}`, () => {
      const btf = Btf.parse(readFileSync(join(FIX, f)))
      assert.deepEqual(btf.problems, [])
      const a = ours(btf)
      const b = bpftoolTypes(join(FIX, f))
      assert.ok(a === b, firstDiff(a, b))
    })
  }

  test('the .BTF section of ELF objects (the bundled chain object, a fresh clang build)', () => {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
    const built = compileBpf(join(root, 'test', 'fixtures', 'btf-maps.bpf.c'), join(tmp, 'btf-maps.bpf.o'))
    for (const obj of [join(root, 'bpf', 'tailcalls.bpf.o'), built]) {
      const btf = btfFromObjectFile(obj)
      assert.deepEqual(btf.problems, [])
      const a = ours(btf)
      const b = bpftoolTypes(obj)
      assert.ok(a === b, firstDiff(a, b))
    }

    assert.throws(
      () => elfSection(Buffer.from('not an elf file, not at all, really not, no no no no no no no no no no')),
      /is not an ELF file/,
    )
    const elf = readFileSync(built)
    const cut = Buffer.from(elf.subarray(0, 200))
    assert.throws(
      () => elfSection(cut, '.BTF', 'cut.o'),
      (e) => e instanceof BtfError && /section headers .* lie outside/.test(e.message),
    )
  })

  test('synthetic BTF with every kind (ENUM64, signed enums, tags, floats, funcs)', () => {
    const bb = new BtfBuilder()
    const i32 = bb.int('int', 4, {signed: true})
    const u8 = bb.int('unsigned char', 1)
    bb.int('_Bool', 1, {bool: true})
    bb.int('char', 1, {char: true})
    bb.int('odd', 4, {bits: 20, offset: 3})
    const p = bb.ptr(i32)
    bb.array(u8, 16, i32)
    bb.struct('s', 8, [
      {bitOffset: 0, name: 'a', type: i32},
      {bitOffset: 32, bitfieldSize: 5, name: 'b', type: i32},
      {bitOffset: 40, name: '', type: u8},
    ])
    bb.union('u', 4, [
      {bitOffset: 0, name: 'x', type: i32},
      {bitOffset: 0, name: 'y', type: u8},
    ])
    bb.enum('e', 4, [
      ['A', 0],
      ['B', -1],
      ['C', 0x7fffffff],
    ])
    bb.enum(
      'se',
      4,
      [
        ['NEG', -5],
        ['POS', 5],
      ],
      {signed: true},
    )
    bb.enum64('e64', 8, [
      ['BIG', 1n << 63n],
      ['ONE', 1n],
      ['MAX', (1n << 64n) - 1n],
    ])
    bb.enum64(
      'se64',
      8,
      [
        ['MIN', -(1n << 63n)],
        ['M1', -1n],
      ],
      {signed: true},
    )
    bb.fwd('later', false)
    bb.fwd('ulater', true)
    bb.typedef('int_t', i32)
    bb.volatile(i32)
    bb.const(i32)
    bb.restrict(p)
    const proto = bb.funcProto(i32, [
      ['x', i32],
      ['', 0],
    ])
    bb.func('f', proto, 1)
    bb.func('g', proto, 0)
    const v = bb.var('counter', i32, 1)
    bb.var('s_counter', i32, 0)
    bb.datasec('.data', 8, [{offset: 0, size: 4, type: v}])
    bb.float('float', 4)
    bb.float('long double', 16)
    bb.declTag('tag1', i32, -1)
    bb.declTag('tag2', proto, 0)
    bb.typeTag('user', i32)
    const file = join(tmp, 'synthetic.btf')
    writeFileSync(file, bb.bytes())
    const btf = Btf.parse(readFileSync(file))
    assert.deepEqual(btf.problems, [])
    const a = ours(btf)
    const b = bpftoolTypes(file)
    assert.ok(a === b, firstDiff(a, b))
  })

  test('split BTF on vmlinux: ids and string offsets continue from the base', () => {
    const base = Btf.parse(readFileSync(VMLINUX), {name: 'vmlinux'})
    // Types of the base, referenced by id from the split part.
    let listHead
    let u32Id
    for (let id = 1; id < base.typeCount && (!listHead || !u32Id); id++) {
      const t = base.type(id)!
      if (t.kind === KIND.STRUCT && t.name === 'list_head') listHead = id
      if (t.kind === KIND.TYPEDEF && t.name === '__u32') u32Id = id
    }

    assert.ok(listHead && u32Id)
    const bb = new BtfBuilder({base: {strLen: base.header.strLen, typeCount: base.typeCount}})
    const sId = bb.struct('tailcalls_split', 24, [
      {bitOffset: 0, name: 'node', type: listHead},
      {bitOffset: 128, name: 'count', type: u32Id},
    ])
    const ptr = bb.ptr(sId)
    bb.typedef('list_head', listHead) // a name that is also a base string: reuses nothing, new offset
    const file = join(tmp, 'split.btf')
    writeFileSync(file, bb.bytes())
    const split = Btf.parse(readFileSync(file), {base, name: 'split'})
    assert.deepEqual(split.problems, [])
    assert.equal(split.startId, base.typeCount)
    assert.equal(sId, base.typeCount)
    assert.equal((split.type(ptr) as RefType).type, sId)
    assert.equal(split.type(listHead)!.name, 'list_head', 'base ids resolve through the split BTF')
    assert.deepEqual(split.resolveSize(sId), {ok: true, value: 24})
    const a = ours(split)
    const b = bpftoolTypes(file, VMLINUX)
    assert.ok(a === b, firstDiff(a, b))
    // A value of the split struct renders through the base's types.
    const value = Buffer.alloc(24)
    value.writeBigUInt64LE(0xffff000011112222n, 0)
    value.writeBigUInt64LE(0xffff000033334444n, 8)
    value.writeUInt32LE(5, 16)
    const r = compileRenderer(split, sId, 24)
    assert.deepEqual(r.problems, [])
    assert.deepEqual(parseJson(r.json(value, 0)), {
      count: 5,
      node: {next: 18446462599019176482n, prev: 18446462599591838788n},
    })
  })
})

describe('malformed BTF: fuzzing in a worker with a hang detector', () => {
  test('the fuzz harness catches a hang and names the case', async () => {
    const stats = await runFuzzInWorker({cases: 64, hangAt: 40, seed: 7}, {replayMs: 15_000, stallMs: 1500})
    assert.equal(stats.failures.length, 1)
    assert.match(stats.failures[0].error, /seed 7 cases 32\.\.47: a hang/)
    assert.equal(stats.cases, 64)
  })

  test('fuzz slice: 3,000 mutated kernel blobs and random type graphs, in a worker with a hang detector', async () => {
    const stats = await runFuzzInWorker(
      {cases: 3000, seed: Number(process.env.TAILCALLS_FUZZ_SEED ?? 20261125)},
      {stallMs: 20_000},
    )
    assert.deepEqual(stats.failures, [], stats.failures.map((f) => f.error).join('\n'))
    assert.equal(stats.cases, 3000)
    assert.ok(stats.parsed > 1000 && stats.rendered > 5000, JSON.stringify(stats))
  })
})
