// Fuzz targets over inputs taken from the real kernel, and a runner that bounds every case in
// time and memory. Shared by test/fuzz/fuzz.test.ts (a bounded slice) and bench/fuzz.mjs (1,000,000+).
//
// Targets (each case is reproducible alone from (target, seed, case)):
//   btf         the BTF decoder + describe + resolve + renderers on mutated kernel BTF blobs and
//               random type graphs (test/helpers/fuzz-btf.ts, the decoder's own harness)
//   btf-oracle  mutated kernel BTF blobs against libbpf's btf__new() as the oracle: whenever
//               libbpf accepts a blob, our decoder must accept it too and agree on every type
//               (kind, name, vlen, kflag, size/type and every member/param/value record); a
//               malformed blob gives a BtfError naming a byte offset, or `problems` naming one
//   values      the map-value renderer on values captured from real maps (dumps.json): an
//               unmutated value renders exactly as bpftool formatted it; a mutated one renders
//               valid JSON, the same twice, reading no byte past the value; a short value
//               yields problems naming the offset instead of made-up fields
//   object      the object-file reader behind `graph --object` (ELF, maps, relocations, linking,
//               the graph) on mutated BPF objects: the bundled chain and the graph-object fixtures,
//               with byte mutations and damaged section headers, symbols and relocations; it
//               returns a graph or throws an ObjectError naming a byte offset in one line, never
//               anything else
//   sites       the tail-call site analyser on mutated xlated instructions captured from the
//               kernel and on random streams: never throws; every site it reports is a real
//               `call bpf_tail_call` instruction; map ids it names are maps the program loads
//
// Runner: cases run in worker threads (resourceLimits caps the heap). The worker stores the case
// it is on in shared memory; the parent watches it, and a case that runs past `caseMs` gets the
// worker terminated and the case replayed alone in a fresh worker with `replayMs`: still stuck
// is a hang (a failure); finished is a starved worker on a busy machine (noted, not failed).
import assert from 'node:assert/strict'
import {mkdtempSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Btf as BtfClass} from '../../src/btf/btf.js'
import type {Renderer as CompiledRenderer} from '../../src/render/btf-json.js'
import {KIND} from '../../src/btf/kinds.js'
import type {BtfType} from '../../src/btf/types.js'
import type {JsonValue} from '../../src/render/parse.js'
import {type BpftoolEntry, readDumps} from '../fixtures/btf/dumps.js'
import {ROOT} from './cli.js'
import {compileBpf} from './clang.js'
import {xorshift} from './xorshift.js'
import {IDLE_MS} from './progress.js'
import {tsWorker} from './ts-worker.js'

const FIXTURES = join(ROOT, 'test', 'fixtures')

/** Case c of (target, seed) draws from its own generator. */
export function caseRng(target: string, seed: number, c: number): () => number {
  let h = 0x811c9dc5
  for (const ch of target) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193)
  return xorshift(Math.imul(seed ^ h, 0x85ebca6b) ^ Math.imul(c + 1, 0xc2b2ae35))
}

const INTERESTING = [
  0, 1, 2, 3, 4, 7, 8, 12, 16, 31, 32, 63, 64, 127, 128, 255, 256, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff,
  0x80000000, 0xfffffffe, 0xffffffff,
]

/** Generic byte mutations: bit flips, random bytes, interesting u32s, truncation, chunk copies. */
function mutateBytes(
  src: Buffer,
  rnd: () => number,
  {align = 4, maxOps = 4}: {align?: number; maxOps?: number} = {},
): Buffer {
  let b = Buffer.from(src)
  const ops = 1 + (rnd() % maxOps)
  for (let k = 0; k < ops && b.length > 0; k++) {
    switch (rnd() % 6) {
      case 0:
        b[rnd() % b.length] ^= 1 << (rnd() % 8)
        break
      case 1:
        b[rnd() % b.length] = rnd() & 0xff
        break
      case 2: {
        const i = (rnd() % Math.max(1, Math.floor(b.length / align))) * align
        if (i + 4 <= b.length) b.writeUInt32LE(INTERESTING[rnd() % INTERESTING.length] >>> 0, i)
        break
      }

      case 3:
        b = b.subarray(0, rnd() % (b.length + 1))
        break
      case 4: {
        const len = rnd() % 48
        const from = rnd() % b.length
        b.copy(b, rnd() % b.length, from, Math.min(b.length, from + len))
        break
      }

      default: {
        // duplicate or drop an aligned chunk (shifts everything after it)
        const i = (rnd() % Math.max(1, Math.floor(b.length / align))) * align
        const len = align * (1 + (rnd() % 4))
        b =
          rnd() % 2
            ? Buffer.concat([b.subarray(0, i), b.subarray(i, i + len), b.subarray(i)])
            : Buffer.concat([b.subarray(0, i), b.subarray(i + len)])
      }
    }
  }

  return b
}

// ---------------------------------------------------------------------------------------------
// targets (run inside the worker)

/** A fuzz target: per-case `run(rnd)` (or `runCase(seed, c)`), and counters it keeps. */
interface Target {
  run?(rnd: () => number): void
  runCase?(seed: number, c: number): unknown
  stats: Record<string, number>
}

async function btfOracleTarget(): Promise<Target> {
  const {Btf, BtfError} = await import('../../src/btf/btf.js')
  const {trailingSize} = await import('../../src/btf/kinds.js')
  const {sys} = await import('../../src/sys/ffi.js')
  const {koffi, libbpf, optional} = sys()
  libbpf.libbpf_set_print(null) // libbpf would print every rejection on stderr
  // Exported by every libbpf 1.x: missing means no libbpf to compare against, a setup failure.
  const need = (prototype: string) => optional(prototype) ?? assert.fail(`libbpf lacks ${prototype}`)
  const btfNew = need('void *btf__new(const void *data, uint32_t size)')
  const typeCnt = need('uint32_t btf__type_cnt(const void *btf)') as (btf: unknown) => number
  const typeById = need('const void *btf__type_by_id(const void *btf, uint32_t id)')
  const nameByOff = need('const char *btf__name_by_offset(const void *btf, uint32_t off)') as (
    btf: unknown,
    off: number,
  ) => string | null
  const btfFree = need('void btf__free(void *btf)')
  const seeds = ['maps.btf', 'chain.btf'].map((f) => readFileSync(join(FIXTURES, 'btf', f)))
  const stats = {acceptedByLibbpf: 0, rejectedByBoth: 0, rejectedByLibbpfOnly: 0}

  return {
    stats,
    run(rnd) {
      const blob = mutateBytes(seeds[rnd() % seeds.length], rnd)
      let ours: BtfClass | undefined
      let ourError: InstanceType<typeof BtfError> | undefined
      try {
        ours = Btf.parse(blob, {name: 'fuzz'})
      } catch (error) {
        if (!(error instanceof BtfError)) throw error
        if (!/\(at byte \d+\)$/.test(error.message))
          throw new Error(`a BtfError without its offset: ${error.message}`, {cause: error})
        ourError = error
      }

      for (const p of ours?.problems ?? [])
        if (!/at byte \d+/.test(p)) throw new Error(`a problem without its offset: ${p}`)
      const lb = blob.length > 0 ? btfNew(blob, blob.length) : null
      if (!lb) {
        if (ourError || (ours?.problems.length ?? 0) > 0) stats.rejectedByBoth++
        else stats.rejectedByLibbpfOnly++ // libbpf checks references eagerly; we check them on use
        return
      }

      try {
        stats.acceptedByLibbpf++
        if (ourError || !ours) throw new Error(`libbpf accepts this blob, we refuse it: ${ourError?.message}`)
        // We may still warn (libbpf ignores e.g. the version field), but must decode the same types.
        const n = typeCnt(lb)
        if (ours.typeCount !== n) throw new Error(`${ours.typeCount} types, libbpf has ${n}`)
        for (let id = 1; id < n; id++) {
          const t = ours.type(id)
          if (!t) throw new Error(`type [${id}]: libbpf has it, we do not`)
          const ptr = typeById(lb, id)
          const head = Buffer.from(koffi.decode(ptr, koffi.array('uint8_t', 12)))
          const info = head.readUInt32LE(4)
          const kind = (info >>> 24) & 0x1f
          const vlen = info & 0xffff
          const rec = Buffer.from(koffi.decode(ptr, koffi.array('uint8_t', 12 + trailingSize(kind, vlen))))
          const where = `type [${id}]`
          if (t.kind !== kind || t.vlen !== vlen || t.kflag !== (info >>> 31 === 1))
            throw new Error(
              `${where}: kind/vlen/kflag ${t.kind}/${t.vlen}/${t.kflag}, libbpf ${kind}/${vlen}/${info >>> 31}`,
            )
          if (t.nameOff !== head.readUInt32LE(0))
            throw new Error(`${where}: name_off ${t.nameOff}, libbpf ${head.readUInt32LE(0)}`)
          const lbName = t.nameOff === 0 ? '' : nameByOff(lb, t.nameOff)
          if ((t.name ?? null) !== (lbName ?? null) && !(t.nameOff === 0 && t.name === ''))
            throw new Error(`${where}: name ${JSON.stringify(t.name)}, libbpf ${JSON.stringify(lbName)}`)
          // Our record is the same bytes as libbpf's: same place in the blob, same length.
          if (!blob.subarray(t.at, t.at + rec.length).equals(rec))
            throw new Error(`${where}: the record at byte ${t.at} differs from libbpf's`)
          checkDecoded(t, rec, where)
        }
      } finally {
        btfFree(lb)
      }
    },
  }
}

/** Our decoded fields against the raw record libbpf holds (x86: little-endian). */
/** Any decoded type seen through the fields every kind may have: the check below is per field, not per kind. */
interface LooseRow {
  bitOffset?: number
  bitfieldSize?: number
  nameOff?: number
  offset?: number
  size?: number
  type?: number
  value?: bigint | number
}

interface LooseType {
  kflag: boolean
  kind: number
  members?: LooseRow[]
  params?: LooseRow[]
  signed?: boolean
  size?: number
  type?: number
  values?: LooseRow[]
  vars?: LooseRow[]
  vlen: number
}

function checkDecoded(decoded: BtfType, rec: Buffer, where: string): void {
  const t = decoded as unknown as LooseType
  const u32 = (o: number) => rec.readUInt32LE(o)
  const fail = (what: string, ours: unknown, raw: unknown) => {
    throw new Error(`${where}: ${what} ${ours}, the record says ${raw}`)
  }

  if ('size' in t && t.kind !== KIND.UNKN && t.size !== u32(8)) fail('size', t.size, u32(8))
  if ('type' in t && !('params' in t) && t.type !== u32(8) && t.kind !== KIND.ARRAY) fail('type', t.type, u32(8))
  const rows = t.members ?? t.params ?? t.values ?? t.vars
  if (!rows) return
  const stride = t.members ? 12 : t.params ? 8 : t.vars ? 12 : t.kind === KIND.ENUM64 ? 12 : 8
  if (rows.length !== t.vlen) fail('rows', rows.length, t.vlen)
  rows.forEach((r, i) => {
    const o = 12 + i * stride
    if (t.members) {
      if (r.nameOff !== u32(o) || r.type !== u32(o + 4))
        fail(`member ${i}`, `${r.nameOff}/${r.type}`, `${u32(o)}/${u32(o + 4)}`)
      const raw = u32(o + 8)
      const bitOffset = t.kflag ? raw & 0xffffff : raw
      const bitfieldSize = t.kflag ? raw >>> 24 : 0
      if (r.bitOffset !== bitOffset || r.bitfieldSize !== bitfieldSize)
        fail(`member ${i} offset`, `${r.bitOffset}:${r.bitfieldSize}`, `${bitOffset}:${bitfieldSize}`)
    } else if (t.params) {
      if (r.nameOff !== u32(o) || r.type !== u32(o + 4))
        fail(`param ${i}`, `${r.nameOff}/${r.type}`, `${u32(o)}/${u32(o + 4)}`)
    } else if (t.vars) {
      if (r.type !== u32(o) || r.offset !== u32(o + 4) || r.size !== u32(o + 8))
        fail(`var ${i}`, `${r.type}/${r.offset}/${r.size}`, `${u32(o)}/${u32(o + 4)}/${u32(o + 8)}`)
    } else if (t.kind === KIND.ENUM64) {
      const v = (BigInt(u32(o + 8)) << 32n) | BigInt(u32(o + 4))
      const want = t.signed ? BigInt.asIntN(64, v) : v
      if (r.nameOff !== u32(o) || r.value !== want)
        fail(`enum64 value ${i}`, `${r.nameOff}/${r.value}`, `${u32(o)}/${want}`)
    } else {
      // The decoder keeps ENUM values as the record's s32 bits (bpftool reads them so); signedness is t.signed.
      const want = rec.readInt32LE(o + 4)
      if (r.nameOff !== u32(o) || r.value !== want)
        fail(`enum value ${i}`, `${r.nameOff}/${r.value}`, `${u32(o)}/${want}`)
    }
  })
}

async function valuesTarget(): Promise<Target> {
  const {Btf} = await import('../../src/btf/btf.js')
  const {compileRenderer} = await import('../../src/render/btf-json.js')
  const {parseJson} = await import('../../src/render/parse.js')
  const dumps = readDumps()
  const blobs: Record<string, BtfClass> = {}
  const samples: {
    btf: BtfClass
    bytes: Buffer
    formatted: JsonValue | undefined
    map: string
    size: number
    typeId: number
  }[] = []
  for (const [map, m] of Object.entries(dumps.maps)) {
    const file = m.btf
    if (!file || !m.bpftool) continue
    blobs[file] ??= Btf.parse(readFileSync(join(FIXTURES, 'btf', file)), {name: file})
    // bpftool's own text, parsed with exact 64-bit integers.
    for (const e of parseJson(m.bpftool) as unknown as BpftoolEntry[]) {
      const hex = (a: string[]) => Buffer.from(a.map((x) => Number.parseInt(x, 16)))
      const add = (bytes: string[], formatted: JsonValue | undefined, size: number, typeId: number) =>
        samples.push({btf: blobs[file] as BtfClass, bytes: hex(bytes), formatted, map, size, typeId})
      add(e.key, e.formatted?.key, m.keySize, m.btfKeyTypeId)
      if (e.value) add(e.value, e.formatted?.value, m.valueSize, m.btfValueTypeId)
      // Per-CPU maps: one value per CPU, each rendered on its own.
      for (const [i, v] of (e.values ?? []).entries())
        add(v.value, e.formatted?.values?.[i]?.value, m.valueSize, m.btfValueTypeId)
    }
  }

  const renderers = new Map<string, CompiledRenderer>()
  const renderer = (s: (typeof samples)[number], size: number): CompiledRenderer => {
    const k = `${s.map}/${s.typeId}/${size}`
    let r = renderers.get(k)
    if (!r) renderers.set(k, (r = compileRenderer(s.btf, s.typeId, size)))
    return r
  }

  // The oracle, once: every captured value renders exactly as bpftool formatted it.
  const text = (v: unknown) => JSON.stringify(v, (_, x) => (typeof x === 'bigint' ? `${x}n` : x))
  for (const s of samples) {
    if (s.formatted === undefined) continue
    const ours = parseJson(renderer(s, s.size).json(s.bytes, 0))
    if (text(ours) !== text(s.formatted))
      throw new Error(`${s.map} type ${s.typeId}: renders ${text(ours)}, bpftool ${text(s.formatted)}`)
  }

  const stats = {samples: samples.length, short: 0}
  return {
    stats,
    run(rnd) {
      const s = samples[rnd() % samples.length] ?? assert.fail('no samples')
      const short = rnd() % 8 === 0
      // A value shorter than its type (a foreign map whose BTF does not match): problems with offsets.
      const size = short ? rnd() % Math.max(1, s.size) : s.size
      const bytes = mutateBytes(s.bytes, rnd, {align: 1}).subarray(0, size)
      const exact = Buffer.alloc(size)
      bytes.copy(exact)
      const r = renderer(s, size)
      if (r.extent > size) throw new Error(`${s.map}: the renderer reads ${r.extent} bytes of a ${size}-byte value`)
      // Bytes the type really reads (tail padding excepted): a value shorter than that must say so.
      const need = renderer(s, s.size).extent
      if (size < need) {
        stats.short++
        if (r.problems.length === 0)
          throw new Error(`${s.map}: a ${size}-byte value for a type reading ${need} bytes renders without a problem`)
        for (const p of r.problems)
          if (!Number.isInteger(p.offset) || p.offset < 0 || p.offset > s.size)
            throw new Error(`${s.map}: problem without a valid offset: ${JSON.stringify(p)}`)
      }

      const a = r.json(exact, 0)
      const b = r.json(exact, 0)
      if (a !== b) throw new Error(`${s.map}: two renderings of one value differ`)
      parseJson(a)
    },
  }
}

async function sitesTarget(): Promise<Target> {
  const {findTailCallSites} = await import('../../src/graph/sites.js')
  const names = ['prog1', 'prog2', 'prog3', 'graph5-s2', 'graph5-s3', 'graph5-sockf']
  const bases = names.map((n) => readFileSync(join(FIXTURES, 'xlated', `${n}.xlated`)))
  // Instructions worth planting: call bpf_tail_call, ld_imm64 map[id:7] (2 slots), mov r3 = k, ja/jeq back and forward, exit.
  const plant = [
    Buffer.from([0x85, 0, 0, 0, 12, 0, 0, 0]),
    Buffer.from([0x18, 0x12, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    Buffer.from([0xb7, 0x03, 0, 0, 1, 0, 0, 0]),
    Buffer.from([0x05, 0, 0xfe, 0xff, 0, 0, 0, 0]),
    Buffer.from([0x15, 0x03, 0x02, 0x00, 0, 0, 0, 0]),
    Buffer.from([0x95, 0, 0, 0, 0, 0, 0, 0]),
  ]
  const stats = {sites: 0}
  return {
    stats,
    run(rnd) {
      let buf
      const how = rnd() % 8
      if (how === 0) {
        buf = Buffer.alloc(rnd() % 4096)
        for (let i = 0; i < buf.length; i++) buf[i] = rnd() & 0xff
      } else if (how === 1) {
        // splice two programs
        const a = bases[rnd() % bases.length]
        const b = bases[rnd() % bases.length]
        buf = Buffer.concat([
          a.subarray(0, 8 * (rnd() % (a.length / 8 + 1))),
          b.subarray(8 * (rnd() % (b.length / 8 + 1))),
        ])
      } else {
        buf = mutateBytes(bases[rnd() % bases.length], rnd, {align: 8})
        if (how === 2 && buf.length >= 16) {
          const p = plant[rnd() % plant.length]
          p.copy(buf, 8 * (rnd() % Math.floor((buf.length - p.length) / 8 + 1)))
        }
      }

      const a = findTailCallSites(buf)
      if (!Array.isArray(a.sites) || !Array.isArray(a.problems)) throw new Error('no sites/problems arrays')
      const n = Math.floor(buf.length / 8)
      for (const s of a.sites) {
        stats.sites++
        if (!Number.isInteger(s.insn) || s.insn < 0 || s.insn >= n) throw new Error(`a site at insn ${s.insn} of ${n}`)
        const p = s.insn * 8
        if (buf[p] !== 0x85 || buf.readInt32LE(p + 4) !== 12 || buf[p + 1] >> 4 !== 0)
          throw new Error(`insn ${s.insn} is not call bpf_tail_call`)
        for (const id of [s.mapId, ...(s.mapIds ?? [])].filter((x) => x !== undefined)) {
          if (!a.mapRefs.includes(id))
            throw new Error(`site ${s.insn} names map ${id}, which the program does not load`)
        }

        const keys = s.key.kind === 'constant' ? [s.key.value] : s.key.kind === 'one-of' ? s.key.values : []
        for (const k of keys)
          if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw new Error(`site ${s.insn}: key ${k}`)
        if (s.path === 'direct' && s.key.kind !== 'constant')
          throw new Error(`site ${s.insn}: direct path without a constant key`)
      }
    },
  }
}

/** Object files to mutate: the bundled chain and the graph --object fixtures (built once per worker). */
function objectBases(): Buffer[] {
  const bases = [readFileSync(join(ROOT, 'bpf', 'tailcalls.bpf.o'))]
  let dir: string | undefined
  try {
    dir = mkdtempSync(join(tmpdir(), 'tailcalls-fuzz-object-'))
    const src = join(FIXTURES, 'graph-object')
    for (const f of readdirSync(src).filter((x) => x.endsWith('.bpf.c'))) {
      bases.push(readFileSync(compileBpf(join(src, f), join(dir, `${f}.o`))))
    }
  } catch (error) {
    // No clang here: the bundled object alone.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  } finally {
    if (dir) rmSync(dir, {force: true, recursive: true})
  }

  return bases
}

async function objectTarget(): Promise<Target> {
  const {ElfObject, ObjectError} = await import('../../src/object/elf.js')
  const {decodeObject} = await import('../../src/object/decode.js')
  const {graphOfObject} = await import('../../src/object/graph.js')
  const bases = objectBases()
  const stats = {decoded: 0, refused: 0}
  // ELF-aware damage: a field of a section header, a symbol or a relocation set to an odd value.
  const damage = (b: Buffer, rnd: () => number) => {
    if (b.length < 64) return
    const shoff = Number(b.readBigUInt64LE(0x28))
    const shnum = b.readUInt16LE(0x3c)
    const i = rnd() % Math.max(1, shnum)
    const at = shoff + i * 64
    if (at + 64 > b.length) return
    const type = b.readUInt32LE(at + 4)
    const off = Number(b.readBigUInt64LE(at + 24))
    const size = Number(b.readBigUInt64LE(at + 32))
    const v = INTERESTING[rnd() % INTERESTING.length] >>> 0
    const SHT_SYMTAB = 2
    const SHT_REL = 9
    if ((type === SHT_SYMTAB || type === SHT_REL) && size >= 24 && off + size <= b.length && rnd() % 2) {
      // an entry of the symbol table or of a relocation section
      const ent = type === SHT_SYMTAB ? 24 : 16
      const e = off + ent * (rnd() % Math.floor(size / ent))
      b.writeUInt32LE(v, e + 4 * (rnd() % (ent / 4)))
    } else {
      b.writeUInt32LE(v, at + [0, 4, 8, 24, 32, 40, 44, 56][rnd() % 8])
    }
  }

  return {
    stats,
    run(rnd) {
      const base = bases[rnd() % bases.length]
      const b = rnd() % 3 === 0 ? Buffer.from(base) : mutateBytes(base, rnd, {align: 8})
      if (rnd() % 2 || b.equals(base)) damage(b, rnd)
      let g
      try {
        g = graphOfObject(decodeObject(ElfObject.parse(b)), 'fuzz.o')
      } catch (error) {
        if (!(error instanceof ObjectError))
          throw new Error(`not an ObjectError: ${(error as Error)?.stack ?? error}`, {cause: error})
        if (!Number.isInteger(error.offset) || error.offset < 0)
          throw new Error(`an ObjectError without a valid offset: ${error.message}`, {cause: error})
        if (!/\(at byte offset \d+\)$/.test(error.message) || error.message.includes('\n'))
          throw new Error(`not one line naming the offset: ${error.message}`, {cause: error})
        stats.refused++
        return
      }

      stats.decoded++
      JSON.parse(JSON.stringify(g))
      for (const e of g.edges)
        if (!g.programs.some((p) => p.id === e.from))
          throw new Error(`an edge from program ${e.from}, which is not in the graph`)
    },
  }
}

async function btfTarget(): Promise<Target> {
  const {runFuzz} = await import('./fuzz-btf.js')
  return {
    // The decoder's own harness, one case at a time (it draws its case from (seed, case)).
    async runCase(seed: number, c: number) {
      const s = await runFuzz({cases: 1, from: c, seed})
      if (s.failures[0]) throw new Error(s.failures[0].error)
    },
    stats: {},
  }
}

export const TARGETS: Record<string, () => Promise<Target>> = {
  btf: btfTarget,
  'btf-oracle': btfOracleTarget,
  object: objectTarget,
  sites: sitesTarget,
  values: valuesTarget,
  // Self-tests of the runner: a case that never returns, a case that eats memory without bound.
  'hang-at-5': async () => ({
    runCase: (_: number, c: number) => {
      if (c === 5) for (;;);
    },
    stats: {},
  }),
  'oom-at-3': async () => ({
    runCase: (_: number, c: number) => {
      if (c === 3) {
        const keep: string[] = []
        for (;;) keep.push(Buffer.alloc(0).toString() + 'x'.repeat(1 << 16) + keep.length)
      }
    },
    stats: {},
  }),
}

/** Worker body: run cases [from, to) of one target; the current case goes to shared memory. */
/** A failed case, named so that (target, seed, case) replays it. */
export interface CaseFailure {
  case: number
  error: string
}

interface CasesResult {
  failures: CaseFailure[]
  initError?: string
  stats?: Record<string, number>
}

export async function runCases({
  target,
  seed,
  from,
  to,
  progress,
}: {
  from: number
  progress: Int32Array
  seed: number
  target: string
  to: number
}): Promise<CasesResult> {
  let t: Target
  try {
    const make = TARGETS[target] ?? assert.fail(`no fuzz target ${target}`)
    t = await make()
  } catch (error) {
    return {failures: [], initError: `${target}: setting up failed: ${(error as Error)?.stack ?? error}`}
  }

  const failures: CaseFailure[] = []
  for (let c = from; c < to; c++) {
    Atomics.store(progress, 0, c)
    Atomics.add(progress, 1, 1)
    try {
      if (t.runCase) await t.runCase(seed, c)
      else t.run?.(caseRng(target, seed, c))
    } catch (error) {
      failures.push({
        case: c,
        error: `${target} seed ${seed} case ${c}: ${String((error as Error)?.stack ?? error)
          .split('\n')
          .slice(0, 4)
          .join(' | ')}`,
      })
      if (failures.length >= 20) break
    }
  }

  return {failures, stats: t.stats}
}

// ---------------------------------------------------------------------------------------------
// runner (parent side)

interface WorkerOutcome {
  crashed?: number
  error?: Error & {code?: string}
  ran: number
  result?: CasesResult
  stuck?: number
}

function runWorker(
  {target, seed, from, to}: {from: number; seed: number; target: string; to: number},
  {caseMs, heapMb}: {caseMs: number; heapMb: number},
): Promise<WorkerOutcome> {
  const progress = new Int32Array(new SharedArrayBuffer(8))
  progress[0] = from
  const worker = tsWorker(new URL('fuzz-worker.ts', import.meta.url), {
    resourceLimits: {maxOldGenerationSizeMb: heapMb},
    workerData: {from, progress, seed, target, to},
  })
  return new Promise((resolve) => {
    let last = -1
    let lastAt = Date.now()
    // Starting a worker (tsx compiling its imports) is not a case: the watchdog is armed once the
    // worker says it is loaded; until then only a worker that never loads (IDLE_MS) is stuck.
    let loaded = false
    const timer = setInterval(() => {
      if (!loaded) {
        if (Date.now() - lastAt > IDLE_MS) done({stuck: from})
        return
      }

      const now = Atomics.load(progress, 1)
      if (now !== last) {
        last = now
        lastAt = Date.now()
      } else if (Date.now() - lastAt > caseMs) {
        done({stuck: Atomics.load(progress, 0)})
      }
    }, 50)
    const done = (r: Omit<WorkerOutcome, 'ran'>) => {
      clearInterval(timer)
      worker.terminate()
      resolve({...r, ran: Atomics.load(progress, 1)})
    }

    worker.on('message', (m) => {
      if (m.loaded) {
        loaded = true
        lastAt = Date.now()
      } else {
        done({result: m})
      }
    })
    worker.on('error', (error) => done({crashed: Atomics.load(progress, 0), error}))
    worker.on('exit', (code) => done({crashed: Atomics.load(progress, 0), error: new Error(`worker exited ${code}`)}))
  })
}

/**
 * Run `cases` cases of `target` from `from`, in chunks on `workers` threads. Every case is
 * bounded by `caseMs` (then replayed alone with `replayMs`) and the heap by `heapMb`.
 * Resolves {cases, failures, slow, stats, ms}.
 */
export interface FuzzTotal {
  cases: number
  failures: CaseFailure[]
  slow: string[]
  stats: Record<string, number>
}

export async function fuzz({
  target,
  seed = 1,
  from = 0,
  cases,
  workers = 1,
  chunk = 20_000,
  caseMs = 5000,
  replayMs = 30_000,
  heapMb = 512,
  onChunk,
}: {
  caseMs?: number
  cases: number
  chunk?: number
  from?: number
  heapMb?: number
  onChunk?: (total: FuzzTotal) => void
  replayMs?: number
  seed?: number
  target: string
  workers?: number
}): Promise<FuzzTotal & {ms: number}> {
  const started = performance.now()
  const total: FuzzTotal = {cases: 0, failures: [], slow: [], stats: {}}
  const queue: [number, number][] = []
  for (let a = from; a < from + cases; a += chunk) queue.push([a, Math.min(from + cases, a + chunk)])
  const merge = (stats: Record<string, number> | undefined) => {
    for (const [k, v] of Object.entries(stats ?? {}))
      if (typeof v === 'number') total.stats[k] = (total.stats[k] ?? 0) + v
  }

  const runRange = async (a: number, b: number) => {
    while (a < b) {
      const r = await runWorker({from: a, seed, target, to: b}, {caseMs, heapMb})
      if (r.result?.initError) throw new Error(r.result.initError)
      if (r.result) {
        total.cases += b - a
        total.failures.push(...r.result.failures)
        merge(r.result.stats)
        return
      }

      const bad = r.stuck ?? r.crashed ?? assert.fail('a worker ended with neither a result nor a case it was on')
      total.cases += bad - a
      if (r.stuck !== undefined) {
        // Replay the case alone with a longer budget: a hang, or a worker starved by a busy machine?
        const again = await runWorker({from: bad, seed, target, to: bad + 1}, {caseMs: replayMs, heapMb})
        if (again.result) {
          total.slow.push(`${target} seed ${seed} case ${bad}: over ${caseMs} ms in a busy worker, passed alone`)
          total.failures.push(...again.result.failures)
        } else {
          total.failures.push({
            case: bad,
            error: `${target} seed ${seed} case ${bad}: ${again.stuck !== undefined ? `a hang (over ${replayMs} ms alone)` : `crashed the worker (${again.error?.code ?? ''} ${again.error?.message})`}`,
          })
        }
      } else {
        total.failures.push({
          case: bad,
          error: `${target} seed ${seed} case ${bad}: crashed the worker (${r.error?.code ?? ''} ${r.error?.message})`,
        })
      }

      total.cases += 1
      a = bad + 1
    }
  }

  await Promise.all(
    Array.from({length: workers}, async () => {
      while (queue.length > 0) {
        const [a, b] = queue.shift() ?? assert.fail('checked non-empty')
        await runRange(a, b)
        onChunk?.(total)
      }
    }),
  )
  return {...total, ms: performance.now() - started}
}
