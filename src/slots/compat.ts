/**
 * Will the kernel accept this program in this prog array? Checked before touching the kernel,
 * so a refusal names the reason instead of a bare EINVAL (the kernel checks this in
 * __bpf_prog_map_compatible, kernel/bpf/core.c, and tells user space nothing more).
 *
 * The kernel compares every program with the array's **owner** (the first program that used
 * the array): program type (an ext program counts as its target's type, but ext programs are
 * never allowed in), JIT-ed or not, and for tracing/LSM/ext/struct_ops programs the attach
 * function's prototype (6.12+, CVE-2024-50063, backported), and the expected attach type
 * (6.18, CVE-2025-40123, backported to 6.12.y/6.1.y). fdinfo shows only the owner's type and
 * JIT flag; the rest is read from a program already in the array (or one that uses it), which
 * the kernel already found compatible with the owner. What we cannot see is left to the kernel,
 * whose EINVAL is then decoded by the caller.
 */
import {KIND} from '../btf/kinds.js'
import type {BtfType} from '../btf/types.js'
import {isKind} from '../errors.js'
import {kernelBtf} from '../kernel/btf.js'
import {attachTypeName, progTypeName} from '../kernel/names.js'
import {objectLabel} from '../render/label.js'
import {BPF_ATTACH_TYPE, BPF_PROG_TYPE} from '../sys/uapi.js'

/** Types whose attach_func_proto must be identical in one prog array. */
const PROTO_CHECKED = new Set<number>([
  BPF_PROG_TYPE.TRACING,
  BPF_PROG_TYPE.LSM,
  BPF_PROG_TYPE.EXT,
  BPF_PROG_TYPE.STRUCT_OPS,
])

export interface ProgFacts {
  id: number
  name: string
  type: number
  jited: boolean
  attachBtfObjId?: number
  attachBtfId?: number
  /** Attach types seen on this program's links (when it is attached). */
  linkAttachTypes?: number[]
}

export interface ArrayFacts {
  id: number
  name: string
  ownerProgType?: number
  ownerJited?: boolean
  /** Programs in the array's slots, then programs whose code uses it: all compatible with the owner. */
  references: ProgFacts[]
}

/** What a program attaches to, as far as BTF tells. */
export interface AttachTarget {
  /** Identity of the attach function's prototype: "btf obj id:type id". */
  proto?: string
  /** `tp_btf/sched_process_exec`, `function do_unlinkat`, `btf id 1234 in BTF object 1`. */
  description: string
  /** The expected attach type the target implies (tp_btf → BPF_TRACE_RAW_TP), if it does. */
  attachType?: number
}

export type TargetResolver = (objId: number, btfId: number) => AttachTarget

/** Resolve through the kernel's BTF (vmlinux or module), as the verifier does at load time. */
export function kernelTargetResolver(objId: number, btfId: number): AttachTarget {
  const fallback: AttachTarget = {description: `btf id ${btfId} in BTF object ${objId}`, proto: undefined}
  let btf
  try {
    btf = kernelBtf(objId)
  } catch (error) {
    // A module's BTF that went away (notFound) or cannot be decoded (invalidObject): the
    // target is then described by its ids alone, and the kernel still checks it on update.
    if (isKind(error, 'notFound', 'invalidObject')) return fallback
    throw error
  }

  const t = btf.type(btfId)
  if (!t) return fallback
  const follow = (x: BtfType | undefined): BtfType | undefined =>
    x && 'type' in x ? btf.type((x as {type: number}).type) : undefined
  // tp_btf: typedef btf_trace_<tp> → pointer → func_proto. fentry/fexit/lsm: FUNC → func_proto.
  if (t.kind === KIND.TYPEDEF && t.name?.startsWith('btf_trace_')) {
    const proto = follow(follow(t))
    return {
      attachType: BPF_ATTACH_TYPE.TRACE_RAW_TP,
      description: `tp_btf/${t.name.slice('btf_trace_'.length)}`,
      proto: proto?.kind === KIND.FUNC_PROTO ? `${objId}:${proto.id}` : undefined,
    }
  }

  if (t.kind === KIND.FUNC) {
    const proto = follow(t)
    return {
      description: `function ${t.name ?? '?'}`,
      proto: proto?.kind === KIND.FUNC_PROTO ? `${objId}:${proto.id}` : undefined,
    }
  }

  return {...fallback, description: `${t.name || '(anon)'} (btf id ${btfId})`}
}

/** The program's expected attach type, when we can tell it. */
function attachTypeOf(p: ProgFacts, target: AttachTarget | undefined): number | undefined {
  if (target?.attachType !== undefined) return target.attachType
  const seen = [...new Set(p.linkAttachTypes ?? [])]
  return seen.length === 1 ? seen[0] : undefined
}

/** Why the kernel would refuse `prog` in `array`, or undefined when nothing we can see forbids it. */
export function incompatibility(
  array: ArrayFacts,
  prog: ProgFacts,
  resolve: TargetResolver = kernelTargetResolver,
): string | undefined {
  const p = objectLabel(prog)
  const a = objectLabel(array)
  if (prog.type === BPF_PROG_TYPE.EXT) {
    return `${p} is an ext (freplace) program: the kernel never puts freplace programs in a prog array`
  }

  const ownerType = array.ownerProgType ?? array.references[0]?.type
  if (ownerType !== undefined && ownerType !== prog.type) {
    return `${p} is a ${progTypeName(prog.type)} program, but ${a} holds ${progTypeName(ownerType)} programs (the type of its owner, the first program that used it)`
  }

  const ownerJited = array.ownerJited ?? array.references[0]?.jited
  if (ownerJited !== undefined && ownerJited !== prog.jited) {
    return `${p} is ${prog.jited ? '' : 'not '}JIT-compiled, but ${a}'s programs are ${ownerJited ? '' : 'not '}(the kernel does not mix JIT-compiled and interpreted programs in a prog array)`
  }

  if (!PROTO_CHECKED.has(prog.type)) return undefined
  const ref = array.references.find((r) => r.attachBtfId !== undefined && r.attachBtfObjId !== undefined)
  if (!ref || prog.attachBtfId === undefined || prog.attachBtfObjId === undefined) return undefined
  const attachTypeReason = (mine: number | undefined, theirs: number | undefined) =>
    mine !== undefined && theirs !== undefined && mine !== theirs
      ? `${p} has attach type ${attachTypeName(mine)}, but ${a}'s programs have ${attachTypeName(theirs)} (kernels since 6.18, and 6.12.y/6.1.y stable, require the same)`
      : undefined
  if (ref.attachBtfObjId === prog.attachBtfObjId && ref.attachBtfId === prog.attachBtfId) {
    // Same target: same prototype. Only the attach type can differ (fentry vs fexit on one
    // function), and only links show it. No BTF needed.
    return attachTypeReason(attachTypeOf(prog, undefined), attachTypeOf(ref, undefined))
  }

  const mine = resolve(prog.attachBtfObjId, prog.attachBtfId)
  const theirs = resolve(ref.attachBtfObjId!, ref.attachBtfId!)
  // Different targets are fine if they share one prototype (BTF dedup merges identical ones):
  // the kernel compares the prototype, not the target. Unresolvable BTF: the kernel decides.
  if (mine.proto === undefined || theirs.proto === undefined) return undefined
  if (mine.proto !== theirs.proto) {
    return `${p} attaches to ${mine.description}, but ${a}'s programs attach to ${theirs.description} (like ${objectLabel(ref)}): programs in one prog array must have the same attach function prototype`
  }

  return attachTypeReason(attachTypeOf(prog, mine), attachTypeOf(ref, theirs))
}
