/**
 * What a program's ELF section name (its SEC("…")) tells about it, following libbpf's convention:
 * the program type, the expected attach type it is loaded with, and the attach target written
 * after the prefix (`tp_btf/sched_process_exec` → target `sched_process_exec`).
 *
 * The kernel compares these between the programs of one prog array (program type always; the
 * attach function's prototype for tracing/LSM/ext/struct_ops programs; the expected attach type
 * on recent kernels), so they are what the object graph checks for incompatible slot contents.
 */
import {ATTACH_TYPE_NAMES, progTypeId} from '../kernel/names.js'

export interface SectionKind {
  /** enum bpf_prog_type, or undefined for a section libbpf would not know. */
  progType?: number
  /** enum bpf_attach_type the program is loaded with (libbpf's expected_attach_type), if any. */
  attachType?: number
  /** What follows the prefix, for types whose attach target is part of the name. */
  target?: string
  /** Whether the target decides the attach function's prototype (the kernel compares it). */
  targetIsFunction: boolean
}

interface Rule {
  prefix: string
  prog: string
  attach?: string
  /** The part after `prefix/` names a function or tracepoint whose prototype is checked. */
  fn?: boolean
}

// Longest prefixes first where one is a prefix of another (kprobe.multi before kprobe).
const RULES: Rule[] = [
  {prefix: 'socket', prog: 'socket_filter'},
  {prefix: 'sk_reuseport/migrate', prog: 'sk_reuseport', attach: 'sk_reuseport_select_or_migrate'},
  {prefix: 'sk_reuseport', prog: 'sk_reuseport', attach: 'sk_reuseport_select'},
  {prefix: 'kprobe.multi', prog: 'kprobe', attach: 'trace_kprobe_multi'},
  {prefix: 'kretprobe.multi', prog: 'kprobe', attach: 'trace_kprobe_multi'},
  {prefix: 'uprobe.multi', prog: 'kprobe', attach: 'trace_uprobe_multi'},
  {prefix: 'uretprobe.multi', prog: 'kprobe', attach: 'trace_uprobe_multi'},
  {prefix: 'kprobe', prog: 'kprobe'},
  {prefix: 'kretprobe', prog: 'kprobe'},
  {prefix: 'uprobe', prog: 'kprobe'},
  {prefix: 'uretprobe', prog: 'kprobe'},
  {prefix: 'ksyscall', prog: 'kprobe'},
  {prefix: 'kretsyscall', prog: 'kprobe'},
  {prefix: 'usdt', prog: 'kprobe'},
  {prefix: 'tc/ingress', prog: 'sched_cls', attach: 'tcx_ingress'},
  {prefix: 'tc/egress', prog: 'sched_cls', attach: 'tcx_egress'},
  {prefix: 'tcx/ingress', prog: 'sched_cls', attach: 'tcx_ingress'},
  {prefix: 'tcx/egress', prog: 'sched_cls', attach: 'tcx_egress'},
  {prefix: 'tc', prog: 'sched_cls'},
  {prefix: 'classifier', prog: 'sched_cls'},
  {prefix: 'action', prog: 'sched_act'},
  {prefix: 'tracepoint', prog: 'tracepoint'},
  {prefix: 'tp', prog: 'tracepoint'},
  {prefix: 'raw_tracepoint.w', prog: 'raw_tracepoint_writable'},
  {prefix: 'raw_tp.w', prog: 'raw_tracepoint_writable'},
  {prefix: 'raw_tracepoint', prog: 'raw_tracepoint'},
  {prefix: 'raw_tp', prog: 'raw_tracepoint'},
  {prefix: 'tp_btf', prog: 'tracing', attach: 'trace_raw_tp', fn: true},
  {prefix: 'fentry.s', prog: 'tracing', attach: 'trace_fentry', fn: true},
  {prefix: 'fmod_ret.s', prog: 'tracing', attach: 'modify_return', fn: true},
  {prefix: 'fexit.s', prog: 'tracing', attach: 'trace_fexit', fn: true},
  {prefix: 'fentry', prog: 'tracing', attach: 'trace_fentry', fn: true},
  {prefix: 'fmod_ret', prog: 'tracing', attach: 'modify_return', fn: true},
  {prefix: 'fexit', prog: 'tracing', attach: 'trace_fexit', fn: true},
  {prefix: 'iter.s', prog: 'tracing', attach: 'trace_iter', fn: true},
  {prefix: 'iter', prog: 'tracing', attach: 'trace_iter', fn: true},
  {prefix: 'freplace', prog: 'ext', fn: true},
  {prefix: 'lsm.s', prog: 'lsm', attach: 'lsm_mac', fn: true},
  {prefix: 'lsm_cgroup', prog: 'lsm', attach: 'lsm_cgroup', fn: true},
  {prefix: 'lsm', prog: 'lsm', attach: 'lsm_mac', fn: true},
  {prefix: 'struct_ops.s', prog: 'struct_ops', fn: true},
  {prefix: 'struct_ops', prog: 'struct_ops', fn: true},
  {prefix: 'xdp.frags/devmap', prog: 'xdp', attach: 'xdp_devmap'},
  {prefix: 'xdp/devmap', prog: 'xdp', attach: 'xdp_devmap'},
  {prefix: 'xdp.frags/cpumap', prog: 'xdp', attach: 'xdp_cpumap'},
  {prefix: 'xdp/cpumap', prog: 'xdp', attach: 'xdp_cpumap'},
  {prefix: 'xdp.frags', prog: 'xdp', attach: 'xdp'},
  {prefix: 'xdp', prog: 'xdp', attach: 'xdp'},
  {prefix: 'perf_event', prog: 'perf_event'},
  {prefix: 'lwt_in', prog: 'lwt_in'},
  {prefix: 'lwt_out', prog: 'lwt_out'},
  {prefix: 'lwt_xmit', prog: 'lwt_xmit'},
  {prefix: 'lwt_seg6local', prog: 'lwt_seg6local'},
  {prefix: 'sockops', prog: 'sock_ops', attach: 'cgroup_sock_ops'},
  {prefix: 'sk_skb/stream_parser', prog: 'sk_skb', attach: 'sk_skb_stream_parser'},
  {prefix: 'sk_skb/stream_verdict', prog: 'sk_skb', attach: 'sk_skb_stream_verdict'},
  {prefix: 'sk_skb/verdict', prog: 'sk_skb', attach: 'sk_skb_verdict'},
  {prefix: 'sk_skb', prog: 'sk_skb'},
  {prefix: 'sk_msg', prog: 'sk_msg', attach: 'sk_msg_verdict'},
  {prefix: 'lirc_mode2', prog: 'lirc_mode2', attach: 'lirc_mode2'},
  {prefix: 'flow_dissector', prog: 'flow_dissector', attach: 'flow_dissector'},
  {prefix: 'cgroup_skb/ingress', prog: 'cgroup_skb', attach: 'cgroup_inet_ingress'},
  {prefix: 'cgroup_skb/egress', prog: 'cgroup_skb', attach: 'cgroup_inet_egress'},
  {prefix: 'cgroup/skb', prog: 'cgroup_skb'},
  {prefix: 'cgroup/sock_create', prog: 'cgroup_sock', attach: 'cgroup_inet_sock_create'},
  {prefix: 'cgroup/sock_release', prog: 'cgroup_sock', attach: 'cgroup_inet_sock_release'},
  {prefix: 'cgroup/sock', prog: 'cgroup_sock', attach: 'cgroup_inet_sock_create'},
  {prefix: 'cgroup/post_bind4', prog: 'cgroup_sock', attach: 'cgroup_inet4_post_bind'},
  {prefix: 'cgroup/post_bind6', prog: 'cgroup_sock', attach: 'cgroup_inet6_post_bind'},
  {prefix: 'cgroup/dev', prog: 'cgroup_device', attach: 'cgroup_device'},
  {prefix: 'cgroup/bind4', prog: 'cgroup_sock_addr', attach: 'cgroup_inet4_bind'},
  {prefix: 'cgroup/bind6', prog: 'cgroup_sock_addr', attach: 'cgroup_inet6_bind'},
  {prefix: 'cgroup/connect4', prog: 'cgroup_sock_addr', attach: 'cgroup_inet4_connect'},
  {prefix: 'cgroup/connect6', prog: 'cgroup_sock_addr', attach: 'cgroup_inet6_connect'},
  {prefix: 'cgroup/sendmsg4', prog: 'cgroup_sock_addr', attach: 'cgroup_udp4_sendmsg'},
  {prefix: 'cgroup/sendmsg6', prog: 'cgroup_sock_addr', attach: 'cgroup_udp6_sendmsg'},
  {prefix: 'cgroup/recvmsg4', prog: 'cgroup_sock_addr', attach: 'cgroup_udp4_recvmsg'},
  {prefix: 'cgroup/recvmsg6', prog: 'cgroup_sock_addr', attach: 'cgroup_udp6_recvmsg'},
  {prefix: 'cgroup/getpeername4', prog: 'cgroup_sock_addr', attach: 'cgroup_inet4_getpeername'},
  {prefix: 'cgroup/getpeername6', prog: 'cgroup_sock_addr', attach: 'cgroup_inet6_getpeername'},
  {prefix: 'cgroup/getsockname4', prog: 'cgroup_sock_addr', attach: 'cgroup_inet4_getsockname'},
  {prefix: 'cgroup/getsockname6', prog: 'cgroup_sock_addr', attach: 'cgroup_inet6_getsockname'},
  {prefix: 'cgroup/sysctl', prog: 'cgroup_sysctl', attach: 'cgroup_sysctl'},
  {prefix: 'cgroup/getsockopt', prog: 'cgroup_sockopt', attach: 'cgroup_getsockopt'},
  {prefix: 'cgroup/setsockopt', prog: 'cgroup_sockopt', attach: 'cgroup_setsockopt'},
  {prefix: 'sk_lookup', prog: 'sk_lookup', attach: 'sk_lookup'},
  {prefix: 'netfilter', prog: 'netfilter', attach: 'netfilter'},
  {prefix: 'syscall', prog: 'syscall'},
]

/** The program type and attach details libbpf derives from a section name. */
export function sectionKind(section: string): SectionKind {
  // A leading `?` only turns autoload off.
  const name = section.startsWith('?') ? section.slice(1) : section
  for (const r of RULES) {
    if (name !== r.prefix && !name.startsWith(`${r.prefix}/`) && !(r.prefix.endsWith('/') && name.startsWith(r.prefix)))
      continue
    const rest = name.length > r.prefix.length ? name.slice(r.prefix.length + 1) : undefined
    const attach = r.attach === undefined ? -1 : (ATTACH_TYPE_NAMES as readonly string[]).indexOf(r.attach)
    return {
      attachType: attach === -1 ? undefined : attach,
      progType: progTypeId(r.prog),
      target: rest || undefined,
      targetIsFunction: r.fn === true,
    }
  }

  return {targetIsFunction: false}
}
