/**
 * One type as `bpftool --json btf dump` prints it (btf.c dump_btf_type, format raw), as a
 * JSON text with bpftool's key order. Used to check the parser against bpftool on whole
 * BTF blobs (vmlinux included), and by anything that lists types.
 */
import type {Btf} from './btf.js'
import {INT_BOOL, INT_CHAR, INT_SIGNED, KIND, kindName} from './kinds.js'
import type {BtfType} from './types.js'

const q = JSON.stringify

function encodingName(e: number): string {
  switch (e) {
    case 0:
      return '(none)'
    case INT_SIGNED:
      return 'SIGNED'
    case INT_CHAR:
      return 'CHAR'
    case INT_BOOL:
      return 'BOOL'
    default:
      return 'UNKN'
  }
}

function varLinkage(l: number): string {
  return ['static', 'global', 'extern'][l] ?? '(unknown)'
}

/** `{"id":…,"kind":…,"name":…,…}` exactly as bpftool 7.1 writes it (compact). */
export function describeType(btf: Btf, t: BtfType): string {
  const name = (off: number, s: string | null): string => q(off === 0 ? '(anon)' : (s ?? '(invalid)'))
  let out = `{"id":${t.id},"kind":${q(kindName(t.kind))},"name":${name(t.nameOff, t.name)}`
  switch (t.kind) {
    case KIND.INT:
      out += `,"size":${t.size},"bits_offset":${t.bitsOffset},"nr_bits":${t.bits},"encoding":${q(encodingName(t.encoding))}`
      break
    case KIND.PTR:
    case KIND.CONST:
    case KIND.VOLATILE:
    case KIND.RESTRICT:
    case KIND.TYPEDEF:
    case KIND.TYPE_TAG:
      out += `,"type_id":${t.type}`
      break
    case KIND.ARRAY:
      out += `,"type_id":${t.type},"index_type_id":${t.indexType},"nr_elems":${t.nelems}`
      break
    case KIND.STRUCT:
    case KIND.UNION:
      out += `,"size":${t.size},"vlen":${t.vlen},"members":[`
      out += t.members
        .map(
          (m) =>
            `{"name":${name(m.nameOff, m.name)},"type_id":${m.type},"bits_offset":${m.bitOffset}` +
            (m.bitfieldSize ? `,"bitfield_size":${m.bitfieldSize}` : '') +
            '}',
        )
        .join(',')
      out += ']'
      break
    case KIND.ENUM:
      out += `,"encoding":${q(t.signed ? 'SIGNED' : 'UNSIGNED')},"size":${t.size},"vlen":${t.vlen},"values":[`
      // bpftool passes the s32 to jsonw_uint_field (u64): negative values of unsigned enums
      // come out sign-extended, e.g. 4026531839 prints as 18446744073441116159.
      out += t.values
        .map(
          (v) =>
            `{"name":${name(v.nameOff, v.name)},"val":${t.signed ? v.value : BigInt.asUintN(64, BigInt(v.value))}}`,
        )
        .join(',')
      out += ']'
      break
    case KIND.ENUM64:
      out += `,"encoding":${q(t.signed ? 'SIGNED' : 'UNSIGNED')},"size":${t.size},"vlen":${t.vlen},"values":[`
      out += t.values
        .map((v) => `{"name":${name(v.nameOff, v.name)},"val":${t.signed ? BigInt.asIntN(64, v.value) : v.value}}`)
        .join(',')
      out += ']'
      break
    case KIND.FWD:
      out += `,"fwd_kind":${q(t.union ? 'union' : 'struct')}`
      break
    case KIND.FUNC:
      out += `,"type_id":${t.type},"linkage":${q(varLinkage(t.vlen))}`
      break
    case KIND.FUNC_PROTO:
      out += `,"ret_type_id":${t.type},"vlen":${t.vlen},"params":[`
      out += t.params.map((p) => `{"name":${name(p.nameOff, p.name)},"type_id":${p.type}}`).join(',')
      out += ']'
      break
    case KIND.VAR:
      out += `,"type_id":${t.type},"linkage":${q(varLinkage(t.linkage))}`
      break
    case KIND.DATASEC:
      out += `,"size":${t.size},"vlen":${t.vlen},"vars":[`
      out += t.vars.map((v) => `{"type_id":${v.type},"offset":${v.offset},"size":${v.size}}`).join(',')
      out += ']'
      break
    case KIND.FLOAT:
      out += `,"size":${t.size}`
      break
    case KIND.DECL_TAG:
      out += `,"type_id":${t.type},"component_idx":${t.componentIdx}`
      break
    default:
      break
  }

  return `${out}}`
}

/** `{"types":[…]}` for the blob's own types (split BTF: only the split part, as bpftool). */
export function* describeTypes(btf: Btf): Generator<string> {
  for (let id = btf.startId; id < btf.typeCount; id++) yield describeType(btf, btf.type(id)!)
}
