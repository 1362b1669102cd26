/**
 * Decoded BTF types: one interface per kind, discriminated by `kind` (the BTF kind number).
 * Names are null when the name offset points outside the string section (bpftool prints
 * "(invalid)" for those); anonymous types have the name "".
 */
import type {KIND} from './kinds.js'

interface Common {
  id: number
  name: string | null
  nameOff: number
  kflag: boolean
  vlen: number
  /** Byte offset of the type record in the raw BTF blob (for error messages). */
  at: number
}

export interface VoidType extends Common {
  kind: typeof KIND.UNKN
}

export interface IntType extends Common {
  kind: typeof KIND.INT
  size: number
  /** BTF_INT_ENCODING: 0, INT_SIGNED, INT_CHAR or INT_BOOL (other values are malformed). */
  encoding: number
  /** BTF_INT_OFFSET: bit offset of the value inside `size` bytes. */
  bitsOffset: number
  /** BTF_INT_BITS */
  bits: number
}

/** Kinds that only point at another type. FUNC keeps its linkage in vlen. */
export interface RefType extends Common {
  kind:
    | typeof KIND.PTR
    | typeof KIND.TYPEDEF
    | typeof KIND.VOLATILE
    | typeof KIND.CONST
    | typeof KIND.RESTRICT
    | typeof KIND.TYPE_TAG
    | typeof KIND.FUNC
  type: number
}

export interface ArrayType extends Common {
  kind: typeof KIND.ARRAY
  type: number
  indexType: number
  nelems: number
}

export interface Member {
  name: string | null
  nameOff: number
  type: number
  /** Bit offset from the start of the struct. */
  bitOffset: number
  /** Non-zero only for bitfields declared in a kind_flag struct. */
  bitfieldSize: number
}

export interface CompositeType extends Common {
  kind: typeof KIND.STRUCT | typeof KIND.UNION
  size: number
  members: Member[]
}

export interface EnumValue {
  name: string | null
  nameOff: number
  /** The raw 32 bits read as signed (what bpftool's dumper compares against). */
  value: number
}

export interface EnumType extends Common {
  kind: typeof KIND.ENUM
  size: number
  /** kind_flag: the enum is signed (kernel >= 6.0). */
  signed: boolean
  values: EnumValue[]
}

export interface Enum64Value {
  name: string | null
  nameOff: number
  lo: number
  hi: number
  /** (hi << 32 | lo), unsigned. */
  value: bigint
}

export interface Enum64Type extends Common {
  kind: typeof KIND.ENUM64
  size: number
  signed: boolean
  values: Enum64Value[]
}

export interface FwdType extends Common {
  kind: typeof KIND.FWD
  /** kind_flag: a forward-declared union (else struct). */
  union: boolean
}

export interface Param {
  name: string | null
  nameOff: number
  type: number
}

export interface FuncProtoType extends Common {
  kind: typeof KIND.FUNC_PROTO
  /** Return type. */
  type: number
  params: Param[]
}

export interface VarType extends Common {
  kind: typeof KIND.VAR
  type: number
  linkage: number
}

export interface VarSecinfo {
  type: number
  offset: number
  size: number
}

export interface DatasecType extends Common {
  kind: typeof KIND.DATASEC
  size: number
  vars: VarSecinfo[]
}

export interface FloatType extends Common {
  kind: typeof KIND.FLOAT
  size: number
}

export interface DeclTagType extends Common {
  kind: typeof KIND.DECL_TAG
  type: number
  componentIdx: number
}

export type BtfType =
  | VoidType
  | IntType
  | RefType
  | ArrayType
  | CompositeType
  | EnumType
  | Enum64Type
  | FwdType
  | FuncProtoType
  | VarType
  | DatasecType
  | FloatType
  | DeclTagType
