/**
 * Every kernel and BPF-object struct layout the project reads, as byte offsets (x86_64).
 * Kernel structs: include/uapi/linux/bpf.h, checked against the running kernel's BTF.
 * Chain structs: bpf/tailcalls.h (test/object.test.js compiles a C program against that
 * header and checks these offsets).
 */

/** struct event in bpf/tailcalls.h: one ring-buffer record. */
export const EVENT = {
  size: 40,
  ts_ns: 0, // u64, CLOCK_MONOTONIC
  kind: 8,
  prog: 12,
  cpu_id: 16,
  tgid: 20,
  per_event_count: 24,
  total_count: 28,
  slot: 32,
} as const

export const EVENT_KIND = {stage: 0, tailCallFailed: 1} as const

/** enum stage_prog: the program that emitted an event, and its index in chain_stats.runs. */
export const STAGE_PROGS = ['prog1', 'prog2', 'prog3', 'prog3_v2'] as const

/** Slots of TAIL_CALL_MAP. */
export const SLOT = {prog2: 0, prog3: 1} as const
export const TAIL_CALL_SLOTS = 2

/** struct SharedState: the PER_CPU_MAP value. */
export const SHARED_STATE = {size: 8, per_event_count: 0, total_count: 4} as const

/** struct chain_stats: the CHAIN_STATS value, per CPU. */
export const CHAIN_STATS = {
  size: 56,
  runs: 0, // u64[4], indexed by STAGE_PROGS
  tail_call_failed: 32, // u64[2], indexed by slot
  ringbuf_drops: 48, // u64
} as const

/** struct bpf_prog_info (232 bytes on 6.18; older kernels copy a prefix and zero the rest). */
export const PROG_INFO = {
  size: 232,
  type: 0, id: 4, tag: 8, jited_prog_len: 16, xlated_prog_len: 20, jited_prog_insns: 24,
  xlated_prog_insns: 32, load_time: 40, created_by_uid: 48, nr_map_ids: 52, map_ids: 56, name: 64,
  ifindex: 80, gpl_compatible: 84, netns_dev: 88, netns_ino: 96, nr_jited_ksyms: 104,
  nr_jited_func_lens: 108, jited_ksyms: 112, jited_func_lens: 120, btf_id: 128,
  func_info_rec_size: 132, func_info: 136, nr_func_info: 144, nr_line_info: 148, line_info: 152,
  jited_line_info: 160, nr_jited_line_info: 168, line_info_rec_size: 172,
  jited_line_info_rec_size: 176, nr_prog_tags: 180, prog_tags: 184, run_time_ns: 192, run_cnt: 200,
  recursion_misses: 208, verified_insns: 216, attach_btf_obj_id: 220, attach_btf_id: 224,
} as const

/** struct bpf_map_info (104 bytes on 6.18; 88 on 6.1 headers). */
export const MAP_INFO = {
  size: 104,
  type: 0, id: 4, key_size: 8, value_size: 12, max_entries: 16, map_flags: 20, name: 24,
  ifindex: 40, btf_vmlinux_value_type_id: 44, netns_dev: 48, netns_ino: 56, btf_id: 64,
  btf_key_type_id: 68, btf_value_type_id: 72, btf_vmlinux_id: 76, map_extra: 80,
} as const

/** struct bpf_link_info (64 bytes): the per-type union starts at 16. */
export const LINK_INFO = {
  size: 64,
  type: 0, id: 4, prog_id: 8, union: 16,
} as const

/** libbpf 1.1's struct bpf_map_create_opts (sz first: libbpf checks it). */
export const MAP_CREATE_OPTS = {
  size: 48,
  sz: 0, btf_fd: 8, btf_key_type_id: 12, btf_value_type_id: 16, btf_vmlinux_value_type_id: 20, inner_map_fd: 24,
  map_flags: 28, map_extra: 32, numa_node: 40, map_ifindex: 44,
} as const

/** struct bpf_btf_info (32 bytes). */
export const BTF_INFO = {size: 32, btf: 0, btf_size: 8, id: 12, name: 16, name_len: 24, kernel_btf: 28} as const

/** BPF object name length (BPF_OBJ_NAME_LEN), including the NUL. */
export const BPF_OBJ_NAME_LEN = 16

/** enum bpf_map_type values this project needs by name. */
export const MAP_TYPE = {
  hash: 1, array: 2, prog_array: 3, perf_event_array: 4, percpu_hash: 5, percpu_array: 6,
  lru_hash: 9, lru_percpu_hash: 10, array_of_maps: 12, hash_of_maps: 13, cgroup_storage: 19,
  percpu_cgroup_storage: 21, struct_ops: 26, ringbuf: 27,
} as const

/** BPF_ANY: the only flag a prog array update accepts. */
export const BPF_ANY = 0
/** enum bpf_stats_type */
export const BPF_STATS_RUN_TIME = 0

/**
 * The per-type union of struct bpf_link_info (offsets from the start of the struct).
 * String/array fields are pointers the caller fills for a second get_info call.
 */
export const LINK_INFO_UNION = {
  raw_tracepoint: {tp_name: 16, tp_name_len: 24, cookie: 32},
  tracing: {attach_type: 16, target_obj_id: 20, target_btf_id: 24, cookie: 32},
  cgroup: {cgroup_id: 16, attach_type: 24},
  iter: {target_name: 16, target_name_len: 24, map_id: 28, cgroup_id: 32, order: 40, tid: 32, pid: 36},
  netns: {netns_ino: 16, attach_type: 20},
  xdp: {ifindex: 16},
  struct_ops: {map_id: 16},
  netfilter: {pf: 16, hooknum: 20, priority: 24, flags: 28},
  tcx: {ifindex: 16, attach_type: 20},
  sockmap: {map_id: 16, attach_type: 20},
  perf_event: {type: 16},
} as const

/** enum bpf_link_type values this project needs by name. */
export const LINK_TYPE = {
  raw_tracepoint: 1, tracing: 2, cgroup: 3, iter: 4, netns: 5, xdp: 6, perf_event: 7, kprobe_multi: 8,
  struct_ops: 9, netfilter: 10, tcx: 11, uprobe_multi: 12, netkit: 13, sockmap: 14,
} as const

/** enum bpf_task_fd_type (BPF_TASK_FD_QUERY's fd_type). */
export const TASK_FD_TYPE = ['raw_tracepoint', 'tracepoint', 'kprobe', 'kretprobe', 'uprobe', 'uretprobe'] as const

/** CLOCK_* ids for clock_gettime. */
export const CLOCK = {realtime: 0, boottime: 7} as const
