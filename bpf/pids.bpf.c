// SPDX-License-Identifier: GPL-2.0
/*
 * The `pids` column: which processes hold an fd to which BPF object. An iter/task_file program
 * visits every (process, fd) of the reader's pid namespace once (threads that share their
 * leader's fd table are skipped by the kernel) and writes one struct pids_record for each fd that
 * is a BPF program, map, link or BTF object. src/kernel/pids.ts loads it, reads the records and
 * frees it again within one call.
 *
 * A BPF object's file is an anonymous inode whose dentry is named after the object kind: the
 * same text /proc/PID/fd shows after "anon_inode:". We compare that name instead of the file's
 * f_op with the kernel's bpf_prog_fops & co: those are __ksym externs, which make libbpf read all
 * of /proc/kallsyms at load time. The filesystem's magic keeps a regular file that happens to be
 * called "bpf-map" out.
 *
 * CO-RE: only the fields read below, relocated by libbpf against the running kernel's BTF. The
 * iterator's context (struct bpf_iter__task_file, struct bpf_iter_meta) is not relocated: its
 * layout is the iterator's ABI, the same in every kernel, and each relocated struct costs libbpf
 * one pass over the kernel's ~150,000 BTF types at load time. The program has no maps and no
 * global data, so loading it creates one program and one BTF object.
 */
#include <linux/types.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include "pids.h"

struct seq_file;

/* The iterator's ABI (see the header): not relocated. */
struct bpf_iter_meta {
	struct seq_file *seq;
};

struct pid_namespace;

/* Complete (two members, as in every kernel since 2.6.24): the holder's pid is read at a run-time
 * index into an array of these, which clang scales by this definition's size. */
struct upid {
	int nr;
	struct pid_namespace *ns;
} __attribute__((preserve_access_index));

struct pid {
	unsigned int level;
	struct upid numbers[1];
} __attribute__((preserve_access_index));

struct task_struct {
	struct task_struct *group_leader;
	struct pid *thread_pid;
	char comm[16];
} __attribute__((preserve_access_index));

struct qstr {
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct super_block {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct dentry {
	struct qstr d_name;
	struct super_block *d_sb;
} __attribute__((preserve_access_index));

struct path {
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	void *private_data;
} __attribute__((preserve_access_index));

struct bpf_prog_aux {
	__u32 id;
} __attribute__((preserve_access_index));

struct bpf_prog {
	struct bpf_prog_aux *aux;
} __attribute__((preserve_access_index));

struct bpf_map {
	__u32 id;
} __attribute__((preserve_access_index));

struct bpf_link {
	__u32 id;
} __attribute__((preserve_access_index));

struct btf {
	__u32 id;
} __attribute__((preserve_access_index));

/* The iterator's ABI (see the header): not relocated. */
struct bpf_iter__task_file {
	struct bpf_iter_meta *meta;
	struct task_struct *task;
	__u32 fd;
	struct file *file;
};

/*
 * Eight name bytes as one little-endian word (BPF runs in the host's byte order; the bundled
 * objects are built for x86-64 and read on little-endian hosts only), so that a name compares in
 * two instructions and the object needs no read-only data section (which would be a map).
 */
#define W(a, b, c, d, e, f, g, h)                                                              \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | (__u64)(e) << 32 | \
	 (__u64)(f) << 40 | (__u64)(g) << 48 | (__u64)(h) << 56)

/*
 * The kind an anon-inode name stands for, 0 for any other. `name` holds up to nine bytes of the
 * name and a NUL, zero-padded: every name we look for has eight bytes or fewer, so the second word
 * is zero, and a longer name leaves its ninth byte there.
 */
static __always_inline __u32 kind_of(const __u64 name[2])
{
	if (name[1] != 0)
		return 0;
	if (name[0] == W('b', 'p', 'f', '-', 'p', 'r', 'o', 'g'))
		return PIDS_PROG;
	if (name[0] == W('b', 'p', 'f', '-', 'm', 'a', 'p', 0))
		return PIDS_MAP;
	/* A link's own fd says bpf_link; one opened from its pin says bpf-link. */
	if (name[0] == W('b', 'p', 'f', '_', 'l', 'i', 'n', 'k') || name[0] == W('b', 'p', 'f', '-', 'l', 'i', 'n', 'k'))
		return PIDS_LINK;
	if (name[0] == W('b', 't', 'f', 0, 0, 0, 0, 0))
		return PIDS_BTF;
	return 0;
}

static __always_inline __u32 object_id(__u32 kind, void *object)
{
	switch (kind) {
	case PIDS_PROG:
		return BPF_CORE_READ((struct bpf_prog *)object, aux, id);
	case PIDS_MAP:
		return BPF_CORE_READ((struct bpf_map *)object, id);
	case PIDS_LINK:
		return BPF_CORE_READ((struct bpf_link *)object, id);
	default:
		return BPF_CORE_READ((struct btf *)object, id);
	}
}

SEC("iter/task_file")
int tailcalls_pids(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	struct task_struct *reader, *leader;
	struct pids_record r;
	__u64 name[2] = {};
	unsigned int level;
	__u32 kind;

	if (!task || !file)
		return 0;
	if (BPF_CORE_READ(file, f_path.dentry, d_sb, s_magic) != ANON_INODE_FS_MAGIC)
		return 0;
	if (bpf_probe_read_kernel_str(name, 10, BPF_CORE_READ(file, f_path.dentry, d_name.name)) < 0)
		return 0;
	kind = kind_of(name);
	if (!kind)
		return 0;

	__builtin_memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.id = object_id(kind, BPF_CORE_READ(file, private_data));
	/* The holder's tgid as the reader sees it: the number of the leader's pid at the level of the
	 * reader's pid namespace (the iterator only visits tasks visible there). */
	reader = (struct task_struct *)bpf_get_current_task();
	level = BPF_CORE_READ(reader, thread_pid, level);
	leader = BPF_CORE_READ(task, group_leader);
	r.tgid = BPF_CORE_READ(leader, thread_pid, numbers[level].nr);
	BPF_CORE_READ_STR_INTO(&r.comm, leader, comm);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
