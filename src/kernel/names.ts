/**
 * Program, map, link, attach and task-fd type names, spelled as bpftool prints them, derived
 * from the kernel's enums in src/sys/uapi.ts: the enumerator without its prefix, in lower case
 * (BPF_PROG_TYPE_SCHED_CLS → `sched_cls`), except where SPELLED says otherwise. Of two
 * enumerators with one value (BPF_MAP_TYPE_CGROUP_STORAGE and its _DEPRECATED alias), the one
 * not marked _DEPRECATED names it.
 *
 * Debian's bpftool 7.1 takes its names from libbpf 1.1's tables, which stop at LIBBPF_1_1_LAST;
 * for a newer id it prints the bare number. These tables are the same up to there, then go on
 * with the names a current bpftool prints (`netfilter`, `arena`, `tcx`, …). An id unknown even
 * here is returned as a number, like bpftool.
 *
 * Derived here rather than read from libbpf through FFI: a list of 1,000 programs calls these
 * 1,000 times, and the answer must not depend on which libbpf.so.1 is installed.
 */
import {BPF_ATTACH_TYPE, BPF_LINK_TYPE, BPF_MAP_TYPE, BPF_PROG_TYPE, BPF_TASK_FD_TYPE} from '../sys/uapi.js'

/**
 * Enumerators bpftool spells otherwise than their lower-case suffix. Empty today: libbpf's
 * tables (libbpf.c prog_type_name, map_type_name, link_type_name, attach_type_name) and
 * bpftool's task-fd names all follow the rule; a future exception goes here, keyed by the
 * suffix as in uapi.ts.
 */
const SPELLED: Record<string, string> = {}

function namesOf(e: Readonly<Record<string, number>>): readonly string[] {
  const names: string[] = []
  for (const [k, v] of Object.entries(e)) {
    if (names[v] !== undefined && k.endsWith('_DEPRECATED')) continue
    names[v] = SPELLED[k] ?? k.toLowerCase()
  }

  return names
}

export const PROG_TYPE_NAMES = namesOf(BPF_PROG_TYPE)
export const MAP_TYPE_NAMES = namesOf(BPF_MAP_TYPE)
export const LINK_TYPE_NAMES = namesOf(BPF_LINK_TYPE)
export const ATTACH_TYPE_NAMES = namesOf(BPF_ATTACH_TYPE)
/** BPF_TASK_FD_QUERY's fd_type, as `bpftool perf` prints it. */
export const TASK_FD_TYPE_NAMES = namesOf(BPF_TASK_FD_TYPE)

/** The last id each table of libbpf 1.1 (Debian's bpftool 7.1) knows by name. */
export const LIBBPF_1_1_LAST = {
  attach: BPF_ATTACH_TYPE.LSM_CGROUP,
  link: BPF_LINK_TYPE.STRUCT_OPS,
  map: BPF_MAP_TYPE.CGRP_STORAGE,
  prog: BPF_PROG_TYPE.SYSCALL,
} as const

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

/** The number of a program type named as bpftool prints it (section names map to these). */
export function progTypeId(name: string): number | undefined {
  const i = (PROG_TYPE_NAMES as readonly string[]).indexOf(name)
  return i === -1 ? undefined : i
}

/** The number of a map type named as bpftool prints it. */
export function mapTypeId(name: string): number | undefined {
  const i = (MAP_TYPE_NAMES as readonly string[]).indexOf(name)
  return i === -1 ? undefined : i
}
