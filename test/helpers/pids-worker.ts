// A process that holds one BPF object of every kind, for test/kernel/pids.test.ts. Usage:
//   node --import tsx pids-worker.ts <comm> <pin prefix> [map id to hold as well]
// It sets its comm, then holds: a socket_filter program; an array map, twice (its own fd and one
// from its pin: both `anon_inode:bpf-map`); an iterator link, twice (its own fd, `bpf_link`, and
// one from its pin, `bpf-link`) with that iterator's program and BTF (libbpf keeps the object's
// BTF fd); and, when given, another process's map by id (two holders of one map). Prints
// {"pid", "prog", "map", "link", "iterProg", "btf", "shared"} once ready; when its stdin closes it
// removes its pins and exits, and the kernel frees what it held.
import {unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {linkInfo, mapInfo, progInfo} from '../../src/kernel/info.js'
import {LoadedObject} from '../../src/libbpf/object.js'
import {sys} from '../../src/sys/ffi.js'
import {BPF_MAP_TYPE, BPF_PROG_TYPE} from '../../src/sys/uapi.js'
import {ROOT} from './cli.js'

const [comm, pinPrefix, shareId] = process.argv.slice(2)
const {libbpf} = sys()
const check = (what: string, fd: number): number => {
  if (fd < 0) throw new Error(`${what}: ${fd}`)
  return fd
}

writeFileSync('/proc/self/comm', comm)
const progLoad = sys().optional(
  'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)',
)
if (!progLoad) throw new Error('libbpf lacks bpf_prog_load')
// r0 = 0; exit
const insns = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0])
const prog = check(
  'bpf_prog_load',
  progLoad(BPF_PROG_TYPE.SOCKET_FILTER, 'tc_pids_prog', 'GPL', insns, 2, null) as number,
)
const map = check('bpf_map_create', libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, 'tc_pids_map', 4, 8, 1, null))
const mapPin = `${pinPrefix}-map`
const linkPin = `${pinPrefix}-link`
const pins: string[] = []
check('bpf_obj_pin map', libbpf.bpf_obj_pin(map, mapPin))
pins.push(mapPin)
check('bpf_obj_get map', libbpf.bpf_obj_get(mapPin))

const obj = LoadedObject.open(join(ROOT, 'bpf', 'pids.bpf.o'))
obj.load()
const iter = obj.program('tailcalls_pids')!
const link = libbpf.bpf_program__attach_iter(iter, null)
if (!link) throw new Error('bpf_program__attach_iter failed')
const linkFd = libbpf.bpf_link__fd(link)
check('bpf_obj_pin link', libbpf.bpf_obj_pin(linkFd, linkPin))
pins.push(linkPin)
check('bpf_obj_get link', libbpf.bpf_obj_get(linkPin))
const iterProg = progInfo(libbpf.bpf_program__fd(iter))

const shared = shareId ? mapInfo(check('bpf_map_get_fd_by_id', libbpf.bpf_map_get_fd_by_id(Number(shareId)))).id : null

process.stdout.write(
  `${JSON.stringify({
    btf: iterProg.btfId,
    iterProg: iterProg.id,
    link: linkInfo(linkFd).id,
    map: mapInfo(map).id,
    pid: process.pid,
    prog: progInfo(prog).id,
    shared,
  })}\n`,
)
process.stdin.resume()
process.stdin.on('end', () => {
  for (const p of pins) unlinkSync(p)
  process.exit(0)
})
