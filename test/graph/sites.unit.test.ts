// Unit tests of the tail-call site analyser on xlated bytes captured from the real kernel
// (test/fixtures/xlated, see its README) and on hand-assembled patterns; plus a fuzz pass.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {findTailCallSites} from '../../src/graph/sites.js'
import {ROOT} from '../helpers/cli.js'

const fixture = (name) => readFileSync(join(ROOT, 'test', 'fixtures', 'xlated', name))
const brief = (a) => a.sites.map((s) => ({insn: s.insn, key: s.key, mapId: s.mapId, path: s.path}))

test('bundled chain: prog1 calls TAIL_CALL_MAP[0], prog2 calls [1], prog3 none', () => {
  const p1 = findTailCallSites(fixture('prog1.xlated'))
  assert.deepEqual(brief(p1), [{insn: 103, key: {kind: 'constant', value: 0}, mapId: 61, path: 'direct'}])
  assert.deepEqual(p1.problems, [])
  assert.equal(p1.insns, 178)
  assert.ok(p1.mapRefs.includes(61))
  const p2 = findTailCallSites(fixture('prog2.xlated'))
  assert.deepEqual(brief(p2), [{insn: 106, key: {kind: 'constant', value: 1}, mapId: 61, path: 'direct'}])
  assert.deepEqual(findTailCallSites(fixture('prog3.xlated')).sites, [])
})

test('graph5 s2: two constant sites; s3: one constant and one indirect (key from .bss)', () => {
  assert.deepEqual(brief(findTailCallSites(fixture('graph5-s2.xlated'))), [
    {insn: 4, key: {kind: 'constant', value: 2}, mapId: 166, path: 'direct'},
    {insn: 9, key: {kind: 'constant', value: 3}, mapId: 166, path: 'direct'},
  ])
  const s3 = findTailCallSites(fixture('graph5-s3.xlated'))
  assert.deepEqual(brief(s3), [
    {insn: 4, key: {kind: 'constant', value: 4}, mapId: 166, path: 'direct'},
    {insn: 11, key: {kind: 'unknown'}, mapId: 166, path: 'indirect'},
  ])
  // The .bss value pointer counts as a map reference (not as a map pointer in r2).
  assert.deepEqual(s3.mapRefs, [166, 169])
  assert.deepEqual(findTailCallSites(fixture('graph5-sockf.xlated')).sites, [])
})

// --- a tiny assembler for patterns clang emits less often ---
function insn(code, dst = 0, src = 0, off = 0, imm = 0) {
  const b = Buffer.alloc(8)
  b[0] = code
  b[1] = (src << 4) | dst
  b.writeInt16LE(off, 2)
  b.writeInt32LE(imm, 4)
  return b
}

const mov64K = (dst, imm) => insn(0xb7, dst, 0, 0, imm)
const mov64X = (dst, src) => insn(0xbf, dst, src)
const mov32K = (dst, imm) => insn(0xb4, dst, 0, 0, imm)
const xor64K = (dst, imm) => insn(0xa7, dst, 0, 0, imm)
const add64K = (dst, imm) => insn(0x07, dst, 0, 0, imm)
const ldMap = (dst, id) => Buffer.concat([insn(0x18, dst, 1, 0, id), insn(0, 0, 0, 0, 0)])
const ldImm64 = (dst, lo, hi = 0) => Buffer.concat([insn(0x18, dst, 0, 0, lo), insn(0, 0, 0, 0, hi)])
const tailCall = () => insn(0x85, 0, 0, 0, 12)
const helper = (id) => insn(0x85, 0, 0, 0, id)
const exit = () => insn(0x95)
const jeqK = (dst, imm, off) => insn(0x15, dst, 0, off, imm)
const ja = (off) => insn(0x05, 0, 0, off)
const stxDW = (dst, src, off) => insn(0x7b, dst, src, off)
const ldxDW = (dst, src, off) => insn(0x79, dst, src, off)
const stW = (dst, off, imm) => insn(0x62, dst, 0, off, imm)
const ldxW = (dst, src, off) => insn(0x61, dst, src, off)
const prog = (...parts) => Buffer.concat(parts)

test('the key and map may be set before a branch, or moved through other registers', () => {
  const a = findTailCallSites(
    prog(
      mov64K(7, 5), // 0: r7 = 5
      ldMap(8, 42), // 1-2
      jeqK(1, 0, 1), // 3: if r1 == 0 goto 5
      mov64K(0, 1), // 4
      mov64X(3, 7), // 5: r3 = r7
      mov64X(2, 8), // 6: r2 = r8
      tailCall(), // 7
      exit(),
    ),
  )
  assert.deepEqual(brief(a), [{insn: 7, key: {kind: 'constant', value: 5}, mapId: 42, path: 'direct'}])
})

test('a key that depends on the branch is one-of (indirect); a helper result is unknown', () => {
  const a = findTailCallSites(
    prog(
      ldMap(2, 9), // 0-1
      jeqK(1, 0, 2), // 2: if r1 == 0 goto 5
      mov64K(3, 1), // 3
      ja(1), // 4: goto 6
      mov64K(3, 2), // 5
      tailCall(), // 6
      helper(7), // 7: r0 = bpf_get_prandom_u32()
      mov64X(3, 0), // 8
      ldMap(2, 9), // 9-10
      tailCall(), // 11
      exit(),
    ),
  )
  assert.deepEqual(brief(a), [
    {insn: 6, key: {kind: 'one-of', values: [1, 2]}, mapId: 9, path: 'indirect'},
    {insn: 11, key: {kind: 'unknown'}, mapId: 9, path: 'indirect'},
  ])
})

test('calls clobber r0-r5: a key set before a helper call is not the key after it', () => {
  const a = findTailCallSites(prog(mov64K(3, 1), ldMap(2, 3), helper(5), tailCall(), exit()))
  assert.deepEqual(brief(a), [{insn: 4, key: {kind: 'unknown'}, mapId: undefined, path: 'indirect'}])
})

test('spills and fills through the stack, 32-bit moves and constant blinding (r11) are followed', () => {
  const a = findTailCallSites(
    prog(
      mov64K(1, 3),
      stxDW(10, 1, -8), // *(u64 *)(r10 -8) = r1
      ldMap(4, 77),
      stxDW(10, 4, -16), // spill the map pointer
      stW(10, -20, 6), // *(u32 *)(r10 -20) = 6
      mov64K(1, 0),
      ldxDW(3, 10, -8), // r3 = 3
      ldxDW(2, 10, -16), // r2 = map 77
      tailCall(), // 9
      ldxW(3, 10, -20), // r3 = 6
      ldMap(2, 77),
      tailCall(), // 13
      insn(0xb7, 11, 0, 0, 0x1234 ^ 2), // blinded: r11 = K ^ rnd
      xor64K(11, 0x1234), // r11 ^= rnd
      mov64X(3, 11), // r3 = r11 = 2
      ldMap(2, 77),
      tailCall(), // 19
      mov32K(3, -1), // w3 = 0xffffffff
      add64K(3, 2), // r3 = 0x1_0000_0001: the helper takes the u32, 1
      ldMap(2, 77),
      tailCall(), // 24
      exit(),
    ),
  )
  assert.deepEqual(
    a.sites.map((s) => [s.insn, s.mapId, s.key.kind === 'constant' ? s.key.value : s.key]),
    [
      [9, 77, 3],
      [13, 77, 6],
      [19, 77, 2],
      [24, 77, 1],
    ],
  )
  assert.deepEqual(a.problems, [])
})

test('a store over a spilled key forgets it; a stack pointer passed to a helper forgets the stack', () => {
  const a = findTailCallSites(
    prog(
      mov64K(1, 3),
      stxDW(10, 1, -8),
      stW(10, -4, 9), // overwrites the upper half of the spilled key
      ldxDW(3, 10, -8),
      ldMap(2, 1),
      tailCall(), // 6
      stxDW(10, 1, -8), // r1 is still 3? no: the call clobbered it
      mov64K(6, 4),
      stxDW(10, 6, -8),
      mov64X(1, 10),
      add64K(1, -8), // r1 = fp - 8
      helper(113), // bpf_probe_read_kernel(r1 = stack) may write our stack
      ldxDW(3, 10, -8),
      ldMap(2, 1),
      tailCall(), // 16
      exit(),
    ),
  )
  assert.deepEqual(
    a.sites.map((s) => [s.insn, s.key.kind]),
    [
      [6, 'unknown'],
      [16, 'unknown'],
    ],
  )
})

test('loops converge (a counter in a loop becomes unknown, not a hang)', () => {
  const a = findTailCallSites(
    prog(
      mov64K(6, 0), // 0
      add64K(6, 1), // 1: loop head
      mov64X(3, 6), // 2
      ldMap(2, 5), // 3-4
      tailCall(), // 6
      jeqK(6, 0, -6), // 6: if r6 == 0 goto 1
      exit(),
    ),
  )
  assert.equal(a.sites.length, 1)
  assert.equal(a.sites[0].mapId, 5)
  assert.ok(['unknown', 'one-of'].includes(a.sites[0].key.kind))
})

test('malformed input: truncated, jumps outside, cut ld_imm64, empty: never throws', () => {
  assert.deepEqual(findTailCallSites(Buffer.alloc(0)), {insns: 0, mapRefs: [], problems: [], sites: []})
  const t = findTailCallSites(Buffer.concat([ldMap(2, 1), mov64K(3, 0), tailCall(), Buffer.from([1, 2, 3])]))
  assert.equal(t.sites.length, 1)
  assert.match(t.problems.join(), /trailing bytes/)
  assert.match(findTailCallSites(prog(ja(100), exit())).problems.join(), /outside the program/)
  assert.match(findTailCallSites(prog(exit(), insn(0x18, 2, 1, 0, 3))).problems.join(), /cut off/)
  assert.match(findTailCallSites(prog(ja(1), ldImm64(1, 5), exit())).problems.join(), /middle of a ld_imm64/)
})

test('fuzz: random and mutated instruction streams never throw', () => {
  let seed = 12345
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32
  const bases = ['prog1.xlated', 'prog2.xlated', 'graph5-s3.xlated'].map(fixture)
  for (let round = 0; round < 600; round++) {
    let buf
    if (round % 2 === 0) {
      buf = Buffer.from(bases[round % bases.length])
      for (let k = 0; k < 1 + Math.floor(rnd() * 20); k++) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256)
      if (rnd() < 0.2) buf = buf.subarray(0, Math.floor(rnd() * buf.length))
    } else {
      buf = Buffer.alloc(Math.floor(rnd() * 2000))
      for (let k = 0; k < buf.length; k++) buf[k] = Math.floor(rnd() * 256)
    }

    const a = findTailCallSites(buf)
    assert.ok(Array.isArray(a.sites) && Array.isArray(a.problems))
  }
})
