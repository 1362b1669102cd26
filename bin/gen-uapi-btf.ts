#!/usr/bin/env -S node --import tsx
/**
 * Cuts src/sys/uapi.btf, the pinned input of bin/gen-uapi.ts, from a kernel's BTF: the enums
 * and structs listed in bin/gen-uapi.ts and every type they refer to, renumbered in the order
 * of the kernel's own ids, plus one DECL_TAG recording the kernel it came from. Run it rarely
 * (when a newer kernel adds values the tool should name), on a kernel at least as new as the
 * one recorded in src/sys/uapi.ts, then run `npm run gen:uapi` and commit both files.
 *
 *   npm run gen:uapi-btf                            # from /sys/kernel/btf/vmlinux
 *   node --import tsx bin/gen-uapi-btf.ts --btf FILE --release 6.18.1 --out FILE
 *
 * The output is readable with `bpftool btf dump file src/sys/uapi.btf`.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {arch, release} from 'node:os'

import {Btf} from '../src/btf/btf.js'
import {KIND} from '../src/btf/kinds.js'
import type {BtfType} from '../src/btf/types.js'
// The BTF encoder the tests use; bin/ is not shipped code, and the BTF writer is to move into src/btf/.
import {BtfBuilder} from '../src/btf/builder.js'
import {SOURCE_TAG, UAPI_BTF, UAPI_ENUMS, UAPI_STRUCTS, findEnum, findStruct} from './gen-uapi.js'

/** The calls made here of the (untyped, JavaScript) test encoder, typed. */
interface BlobBuilder {
  int(name: string, size: number, opts: {bits: number; encoding: number; offset: number}): number
  raw(name: string, kind: number, opts: {sizeOrType: number}): number
  array(type: number, nelems: number, indexType: number): number
  struct(
    name: string,
    size: number,
    members: {bitOffset: number; bitfieldSize: number; name: string; type: number}[],
    opts: {kflag: boolean; union: boolean},
  ): number
  enum(name: string, size: number, values: [string, number][], opts: {signed: boolean}): number
  enum64(name: string, size: number, values: [string, bigint][], opts: {signed: boolean}): number
  fwd(name: string, union: boolean): number
  float(name: string, size: number): number
  declTag(name: string, type: number, componentIdx: number): number
  bytes(): Buffer
}

function option(argv: string[], name: string): string | undefined {
  const at = argv.indexOf(name)
  return at === -1 ? undefined : argv[at + 1]
}

/** The ids a type refers to (members, element and index types, the type it qualifies). */
function refs(t: BtfType): number[] {
  switch (t.kind) {
    case KIND.STRUCT:
    case KIND.UNION:
      return t.members.map((m) => m.type)
    case KIND.ARRAY:
      return [t.type, t.indexType]
    case KIND.TYPEDEF:
    case KIND.CONST:
    case KIND.VOLATILE:
    case KIND.RESTRICT:
    case KIND.TYPE_TAG:
      return [t.type]
    case KIND.INT:
    case KIND.ENUM:
    case KIND.ENUM64:
    case KIND.FWD:
    case KIND.FLOAT:
      return []
    default:
      // PTR and the function kinds would pull in large parts of the kernel; the uapi structs
      // carry user pointers as __aligned_u64, so meeting one means the list above changed.
      throw new Error(`type [${t.id}] ${t.name ?? ''}: kind ${t.kind} is not expected in a uapi struct`)
  }
}

export function cutUapiBtf(vmlinux: Btf, source: string): Buffer {
  const roots: number[] = []
  for (const spec of UAPI_ENUMS) {
    const e = findEnum(vmlinux, spec)
    if (!e)
      throw new Error(`the kernel's BTF has no ${spec.name ? `enum ${spec.name}` : `enum holding ${spec.member}`}`)
    roots.push(e.id)
  }

  for (const spec of UAPI_STRUCTS) {
    const s = findStruct(vmlinux, spec.name)
    if (!s) throw new Error(`the kernel's BTF has no struct ${spec.name}`)
    roots.push(s.id)
  }

  const keep = new Set<number>()
  const visit = (id: number): void => {
    if (id === 0 || keep.has(id)) return
    const t = vmlinux.type(id)
    if (!t) throw new Error(`type [${id}] is missing from the kernel's BTF`)
    keep.add(id)
    for (const r of refs(t)) visit(r)
  }

  for (const id of roots) visit(id)

  const order = [...keep].sort((a, b) => a - b)
  const newId = new Map<number, number>(order.map((id, i) => [id, i + 1]))
  const map = (id: number) => (id === 0 ? 0 : newId.get(id)!)
  const b = new BtfBuilder() as unknown as BlobBuilder
  for (const id of order) {
    const t = vmlinux.type(id)!
    const name = t.name ?? ''
    switch (t.kind) {
      case KIND.INT:
        b.int(name, t.size, {bits: t.bits, encoding: t.encoding, offset: t.bitsOffset})
        break
      case KIND.TYPEDEF:
      case KIND.CONST:
      case KIND.VOLATILE:
      case KIND.RESTRICT:
      case KIND.TYPE_TAG:
        b.raw(name, t.kind, {sizeOrType: map(t.type)})
        break
      case KIND.ARRAY:
        b.array(map(t.type), t.nelems, map(t.indexType))
        break
      case KIND.STRUCT:
      case KIND.UNION:
        b.struct(
          name,
          t.size,
          t.members.map((m) => ({
            bitOffset: m.bitOffset,
            bitfieldSize: m.bitfieldSize,
            name: m.name ?? '',
            type: map(m.type),
          })),
          {
            kflag: t.kflag,
            union: t.kind === KIND.UNION,
          },
        )
        break
      case KIND.ENUM:
        b.enum(
          name,
          t.size,
          t.values.map((v) => [v.name ?? '', v.value]),
          {signed: t.signed},
        )
        break
      case KIND.ENUM64:
        b.enum64(
          name,
          t.size,
          t.values.map((v) => [v.name ?? '', v.value]),
          {signed: t.signed},
        )
        break
      case KIND.FWD:
        b.fwd(name, t.union)
        break
      case KIND.FLOAT:
        b.float(name, t.size)
        break
      default:
        throw new Error(`type [${id}]: kind ${t.kind} cannot be copied`)
    }
  }

  // Where the types came from, on the first struct (component_idx -1: the type itself).
  b.declTag(`${SOURCE_TAG}: ${source}`, map(roots[UAPI_ENUMS.length]), -1)
  return b.bytes()
}

function main(argv: string[]): void {
  const btfPath = option(argv, '--btf') ?? '/sys/kernel/btf/vmlinux'
  const out = option(argv, '--out') ?? UAPI_BTF
  const source = `Linux ${option(argv, '--release') ?? release()} ${arch() === 'x64' ? 'x86_64' : arch()}`
  const vmlinux = Btf.parse(readFileSync(btfPath), {name: btfPath})
  const blob = cutUapiBtf(vmlinux, source)
  writeFileSync(out, blob)
  console.error(`wrote ${out}: ${blob.length} bytes from ${btfPath} (${source})`)
}

main(process.argv.slice(2))
