/**
 * BPF_PROG_TEST_RUN through libbpf's bpf_prog_test_run_opts (libbpf 1.1): run a loaded program
 * once or `repeat` times on an input the caller gives (packet data, a context), and read back
 * its return value, the average duration, and the data and context it left.
 *
 * The kernel reads the inputs and writes the outputs through pointers in the opts struct while
 * the call runs, so the buffers are native memory (koffi.alloc), copied in before and out after.
 */
import {SysError} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {TEST_RUN_OPTS as O} from '../sys/layouts.js'

export interface TestRunInput {
  data?: Buffer
  ctx?: Buffer
  /** Room for data_out / ctx_out; 0 asks for no output. */
  dataSizeOut: number
  ctxSizeOut: number
  repeat: number
}

export interface TestRunResult {
  retval: number
  /** Nanoseconds, the average over the runs (the kernel's figure). */
  duration: number
  dataOut?: Buffer
  ctxOut?: Buffer
}

/** Run the program behind `progFd`; throws SysError('BPF_PROG_TEST_RUN', errno) when the kernel refuses. */
export function testRun(progFd: number, input: TestRunInput): TestRunResult {
  const {koffi, libbpf} = sys()
  const natives: unknown[] = []
  const native = (bytes: number, from?: Buffer): bigint => {
    const mem = koffi.alloc('uint8_t', Math.max(bytes, 1))
    natives.push(mem)
    const view = new Uint8Array(koffi.view(mem, Math.max(bytes, 1)))
    view.fill(0)
    if (from) view.set(from)
    return koffi.address(mem) as bigint
  }

  const copyOut = (address: bigint, size: number, room: number): Buffer => {
    const mem = natives.find((m) => (koffi.address(m) as bigint) === address)
    return Buffer.from(new Uint8Array(koffi.view(mem, Math.max(room, 1))).slice(0, Math.min(size, room)))
  }

  try {
    const opts = Buffer.alloc(O.size)
    opts.writeBigUInt64LE(BigInt(O.size), O.sz)
    let dataOut = 0n
    let ctxOut = 0n
    if (input.data) {
      opts.writeBigUInt64LE(native(input.data.length, input.data), O.data_in)
      opts.writeUInt32LE(input.data.length, O.data_size_in)
    }

    if (input.dataSizeOut > 0) {
      dataOut = native(input.dataSizeOut)
      opts.writeBigUInt64LE(dataOut, O.data_out)
      opts.writeUInt32LE(input.dataSizeOut, O.data_size_out)
    }

    if (input.ctx) {
      opts.writeBigUInt64LE(native(input.ctx.length, input.ctx), O.ctx_in)
      opts.writeUInt32LE(input.ctx.length, O.ctx_size_in)
    }

    if (input.ctxSizeOut > 0) {
      ctxOut = native(input.ctxSizeOut)
      opts.writeBigUInt64LE(ctxOut, O.ctx_out)
      opts.writeUInt32LE(input.ctxSizeOut, O.ctx_size_out)
    }

    opts.writeInt32LE(input.repeat, O.repeat)
    const ret = libbpf.bpf_prog_test_run_opts(progFd, opts)
    if (ret < 0) throw new SysError('BPF_PROG_TEST_RUN', -ret, 'running the program')
    const result: TestRunResult = {
      duration: opts.readUInt32LE(O.duration),
      retval: opts.readUInt32LE(O.retval),
    }
    // The kernel writes back how much it produced; a size of 0 means the type has no such output.
    const dataSize = opts.readUInt32LE(O.data_size_out)
    if (dataOut !== 0n && dataSize > 0) result.dataOut = copyOut(dataOut, dataSize, input.dataSizeOut)
    const ctxSize = opts.readUInt32LE(O.ctx_size_out)
    if (ctxOut !== 0n && ctxSize > 0) result.ctxOut = copyOut(ctxOut, ctxSize, input.ctxSizeOut)
    return result
  } finally {
    for (const mem of natives) koffi.free(mem)
  }
}
