/**
 * A BPF iterator run once: the program is loaded from an object file's bytes, attached as an
 * iterator, read to the end through an iterator fd, and everything it made in the kernel (the
 * iterator fd, the link, the program, the object's BTF) is freed again before the call returns,
 * whether it succeeded or not.
 */
import {TailcallsError} from '../errors.js'
import {SysError, checkPtr, checkRet, isErrno} from '../sys/error.js'
import {type BpfLink, type BpfObject, sys} from '../sys/ffi.js'
import {captureLibbpfLog} from './log.js'

/** What one read() asks for: a bpf_iter read hands over at most its seq_file buffer (8 pages). */
const CHUNK = 64 * 1024

/**
 * Everything the iterator program `program` of the object `bytes` writes, in one buffer.
 * `what` names the iterator in error messages ("the pids iterator"). A failed step is thrown as a
 * SysError naming the libbpf call (`bpf_object__load`, `bpf_program__attach_iter`,
 * `bpf_iter_create`, `read`) with its errno: the caller decides which ones mean "this kernel
 * cannot run it". libbpf's own messages are kept off stderr (TAILCALLS_DEBUG=1 shows them).
 */
export function readIterator(bytes: Buffer, program: string, what: string): Buffer {
  const {libbpf, libc, errno} = sys()
  const log = captureLibbpfLog()
  let obj: BpfObject | undefined
  let link: BpfLink | undefined
  let fd = -1
  try {
    obj = checkPtr(
      'bpf_object__open_mem',
      libbpf.bpf_object__open_mem(bytes, bytes.length, null),
      errno,
      `opening ${what}`,
    )
    const prog = libbpf.bpf_object__find_program_by_name(obj, program)
    if (!prog) throw new TailcallsError('invalidObject', `${what} has no program ${program}`)
    checkRet('bpf_object__load', libbpf.bpf_object__load(obj), `loading ${what}`)
    link = checkPtr('bpf_program__attach_iter', libbpf.bpf_program__attach_iter(prog, null), errno, `attaching ${what}`)
    fd = libbpf.bpf_iter_create(libbpf.bpf_link__fd(link))
    checkRet('bpf_iter_create', fd, `starting ${what}`)
    const chunks: Buffer[] = []
    let total = 0
    for (;;) {
      const buf = Buffer.allocUnsafe(CHUNK)
      const n = libc.read(fd, buf, CHUNK)
      if (n < 0) {
        const error = new SysError('read', errno(), `reading ${what}`)
        // EINTR: a signal came first. EAGAIN: the kernel visited its limit of objects (a million)
        // without output and asks to be read again; the next read goes on from there.
        if (isErrno(error, 'EINTR', 'EAGAIN')) continue
        throw error
      }

      if (n === 0) break
      chunks.push(n === CHUNK ? buf : buf.subarray(0, n))
      total += n
    }

    return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)
  } finally {
    if (fd >= 0) libc.close(fd)
    if (link) libbpf.bpf_link__destroy(link)
    if (obj) libbpf.bpf_object__close(obj)
    log.stop()
  }
}
