// SPDX-License-Identifier: GPL-2.0
/*
 * The tail-call chain from the seed (aya-lab/tail-calls), in C:
 *   prog1 --TAIL_CALL_MAP[0]--> prog2 --TAIL_CALL_MAP[1]--> prog3
 * All programs are tp_btf/sched_process_exec: the kernel only lets programs with the
 * same attach target share a prog array. Only prog1 is attached by the loader.
 * prog3_v2 is a second implementation of stage 3, loaded but not in the array, so a
 * user can swap it into slot 1 on a live chain (`tailcalls map update`).
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "tailcalls.h"

/* CO-RE: only the fields we read; libbpf relocates the offsets against kernel BTF. */
struct task_struct {
	int tgid;
} __attribute__((preserve_access_index));
struct linux_binprm;

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, TAIL_CALL_SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} TAIL_CALL_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct SharedState);
} PER_CPU_MAP SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct chain_stats);
} CHAIN_STATS SEC(".maps");

/* 256 KiB; user space may resize it before load (`load --ringbuf-size`). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} EVENTS SEC(".maps");

static __always_inline struct chain_stats *chain_stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&CHAIN_STATS, &zero);
}

static __always_inline void emit(__u32 kind, __u32 prog, __u32 tgid,
				 const struct SharedState *st, __u32 slot)
{
	struct chain_stats *stats = chain_stats();
	struct event *e = bpf_ringbuf_reserve(&EVENTS, sizeof(*e), 0);

	if (!e) {
		/* Never lose an event silently: user space reports this counter. */
		if (stats)
			__sync_fetch_and_add(&stats->ringbuf_drops, 1);
		return;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->kind = kind;
	e->prog = prog;
	e->cpu_id = bpf_get_smp_processor_id();
	e->tgid = tgid;
	e->per_event_count = st ? st->per_event_count : 0;
	e->total_count = st ? st->total_count : 0;
	e->slot = slot;
	e->pad = 0;
	bpf_ringbuf_submit(e, 0);
}

/* One stage: update the shared per-CPU state, count the run, emit the log event. */
static __always_inline struct SharedState *stage(__u32 prog, struct task_struct *p)
{
	__u32 zero = 0;
	struct SharedState *st = bpf_map_lookup_elem(&PER_CPU_MAP, &zero);
	struct chain_stats *stats = chain_stats();

	if (!st)
		return 0;
	if (prog == STAGE_PROG1)
		st->per_event_count = 1;
	else
		st->per_event_count += 1;
	/* total_count is never reset: a per-CPU running total, as in the seed. */
	st->total_count += 1;
	if (stats)
		stats->runs[prog] += 1;
	emit(EVENT_STAGE, prog, BPF_CORE_READ(p, tgid), st, 0);
	return st;
}

/* Reached only when the tail call returned, i.e. the slot was empty. */
static __always_inline void tail_call_failed(__u32 prog, struct task_struct *p,
					     const struct SharedState *st, __u32 slot)
{
	struct chain_stats *stats = chain_stats();

	if (stats && slot < TAIL_CALL_SLOTS)
		stats->tail_call_failed[slot] += 1;
	emit(EVENT_TAIL_CALL_FAILED, prog, BPF_CORE_READ(p, tgid), st, slot);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(prog1, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	struct SharedState *st = stage(STAGE_PROG1, p);

	bpf_tail_call(ctx, &TAIL_CALL_MAP, SLOT_PROG2);
	tail_call_failed(STAGE_PROG1, p, st, SLOT_PROG2);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(prog2, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	struct SharedState *st = stage(STAGE_PROG2, p);

	bpf_tail_call(ctx, &TAIL_CALL_MAP, SLOT_PROG3);
	tail_call_failed(STAGE_PROG2, p, st, SLOT_PROG3);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(prog3, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	stage(STAGE_PROG3, p);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(prog3_v2, struct task_struct *p, int old_pid, struct linux_binprm *bprm)
{
	stage(STAGE_PROG3_V2, p);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
