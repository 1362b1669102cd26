/**
 * Attaching a generic object's entry programs, each with its undo: libbpf's own attach for
 * sections it understands, XDP through a BPF link (detached when its last fd closes, so a crash
 * leaves nothing on the interface, and pinnable like any link), tc through libbpf 1.1's
 * bpf_tc_* netlink calls (no link: detached explicitly, and the clsact qdisc removed again
 * when this run created it).
 */
import {TailcallsError} from '../errors.js'
import {errnoName} from '../sys/errno.js'
import {SysError, checkRet} from '../sys/error.js'
import {type BpfLink, type BpfProgram, sys} from '../sys/ffi.js'
import type {AttachPlan, TcAttach} from './plan.js'

// libbpf's own enums and structs (libbpf.h), not the kernel's: enum bpf_tc_attach_point,
// struct bpf_tc_hook {size_t sz; int ifindex; enum attach_point; u32 parent} and struct
// bpf_tc_opts {size_t sz; int prog_fd; u32 flags, prog_id, handle, priority}, x86-64/arm64 layout.
const BPF_TC_INGRESS = 1
const BPF_TC_EGRESS = 2
const TC_HOOK = {size: 24, ifindex: 8, attachPoint: 12, parent: 16} as const
const TC_OPTS = {size: 32, progFd: 8, flags: 12, progId: 16, handle: 20, priority: 24} as const

export interface Attached {
  prog: string
  /** tp_btf/sched_process_exec, xdp on veth0, tc ingress on veth0. */
  target: string
  /** The BPF link, when the attachment has one (not tc on libbpf 1.1). */
  link: BpfLink | null
  linkFd?: number
  detach(): void
}

function tcHook(t: TcAttach, attachPoint: number): Buffer {
  const hook = Buffer.alloc(TC_HOOK.size)
  hook.writeBigUInt64LE(BigInt(TC_HOOK.size), 0)
  hook.writeInt32LE(t.ifindex, TC_HOOK.ifindex)
  hook.writeUInt32LE(attachPoint, TC_HOOK.attachPoint)
  return hook
}

function attachFailed(plan: AttachPlan, what: string, cause: SysError): TailcallsError {
  const {how} = plan
  let hint = 'run `tailcalls doctor` to check what this kernel supports'
  if (cause.code === 'EPERM' || cause.code === 'EACCES')
    hint =
      'the kernel refused the attachment (fentry/fexit need a kernel that allows trampolines here; lockdown mode refuses some); `tailcalls doctor` checks the prerequisites'
  else if (how.kind === 'xdp' && cause.code === 'EBUSY')
    hint = `${how.iface} already has an XDP program; detach it first (\`ip link set dev ${how.iface} xdp off\`)`
  else if (cause.code === 'ENOENT' || cause.code === 'ESRCH')
    hint = `the kernel has no attach point for SEC("${plan.section}"); check the name after the slash`
  return new TailcallsError('attach', `attaching ${plan.prog} to ${what} failed: ${cause.code}`, {cause, hint})
}

export function attachOne(plan: AttachPlan, prog: BpfProgram): Attached {
  const {errno, libbpf} = sys()
  const how = plan.how
  if (how.kind === 'auto' || how.kind === 'xdp') {
    const target = how.kind === 'xdp' ? `xdp on ${how.iface}` : plan.section
    const link =
      how.kind === 'xdp' ? libbpf.bpf_program__attach_xdp(prog, how.ifindex) : libbpf.bpf_program__attach(prog)
    if (!link)
      throw attachFailed(
        plan,
        target,
        new SysError(
          how.kind === 'xdp' ? 'bpf_program__attach_xdp' : 'bpf_program__attach',
          errno(),
          `attaching ${plan.prog}`,
        ),
      )
    let held: BpfLink | null = link
    return {
      detach() {
        // Not checked: libbpf frees the link whatever the detach answers.
        if (held) libbpf.bpf_link__destroy(held)
        held = null
      },
      link,
      linkFd: checkRet('bpf_link__fd', libbpf.bpf_link__fd(link)),
      prog: plan.prog,
      target,
    }
  }

  const point = how.direction === 'ingress' ? BPF_TC_INGRESS : BPF_TC_EGRESS
  const hook = tcHook(how, point)
  const target = `tc ${how.direction} on ${how.iface}`
  const created = libbpf.bpf_tc_hook_create(hook)
  // EEXIST: the clsact qdisc is there already, and stays when we go.
  if (created < 0 && errnoName(created) !== 'EEXIST') {
    throw attachFailed(
      plan,
      target,
      new SysError('bpf_tc_hook_create', -created, `creating the clsact qdisc on ${how.iface}`),
    )
  }

  const destroyHook = () => {
    if (created < 0) return
    // Only the qdisc this run created: removing it removes its filters in both directions.
    libbpf.bpf_tc_hook_destroy(tcHook(how, BPF_TC_INGRESS | BPF_TC_EGRESS))
  }

  const opts = Buffer.alloc(TC_OPTS.size)
  opts.writeBigUInt64LE(BigInt(TC_OPTS.size), 0)
  opts.writeInt32LE(libbpf.bpf_program__fd(prog), TC_OPTS.progFd)
  const ret = libbpf.bpf_tc_attach(hook, opts)
  if (ret < 0) {
    destroyHook()
    throw attachFailed(plan, target, new SysError('bpf_tc_attach', -ret, `attaching ${plan.prog}`))
  }

  const handle = opts.readUInt32LE(TC_OPTS.handle)
  const priority = opts.readUInt32LE(TC_OPTS.priority)
  let attached = true
  return {
    detach() {
      if (!attached) return
      attached = false
      const d = Buffer.alloc(TC_OPTS.size)
      d.writeBigUInt64LE(BigInt(TC_OPTS.size), 0)
      d.writeUInt32LE(handle, TC_OPTS.handle)
      d.writeUInt32LE(priority, TC_OPTS.priority)
      libbpf.bpf_tc_detach(hook, d)
      destroyHook()
    },
    link: null,
    prog: plan.prog,
    target,
  }
}
