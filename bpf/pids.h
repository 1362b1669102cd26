/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The record bpf/pids.bpf.c writes for every fd of a process that refers to a BPF object.
 * src/sys/layouts.ts mirrors it (PIDS_RECORD, PIDS_KIND); test/sys/object.test.ts compares them.
 */
#ifndef TAILCALLS_PIDS_H
#define TAILCALLS_PIDS_H

#include <linux/types.h>

/* Our own numbering of the object kinds, not the kernel's. */
enum pids_kind {
	PIDS_PROG = 1,
	PIDS_MAP = 2,
	PIDS_LINK = 3,
	PIDS_BTF = 4,
};

struct pids_record {
	__u32 id;   /* the object's id */
	__u32 tgid; /* the holder's process id, as the reader's pid namespace numbers it */
	__u32 kind; /* enum pids_kind */
	char comm[16]; /* the thread-group leader's comm, NUL-padded */
};

#endif
