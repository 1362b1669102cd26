// Maps for map-dump tests and benches, created from the fixture objects with the project's
// own libbpf binding and filled from user space. close() frees everything.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {type MapInfo, mapInfo} from '../../src/kernel/info.js'
import {LoadedObject} from '../../src/libbpf/object.js'
import {sys} from '../../src/sys/ffi.js'
import {compileBpf} from './clang.js'

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

/** Compile test/fixtures/<name>.bpf.c into a temp dir; returns the .o path and a cleanup. */
export function compileFixture(name: string): {dispose(): void; obj: string} {
  const dir = mkdtempSync(join(tmpdir(), 'tailcalls-fixture-'))
  const obj = compileBpf(join(FIXTURES, `${name}.bpf.c`), join(dir, `${name}.bpf.o`))
  return {dispose: () => rmSync(dir, {force: true, recursive: true}), obj}
}

/**
 * Load a fixture object (maps only). `maxEntries` resizes maps before load.
 * Returns {maps: {name: {fd, id, info}}, ids: {name: id}, close()}.
 */
export interface LoadedMaps {
  close(): void
  ids: Record<string, number>
  maps: Record<string, {fd: number; id: number; info: MapInfo}>
}

export function loadMaps(name: string, {maxEntries = {}}: {maxEntries?: Record<string, number>} = {}): LoadedMaps {
  const {obj, dispose} = compileFixture(name)
  const o = LoadedObject.open(obj)
  try {
    const {libbpf} = sys()
    const bpfMap = (m: string) => o.map(m) ?? assert.fail(`the fixture ${name} has no map ${m}`)
    for (const [map, n] of Object.entries(maxEntries)) {
      const ret = libbpf.bpf_map__set_max_entries(bpfMap(map), n)
      if (ret < 0) throw new Error(`set_max_entries(${map}, ${n}): ${ret}`)
    }

    o.load()
    const maps: LoadedMaps['maps'] = {}
    const ids: LoadedMaps['ids'] = {}
    for (const m of o.mapNames()) {
      const fd = libbpf.bpf_map__fd(bpfMap(m))
      const info = mapInfo(fd)
      maps[m] = {fd, id: info.id, info}
      ids[m] = info.id
    }

    return {
      close() {
        o.close()
        dispose()
      },
      ids,
      maps,
    }
  } catch (error) {
    o.close()
    dispose()
    throw error
  }
}

export function update(fd: number, key: Buffer, value: Buffer): void {
  const ret = sys().libbpf.bpf_map_update_elem(fd, key, value, 0)
  if (ret < 0) throw new Error(`bpf_map_update_elem: ${ret}`)
}

/**
 * Fill big_pcpu (per-CPU array of struct big_val) with distinct values for `n` entries
 * and big_hash with `h` flows.
 */
export function fillBig(maps: LoadedMaps['maps'], {n, h = 0}: {h?: number; n: number}): void {
  const ncpus = sys().libbpf.libbpf_num_possible_cpus()
  const key = Buffer.alloc(4)
  const value = Buffer.alloc(24 * ncpus)
  for (let i = 0; i < n; i++) {
    key.writeUInt32LE(i)
    for (let c = 0; c < ncpus; c++) {
      value.writeBigUInt64LE(BigInt(i * 10 + c), c * 24)
      value.writeBigUInt64LE(BigInt(i) * 1500n, c * 24 + 8)
      value.writeUInt32LE(i & 0xff, c * 24 + 16)
      value.write(i % 3 === 0 ? 'ok\0\0' : 'bad!', c * 24 + 20, 'latin1')
    }

    update(maps.big_pcpu.fd, key, value)
  }

  const flow = Buffer.alloc(16)
  const count = Buffer.alloc(8)
  for (let i = 0; i < h; i++) {
    flow.writeUInt32LE(0x0a000000 + i, 0)
    flow.writeUInt32LE(0xc0a80001, 4)
    flow.writeUInt16LE(1024 + (i % 50000), 8)
    flow.writeUInt16LE(443, 10)
    flow.writeUInt32LE(6, 12)
    count.writeBigUInt64LE(BigInt(i))
    update(maps.big_hash.fd, flow, count)
  }
}
