// `tailcalls map dump` on the real kernel, with bpftool as the oracle, on maps this test
// creates: the fixture object's maps (struct keys, enums, bitfields, char arrays, per-CPU
// hash and array, global data, no BTF), a map whose BTF we build (ENUM64, signed enums,
// type tags), big maps (batch reads, streaming, `| head`), and the live chain.
import assert from 'node:assert/strict'
import {execFileSync, spawn} from 'node:child_process'
import {mkdirSync, rmSync} from 'node:fs'
import {after, before, describe, test} from 'node:test'

import {possibleCpus} from '../../src/inspect/map-read.js'
import {probeBtfKind, probeLookupBatch} from '../../src/kernel/features.js'
import {parseJson as parseJsonValue} from '../../src/render/parse.js'
import {sys} from '../../src/sys/ffi.js'
import {MAP_CREATE_OPTS} from '../../src/sys/layouts.js'
import {BPF_MAP_TYPE} from '../../src/sys/uapi.js'
import {BtfBuilder} from '../../src/btf/builder.js'
import {BIN, ROOT, type RunOptions, runCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone, startChain} from '../helpers/kernel.js'
import {type LoadedMaps, fillBig, loadMaps, update} from '../helpers/maps.js'
import {fixtureEntries} from '../fixtures/btf/values.js'
import {EXPECT, IN_VM, KERNEL_LABEL, definedPart, knownPart} from '../helpers/kernel-expect.js'
import {needsRoot} from '../helpers/root.js'

/** bpftool's and our dump JSON, parsed with exact 64-bit integers and read field by field. */
const parseJson = (text: string): any => parseJsonValue(text)

function bpftoolMapShow(id: string): string {
  return execFileSync('bpftool', ['--json', 'map', 'show', 'id', id], {encoding: 'utf8'})
}

// Which map types this kernel reads in batches, probed the way `doctor` does, and checked
// against what this kernel version is known to have.
const BATCH: Record<string, string> = Object.fromEntries(
  (['array', 'hash', 'percpu_array', 'percpu_hash'] as const).map((t) => [t, probeLookupBatch(t)]),
)

test(`batch reads on ${KERNEL_LABEL}: the probe agrees with the kernel version`, needsRoot, () => {
  const probed = Object.fromEntries(Object.entries(BATCH).map(([t, r]) => [t, r === 'ok']))
  assert.deepEqual(knownPart(probed, EXPECT.lookupBatch), definedPart(EXPECT.lookupBatch))
})

/**
 * The stderr of a dump of map `id`: empty, or, on a kernel without batch reads for the map's
 * type (5.10: per-CPU arrays), exactly the one line saying it reads entries one by one.
 */
function assertDumpStderr(stderr: string, id: number | string): void {
  const type = parseJson(bpftoolMapShow(String(id))).type
  if (BATCH[type] === undefined || BATCH[type] === 'ok') {
    assert.equal(stderr, '', `${type} map ${id}`)
    return
  }

  assert.equal(BATCH[type], 'unsupported', `${type}: ${BATCH[type]}`)
  assert.match(
    stderr,
    new RegExp(
      `^tailcalls: warning: map ${id}: this kernel cannot batch-read ${type} maps \\(BPF_MAP_LOOKUP_BATCH answered E[A-Z]+\\); reading entries one by one \\(same output, one syscall per entry\\)\n$`,
    ),
  )
}

function bpftoolDump(...sel: string[]): string {
  return execFileSync('bpftool', ['--json', 'map', 'dump', ...sel], {encoding: 'utf8', maxBuffer: 1 << 30})
}

async function ours(args: string[], opts?: RunOptions) {
  const r = await runCli(['map', 'dump', ...args], opts)
  return r
}

describe('fixture maps: byte for byte the same as bpftool --json', needsRoot, () => {
  let fx: LoadedMaps
  before(() => {
    fx = loadMaps('btf-maps')
    const entries = fixtureEntries(possibleCpus())
    for (const [name, list] of Object.entries(entries))
      for (const {key, value} of list) update(fx.maps[name].fd, key, value)
  })
  after(async () => {
    fx?.close()
    await assertGone({maps: fx?.ids ?? {}})
  })

  for (const name of [
    'hash_struct_key',
    'array_mixed',
    'pcpu_hash',
    'pcpu_array',
    'hash_no_btf',
    'btf_maps.rodata',
    'btf_maps.data',
  ]) {
    test(name, async () => {
      const id = String(fx.ids[name])
      const want = bpftoolDump('id', id)
      const batch = await ours(['id', id, '--json'])
      assert.equal(batch.code, 0, batch.stderr)
      // A kernel without batch reads for this map type (5.10: per-CPU arrays) gets the same
      // dump, read one element at a time, and one warning line saying so.
      assertDumpStderr(batch.stderr, id)

      assert.equal(batch.stdout, want)
      const single = await ours(['id', id, '--json', '--no-batch'])
      assert.equal(single.stderr, '', '--no-batch never tries a batch read')
      assert.equal(single.stdout, want)
      assert.ok(parseJson(want).length > 0)
    })
  }

  test('per-CPU values: one {cpu, value} per possible CPU, formatted as SharedState-like structs', async () => {
    const r = parseJson((await ours(['id', String(fx.ids.pcpu_array), '--json'])).stdout)
    for (const e of r) {
      assert.deepEqual(
        e.values.map((v) => v.cpu),
        Array.from({length: possibleCpus()}, (_, i) => i),
      )
      assert.deepEqual(Object.keys(e.formatted.values[0].value), ['packets', 'flags', 'tag'])
    }
  })

  test('floats, which bpftool 7.1 cannot print, come out as JSON numbers (or, before 5.13, a warning)', async () => {
    const id = fx.ids.array_floats
    const r = await ours(['id', String(id), '--json'])
    assert.equal(r.code, 0)
    const entries = parseJson(r.stdout)
    const hasFloat = probeBtfKind('float')
    if (EXPECT.btfKinds.float !== undefined)
      assert.equal(hasFloat, EXPECT.btfKinds.float, `BTF FLOAT on ${KERNEL_LABEL}`)
    if (hasFloat) {
      assert.equal(r.stderr, '')
      assert.deepEqual(
        entries.map((e) => e.formatted),
        [
          {key: 0, value: {d: -2.25, f: 1.5}},
          {key: 1, value: {d: 'Infinity', f: 'NaN'}},
        ],
      )
    } else {
      // libbpf loaded the object with FLOAT replaced by empty structs: the raw bytes are still
      // there, the formatted value is {} as bpftool prints it, and stderr says why.
      assert.deepEqual(
        entries.map((e) => e.formatted),
        [
          {key: 0, value: {d: {}, f: {}}},
          {key: 1, value: {d: {}, f: {}}},
        ],
      )
      assert.deepEqual(entries[0].value.slice(0, 4), ['0x00', '0x00', '0xc0', '0x3f'], '1.5f, little-endian')
      const lines = r.stderr.trimEnd().split('\n')
      assert.equal(lines.length, 2, r.stderr)
      assert.match(
        lines[0],
        new RegExp(
          `^tailcalls: warning: map ${id} \\(array_floats\\): value\\.f \\(byte 0, BTF type \\d+\\) is an anonymous 4-byte struct with no members: a type this kernel's BTF lacks \\(FLOAT before 5\\.13\\)`,
        ),
      )
      assert.match(lines[1], /value\.d \(byte 8, BTF type \d+\) is an anonymous 8-byte struct/)
    }
  })

  test('selectors: name and pinned give the same dump as bpftool', async () => {
    const byName = await ours(['name', 'hash_struct_key', '--json'])
    assert.equal(byName.stdout, bpftoolDump('name', 'hash_struct_key'))
    const dir = `/sys/fs/bpf/tailcalls-test-${process.pid}`
    mkdirSync(dir)
    try {
      const pin = `${dir}/array_mixed`
      assert.equal(sys().libbpf.bpf_obj_pin(fx.maps.array_mixed.fd, pin), 0)
      const r = await ours(['pinned', pin, '--json'])
      assert.equal(r.stdout, bpftoolDump('pinned', pin))
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  test('a name matching several maps: an array of {id, type, name, flags, elements}, as bpftool', async () => {
    const second = loadMaps('btf-maps')
    try {
      update(second.maps.pcpu_array.fd, Buffer.from([1, 0, 0, 0]), Buffer.alloc(16 * possibleCpus(), 7))
      const r = await ours(['name', 'pcpu_array', '--json'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stdout, bpftoolDump('name', 'pcpu_array'))
      const maps = parseJson(r.stdout)
      assert.deepEqual(
        maps.map((m) => m.id).filter((id) => id === fx.ids.pcpu_array || id === second.ids.pcpu_array).length,
        2,
      )
      assert.deepEqual(Object.keys(maps[0]), ['id', 'type', 'name', 'flags', 'elements'])
      const table = await ours(['name', 'pcpu_array'])
      assert.match(
        table.stdout,
        new RegExp(`^${second.ids.pcpu_array}: percpu_array  name pcpu_array  flags 0x0$`, 'm'),
      )
    } finally {
      second.close()
      await assertGone({maps: second.ids})
    }
  })

  test('tables: per-CPU map as CPU × field with a total row; struct keys; hex without BTF', async () => {
    const pc = await ours(['id', String(fx.ids.pcpu_array)])
    assert.equal(pc.code, 0, pc.stderr)
    assert.match(pc.stdout, /KEY\s*│\s*CPU\s*│\s*packets\s*│\s*flags\s*│\s*tag/)
    assert.equal(pc.stdout.match(/│\s*total\s*│/g)?.length, 4, 'one total row per key')
    assert.match(pc.stdout, /Found 4 elements\n$/)
    // eslint-disable-next-line no-control-regex -- the escape character is what it looks for
    assert.doesNotMatch(pc.stdout, /\u001B\[/, 'no colour when piped')
    for (const line of pc.stdout.split('\n').filter((l) => /│\s*total\s*│/.test(l))) {
      assert.match(line, /│\s*total\s*│\s*\d+\s*│\s*\d+\s*│\s*│$/, 'integers are totalled, the char array tag is not')
    }

    const wide = await ours(['id', String(fx.ids.array_mixed)])
    assert.match(wide.stdout, /KEY\s*│\s*FIELD\s*│\s*VALUE/, 'a value with many fields is listed one field per row')
    assert.match(wide.stdout, /│ name\s*│ hello "x"\s*│/)
    assert.match(wide.stdout, /│ bits\.wide\s*│ 0x6789abcdef\s*│/)
    const hk = await ours(['id', String(fx.ids.hash_struct_key)])
    assert.match(hk.stdout, /\{"id":7,"c":"RED"\}\s*│\s*0 /)
    const raw = await ours(['id', String(fx.ids.hash_no_btf)])
    assert.match(raw.stdout, /│ [0-9a-f]{2}( [0-9a-f]{2}){5} +│ 0[0-2]( [0-9a-f]{2}){19} +│/)
    assert.match(raw.stdout, /Found 3 elements/)
  })
})

describe('BTF we build and load: ENUM64, signed enums, type tags, odd ints', needsRoot, () => {
  const fds: number[] = []
  after(() => {
    for (const fd of fds) sys().libc.close(fd)
  })

  // The kinds this kernel accepts (ENUM64 and signed enums 6.0, TYPE_TAG 5.17, DECL_TAG 5.16):
  // a kernel without them cannot hold such BTF at all, so the map is built with what it has.
  const kinds = {decl_tag: probeBtfKind('decl_tag'), enum64: probeBtfKind('enum64'), type_tag: probeBtfKind('type_tag')}

  test(`the kernel (${KERNEL_LABEL}) accepts the BTF kinds it is known to have, and refuses the others`, () => {
    assert.deepEqual(knownPart({...kinds, float: probeBtfKind('float')}, EXPECT.btfKinds), definedPart(EXPECT.btfKinds))
    const bb = new BtfBuilder()
    bb.enum64('big', 8, [['BIG', 1n << 40n]])
    const blob = bb.bytes()
    const fd = sys().libbpf.bpf_btf_load(blob, blob.length, null)
    if (fd >= 0) sys().libc.close(fd)
    assert.equal(fd >= 0, kinds.enum64, `bpf_btf_load of an ENUM64: ${fd}`)
    if (!kinds.enum64) assert.equal(fd, -22, 'EINVAL: unknown kind')
  })

  test(`byte for byte the same as bpftool (${Object.entries(kinds)
    .map(([k, v]) => `${k}: ${v ? 'yes' : 'no'}`)
    .join(', ')})`, async () => {
    const {libbpf} = sys()
    const bb = new BtfBuilder()
    const u32t = bb.int('unsigned int', 4)
    const i32 = bb.int('int', 4, {signed: true})
    const u64t = bb.int('unsigned long long', 8)
    const e64 = kinds.enum64
      ? bb.enum64('big', 8, [
          ['BIG_LOW', 1n],
          ['BIG_HIGH', 1n << 40n],
          ['BIG_TOP', (1n << 64n) - 2n],
        ])
      : u64t
    const se = bb.enum(
      'delta',
      4,
      [
        ['DOWN', -1],
        ['UP', 1],
      ],
      {signed: kinds.enum64},
    )
    const tagged = bb.ptr(kinds.type_tag ? bb.typeTag('user', u32t) : u32t)
    const b12 = bb.int('u12', 2, {bits: 12})
    const val = bb.struct('tagged_val', 40, [
      {bitOffset: 0, name: 'e', type: e64},
      {bitOffset: 64, name: 'd', type: se},
      {bitOffset: 96, name: 'n', type: i32},
      {bitOffset: 128, name: 'p', type: tagged},
      {bitOffset: 192, name: 'odd', type: b12},
      {bitOffset: 256, name: 'c', type: u64t},
    ])
    if (kinds.decl_tag) bb.declTag('kernel_note', val, 0)
    const blob = bb.bytes()
    const btfFd = libbpf.bpf_btf_load(blob, blob.length, null)
    assert.ok(btfFd >= 0, `bpf_btf_load: ${btfFd}`)
    fds.push(btfFd)
    const opts = Buffer.alloc(MAP_CREATE_OPTS.size)
    opts.writeBigUInt64LE(BigInt(MAP_CREATE_OPTS.size), MAP_CREATE_OPTS.sz)
    opts.writeUInt32LE(btfFd, MAP_CREATE_OPTS.btf_fd)
    opts.writeUInt32LE(u32t, MAP_CREATE_OPTS.btf_key_type_id)
    opts.writeUInt32LE(val, MAP_CREATE_OPTS.btf_value_type_id)
    const mapFd = libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, 'tailcalls_e64', 4, 40, 4, opts)
    assert.ok(mapFd >= 0, `bpf_map_create: ${mapFd}`)
    fds.push(mapFd)
    const values: [bigint, number, number][] = [
      [1n, -1, 0x7ff],
      [1n << 40n, 1, 0xfff],
      [(1n << 64n) - 2n, 5, 0],
      [12345n, -7, 1],
    ]
    for (const [i, [e, d, odd]] of values.entries()) {
      const v = Buffer.alloc(40)
      v.writeBigUInt64LE(e, 0)
      v.writeInt32LE(d, 8)
      v.writeInt32LE(-i, 12)
      v.writeBigUInt64LE(0xffff888000000000n + BigInt(i), 16)
      v.writeUInt16LE(odd | 0xf000, 24)
      v.writeBigUInt64LE(BigInt(i) << 60n, 32)
      update(mapFd, Buffer.from([i, 0, 0, 0]), v)
    }

    const id = String((await import('../../src/kernel/info.js')).mapInfo(mapFd).id)
    const want = bpftoolDump('id', id)
    const r = await ours(['id', id, '--json'])
    assert.equal(r.stdout, want)
    const f = parseJson(r.stdout).map((e) => e.formatted.value)
    assert.deepEqual(
      f.map((v) => v.e),
      kinds.enum64 ? ['BIG_LOW', 'BIG_HIGH', 'BIG_TOP', 12345] : [1, 2 ** 40, (1n << 64n) - 2n, 12345],
    )
    // Unknown values of a 4-byte enum print signed either way (bpftool 7.1 does the same).
    assert.deepEqual(
      f.map((v) => v.d),
      ['DOWN', 'UP', 5, -7],
    )
    assert.deepEqual(
      f.map((v) => v.odd),
      ['0x7ff', '0xfff', '0x0', '0x1'],
    )
  })
})

/**
 * bpftool 7.5 (Debian 13) adds `"inner_map_id": N` after the value of each map-of-maps entry: the
 * value's four bytes again, as a number. tailcalls keeps bpftool 7.1's entries, a deliberate choice
 * (README: Requirements): the same JSON whichever bpftool is installed. Only a key that repeats its
 * value is taken out of bpftool's text; the rest is compared byte for byte.
 */
function withoutInnerMapId(text: string): string {
  return text.replace(
    /("value":\[("0x[0-9a-f]{2}",?){4}\]),"inner_map_id":(\d+)\}/g,
    (entry: string, value: string, _byte: string, id: string) => {
      const bytes = Buffer.from(JSON.parse(value.slice('"value":'.length)).map((b: string) => Number(b)))
      return bytes.readUInt32LE() === Number(id) ? `${value}}` : entry
    },
  )
}

describe('maps without BTF of other types: map-of-maps (empty slots skipped), LRU hashes', needsRoot, () => {
  const fds: number[] = []
  after(() => {
    for (const fd of fds.reverse()) sys().libc.close(fd)
  })

  test('byte for byte the same as bpftool, batch and per element', async () => {
    const {libbpf} = sys()
    const {mapInfo} = await import('../../src/kernel/info.js')
    const create = (type: number, name: string, ks: number, vs: number, n: number, opts: Buffer | null = null) => {
      const fd = libbpf.bpf_map_create(type, name, ks, vs, n, opts)
      assert.ok(fd >= 0, `bpf_map_create(${name}): ${fd}`)
      fds.push(fd)
      return fd
    }

    const inner = create(BPF_MAP_TYPE.ARRAY, 'tailcalls_inner', 4, 8, 1)
    const opts = Buffer.alloc(MAP_CREATE_OPTS.size)
    opts.writeBigUInt64LE(BigInt(MAP_CREATE_OPTS.size), MAP_CREATE_OPTS.sz)
    opts.writeUInt32LE(inner, MAP_CREATE_OPTS.inner_map_fd)
    const outer = create(BPF_MAP_TYPE.ARRAY_OF_MAPS, 'tailcalls_aom', 4, 4, 3, opts)
    const innerFd = Buffer.alloc(4)
    innerFd.writeInt32LE(inner)
    update(outer, Buffer.from([1, 0, 0, 0]), innerFd)
    const lru = create(BPF_MAP_TYPE.LRU_HASH, 'tailcalls_lru', 8, 4, 64)
    const lruPcpu = create(BPF_MAP_TYPE.LRU_PERCPU_HASH, 'tailcalls_lrupc', 4, 12, 64)
    for (let i = 0; i < 20; i++) {
      update(lru, Buffer.from([i, 0, 0, 0, 0, 0, 0, i]), Buffer.from([i, i, i, i]))
      update(lruPcpu, Buffer.from([i, 1, 2, 3]), Buffer.alloc(16 * possibleCpus(), i))
    }

    for (const fd of [outer, lru, lruPcpu]) {
      const id = String(mapInfo(fd).id)
      const want = withoutInnerMapId(bpftoolDump('id', id))
      for (const extra of [[], ['--no-batch']]) {
        const r = await ours(['id', id, '--json', ...extra])
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stdout, want, `map ${id} ${extra.join(' ')}`)
      }
    }

    assert.equal(parseJson(bpftoolDump('id', String(mapInfo(outer).id))).length, 1, 'the two empty slots are left out')
  })
})

describe('big maps: batch reads, streaming, | head', needsRoot, () => {
  const N = 100_000
  let big: LoadedMaps
  before(() => {
    big = loadMaps('big-maps', {maxEntries: {big_hash: 20_000, big_pcpu: N}})
    fillBig(big.maps, {h: 20_000, n: N})
  })
  after(async () => {
    big?.close()
    await assertGone({maps: big?.ids ?? {}})
  })

  test(`${N}-entry per-CPU array and 20k-entry hash: same bytes as bpftool (batch order = get_next_key order)`, async () => {
    for (const name of ['big_pcpu', 'big_hash']) {
      const id = String(big.ids[name])
      const want = bpftoolDump('id', id)
      const r = await ours(['id', id, '--json'])
      assert.equal(r.code, 0, r.stderr)
      assertDumpStderr(r.stderr, id)
      assert.ok(r.stdout === want, `${name}: outputs differ (${r.stdout.length} vs ${want.length} bytes)`)
    }
  })

  test('| head: the reader goes away, the dump stops quietly with exit 0', async () => {
    for (const args of [['--json'], []]) {
      const child = spawn(process.execPath, [BIN, 'map', 'dump', 'id', String(big.ids.big_pcpu), ...args], {
        cwd: ROOT,
        env: {...process.env, NO_COLOR: '1'},
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      let got = 0
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d) => {
          got += d.length
          if (got >= 4096) {
            child.stdout.destroy()
            resolve()
          }
        })
      })
      const code = await new Promise((resolve) => child.on('close', resolve))
      assert.equal(code, 0, `exit ${code} for ${args.join(' ')}: ${stderr}`)
      assertDumpStderr(stderr, big.ids.big_pcpu)
    }
  })

  test('a big table streams as plain aligned text and counts every element', async () => {
    const r = await ours(['id', String(big.ids.big_hash)])
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trimEnd().split('\n')
    assert.match(lines[0], /^KEY\s+VALUE$/)
    assert.equal(lines.length, 20_000 + 2)
    assert.equal(lines.at(-1), 'Found 20000 elements')
    assert.doesNotMatch(r.stdout, /[│┌└]/, 'no cli-table3 box past 500 rows')
  })
})

describe('the chain, loaded by tailcalls load', needsRoot, () => {
  let chain
  before(async () => {
    chain = await startChain()
    await execLoop(12, {workers: 2})
  })
  after(async () => {
    if (chain) await chain.finish()
  })

  test("TAIL_CALL_MAP: bpftool keys and values, plus each slot's program", async () => {
    const id = String(chain.ids.maps.TAIL_CALL_MAP)
    const want = parseJson(bpftoolDump('id', id))
    const r = await ours(['id', id, '--json'])
    assert.equal(r.code, 0, r.stderr)
    const got = parseJson(r.stdout)
    assert.deepEqual(
      got.map(({prog, ...rest}) => rest),
      want,
      'bpftool keys unchanged',
    )
    for (const [slot, name] of [
      [0, 'prog2'],
      [1, 'prog3'],
    ]) {
      const e = got.find((x) => x.formatted.key === slot)
      const p = JSON.parse(
        execFileSync('bpftool', ['--json', 'prog', 'show', 'id', String(e.formatted.value)], {encoding: 'utf8'}),
      )
      assert.deepEqual(e.prog, {id: p.id, name, tag: p.tag, type: p.type})
      assert.equal(e.prog.id, chain.ids.programs[name])
    }

    // The seed's jq recipe on our output.
    const jq = execFileSync('jq', ['-c', '.[] | {slot: .formatted.key, prog: .prog.name}'], {
      encoding: 'utf8',
      input: r.stdout,
    })
    assert.equal(jq, '{"slot":0,"prog":"prog2"}\n{"slot":1,"prog":"prog3"}\n')
    const table = await ours(['id', id])
    assert.match(table.stdout, new RegExp(`│\\s+0 │\\s+${chain.ids.programs.prog2} │ prog2 │ tracing │ [0-9a-f]{16} │`))
    assert.match(table.stdout, new RegExp(`│\\s+1 │\\s+${chain.ids.programs.prog3} │ prog3 │ tracing │ [0-9a-f]{16} │`))
  })

  test('empty slots: left out of JSON (as bpftool), shown as (empty) in the table', async () => {
    // A prog array of our own: emptying the live chain's slots would break the chain.
    const {libbpf} = sys()
    const fd = libbpf.bpf_map_create(BPF_MAP_TYPE.PROG_ARRAY, 'tailcalls_pa', 4, 4, 3, null)
    assert.ok(fd >= 0)
    try {
      const paId = String((await import('../../src/kernel/info.js')).mapInfo(fd).id)
      const r = await ours(['id', paId, '--json'])
      assert.equal(r.stdout, bpftoolDump('id', paId))
      assert.equal(r.stdout, '[]\n')
      const t = await ours(['id', paId])
      assert.equal(t.stdout.match(/\(empty\)/g)?.length, 3)
      assert.match(t.stdout, /Found 0 elements/)
    } finally {
      sys().libc.close(fd)
    }
  })

  test('PER_CPU_MAP: SharedState per CPU, {"per_event_count": 3, "total_count": N}', async () => {
    const id = String(chain.ids.maps.PER_CPU_MAP)
    const r = await ours(['id', id, '--json'])
    const want = parseJson(bpftoolDump('id', id))
    const got = parseJson(r.stdout)
    assert.equal(got.length, 1)
    assert.deepEqual(got[0].key, want[0].key)
    assert.deepEqual(Object.keys(got[0]), ['key', 'values', 'formatted'])
    const vals = got[0].formatted.values
    assert.deepEqual(
      vals.map((v) => v.cpu),
      want[0].formatted.values.map((v) => v.cpu),
    )
    let ran = 0
    for (const [i, v] of vals.entries()) {
      assert.deepEqual(Object.keys(v.value), ['per_event_count', 'total_count'])
      if (v.value.total_count > 0) {
        ran++
        assert.equal(v.value.per_event_count, 3)
      }

      // Counters only grow: bpftool ran after us.
      assert.ok(v.value.total_count <= want[0].formatted.values[i].value.total_count)
    }

    assert.ok(ran > 0, 'some CPU ran the chain')
    const t = await ours(['id', id])
    assert.match(t.stdout, /KEY\s*│\s*CPU\s*│\s*per_event_count\s*│\s*total_count/)
    assert.match(t.stdout, /│\s*total\s*│\s*\d+\s*│\s*\d+\s*│/)
    const jq = execFileSync(
      'jq',
      ['-c', '.[].formatted.values[] | select(.value.total_count > 0) | .value.per_event_count'],
      {encoding: 'utf8', input: r.stdout},
    )
    assert.match(jq, /^(3\n)+$/)
  })

  test('the EVENTS ring buffer cannot be dumped: a clear error, exit 12', async () => {
    const r = await ours(['id', String(chain.ids.maps.EVENTS), '--json'])
    assert.equal(r.code, 12)
    assert.match(
      r.stderr,
      /^tailcalls: error: a ringbuf map cannot be dumped.*; read ring buffer records with `tailcalls events`\n$/,
    )
    assert.match(r.stdout, /^\{"error":"a ringbuf map cannot be dumped/)
  })
})

describe('bad input', () => {
  test('unknown id, unknown name, bad keyword, missing value, a path that is not a pin', needsRoot, async () => {
    const cases: [string[], number, RegExp][] = [
      [['id', '4294967295'], 5, /no map with id 4294967295/],
      [['name', 'tailcalls_none'], 5, /no map with name tailcalls_none/],
      [['tag', 'x'], 2, /expected 'id', 'name' or 'pinned', got 'tag'/],
      [['id'], 2, /'id' needs a value/],
      [['id', 'abc'], 2, /can't parse 'abc' as an id/],
      [['pinned', '/etc/hostname'], 6, /is not a pinned BPF object/],
      [['name', 'a_name_longer_than_15'], 2, /longer than 15 characters/],
    ]
    // Under qemu TCG: only the cases that ask the kernel, --json once (parsing is kernel-independent).
    const run = IN_VM ? cases.filter(([, code]) => code !== 2) : cases
    for (const [i, [args, code, re]] of run.entries()) {
      for (const json of IN_VM && i > 0 ? [false] : [false, true]) {
        const r = await ours([...args, ...(json ? ['--json'] : [])])
        assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`)
        assert.match(r.stderr, re)
        assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, 'one line')
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
        if (json) assert.match(r.stdout, /^\{"error":".+"\}\n$/)
      }
    }
  })

  test("--help has examples, with the seed's jq recipe", async () => {
    const r = await runCli(['map', 'dump', '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /EXAMPLES/)
    assert.match(r.stdout, /map dump name TAIL_CALL_MAP --json \| jq/)
  })
})
