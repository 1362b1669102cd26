#!/usr/bin/env -S node --import tsx
/**
 * Writes src/sys/uapi.ts, the kernel ABI this project uses (enum values, info struct sizes and
 * field offsets), from the pinned BTF blob src/sys/uapi.btf, decoded by the project's own BTF
 * parser. The output depends on nothing but that blob, so regenerating it is deterministic;
 * test/sys/uapi.test.ts regenerates it and fails on any difference.
 *
 *   npm run gen:uapi                    # src/sys/uapi.btf → src/sys/uapi.ts
 *   node --import tsx bin/gen-uapi.ts --out FILE
 *
 * The blob itself is cut from a running kernel's BTF by bin/gen-uapi-btf.ts (`npm run
 * gen:uapi-btf`), which keeps exactly the types listed here (UAPI_ENUMS, UAPI_STRUCTS) and
 * what they refer to. To add a kernel enum or struct: list it here, rerun both scripts on a
 * kernel at least as new as the one named in uapi.ts's header, and commit both files.
 *
 * The parser used here takes its kind numbers from the module this script writes
 * (src/btf/kinds.ts → src/sys/uapi.ts): kinds are append-only ABI, so a regeneration reads the
 * blob with the same numbers it writes back, and the test checks them against the kernel too.
 */
import {readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

import {Btf} from '../src/btf/btf.js'
import {KIND} from '../src/btf/kinds.js'
import type {CompositeType, EnumType} from '../src/btf/types.js'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const UAPI_BTF = join(ROOT, 'src/sys/uapi.btf')
export const UAPI_TS = join(ROOT, 'src/sys/uapi.ts')

/** Name of the DECL_TAG in the blob that records where it was cut from ("<tag>: Linux 6.18.1 x86_64"). */
export const SOURCE_TAG = 'tailcalls_uapi_source'

export interface EnumSpec {
  /** `enum <name>`; absent for an anonymous enum, found by `member` instead. */
  name?: string
  /** For an anonymous enum: one enumerator it holds. */
  member?: string
  /** Stripped from every enumerator to make the keys (BPF_MAP_TYPE_HASH → HASH). */
  prefix: string
  /** The exported constant. */
  as: string
  doc: string
}

export const UAPI_ENUMS: readonly EnumSpec[] = [
  {
    as: 'BPF_PROG_TYPE',
    doc: "enum bpf_prog_type: a program's type (bpf_prog_info.type).",
    name: 'bpf_prog_type',
    prefix: 'BPF_PROG_TYPE_',
  },
  {
    as: 'BPF_MAP_TYPE',
    doc: "enum bpf_map_type: a map's type (bpf_map_info.type).",
    name: 'bpf_map_type',
    prefix: 'BPF_MAP_TYPE_',
  },
  {
    as: 'BPF_LINK_TYPE',
    doc: "enum bpf_link_type: a link's type (bpf_link_info.type).",
    name: 'bpf_link_type',
    prefix: 'BPF_LINK_TYPE_',
  },
  {
    as: 'BPF_ATTACH_TYPE',
    doc: "enum bpf_attach_type: a program's expected attach type and a link's attach_type.",
    name: 'bpf_attach_type',
    prefix: 'BPF_',
  },
  {
    as: 'BPF_STATS_TYPE',
    doc: "enum bpf_stats_type: BPF_ENABLE_STATS's argument.",
    name: 'bpf_stats_type',
    prefix: 'BPF_STATS_',
  },
  {
    as: 'BPF_TASK_FD_TYPE',
    doc: "enum bpf_task_fd_type: BPF_TASK_FD_QUERY's fd_type.",
    name: 'bpf_task_fd_type',
    prefix: 'BPF_FD_TYPE_',
  },
  {
    as: 'BPF_FUNC',
    doc: 'enum bpf_func_id: helper ids, the imm of a BPF_CALL to a helper.',
    name: 'bpf_func_id',
    prefix: 'BPF_FUNC_',
  },
  {
    as: 'BPF_UPDATE_FLAG',
    doc: 'The anonymous enum of BPF_MAP_UPDATE_ELEM flags (BPF_ANY, BPF_NOEXIST, …).',
    member: 'BPF_ANY',
    prefix: 'BPF_',
  },
  {
    as: 'BTF_KIND',
    // include/uapi/linux/btf.h made the kinds an anonymous enum in 5.16 (they were #defines
    // before, which BTF cannot carry); the pinned blob comes from a newer kernel, and kinds are
    // append-only, so the values hold for older kernels too.
    doc: 'BTF kinds (the anonymous enum of BTF_KIND_* in linux/btf.h): bits 24-28 of btf_type.info.',
    member: 'BTF_KIND_INT',
    prefix: 'BTF_KIND_',
  },
]

export interface StructSpec {
  name: string
  as: string
  doc: string
}

export const UAPI_STRUCTS: readonly StructSpec[] = [
  {as: 'BPF_PROG_INFO', doc: 'BPF_OBJ_GET_INFO_BY_FD on a program fd.', name: 'bpf_prog_info'},
  {as: 'BPF_MAP_INFO', doc: 'BPF_OBJ_GET_INFO_BY_FD on a map fd.', name: 'bpf_map_info'},
  {
    as: 'BPF_LINK_INFO',
    doc: 'BPF_OBJ_GET_INFO_BY_FD on a link fd; the members after prog_id share one union, one per link type.',
    name: 'bpf_link_info',
  },
  {as: 'BPF_BTF_INFO', doc: 'BPF_OBJ_GET_INFO_BY_FD on a BTF fd.', name: 'bpf_btf_info'},
  {
    as: 'BPF_FUNC_INFO',
    doc: 'One record of bpf_prog_info.func_info (func_info_rec_size bytes each).',
    name: 'bpf_func_info',
  },
]

export interface DefineSpec {
  /** The uapi header that #defines them, under /usr/include (test/sys/uapi.test.ts reads it). */
  header: string
  /** Stripped from every name to make the keys; without it, each name is its own constant. */
  prefix?: string
  as?: string
  values: Record<string, number>
  doc: string
}

/**
 * Kernel ABI numbers that are #defines, which BTF cannot carry (the compiler keeps no trace of a
 * macro): pinned here instead, and checked by the test against the installed linux/*.h headers.
 * They are fixed forever once released.
 */
export const UAPI_DEFINES: readonly DefineSpec[] = [
  {
    as: 'CAP',
    doc: 'Capability bits (linux/capability.h): bit n of CapEff in /proc/self/status.',
    header: 'linux/capability.h',
    prefix: 'CAP_',
    // In the order `doctor` lists them.
    values: {CAP_SYS_ADMIN: 21, CAP_PERFMON: 38, CAP_BPF: 39},
  },
  {
    as: 'CLOCK',
    doc: 'Clock ids for clock_gettime (linux/time.h).',
    header: 'linux/time.h',
    prefix: 'CLOCK_',
    values: {CLOCK_REALTIME: 0, CLOCK_BOOTTIME: 7},
  },
  {
    doc: 'statfs(2) f_type of a bpf filesystem (linux/magic.h).',
    header: 'linux/magic.h',
    values: {BPF_FS_MAGIC: 0xcafe4a11},
  },
  {doc: 'The first two bytes of a BTF blob (linux/btf.h).', header: 'linux/btf.h', values: {BTF_MAGIC: 0xeb9f}},
  {doc: 'e_machine of a BPF ELF object (linux/elf-em.h).', header: 'linux/elf-em.h', values: {EM_BPF: 247}},
]

/**
 * Sentinels that close an enum (__MAX_BPF_PROG_TYPE, NR_BTF_KINDS, BTF_KIND_MAX, __BPF_FUNC_MAX_ID): not values a
 * kernel reports, and BTF_KIND_MAX would alias the last real kind.
 */
export function isSentinel(name: string): boolean {
  return /^__MAX_|^MAX_|^NR_|_MAX$|^__.*_MAX_ID$/.test(name)
}

/** The enum of a spec in a parsed BTF, or undefined. */
export function findEnum(btf: Btf, spec: EnumSpec): EnumType | undefined {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id)
    if (t?.kind !== KIND.ENUM) continue
    if (
      spec.name !== undefined ? t.name === spec.name : t.nameOff === 0 && t.values.some((v) => v.name === spec.member)
    )
      return t
  }

  return undefined
}

/** The struct of a spec in a parsed BTF (a full definition, not a forward declaration), or undefined. */
export function findStruct(btf: Btf, name: string): CompositeType | undefined {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id)
    if (t?.kind === KIND.STRUCT && t.name === name) return t
  }

  return undefined
}

/** A member's place: byte offset from the start of the outermost struct, and its C type. */
export interface Field {
  offset: number
  /** Bytes the member takes (of its storage unit, for a bitfield). */
  size: number
  /** Bits, for a bitfield (the field is its low bits of the 4-byte unit at `offset`). */
  bits?: number
  ctype: string
}

export type Layout = {[name: string]: Field | Layout}

/** The C spelling of a member's type, for comments: `__u32`, `char[16]`, `struct {…}`. */
function ctype(btf: Btf, id: number): string {
  const t = btf.type(id)
  if (!t) return `[${id}]`
  switch (t.kind) {
    case KIND.ARRAY:
      return `${ctype(btf, t.type)}[${t.nelems}]`
    case KIND.PTR:
      return `${ctype(btf, t.type)} *`
    case KIND.CONST:
      return `const ${ctype(btf, t.type)}`
    case KIND.VOLATILE:
      return `volatile ${ctype(btf, t.type)}`
    case KIND.STRUCT:
    case KIND.UNION:
      return `${t.kind === KIND.STRUCT ? 'struct' : 'union'} ${t.name || '{…}'}`
    case KIND.ENUM:
    case KIND.ENUM64:
      return `enum ${t.name || '{…}'}`
    case KIND.UNKN:
      return 'void'
    default:
      return t.name ?? `[${id}]`
  }
}

function sizeOf(btf: Btf, id: number): number {
  const r = btf.resolveSize(id)
  if (!r.ok) throw new Error(`type [${id}]: ${r.error}`)
  return r.value
}

/** Strip typedefs and modifiers: is this member an aggregate to descend into? */
function aggregate(btf: Btf, id: number): CompositeType | undefined {
  const r = btf.resolveType(id)
  const t = r.ok ? btf.type(r.value) : undefined
  return t && (t.kind === KIND.STRUCT || t.kind === KIND.UNION) ? t : undefined
}

/**
 * A struct's members as nested objects of byte offsets from the start of the outermost struct.
 * Anonymous struct/union members are flattened into their parent, as C names them
 * (bpf_link_info.raw_tracepoint); named ones nest (bpf_link_info.iter.map.map_id).
 * Unnamed non-aggregate members (`__u32 :31` padding) are skipped.
 */
export function layoutOf(btf: Btf, t: CompositeType, base = 0, into: Layout = {}): Layout {
  for (const m of t.members) {
    const bitOffset = base + m.bitOffset
    const inner = aggregate(btf, m.type)
    if (inner && !m.name) {
      layoutOf(btf, inner, bitOffset, into)
      continue
    }

    if (!m.name) continue
    if (m.name in into)
      throw new Error(
        `${t.name || 'an anonymous aggregate'}: member ${m.name} appears twice once anonymous members are flattened`,
      )
    if (m.name === 'size') throw new Error(`${t.name}: a member named "size" would clash with the struct size key`)
    if (inner) {
      into[m.name] = layoutOf(btf, inner, bitOffset)
      continue
    }

    if (m.bitfieldSize) {
      // Only bitfields that start a 4-byte unit, read as `u32 & mask` (bpf_prog_info.gpl_compatible).
      if (bitOffset % 32 !== 0)
        throw new Error(`${t.name}.${m.name}: a bitfield at bit ${bitOffset} does not start a 4-byte unit`)
      into[m.name] = {bits: m.bitfieldSize, ctype: ctype(btf, m.type), offset: bitOffset / 8, size: sizeOf(btf, m.type)}
      continue
    }

    if (bitOffset % 8 !== 0) throw new Error(`${t.name}.${m.name}: at bit ${bitOffset}, not on a byte`)
    into[m.name] = {ctype: ctype(btf, m.type), offset: bitOffset / 8, size: sizeOf(btf, m.type)}
  }

  return into
}

export function isField(x: Field | Layout): x is Field {
  return typeof (x as Field).offset === 'number' && typeof (x as Field).ctype === 'string'
}

/** The "Linux <release> <arch>" the blob was cut from (its SOURCE_TAG decl tag). */
export function blobSource(btf: Btf): string {
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id)
    const prefix = `${SOURCE_TAG}: `
    if (t?.kind === KIND.DECL_TAG && t.name?.startsWith(prefix)) return t.name.slice(prefix.length)
  }

  throw new Error(`the blob has no ${SOURCE_TAG} tag (was it written by bin/gen-uapi-btf.ts?)`)
}

const IDENT = /^[A-Za-z_$][\w$]*$/
const key = (k: string) => (IDENT.test(k) ? k : `'${k}'`)

function emitLayout(layout: Layout, indent: string, out: string[]): void {
  for (const [name, v] of Object.entries(layout)) {
    if (isField(v)) {
      const what =
        v.bits === undefined ? v.ctype : `${v.ctype} :${v.bits} (a bitfield: the low ${v.bits} bit(s) of the u32 here)`
      out.push(`${indent}${key(name)}: ${v.offset}, // ${what}`)
    } else {
      out.push(`${indent}${key(name)}: {`)
      emitLayout(v, `${indent}  `, out)
      out.push(`${indent}},`)
    }
  }
}

function arrayLength(btf: Btf, struct: CompositeType, member: string): number {
  const m = struct.members.find((x) => x.name === member)
  const t = m && btf.type(m.type)
  if (t?.kind !== KIND.ARRAY) throw new Error(`${struct.name}.${member} is not an array`)
  return t.nelems
}

/** uapi.ts's text for a blob. Throws when the blob lacks something listed above. */
export function generateUapi(blob: Uint8Array): string {
  const btf = Btf.parse(blob, {name: 'src/sys/uapi.btf'})
  if (btf.problems.length > 0) throw new Error(`src/sys/uapi.btf: ${btf.problems.join('; ')}`)
  const source = blobSource(btf)
  const out: string[] = [
    '/**',
    ' * GENERATED FILE - DO NOT EDIT. Written by bin/gen-uapi.ts (`npm run gen:uapi`) from',
    ` * src/sys/uapi.btf, the kernel's BTF for these types as ${source} has them`,
    ' * (cut by bin/gen-uapi-btf.ts), and from the #defines pinned in bin/gen-uapi.ts (BTF cannot',
    ' * carry a macro). test/sys/uapi.test.ts fails when this file and the generator disagree, and',
    " * checks every enum value and offset against the running kernel's BTF, every #define against",
    ' * the installed linux/*.h headers.',
    ' *',
    ' * The kernel ABI the project uses: enum values, and the size and byte offsets (x86_64) of',
    ' * the info structs BPF_OBJ_GET_INFO_BY_FD fills. Structs only grow at the end: an older kernel',
    ' * fills a shorter prefix and reports its length, so a field past that length is absent there.',
    ' */',
  ]

  for (const spec of UAPI_ENUMS) {
    const e = findEnum(btf, spec)
    if (!e)
      throw new Error(`src/sys/uapi.btf has no ${spec.name ? `enum ${spec.name}` : `enum holding ${spec.member}`}`)
    out.push('', `/** ${spec.doc} */`, `export const ${spec.as} = {`)
    for (const v of e.values) {
      const name = v.name ?? ''
      if (isSentinel(name)) continue
      if (!name.startsWith(spec.prefix)) throw new Error(`${spec.as}: ${name} does not start with ${spec.prefix}`)
      out.push(`  ${key(name.slice(spec.prefix.length))}: ${v.value},`)
    }

    out.push('} as const')
  }

  for (const spec of UAPI_STRUCTS) {
    const s = findStruct(btf, spec.name)
    if (!s) throw new Error(`src/sys/uapi.btf has no struct ${spec.name}`)
    out.push(
      '',
      `/** struct ${spec.name} (${s.size} bytes): ${spec.doc} */`,
      `export const ${spec.as} = {`,
      `  size: ${s.size},`,
    )
    emitLayout(layoutOf(btf, s), '  ', out)
    out.push('} as const')
  }

  for (const spec of UAPI_DEFINES) {
    const hex = (v: number) => (v > 0xff ? `0x${v.toString(16)}` : String(v))
    if (spec.as) {
      out.push('', `/** ${spec.doc} */`, `export const ${spec.as} = {`)
      for (const [name, v] of Object.entries(spec.values))
        out.push(`  ${key(name.slice(spec.prefix?.length ?? 0))}: ${hex(v)},`)
      out.push('} as const')
    } else {
      for (const [name, v] of Object.entries(spec.values))
        out.push('', `/** ${spec.doc} */`, `export const ${name} = ${hex(v)}`)
    }
  }

  // Array lengths the code needs by name; #defines in linux/bpf.h, so BTF has them only as the
  // lengths of the arrays they size.
  const prog = findStruct(btf, 'bpf_prog_info')!
  out.push(
    '',
    '/** BPF_OBJ_NAME_LEN: bytes of an object name, NUL included (the length of bpf_prog_info.name). */',
    `export const BPF_OBJ_NAME_LEN = ${arrayLength(btf, prog, 'name')}`,
    '',
    '/** BPF_TAG_SIZE: bytes of a program tag (the length of bpf_prog_info.tag). */',
    `export const BPF_TAG_SIZE = ${arrayLength(btf, prog, 'tag')}`,
    '',
  )
  return out.join('\n')
}

function main(argv: string[]): void {
  const at = argv.indexOf('--out')
  const outPath = at === -1 ? UAPI_TS : argv[at + 1]
  if (!outPath) throw new Error('--out needs a file')
  writeFileSync(outPath, generateUapi(readFileSync(UAPI_BTF)))
  console.error(`wrote ${outPath}`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main(process.argv.slice(2))
