/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Layouts shared between the BPF side (tailcalls.bpf.c) and user space.
 * User space reads these through src/sys/layouts.ts; test/object.test.js checks
 * that the committed object's BTF still matches these definitions.
 */
#ifndef TAILCALLS_H
#define TAILCALLS_H

/* Slots of TAIL_CALL_MAP. Constants at the call sites let the JIT emit direct jumps. */
#define SLOT_PROG2 0
#define SLOT_PROG3 1
#define TAIL_CALL_SLOTS 2

/* Which program emitted an event; also the index into chain_stats.runs. */
enum stage_prog {
	STAGE_PROG1 = 0,
	STAGE_PROG2 = 1,
	STAGE_PROG3 = 2,
	STAGE_PROG3_V2 = 3,
	STAGE_PROGS = 4,
};

enum event_kind {
	EVENT_STAGE = 0,            /* a stage ran: the seed's INFO line */
	EVENT_TAIL_CALL_FAILED = 1, /* bpf_tail_call returned: the slot was empty */
};

/* One record in the EVENTS ring buffer: 40 bytes, no padding holes. */
struct event {
	__u64 ts_ns;           /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u32 kind;            /* enum event_kind */
	__u32 prog;            /* enum stage_prog */
	__u32 cpu_id;
	__u32 tgid;
	__u32 per_event_count;
	__u32 total_count;
	__u32 slot;            /* for EVENT_TAIL_CALL_FAILED: the slot that was empty */
	__u32 pad;
};

/* The seed's shared state: one per-CPU entry, shared by the three stages. */
struct SharedState {
	__u32 per_event_count;
	__u32 total_count;
};

/* Per-CPU counters kept by the chain itself: the kernel's run_cnt is 0 for
 * tail-called programs, and the ring buffer keeps no drop counter. */
struct chain_stats {
	__u64 runs[STAGE_PROGS];               /* runs per program */
	__u64 tail_call_failed[TAIL_CALL_SLOTS]; /* fall-throughs per slot */
	__u64 ringbuf_drops;                   /* bpf_ringbuf_reserve() returned NULL */
};

#endif
