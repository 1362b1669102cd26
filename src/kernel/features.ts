/**
 * What this kernel can do that the tool depends on, asked of the kernel itself (never read off
 * the version number): each probe creates a throwaway object, tries the operation, and closes
 * it. `doctor` reports these; `map dump` and `perf list` meet the same facts at run time and
 * say so on stderr. What moved between the kernels we test on (5.10, 6.1, 6.12, 6.18):
 *
 * - BTF kinds: FLOAT (5.13), DECL_TAG (5.16), TYPE_TAG (5.17), ENUM64 (6.0). An object whose
 *   BTF uses a kind the kernel lacks is loaded anyway: libbpf rewrites those types (FLOAT
 *   becomes an empty struct of the same size), so values of that type lose their meaning.
 * - BPF_MAP_LOOKUP_BATCH per map type: hash maps and plain arrays have it from 5.6, per-CPU
 *   arrays only later (5.10 answers ENOTSUPP), prog arrays never.
 * - struct bpf_prog_info grew: run_time_ns/run_cnt (5.1), recursion_misses (5.12),
 *   verified_insns (5.16), attach_btf_obj_id/attach_btf_id (6.0). Fields the kernel does not
 *   copy are absent from `prog show --json` (as in bpftool); the table says which (progInfoNote).
 * - BPF_TASK_FD_QUERY on a tp_btf link fd (what `perf list` uses): probed in `doctor` on the
 *   chain's own link (queryFd in inspect/perf.ts).
 */
import {KIND} from '../btf/kinds.js'
import {describeErrno, errnoName} from '../sys/errno.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE, BPF_PROG_INFO as PROG_INFO, BTF_MAGIC} from '../sys/uapi.js'
import {closeFd} from './ids.js'

/** One BTF type record: name offset, info word (kind, vlen, kflag), size or type, extra words. */
type Rec = [nameOff: number, kind: number, vlen: number, sizeOrType: number, ...extra: number[]]

/** A minimal raw BTF blob (header, types, strings), enough for a kernel to accept or refuse one kind. */
function btfBlob(types: Rec[], strings: string): Buffer {
  const words: number[] = []
  for (const [nameOff, kind, vlen, sizeOrType, ...extra] of types) {
    words.push(nameOff, ((kind & 0x1f) << 24) | (vlen & 0xffff), sizeOrType, ...extra)
  }

  const typeLen = words.length * 4
  const str = Buffer.from(strings, 'latin1')
  const b = Buffer.alloc(24 + typeLen + str.length)
  b.writeUInt16LE(BTF_MAGIC, 0)
  b.writeUInt8(1, 2) // version
  b.writeUInt32LE(24, 4) // hdr_len
  b.writeUInt32LE(0, 8) // type_off
  b.writeUInt32LE(typeLen, 12)
  b.writeUInt32LE(typeLen, 16) // str_off
  b.writeUInt32LE(str.length, 20)
  for (const [i, w] of words.entries()) b.writeUInt32LE(w >>> 0, 24 + i * 4)
  str.copy(b, 24 + typeLen)
  return b
}

// int: 32-bit signed (encoding word: BTF_INT_SIGNED << 24 | offset 0 << 16 | 32 bits).
const INT32: Rec = [0, KIND.INT, 0, 4, (1 << 24) | 32]

/**
 * One blob per kind, modelled on libbpf's own feature probes (a kind and what it needs to refer
 * to). Built when probed: list/show commands import this module for progInfoNote only.
 */
const BTF_KIND_PROBES = {
  decl_tag: () => btfBlob([INT32, [1, KIND.VAR, 0, 1, 0], [1, KIND.DECL_TAG, 0, 2, 0xffffffff]], '\0tag\0'),
  enum64: () => btfBlob([[1, KIND.ENUM64, 1, 8, 5, 1, 0]], '\0e64\0v\0'),
  float: () => btfBlob([[1, KIND.FLOAT, 0, 4]], '\0float\0'),
  type_tag: () => btfBlob([INT32, [1, KIND.TYPE_TAG, 0, 1], [0, KIND.PTR, 0, 2]], '\0tag\0'),
} as const

export type BtfKindProbe = keyof typeof BTF_KIND_PROBES

/** True when BPF_BTF_LOAD accepts a blob using this kind. */
export function probeBtfKind(kind: BtfKindProbe): boolean {
  const blob = BTF_KIND_PROBES[kind]()
  const fd = sys().libbpf.bpf_btf_load(blob, blob.length, null)
  if (fd < 0) return false
  closeFd(fd)
  return true
}

export type BatchProbe = 'ok' | 'unsupported' | `error: ${string}`

/**
 * Does BPF_MAP_LOOKUP_BATCH work on this map type? A one-entry map is created and read with a
 * batch of one. ENOENT (end of map, nothing more) also means the command ran.
 */
export function probeLookupBatch(type: 'array' | 'percpu_array' | 'hash' | 'percpu_hash'): BatchProbe {
  const {libbpf} = sys()
  const fd = libbpf.bpf_map_create(BPF_MAP_TYPE[type.toUpperCase() as Uppercase<typeof type>], null, 4, 8, 1, null)
  if (fd < 0) return `error: ${describeErrno(-fd)}`
  try {
    const cpus = type.startsWith('percpu') ? libbpf.libbpf_num_possible_cpus() : 1
    const keys = Buffer.alloc(4)
    const values = Buffer.alloc(8 * cpus)
    const outBatch = Buffer.alloc(4)
    const count = [1]
    const ret = libbpf.bpf_map_lookup_batch(fd, null, outBatch, keys, values, count, null)
    if (ret === 0 || errnoName(ret) === 'ENOENT') return 'ok'
    // ENOTSUPP is the kernel's own 524; ENOTSUP is 95, also called EOPNOTSUPP.
    if (['ENOTSUPP', 'ENOTSUP', 'EINVAL'].includes(errnoName(ret))) return 'unsupported'
    return `error: ${describeErrno(-ret)}`
  } finally {
    closeFd(fd)
  }
}

/** The fields prog show prints (as bpftool 7.1): not verified_insns; attach_btf_id serves map update. */
export const PROG_SHOW_FIELDS = ['run_time_ns', 'recursion_misses'] as const

/** When each of those fields arrived, for messages. */
const PROG_INFO_SINCE: Record<string, string> = {attach_btf_id: '6.0', recursion_misses: '5.12', run_time_ns: '5.1', verified_insns: '5.16'}

/**
 * The line under `prog show`'s table on a kernel that fills less of bpf_prog_info than the
 * fields the tool knows (JSON leaves the keys out silently, as bpftool does).
 */
export function progInfoNote(infoLen: number): string | undefined {
  const fields = progInfoFields(infoLen)
  const missing = PROG_SHOW_FIELDS.filter((k) => !fields[k]).map((k) => `${k} (${PROG_INFO_SINCE[k]}+)`)
  if (missing.length === 0) return undefined
  return `Not reported by this kernel (it fills ${infoLen} bytes of bpf_prog_info): ${missing.join(', ')}.`
}

/** The bpf_prog_info fields the tool shows that arrived after 5.8, present or not on this kernel. */
export function progInfoFields(infoLen: number): Record<string, boolean> {
  const has = (off: number, size: number) => off + size <= infoLen
  return {
    attach_btf_id: has(PROG_INFO.attach_btf_id, 4),
    recursion_misses: has(PROG_INFO.recursion_misses, 8),
    run_time_ns: has(PROG_INFO.run_time_ns, 8),
    verified_insns: has(PROG_INFO.verified_insns, 4),
  }
}
