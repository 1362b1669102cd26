// Build a C fixture under test/fixtures with clang and load it in this test process through
// the project's own LoadedObject (src/libbpf/object.ts). Everything it creates is released by close(), and
// the ids it created are reported so the test can check they are gone afterwards.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'

import {mapInfo, progInfo} from '../../src/kernel/info.js'
import {LoadedObject} from '../../src/libbpf/object.js'
import {type BpfLink, type BpfProgram, sys} from '../../src/sys/ffi.js'
import {ROOT} from './cli.js'

/** Compile test/fixtures/<name>.bpf.c into a fresh temp dir; returns {path, cleanup}. */
export function buildFixture(name: string): {cleanup(): void; path: string} {
  const dir = mkdtempSync(join(tmpdir(), 'tailcalls-fixture-'))
  const out = join(dir, `${basename(name)}.bpf.o`)
  const arch = execFileSync('uname', ['-m'], {encoding: 'utf8'}).trim()
  execFileSync('clang', [
    '-O2',
    '-g',
    '-target',
    'bpf',
    '-D__TARGET_ARCH_x86',
    `-I/usr/include/${arch}-linux-gnu`,
    '-Wall',
    '-c',
    join(ROOT, 'test', 'fixtures', `${name}.bpf.c`),
    '-o',
    out,
  ])
  return {cleanup: () => rmSync(dir, {force: true, recursive: true}), path: out}
}

/** Open + load a fixture object. */
export function loadFixture(name: string) {
  const built = buildFixture(name)
  let object: LoadedObject | undefined
  try {
    object = LoadedObject.open(built.path)
    object.load()
  } catch (error) {
    object?.close()
    built.cleanup()
    throw error
  }

  const {libbpf} = sys()
  const loaded = object
  const links: BpfLink[] = []
  const program = (p: string): BpfProgram => loaded.program(p) ?? assert.fail(`the fixture ${name} has no program ${p}`)
  const progFd = (p: string): number => libbpf.bpf_program__fd(program(p))
  const mapFd = (m: string): number =>
    libbpf.bpf_map__fd(loaded.map(m) ?? assert.fail(`the fixture ${name} has no map ${m}`))
  return {
    /** Attach a program the way libbpf's SEC() says; returns the link's kernel id. */
    attach(p: string): number {
      const link = libbpf.bpf_program__attach(program(p))
      if (!link) throw new Error(`attaching ${p} failed: errno ${sys().errno()}`)
      links.push(link)
      const info = Buffer.alloc(64)
      libbpf.bpf_obj_get_info_by_fd(libbpf.bpf_link__fd(link), info, [64])
      return info.readUInt32LE(4)
    },
    close() {
      for (const l of links) libbpf.bpf_link__destroy(l)
      links.length = 0
      loaded.close()
      built.cleanup()
    },
    ids() {
      const programs = Object.fromEntries(loaded.programNames().map((p) => [p, progInfo(progFd(p)).id]))
      const maps = Object.fromEntries(loaded.mapNames().map((m) => [m, mapInfo(mapFd(m)).id]))
      return {maps, programs}
    },
    mapFd,
    object: loaded,
    progFd,
    /** map[key] = program (a prog array slot). */
    setSlot(m: string, key: number, p: string): void {
      const k = Buffer.alloc(4)
      k.writeUInt32LE(key)
      const v = Buffer.alloc(4)
      v.writeInt32LE(progFd(p))
      const ret = libbpf.bpf_map_update_elem(mapFd(m), k, v, 0)
      if (ret !== 0) throw new Error(`${m}[${key}] = ${p} failed: ${ret}`)
    },
  }
}
