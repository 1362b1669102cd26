/**
 * BTF format constants (include/uapi/linux/btf.h). Kind numbers are ABI: they never change,
 * new kinds are only appended.
 */
import {BTF_KIND, BTF_MAGIC} from '../sys/uapi.js'

export {BTF_MAGIC}
/** sizeof(struct btf_header) for version 1: magic, version, flags, hdr_len, type/str off+len. */
export const BTF_HEADER_SIZE = 24
/** sizeof(struct btf_type): name_off, info, size|type. */
export const BTF_TYPE_SIZE = 12

/** Kind numbers, BTF_KIND_* without the prefix (generated from the kernel's btf.h enum). */
export const KIND = BTF_KIND

/**
 * Kind number → the name bpftool prints: the enumerator's suffix, except kind 0, which bpftool
 * calls UNKNOWN (BTF_KIND_UNKN in btf.h); "UNKNOWN" too for anything past the last kind.
 */
export const KIND_NAMES: readonly string[] = Object.entries(KIND).reduce<string[]>((names, [name, kind]) => {
  names[kind] = kind === KIND.UNKN ? 'UNKNOWN' : name
  return names
}, [])

export function kindName(kind: number): string {
  return KIND_NAMES[kind] ?? 'UNKNOWN'
}

/** BTF_INT_ENCODING bits. */
export const INT_SIGNED = 1
export const INT_CHAR = 2
export const INT_BOOL = 4

/** libbpf's and the kernel's bound on typedef/modifier chains (MAX_RESOLVE_DEPTH). */
export const MAX_RESOLVE_DEPTH = 32

/**
 * Bytes of kind-specific data after the 12-byte common header, or -1 for a kind this
 * decoder does not know (its length cannot be known, so parsing has to stop there).
 */
export function trailingSize(kind: number, vlen: number): number {
  switch (kind) {
    case KIND.INT:
    case KIND.VAR:
    case KIND.DECL_TAG:
      return 4
    case KIND.PTR:
    case KIND.FWD:
    case KIND.TYPEDEF:
    case KIND.VOLATILE:
    case KIND.CONST:
    case KIND.RESTRICT:
    case KIND.FUNC:
    case KIND.FLOAT:
    case KIND.TYPE_TAG:
      return 0
    case KIND.ARRAY:
      return 12
    case KIND.STRUCT:
    case KIND.UNION:
    case KIND.DATASEC:
    case KIND.ENUM64:
      return 12 * vlen
    case KIND.ENUM:
    case KIND.FUNC_PROTO:
      return 8 * vlen
    default:
      return -1
  }
}
