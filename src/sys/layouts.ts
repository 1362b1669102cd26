/**
 * The struct layouts the project reads that are not kernel ABI, as byte offsets (x86_64).
 * Chain structs: bpf/tailcalls.h (test/object.test.js compiles a C program against that
 * header and checks these offsets); one libbpf struct. The kernel's structs and enums are
 * generated into src/sys/uapi.ts.
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

/**
 * struct pids_record in bpf/pids.h: what the pids iterator (bpf/pids.bpf.o) writes for each fd
 * that refers to a BPF object (test/sys/object.test.ts compiles against that header).
 */
export const PIDS_RECORD = {
  size: 28,
  id: 0, // u32
  tgid: 4, // u32
  kind: 8, // u32, PIDS_KIND
  comm: 12, // char[16], NUL-padded
  commSize: 16,
} as const

/** enum pids_kind in bpf/pids.h: the record's kind, our numbering (not the kernel's). */
export const PIDS_KIND = {prog: 1, map: 2, link: 3, btf: 4} as const

/** libbpf 1.1's struct bpf_map_create_opts (sz first: libbpf checks it). */
export const MAP_CREATE_OPTS = {
  size: 48,
  sz: 0,
  btf_fd: 8,
  btf_key_type_id: 12,
  btf_value_type_id: 16,
  btf_vmlinux_value_type_id: 20,
  inner_map_fd: 24,
  map_flags: 28,
  map_extra: 32,
  numa_node: 40,
  map_ifindex: 44,
} as const

/**
 * libbpf 1.1's struct bpf_test_run_opts (sz first: libbpf checks it). The pointers are filled
 * with the addresses of buffers the caller keeps alive for the call; the u32 sizes are in and out.
 */
export const TEST_RUN_OPTS = {
  size: 80,
  sz: 0,
  data_in: 8,
  data_out: 16,
  data_size_in: 24,
  data_size_out: 28,
  ctx_in: 32,
  ctx_out: 40,
  ctx_size_in: 48,
  ctx_size_out: 52,
  retval: 56,
  repeat: 60,
  duration: 64,
  flags: 68,
  cpu: 72,
  batch_size: 76,
} as const
