// What the benches share: the CPU time of the children they ran, and the median of repeated runs.
import {createRequire} from 'node:module'

const getrusage = createRequire(import.meta.url)('koffi')
  .load('libc.so.6')
  .func('int getrusage(int who, void *usage)')

/**
 * CPU time (user + sys) of the children waited for so far (RUSAGE_CHILDREN), in µs: the machine
 * is shared, and CPU time is far less sensitive than wall time to processes competing for cores.
 */
export function childrenCpuUs() {
  const ru = Buffer.alloc(144)
  getrusage(-1, ru)
  const tv = (o) => Number(ru.readBigInt64LE(o)) * 1e6 + Number(ru.readBigInt64LE(o + 8))
  return tv(0) + tv(16)
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
