// src/sys/uapi.ts, the generated kernel ABI layer: (1) it is exactly what bin/gen-uapi.ts writes
// from the pinned blob src/sys/uapi.btf; (2) every enum value, struct size and field offset in it
// agrees with the running kernel's own BTF (/sys/kernel/btf/vmlinux, decoded by src/btf). On an
// older kernel a struct is a shorter prefix and a union lacks newer members: what is missing there
// must be where the code can tell (past the length the kernel reports, or in a link type it never
// reports), never on top of a field that kernel has. Needs no root; part of `npm run test:kernels`.
import assert from 'node:assert/strict'
import {spawnSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, test} from 'node:test'

import {
  type Field,
  type Layout,
  ROOT,
  UAPI_BTF,
  UAPI_DEFINES,
  UAPI_ENUMS,
  UAPI_STRUCTS,
  UAPI_TS,
  findEnum,
  findStruct,
  isField,
  isSentinel,
  layoutOf,
} from '../../bin/gen-uapi.js'
import {Btf} from '../../src/btf/btf.js'
import * as uapi from '../../src/sys/uapi.js'

const KERNEL_BTF = process.env.TAILCALLS_KERNEL_BTF ?? '/sys/kernel/btf/vmlinux'
const exported = uapi as unknown as Record<string, unknown>

describe('generation', () => {
  test('bin/gen-uapi.ts regenerates src/sys/uapi.ts byte for byte from src/sys/uapi.btf', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tailcalls-uapi-'))
    try {
      const out = join(dir, 'uapi.ts')
      const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/gen-uapi.ts'), '--out', out], {
        cwd: ROOT,
        encoding: 'utf8',
      })
      assert.equal(r.status, 0, r.stderr)
      assert.equal(
        readFileSync(out, 'utf8'),
        readFileSync(UAPI_TS, 'utf8'),
        'src/sys/uapi.ts differs from what `npm run gen:uapi` writes: regenerate it, never edit it',
      )
    } finally {
      rmSync(dir, {force: true, recursive: true})
    }
  })

  test('the pinned blob holds every listed enum and struct', () => {
    const pinned = Btf.parse(readFileSync(UAPI_BTF))
    assert.deepEqual(pinned.problems, [])
    for (const spec of UAPI_ENUMS) assert.ok(findEnum(pinned, spec), spec.as)
    for (const spec of UAPI_STRUCTS) assert.ok(findStruct(pinned, spec.name), spec.name)
  })
})

describe('#defines agree with the installed kernel headers', () => {
  for (const spec of UAPI_DEFINES) {
    test(`${Object.keys(spec.values).join(', ')} (${spec.header})`, (t) => {
      const path = join('/usr/include', spec.header)
      if (!existsSync(path)) {
        t.skip(`${path} is not installed (linux-libc-dev)`)
        return
      }

      const text = readFileSync(path, 'utf8')
      for (const [name, value] of Object.entries(spec.values)) {
        const m = new RegExp(`^#define\\s+${name}\\s+(0x[0-9a-f]+|\\d+)\\b`, 'im').exec(text)
        assert.ok(m, `${name} is not #defined as a number in ${path}`)
        assert.equal(Number(m[1].toLowerCase()), value, `${name} in ${path}`)
        const ours = spec.as
          ? (exported[spec.as] as Record<string, number>)[name.slice(spec.prefix?.length ?? 0)]
          : exported[name]
        assert.equal(ours, value, `${name} in src/sys/uapi.ts`)
      }
    })
  }
})

/** Leaves of a uapi struct constant: [path, offset] (size excluded). */
function leaves(obj: Record<string, unknown>, path: string[] = []): [string[], number][] {
  const out: [string[], number][] = []
  for (const [k, v] of Object.entries(obj)) {
    if (path.length === 0 && k === 'size') continue
    if (typeof v === 'number') out.push([[...path, k], v])
    else out.push(...leaves(v as Record<string, unknown>, [...path, k]))
  }

  return out
}

function at(layout: Layout, path: string[]): Field | Layout | undefined {
  let cur: Field | Layout | undefined = layout
  for (const k of path) {
    if (!cur || isField(cur)) return undefined
    cur = cur[k]
  }

  return cur
}

function fieldsOf(layout: Layout): Field[] {
  return Object.values(layout).flatMap((v) => (isField(v) ? [v] : fieldsOf(v)))
}

describe('the running kernel agrees (its own BTF)', () => {
  const kernel = Btf.parse(readFileSync(KERNEL_BTF), {name: KERNEL_BTF})
  const pinned = Btf.parse(readFileSync(UAPI_BTF))

  for (const spec of UAPI_ENUMS) {
    test(`${spec.as}: every value this kernel has`, (t) => {
      const e = findEnum(kernel, spec)
      if (!e) {
        // Only anonymous enums may be missing: BTF_KIND_* were #defines before 5.16, and the
        // compiler keeps an unused anonymous enum out of the debug info.
        assert.equal(spec.name, undefined, `enum ${spec.name} is missing from ${KERNEL_BTF}`)
        t.diagnostic(`this kernel's BTF has no anonymous enum holding ${spec.member}`)
        return
      }

      const ours = exported[spec.as] as Record<string, number>
      let matched = 0
      for (const v of e.values) {
        const name = v.name ?? ''
        if (isSentinel(name)) continue
        const key = name.slice(spec.prefix.length)
        if (!(key in ours)) {
          t.diagnostic(`${name} = ${v.value} is newer than src/sys/uapi.btf`)
          continue
        }

        assert.equal(ours[key], v.value, `${name}`)
        matched++
      }

      assert.ok(matched > 0, `no enumerator of ${spec.as} found in the kernel's enum`)
    })
  }

  for (const spec of UAPI_STRUCTS) {
    test(`${spec.as}: size and offsets where this kernel has the member`, (t) => {
      const ks = findStruct(kernel, spec.name)
      assert.ok(ks, `struct ${spec.name} is missing from ${KERNEL_BTF}`)
      const ours = exported[spec.as] as Record<string, unknown> & {size: number}
      const kLayout = layoutOf(kernel, ks)
      const pLayout = layoutOf(pinned, findStruct(pinned, spec.name)!)
      if (ks.size !== ours.size) t.diagnostic(`struct ${spec.name}: ${ks.size} bytes here, ${ours.size} in uapi.ts`)
      // The buffer handed to the kernel is ours.size bytes: a kernel with a shorter struct copies
      // its prefix and reports the length (Fields in src/kernel/info.ts answers undefined beyond).
      let absent = 0
      for (const [path, offset] of leaves(ours)) {
        const name = `${spec.name}.${path.join('.')}`
        const k = at(kLayout, path)
        if (k && isField(k)) {
          assert.equal(offset, k.offset, `${name}: offset ${offset} in uapi.ts, ${k.offset} in this kernel`)
          continue
        }

        assert.equal(k, undefined, `${name} is a field in uapi.ts but an aggregate in this kernel`)
        absent++
        const p = at(pLayout, path)
        assert.ok(p && isField(p), `${name} is in uapi.ts but not in src/sys/uapi.btf`)
        // A member this kernel lacks is safe where this kernel has no field under it: the struct
        // grew at its end (5.10's bpf_map_info ends at 76), or the member took over padding
        // (6.1's bpf_map_info has a 4-byte pad at 76 where btf_vmlinux_id now is). The kernel
        // zeroes the struct before filling it, so there it reads as 0, as bpftool sees it. Inside
        // a union arm only that arm's own fields count: the other arms overlap it by design
        // (6.12's kprobe arm has `missed` where the uprobe arm now has ref_ctr_offset). An arm
        // this kernel lacks altogether belongs to a link type it never reports.
        const parent = path.length === 1 ? kLayout : at(kLayout, path.slice(0, -1))
        if (!parent || isField(parent)) continue
        for (const f of fieldsOf(parent)) {
          const overlaps = offset < f.offset + f.size && f.offset < offset + p.size
          assert.ok(
            !overlaps,
            `${name} (${offset}+${p.size}) is missing here and overlaps a field this kernel has at ${f.offset}+${f.size}`,
          )
        }
      }

      if (absent > 0) t.diagnostic(`struct ${spec.name}: ${absent} member(s) of uapi.ts are newer than this kernel`)
    })
  }
})
