/**
 * BTF format constants (include/uapi/linux/btf.h). Kind numbers are ABI: they never change,
 * new kinds are only appended.
 */

export const BTF_MAGIC = 0xeb9f
/** sizeof(struct btf_header) for version 1: magic, version, flags, hdr_len, type/str off+len. */
export const BTF_HEADER_SIZE = 24
/** sizeof(struct btf_type): name_off, info, size|type. */
export const BTF_TYPE_SIZE = 12

export const KIND = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const

/** Kind number → the name bpftool prints ("UNKNOWN" for 0 and anything past ENUM64). */
export const KIND_NAMES: readonly string[] = [
  'UNKNOWN', 'INT', 'PTR', 'ARRAY', 'STRUCT', 'UNION', 'ENUM', 'FWD', 'TYPEDEF', 'VOLATILE', 'CONST',
  'RESTRICT', 'FUNC', 'FUNC_PROTO', 'VAR', 'DATASEC', 'FLOAT', 'DECL_TAG', 'TYPE_TAG', 'ENUM64',
]

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
