/**
 * `link list` / `link show`: bpftool 7.1's keys (link.c show_link_close_json):
 *
 *   id, type, prog_id, then per type:
 *     raw_tracepoint: tp_name
 *     tracing:        prog_type (of the linked program), attach_type
 *     cgroup:         cgroup_id (u64), attach_type
 *     iter:           target_name; map_id (bpf_map_elem, bpf_sk_storage_map); tid, else pid when
 *                     non-zero (task, task_file, task_vma); cgroup_id + order (cgroup)
 *     netns:          netns_ino, attach_type
 *   then pinned? (--bpffs), pids? (extra)
 *
 * Other link types (xdp, perf_event, kprobe_multi, struct_ops, netfilter, tcx, …) have no
 * extra keys in 7.1, and we add none, so jq recipes written against 7.1 see the same objects.
 */
import {eachObject, tryOpenById, withFd} from '../kernel/ids.js'
import {type LinkInfo, linkInfo, progInfo} from '../kernel/info.js'
import {attachTypeName, linkTypeName, progTypeName} from '../kernel/names.js'
import {BPF_LINK_TYPE} from '../sys/uapi.js'
import {type ShowContext, addRefs} from './context.js'

export type LinkJson = Record<string, unknown> & {id: number; prog_id: number; type: number | string}

const CGROUP_ITER_ORDER = ['order_unspec', 'self_only', 'descendants_pre', 'descendants_post', 'ancestors_up']

/**
 * The type of the program a tracing link points at (bpftool reopens the prog by id); undefined
 * if it vanished meanwhile (bpftool then leaves the object unfinished; we leave out the key).
 */
function linkedProgType(progId: number): number | string | undefined {
  const fd = tryOpenById('prog', progId)
  return fd === undefined ? undefined : progTypeName(withFd(fd, (f) => progInfo(f).type))
}

export function linkJsonFromInfo(info: LinkInfo, ctx: ShowContext = {}): LinkJson {
  const o: Record<string, unknown> = {id: info.id, type: linkTypeName(info.type), prog_id: info.progId}
  switch (info.type) {
    case BPF_LINK_TYPE.RAW_TRACEPOINT: {
      o.tp_name = info.tpName ?? ''
      break
    }

    case BPF_LINK_TYPE.TRACING: {
      const progType = linkedProgType(info.progId)
      if (progType !== undefined) o.prog_type = progType
      o.attach_type = attachTypeName(info.attachType ?? 0)
      break
    }

    case BPF_LINK_TYPE.CGROUP: {
      o.cgroup_id = info.cgroupId ?? 0n
      o.attach_type = attachTypeName(info.attachType ?? 0)
      break
    }

    case BPF_LINK_TYPE.ITER: {
      const target = info.targetName ?? ''
      o.target_name = target
      if (target === 'bpf_map_elem' || target === 'bpf_sk_storage_map') o.map_id = info.mapId ?? 0
      else if (target === 'task' || target === 'task_file' || target === 'task_vma') {
        if (info.tid) o.tid = info.tid
        else if (info.pid) o.pid = info.pid
      }

      if (target === 'cgroup') {
        o.cgroup_id = info.cgroupId ?? 0n
        o.order = CGROUP_ITER_ORDER[info.order ?? 0] ?? 'unknown'
      }

      break
    }

    case BPF_LINK_TYPE.NETNS: {
      o.netns_ino = info.netnsIno ?? 0
      o.attach_type = attachTypeName(info.attachType ?? 0)
      break
    }

    default: {
      break
    }
  }

  addRefs(o, info.id, ctx)
  return o as LinkJson
}

export function linkJson(fd: number, ctx: ShowContext = {}): LinkJson {
  return linkJsonFromInfo(linkInfo(fd), ctx)
}

export function* linkList(ctx: ShowContext = {}): Generator<LinkJson> {
  for (const {fd} of eachObject('link')) yield linkJson(fd, ctx)
}

/** What a link is attached to, in a few words, for the table view. */
export function linkTarget(o: LinkJson): string {
  const parts: string[] = []
  for (const key of [
    'tp_name',
    'target_name',
    'prog_type',
    'attach_type',
    'cgroup_id',
    'map_id',
    'tid',
    'pid',
    'order',
    'netns_ino',
  ]) {
    if (o[key] === undefined) continue
    parts.push(key === 'tp_name' || key === 'target_name' ? String(o[key]) : `${key} ${String(o[key])}`)
  }

  return parts.join('  ')
}
