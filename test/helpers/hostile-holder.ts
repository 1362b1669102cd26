// A process with a hostile comm that holds a BPF map pinned under a hostile file name, for
// test/cli/hostile.test.ts. Usage: node --import tsx hostile-holder.ts <pin folder>. Prints {"id", "pin", "pid"}
// once ready, and removes its pin and folder when its stdin closes (then exits; the kernel frees
// the map with the process).
import {mkdirSync, renameSync, rmdirSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {mapInfo} from '../../src/kernel/info.js'
import {sys} from '../../src/sys/ffi.js'
import {BPF_MAP_TYPE} from '../../src/sys/uapi.js'

/** 15 bytes (TASK_COMM_LEN - 1): quote, backslash, ESC [2J, BEL, LF, an invalid byte, DEL, U+009B (C1 CSI) as UTF-8. */
export const HOSTILE_COMM = Buffer.from([
  0x22, 0x5c, 0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x0a, 0xff, 0x7f, 0xc2, 0x9b, 0x27, 0x09, 0x41,
])
/** A pin file name: ESC sequences, BEL, invalid UTF-8, a right-to-left override, quotes and backslashes. */
export const HOSTILE_PIN = Buffer.concat([
  Buffer.from('evil\u001b[31m"\\\u0007'),
  Buffer.from([0xff, 0xfe]),
  Buffer.from('\u202egnp\u001b]0;pwned\u0007'),
])

if (process.argv[1]?.endsWith('hostile-holder.ts')) {
  const dir = process.argv[2]
  const fd = sys().libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, 'tailcalls_hstl', 4, 8, 4, null)
  if (fd < 0) throw new Error(`bpf_map_create: ${fd}`)
  mkdirSync(dir)
  const tmp = join(dir, 'pin')
  if (sys().libbpf.bpf_obj_pin(fd, tmp) !== 0) throw new Error('bpf_obj_pin failed')
  const pin = Buffer.concat([Buffer.from(`${dir}/`), HOSTILE_PIN])
  renameSync(tmp, pin)
  writeFileSync('/proc/self/comm', HOSTILE_COMM)
  process.stdout.write(`${JSON.stringify({id: mapInfo(fd).id, pid: process.pid})}\n`)
  process.stdin.resume()
  process.stdin.on('end', () => {
    unlinkSync(pin)
    rmdirSync(dir)
    process.exit(0)
  })
}
