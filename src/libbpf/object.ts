/**
 * A BPF ELF object opened and loaded through libbpf: programs and maps by name, verifier
 * logs kept for error messages, and one close() that frees everything in the kernel.
 */
import {closeSync, openSync, readSync} from 'node:fs'

import {TailcallsError, fromErrno} from '../errors.js'
import {SysError, checkRet, isErrno} from '../sys/error.js'
import {type BpfMap, type BpfObject, type BpfProgram, sys} from '../sys/ffi.js'
import {EM_BPF} from '../sys/uapi.js'
import {captureLibbpfLog} from './log.js'

const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46])
const LOG_BUF_SIZE = 256 * 1024

/** Reject a path that is not an ELF file for BPF before libbpf sees it. */
export function checkElf(path: string): void {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT') {
      throw new TailcallsError('notFound', `object file not found: ${path}`, {
        hint: 'pass the path of a BPF object built with clang -target bpf, or omit --object to use the bundled one',
      })
    }

    if (code === 'EISDIR') throw new TailcallsError('invalidObject', `${path} is a directory, not a BPF object file`)
    throw new TailcallsError('notFound', `cannot open ${path}: ${code}`, {hint: 'check the path and its permissions'})
  }

  const head = Buffer.alloc(20)
  try {
    readSync(fd, head, 0, 20, 0)
  } catch (error) {
    // A directory opens but cannot be read (EISDIR): treated like a short read below, "not an ELF file".
    if (!isErrno(error, 'EISDIR')) throw error
  } finally {
    closeSync(fd)
  }

  if (!head.subarray(0, 4).equals(ELF_MAGIC)) {
    throw new TailcallsError('invalidObject', `${path} is not an ELF file`, {
      hint: 'build the BPF object with: clang -O2 -g -target bpf -c prog.bpf.c -o prog.bpf.o',
    })
  }

  // e_machine at offset 18, little-endian objects only (what clang -target bpf emits on x86).
  if (head.readUInt16LE(18) !== EM_BPF) {
    throw new TailcallsError(
      'invalidObject',
      `${path} is an ELF file but not a BPF object (e_machine ${head.readUInt16LE(18)})`,
      {
        hint: 'compile the program with clang -target bpf',
      },
    )
  }
}

/**
 * The verifier's reason: the message lines after the last instruction it printed, without
 * the closing statistics ("processed N insns …").
 */
export function verifierReason(lines: string[]): string {
  const body = lines.filter((l) => !/^(processed \d+ insns|verification time|stack depth)/.test(l.trim()))
  const reason: string[] = []
  for (let i = body.length - 1; i >= 0; i--) {
    const l = body[i].trim()
    // Stop at an instruction, a source line, or register state (`R0_w=map_value(…) R10=fp0`,
    // which 5.10 prints on a line of its own): the reason is what comes after them.
    if (/^\d+: \(/.test(l) || l.startsWith(';') || l === '' || /^(\d+: )?R\d+(_[a-zA-Z]+)?=/.test(l)) break
    reason.unshift(l)
  }

  return reason.length > 0 ? reason.join(' — ') : (body.at(-1) ?? 'no reason given')
}

export class LoadedObject {
  private closed = false
  private readonly logBufs = new Map<string, bigint>()

  private constructor(
    readonly path: string,
    private readonly obj: BpfObject,
  ) {}

  /** Open (parse, not load) an object file. */
  static open(path: string): LoadedObject {
    checkElf(path)
    const {libbpf, errno} = sys()
    const log = captureLibbpfLog()
    const obj = libbpf.bpf_object__open_file(path, null)
    const messages = log.stop()
    if (!obj) {
      const cause = new SysError('bpf_object__open_file', errno(), `opening ${path}`)
      const last = messages.at(-1)
      throw new TailcallsError('invalidObject', `libbpf cannot open ${path}${last ? `: ${last}` : ''}`, {
        cause,
        hint: 'rebuild it with clang -O2 -g -target bpf (BTF-defined maps, SEC() names libbpf knows)',
      })
    }

    return new LoadedObject(path, obj)
  }

  program(name: string): BpfProgram | null {
    return sys().libbpf.bpf_object__find_program_by_name(this.obj, name)
  }

  map(name: string): BpfMap | null {
    return sys().libbpf.bpf_object__find_map_by_name(this.obj, name)
  }

  programNames(): string[] {
    const {libbpf} = sys()
    const names: string[] = []
    for (let p = libbpf.bpf_object__next_program(this.obj, null); p; p = libbpf.bpf_object__next_program(this.obj, p)) {
      names.push(libbpf.bpf_program__name(p))
    }

    return names
  }

  mapNames(): string[] {
    const {libbpf} = sys()
    const names: string[] = []
    for (let m = libbpf.bpf_object__next_map(this.obj, null); m; m = libbpf.bpf_object__next_map(this.obj, m)) {
      names.push(libbpf.bpf_map__name(m))
    }

    return names
  }

  /** Throw one error naming every missing program and map. */
  require(programs: readonly string[], maps: readonly string[]): void {
    const missing = [
      ...programs.filter((p) => !this.program(p)).map((p) => `program ${p}`),
      ...maps.filter((m) => !this.map(m)).map((m) => `map ${m}`),
    ]
    if (missing.length > 0) {
      throw new TailcallsError('invalidObject', `${this.path} lacks ${missing.join(', ')}`, {
        hint: 'build it from bpf/tailcalls.bpf.c (make -C bpf) or an object with the same programs and maps',
      })
    }
  }

  /**
   * Load every program and create every map. A verifier rejection comes back with the
   * verifier's last lines (libbpf fills our log buffers only when a load fails).
   */
  load(): void {
    const {koffi, libbpf} = sys()
    for (const name of this.programNames()) {
      const buf = koffi.alloc('char', LOG_BUF_SIZE) as unknown as bigint
      this.logBufs.set(name, buf)
      checkRet(
        'bpf_program__set_log_buf',
        libbpf.bpf_program__set_log_buf(libbpf.bpf_object__find_program_by_name(this.obj, name)!, buf, LOG_BUF_SIZE),
      )
    }

    const log = captureLibbpfLog()
    const ret = libbpf.bpf_object__load(this.obj)
    const messages = log.stop()
    try {
      if (ret < 0) throw this.loadError(ret, messages)
    } finally {
      this.freeLogBufs()
    }
  }

  private loadError(ret: number, messages: string[]): TailcallsError {
    const {koffi} = sys()
    for (const [name, buf] of this.logBufs) {
      const text = koffi.decode(buf, 'char', -1) as string
      if (text.trim()) {
        const lines = text.trimEnd().split('\n')
        return new TailcallsError(
          'verifier',
          `the kernel verifier rejected program ${name}: ${verifierReason(lines)}`,
          {
            cause: new SysError('bpf_object__load', -ret, `loading ${this.path} failed`),
            details: lines.slice(-12),
            hint: 'fix the program source; the verifier log above shows where it failed',
          },
        )
      }
    }

    const base = fromErrno(new SysError('bpf_object__load', -ret, `loading ${this.path} failed`), {
      E2BIG: 'kernelSupport',
      EINVAL: 'invalidObject',
      ESRCH: 'kernelSupport',
    })
    const detail = messages.filter((m) => !m.startsWith('libbpf: prog') || m.includes('failed')).at(-1)
    return new TailcallsError(
      base.exitCode === 3 ? 'permission' : 'invalidObject',
      detail ? `${base.message} (${detail})` : base.message,
      {
        cause: base.cause,
        hint: base.hint ?? 'run `tailcalls doctor` to check what this kernel supports',
      },
    )
  }

  private freeLogBufs(): void {
    const {koffi} = sys()
    for (const buf of this.logBufs.values()) koffi.free(buf)
    this.logBufs.clear()
  }

  /** Close every fd libbpf holds; the kernel frees what nothing else references. */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.freeLogBufs()
    sys().libbpf.bpf_object__close(this.obj)
  }
}
