/**
 * Reading every entry of a map, in batches of raw key/value bytes:
 *
 * - BPF_MAP_LOOKUP_BATCH (`bpf_map_lookup_batch`, libbpf 1.1) for the map types whose batch
 *   op iterates keys (hash, LRU hash, array and their per-CPU variants): one syscall for
 *   thousands of entries. A first call that fails with EINVAL/ENOTSUPP/EOPNOTSUPP (an older
 *   kernel, a map type without the op) falls back to the per-element loop.
 * - Otherwise bpftool's loop: `get_next_key` + `lookup` per element (2 syscalls each). On a
 *   prog_array or a map-of-maps a lookup that fails with ENOENT is an empty slot and is
 *   skipped, as bpftool does; any other failed lookup becomes an error entry.
 *
 * Per-CPU values come back as `round_up(value_size, 8) × possible CPUs` bytes per entry
 * (bpftool's alloc_value). Buffers are reused from batch to batch: a consumer must be done
 * with a batch before asking for the next one.
 */
import {constants} from 'node:os'

import {TailcallsError} from '../errors.js'
import type {MapInfo} from '../kernel/info.js'
import {mapTypeName} from '../kernel/names.js'
import {errnoName} from '../sys/errno.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'

const PER_CPU = new Set<number>([
  BPF_MAP_TYPE.PERCPU_HASH,
  BPF_MAP_TYPE.PERCPU_ARRAY,
  BPF_MAP_TYPE.LRU_PERCPU_HASH,
  BPF_MAP_TYPE.PERCPU_CGROUP_STORAGE,
])
/** Types whose kernel batch op walks keys in get_next_key order (htab, array). */
const BATCH = new Set<number>([
  BPF_MAP_TYPE.HASH,
  BPF_MAP_TYPE.ARRAY,
  BPF_MAP_TYPE.PERCPU_HASH,
  BPF_MAP_TYPE.PERCPU_ARRAY,
  BPF_MAP_TYPE.LRU_HASH,
  BPF_MAP_TYPE.LRU_PERCPU_HASH,
])
/** Types where a lookup answering ENOENT is an empty slot, not an error (bpftool's print_entry_error). */
const SLOTS = new Set<number>([BPF_MAP_TYPE.PROG_ARRAY, BPF_MAP_TYPE.ARRAY_OF_MAPS, BPF_MAP_TYPE.HASH_OF_MAPS])
/** A first batch call failing with one of these means "no batch op here": fall back. */
const NO_BATCH = new Set(['EINVAL', 'ENOTSUPP', 'EOPNOTSUPP', 'ENOTSUP'])

export function isPerCpu(type: number): boolean {
  return PER_CPU.has(type)
}

export interface MapLayout {
  info: MapInfo
  perCpu: boolean
  /** Possible CPUs (libbpf_num_possible_cpus), for per-CPU maps; 1 otherwise. */
  ncpus: number
  /** Bytes between two CPUs' values: round_up(value_size, 8). */
  stride: number
  /** Bytes of one lookup's value buffer. */
  valueBytes: number
}

export function mapLayout(info: MapInfo): MapLayout {
  const perCpu = isPerCpu(info.type)
  const ncpus = perCpu ? possibleCpus() : 1
  const stride = perCpu ? Math.ceil(info.valueSize / 8) * 8 : info.valueSize
  return {info, ncpus, perCpu, stride, valueBytes: perCpu ? stride * ncpus : info.valueSize}
}

let cpus: number | undefined
export function possibleCpus(): number {
  if (cpus === undefined) {
    const n = sys().libbpf.libbpf_num_possible_cpus()
    // libbpf answers a negative errno, never 0 (a machine has at least one CPU).
    if (n <= 0)
      throw new SysError(
        'libbpf_num_possible_cpus',
        n < 0 ? -n : constants.errno.EINVAL,
        'counting possible CPUs (/sys/devices/system/cpu/possible)',
      )
    cpus = n
  }

  return cpus
}

export interface EntryBatch {
  /** Entries in this batch. */
  n: number
  /** n × key_size bytes. */
  keys: Buffer
  /** n × valueBytes bytes. */
  values: Buffer
  /** Per entry: 0, or the errno of a failed lookup (the value bytes are then meaningless). */
  errnos?: Int32Array
}

export interface ReadOptions {
  /** Use BPF_MAP_LOOKUP_BATCH when the map type has it (default true). */
  batch?: boolean
  /** Entries per batch (default: about 1 MiB of keys and values, 64..65536). */
  batchSize?: number
  /** Told once when the reader falls back from batch to per-element lookups, and why. */
  onFallback?: (reason: string) => void
}

export type ReadMode = 'batch' | 'per-element'

/** Every entry of the map behind `fd`, in kernel order. */
export function* readEntries(fd: number, layout: MapLayout, opts: ReadOptions = {}): Generator<EntryBatch, ReadMode> {
  const size =
    opts.batchSize ??
    Math.min(65_536, Math.max(64, Math.floor((1 << 20) / Math.max(1, layout.info.keySize + layout.valueBytes))))
  if (opts.batch !== false && BATCH.has(layout.info.type)) {
    const result = yield* batchRead(fd, layout, size)
    if (result === 'batch') return 'batch'
    opts.onFallback?.(result)
  }

  yield* perElement(fd, layout, Math.min(size, 4096))
  return 'per-element'
}

/** Batch reads; returns 'batch' when done, or the reason to fall back before anything was read. */
function* batchRead(fd: number, layout: MapLayout, size: number): Generator<EntryBatch, string> {
  const {libbpf} = sys()
  const {keySize} = layout.info
  // The batch token is a key for arrays and a u32 bucket index for hash maps.
  const token = Math.max(keySize, 8)
  const outBatch = Buffer.alloc(token)
  const inBatch = Buffer.alloc(token)
  let started = false
  let n = size
  let keys = Buffer.allocUnsafe(n * keySize)
  let values = Buffer.allocUnsafe(n * layout.valueBytes)
  for (;;) {
    const count = [n]
    const ret = libbpf.bpf_map_lookup_batch(fd, started ? inBatch : null, outBatch, keys, values, count, null)
    if (ret < 0) {
      const name = errnoName(ret)
      if (name === 'ENOENT') {
        // The last batch: `count` entries were still copied.
        if (count[0] > 0) yield {keys, n: count[0], values}
        return 'batch'
      }

      if (name === 'ENOSPC' && n < 1 << 22) {
        // A hash bucket holds more entries than we asked for: ask for more.
        n *= 2
        keys = Buffer.allocUnsafe(n * keySize)
        values = Buffer.allocUnsafe(n * layout.valueBytes)
        continue
      }

      if (!started && NO_BATCH.has(name)) return `BPF_MAP_LOOKUP_BATCH answered ${name}`
      throw new SysError('BPF_MAP_LOOKUP_BATCH', -ret, `reading map ${layout.info.id} (batch lookup)`)
    }

    started = true
    if (count[0] > 0) yield {keys, n: count[0], values}
    outBatch.copy(inBatch)
  }
}

/** bpftool's loop: get_next_key, then lookup, per element. */
function* perElement(fd: number, layout: MapLayout, chunk: number): Generator<EntryBatch> {
  const {libbpf} = sys()
  const {info} = layout
  const ks = info.keySize
  const vb = layout.valueBytes
  const slots = SLOTS.has(info.type)
  const keys = Buffer.alloc(chunk * ks)
  const values = Buffer.alloc(chunk * vb)
  const errnos = new Int32Array(chunk)
  const prev = Buffer.alloc(ks)
  let havePrev = false
  // A hash map rewritten while we walk it restarts get_next_key from the first key; bound
  // the walk so a map under constant churn cannot keep us here forever.
  let budget = Math.max(1, info.maxEntries) * 4 + 1024
  let done = false
  while (!done) {
    let n = 0
    errnos.fill(0)
    while (n < chunk) {
      if (--budget < 0) {
        throw new TailcallsError(
          'partial',
          `map ${info.id} kept changing while it was read; stopped after ${Math.max(1, info.maxEntries) * 4 + 1024} keys`,
          {
            hint: 'dump it again when it is quieter',
          },
        )
      }

      const key = keys.subarray(n * ks, (n + 1) * ks)
      const ret = libbpf.bpf_map_get_next_key(fd, havePrev ? prev : null, key)
      if (ret < 0) {
        const name = errnoName(ret)
        if (name === 'ENOENT') {
          done = true
          break
        }

        if (!havePrev && NO_BATCH.has(name)) {
          throw new TailcallsError(
            'wrongMapType',
            `a ${mapTypeName(info.type)} map cannot be dumped: the kernel cannot iterate its keys (${name})`,
            {
              hint:
                info.type === BPF_MAP_TYPE.RINGBUF
                  ? 'read ring buffer records with `tailcalls events`'
                  : 'use `tailcalls map show` for its properties',
            },
          )
        }

        throw new SysError('BPF_MAP_GET_NEXT_KEY', -ret, `reading map ${info.id} (get_next_key)`)
      }

      key.copy(prev)
      havePrev = true
      const lret = libbpf.bpf_map_lookup_elem(fd, key, values.subarray(n * vb, (n + 1) * vb))
      if (lret < 0) {
        const errno = -lret
        if (slots && errnoName(errno) === 'ENOENT') continue
        errnos[n] = errno
      }

      n++
    }

    if (n > 0) yield {errnos: errnos.some((e) => e !== 0) ? errnos : undefined, keys, n, values}
  }
}
