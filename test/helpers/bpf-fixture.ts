// Build a C fixture under test/fixtures with clang and load it in this test process through
// the project's own LoadedObject (dist/). Everything it creates is released by close(), and
// the ids it created are reported so the test can check they are gone afterwards.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {mapInfo, progInfo} from '../../dist/src/kernel/info.js'
import {LoadedObject} from '../../dist/src/libbpf/object.js'
import {sys} from '../../dist/src/sys/ffi.js'
import {ROOT} from './cli.js'

/** Compile test/fixtures/<name>.bpf.c into a fresh temp dir; returns {path, cleanup}. */
export function buildFixture(name) {
  const dir = mkdtempSync(join(tmpdir(), 'tailcalls-fixture-'))
  const out = join(dir, `${name}.bpf.o`)
  const arch = execFileSync('uname', ['-m'], {encoding: 'utf8'}).trim()
  execFileSync('clang', ['-O2', '-g', '-target', 'bpf', '-D__TARGET_ARCH_x86', `-I/usr/include/${arch}-linux-gnu`, '-Wall', '-c',
    join(ROOT, 'test', 'fixtures', `${name}.bpf.c`), '-o', out])
  return {cleanup: () => rmSync(dir, {force: true, recursive: true}), path: out}
}

/** Open + load a fixture object. */
export function loadFixture(name) {
  const built = buildFixture(name)
  let object
  try {
    object = LoadedObject.open(built.path)
    object.load()
  } catch (error) {
    object?.close()
    built.cleanup()
    throw error
  }

  const {libbpf} = sys()
  const links = []
  const progFd = (p) => libbpf.bpf_program__fd(object.program(p))
  const mapFd = (m) => libbpf.bpf_map__fd(object.map(m))
  return {
    /** Attach a program the way libbpf's SEC() says; returns the link's kernel id. */
    attach(p) {
      const link = libbpf.bpf_program__attach(object.program(p))
      if (!link) throw new Error(`attaching ${p} failed: errno ${sys().errno()}`)
      links.push(link)
      const info = Buffer.alloc(64)
      libbpf.bpf_obj_get_info_by_fd(libbpf.bpf_link__fd(link), info, [64])
      return info.readUInt32LE(4)
    },
    close() {
      for (const l of links) libbpf.bpf_link__destroy(l)
      links.length = 0
      object.close()
      built.cleanup()
    },
    ids() {
      const programs = Object.fromEntries(object.programNames().map((p) => [p, progInfo(progFd(p)).id]))
      const maps = Object.fromEntries(object.mapNames().map((m) => [m, mapInfo(mapFd(m)).id]))
      return {maps, programs}
    },
    mapFd,
    object,
    progFd,
    /** map[key] = program (a prog array slot). */
    setSlot(m, key, p) {
      const k = Buffer.alloc(4)
      k.writeUInt32LE(key)
      const v = Buffer.alloc(4)
      v.writeInt32LE(progFd(p))
      const ret = libbpf.bpf_map_update_elem(mapFd(m), k, v, 0)
      if (ret !== 0) throw new Error(`${m}[${key}] = ${p} failed: ${ret}`)
    },
  }
}
