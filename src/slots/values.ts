/**
 * `map update MAP key K value V` on a map that holds data, not programs: bpftool's byte grammar
 * (`key 0 0 0 0 value 2 0 0 0`, `value hex 02 00 00 00`), plus one number for a key or value of
 * 1, 2, 4 or 8 bytes (little-endian, as the machine stores it). What it is for: setting a
 * program's global variables (its `.bss` / `.data` map) between test runs, e.g. the key a tail
 * call reads from global data.
 *
 * Sizes are checked against the map before the kernel is asked, each mismatch in one line; a
 * frozen map (`.rodata`) is refused by the kernel with EPERM, said as such.
 */
import {parseId, parseSelector} from '../cli/selector.js'
import {TailcallsError, fromErrno} from '../errors.js'
import {closeFd} from '../kernel/ids.js'
import {mapInfo} from '../kernel/info.js'
import {mapTypeName} from '../kernel/names.js'
import type {Selector} from '../kernel/select.js'
import {objectLabel} from '../render/label.js'
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {BPF_MAP_TYPE, BPF_UPDATE_FLAG} from '../sys/uapi.js'
import {selectOne} from './slots.js'

/** A key or value as typed: one number (sized by the map), or bytes. */
export type Typed = {bytes: number[]} | {number: bigint}

export interface ValueArgs {
  map: Selector
  key: Typed
  value: Typed
}

export interface ValueUpdateResult {
  map: {id: number; name: string}
  /** bpftool's byte strings ("0x02"), as its map dump prints keys and values. */
  key: string[]
  value: string[]
}

const PER_CPU = new Set<number>([
  BPF_MAP_TYPE.PERCPU_HASH,
  BPF_MAP_TYPE.PERCPU_ARRAY,
  BPF_MAP_TYPE.LRU_PERCPU_HASH,
  BPF_MAP_TYPE.PERCPU_CGROUP_STORAGE,
])

const USAGE = 'usage: tailcalls map update MAP key K value V (K, V: one number, or bytes: 1 0 0 0 / hex 01 00 00 00)'

/** True when the words after `value` are data (bytes or a number), not a program selector. */
export function isDataValue(words: string[]): boolean {
  const at = words.indexOf('value')
  if (at === -1) return false
  const first = words[at + 1]
  return first !== undefined && (first === 'hex' || /^(0x[0-9a-f]+|\d+)$/i.test(first))
}

/** `MAP key K value V` → the map and the typed key and value. */
export function parseValueArgs(words: string[]): ValueArgs {
  if (words[2] !== 'key') throw new TailcallsError('usage', "expected MAP (two words) then 'key K'", {hint: USAGE})
  const at = words.indexOf('value')
  return {
    key: parseTyped(words.slice(3, at), 'key'),
    map: parseSelector('map', words[0], words[1]),
    value: parseTyped(words.slice(at + 1), 'value'),
  }
}

/** Key or value words → typed. */
export function parseTyped(words: string[], what: string): Typed {
  if (words.length === 0) throw new TailcallsError('usage', `'${what}' needs a value`, {hint: USAGE})
  if (words.length === 1 && words[0] !== 'hex') {
    const w = words[0]
    if (/^(0x[0-9a-f]+|\d+)$/i.test(w)) return {number: BigInt(w)}
    throw new TailcallsError('usage', `can't parse ${what} '${w}'`, {hint: USAGE})
  }

  const hex = words[0] === 'hex'
  const bytes = (hex ? words.slice(1) : words).map((b) => {
    const v = hex ? (/^[0-9a-f]{1,2}$/i.test(b) ? Number.parseInt(b, 16) : undefined) : parseId(b)
    if (v === undefined || v > 0xff) throw new TailcallsError('usage', `can't parse ${what} byte '${b}'`, {hint: USAGE})
    return v
  })
  return {bytes}
}

/** Typed → exactly `size` bytes, or a usage error naming the size the map wants. */
function encode(t: Typed, size: number, what: string, map: string): Buffer {
  if ('bytes' in t) {
    if (t.bytes.length !== size)
      throw new TailcallsError('usage', `${map} takes a ${size}-byte ${what}, got ${t.bytes.length} bytes`, {
        hint: `give ${size} bytes`,
      })
    return Buffer.from(t.bytes)
  }

  if (![1, 2, 4, 8].includes(size))
    throw new TailcallsError('usage', `${map} takes a ${size}-byte ${what}: give it as ${size} bytes`, {hint: USAGE})
  if (t.number >= 1n << BigInt(size * 8))
    throw new TailcallsError('usage', `${what} ${t.number} does not fit the ${size} bytes ${map} takes`, {hint: USAGE})
  const b = Buffer.alloc(8)
  b.writeBigUInt64LE(t.number)
  return b.subarray(0, size)
}

const hexStrings = (b: Buffer) => [...b].map((x) => `0x${x.toString(16).padStart(2, '0')}`)

export function updateValue(a: ValueArgs): ValueUpdateResult {
  const fd = selectOne('map', a.map)
  try {
    const info = mapInfo(fd)
    const ref = {id: info.id, name: info.name}
    const label = `map ${objectLabel(ref)}`
    if (info.type === BPF_MAP_TYPE.PROG_ARRAY)
      throw new TailcallsError('usage', `${label} is a prog_array: its values are programs`, {
        hint: 'give prog PROG: map update MAP key K prog PROG',
      })
    if (PER_CPU.has(info.type))
      throw new TailcallsError('wrongMapType', `${label} is a ${mapTypeName(info.type)}: one value per CPU`, {
        hint: 'update per-CPU maps with bpftool map update',
      })
    const key = encode(a.key, info.keySize, 'key', label)
    const value = encode(a.value, info.valueSize, 'value', label)
    const ret = sys().libbpf.bpf_map_update_elem(fd, key, value, BPF_UPDATE_FLAG.ANY)
    if (ret < 0) {
      const cause = new SysError('bpf_map_update_elem', -ret, `updating ${label}`)
      if (cause.code === 'EPERM')
        throw new TailcallsError(
          'permission',
          `${label} refused the update (EPERM): it is frozen (read-only, like .rodata)`,
          {
            cause,
            hint: "write a program's variables through its .bss or .data map",
          },
        )
      if (cause.code === 'E2BIG')
        throw new TailcallsError(
          'outOfRange',
          `the key is out of range for ${label} (max_entries ${info.maxEntries})`,
          {
            cause,
          },
        )
      throw fromErrno(cause)
    }

    return {key: hexStrings(key), map: ref, value: hexStrings(value)}
  } finally {
    closeFd(fd)
  }
}

export function describeValueUpdate(r: ValueUpdateResult): string {
  const plain = (h: string[]) => h.map((x) => x.slice(2)).join(' ')
  return `${objectLabel(r.map)}[${plain(r.key)}] = ${plain(r.value)}`
}
