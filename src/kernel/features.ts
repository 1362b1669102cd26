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
import {BtfBuilder} from '../btf/builder.js'
import {describeErrno, errnoName} from '../sys/errno.js'
import {SysError, checkRet} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE, BPF_PROG_INFO as PROG_INFO} from '../sys/uapi.js'
import {closeFd} from './ids.js'

/** A blob of the types `add` writes (src/btf/builder.ts), enough for a kernel to accept or refuse one kind. */
function btfBlob(add: (b: BtfBuilder) => void): Buffer {
  const b = new BtfBuilder()
  add(b)
  return b.bytes()
}

const int32 = (b: BtfBuilder) => b.int('', 4, {signed: true})

/**
 * One blob per kind, modelled on libbpf's own feature probes (a kind and what it needs to refer
 * to). Built when probed: list/show commands import this module for progInfoNote only.
 */
const BTF_KIND_PROBES = {
  decl_tag: () => btfBlob((b) => b.declTag('tag', b.var('tag', int32(b), 0), -1)),
  enum64: () => btfBlob((b) => b.enum64('e64', 8, [['v', 1]])),
  float: () => btfBlob((b) => b.float('float', 4)),
  type_tag: () => btfBlob((b) => b.ptr(b.typeTag('tag', int32(b)))),
} as const

export type BtfKindProbe = keyof typeof BTF_KIND_PROBES

/** The blob offered to the kernel for this kind (exported for the builder's tests). */
export function btfKindBlob(kind: BtfKindProbe): Buffer {
  return BTF_KIND_PROBES[kind]()
}

/**
 * True when BPF_BTF_LOAD accepts a blob using this kind; false when the kernel rejects it as
 * invalid (EINVAL: a kind it does not know). Any other refusal (EPERM…) is thrown: it says
 * nothing about the kind.
 */
export function probeBtfKind(kind: BtfKindProbe): boolean {
  const blob = btfKindBlob(kind)
  const fd = sys().libbpf.bpf_btf_load(blob, blob.length, null)
  if (fd < 0) {
    const error = new SysError('BPF_BTF_LOAD', -fd, `probing BTF kind ${kind}`)
    if (error.code === 'EINVAL') return false
    throw error
  }

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
    const cpus = type.startsWith('percpu') ? checkRet('libbpf_num_possible_cpus', libbpf.libbpf_num_possible_cpus()) : 1
    const keys = Buffer.alloc(4)
    const values = Buffer.alloc(8 * cpus)
    const outBatch = Buffer.alloc(4)
    const count = [1]
    const ret = libbpf.bpf_map_lookup_batch(fd, null, outBatch, keys, values, count, null)
    if (ret === 0) return 'ok'
    const code = errnoName(ret)
    if (code === 'ENOENT') return 'ok'
    // ENOTSUPP is the kernel's own 524; ENOTSUP (95) is also called EOPNOTSUPP.
    if (code === 'ENOTSUPP' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EINVAL') return 'unsupported'
    return `error: ${describeErrno(-ret)}`
  } finally {
    closeFd(fd)
  }
}

/** The fields prog show prints (as bpftool 7.1): not verified_insns; attach_btf_id serves map update. */
export const PROG_SHOW_FIELDS = ['run_time_ns', 'recursion_misses'] as const

/** When each of those fields arrived, for messages. */
const PROG_INFO_SINCE: Record<string, string> = {
  attach_btf_id: '6.0',
  recursion_misses: '5.12',
  run_time_ns: '5.1',
  verified_insns: '5.16',
}

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
