/**
 * Program, map, link and attach type names, spelled as bpftool prints them.
 *
 * Debian's bpftool 7.1 takes them from libbpf 1.1's tables, which stop at prog `syscall` (31),
 * map `cgrp_storage` (32), link `struct_ops` (9) and attach `lsm_cgroup` (43); for a newer id
 * it prints the bare number. These tables are the same up to there, then continue with the
 * names newer libbpf/bpftool print (from the running 6.18 kernel's enums and libbpf HEAD's
 * tables), so `netfilter`, `arena`, `tcx`, … print as names, as a current bpftool does.
 * An id unknown even here is returned as a number, like bpftool.
 *
 * Hard-coded rather than read from libbpf through FFI: a list of 1,000 programs calls these
 * 1,000 times, and the answer must not depend on which libbpf.so.1 is installed.
 */

export const PROG_TYPE_NAMES = [
  'unspec', 'socket_filter', 'kprobe', 'sched_cls', 'sched_act', 'tracepoint', 'xdp', 'perf_event',
  'cgroup_skb', 'cgroup_sock', 'lwt_in', 'lwt_out', 'lwt_xmit', 'sock_ops', 'sk_skb', 'cgroup_device',
  'sk_msg', 'raw_tracepoint', 'cgroup_sock_addr', 'lwt_seg6local', 'lirc_mode2', 'sk_reuseport',
  'flow_dissector', 'cgroup_sysctl', 'raw_tracepoint_writable', 'cgroup_sockopt', 'tracing', 'struct_ops',
  'ext', 'lsm', 'sk_lookup', 'syscall',
  // newer than libbpf 1.1 (Debian's bpftool 7.1 prints 32)
  'netfilter',
] as const

export const MAP_TYPE_NAMES = [
  'unspec', 'hash', 'array', 'prog_array', 'perf_event_array', 'percpu_hash', 'percpu_array', 'stack_trace',
  'cgroup_array', 'lru_hash', 'lru_percpu_hash', 'lpm_trie', 'array_of_maps', 'hash_of_maps', 'devmap',
  'sockmap', 'cpumap', 'xskmap', 'sockhash', 'cgroup_storage', 'reuseport_sockarray', 'percpu_cgroup_storage',
  'queue', 'stack', 'sk_storage', 'devmap_hash', 'struct_ops', 'ringbuf', 'inode_storage', 'task_storage',
  'bloom_filter', 'user_ringbuf', 'cgrp_storage',
  // newer than libbpf 1.1 (Debian's bpftool 7.1 prints 33)
  'arena',
] as const

export const LINK_TYPE_NAMES = [
  'unspec', 'raw_tracepoint', 'tracing', 'cgroup', 'iter', 'netns', 'xdp', 'perf_event', 'kprobe_multi',
  'struct_ops',
  // newer than libbpf 1.1 (Debian's bpftool 7.1 prints the number)
  'netfilter', 'tcx', 'uprobe_multi', 'netkit', 'sockmap',
] as const

export const ATTACH_TYPE_NAMES = [
  'cgroup_inet_ingress', 'cgroup_inet_egress', 'cgroup_inet_sock_create', 'cgroup_sock_ops',
  'sk_skb_stream_parser', 'sk_skb_stream_verdict', 'cgroup_device', 'sk_msg_verdict', 'cgroup_inet4_bind',
  'cgroup_inet6_bind', 'cgroup_inet4_connect', 'cgroup_inet6_connect', 'cgroup_inet4_post_bind',
  'cgroup_inet6_post_bind', 'cgroup_udp4_sendmsg', 'cgroup_udp6_sendmsg', 'lirc_mode2', 'flow_dissector',
  'cgroup_sysctl', 'cgroup_udp4_recvmsg', 'cgroup_udp6_recvmsg', 'cgroup_getsockopt', 'cgroup_setsockopt',
  'trace_raw_tp', 'trace_fentry', 'trace_fexit', 'modify_return', 'lsm_mac', 'trace_iter',
  'cgroup_inet4_getpeername', 'cgroup_inet6_getpeername', 'cgroup_inet4_getsockname',
  'cgroup_inet6_getsockname', 'xdp_devmap', 'cgroup_inet_sock_release', 'xdp_cpumap', 'sk_lookup', 'xdp',
  'sk_skb_verdict', 'sk_reuseport_select', 'sk_reuseport_select_or_migrate', 'perf_event',
  'trace_kprobe_multi', 'lsm_cgroup',
  // newer than libbpf 1.1 (Debian's bpftool 7.1 prints the number)
  'struct_ops', 'netfilter', 'tcx_ingress', 'tcx_egress', 'trace_uprobe_multi', 'cgroup_unix_connect',
  'cgroup_unix_sendmsg', 'cgroup_unix_recvmsg', 'cgroup_unix_getpeername', 'cgroup_unix_getsockname',
  'netkit_primary', 'netkit_peer', 'trace_kprobe_session', 'trace_uprobe_session',
] as const

/** The last id each table of libbpf 1.1 (Debian's bpftool 7.1) knows by name. */
export const LIBBPF_1_1_LAST = {attach: 43, link: 9, map: 32, prog: 31} as const

function lookup(table: readonly string[], id: number): string | number {
  return table[id] ?? id
}

/** `tracing` for 26; a number when unknown (as bpftool prints it). */
export function progTypeName(type: number): string | number {
  return lookup(PROG_TYPE_NAMES, type)
}

export function mapTypeName(type: number): string | number {
  return lookup(MAP_TYPE_NAMES, type)
}

export function linkTypeName(type: number): string | number {
  return lookup(LINK_TYPE_NAMES, type)
}

export function attachTypeName(type: number): string | number {
  return lookup(ATTACH_TYPE_NAMES, type)
}
