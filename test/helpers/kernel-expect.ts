// What the kernel under test is expected to have, by version, for the features that moved
// between the kernels of the matrix (5.10, 6.1, 6.12 and the host's 6.18). The tool never
// reads these: it probes (src/kernel/features.ts). Tests assert both: the probe agrees with
// this table on a known kernel, and the tool's output follows the probe (degrades with a
// message where the kernel lacks something).
import {release} from 'node:os'

const m = /^(\d+)\.(\d+)/.exec(release())
export const KERNEL: [number, number] = m ? [Number(m[1]), Number(m[2])] : [0, 0]
export const KERNEL_LABEL = `${KERNEL[0]}.${KERNEL[1]}`

/** The kernel is at least major.minor. */
export function atLeast(major: number, minor: number): boolean {
  return KERNEL[0] > major || (KERNEL[0] === major && KERNEL[1] >= minor)
}

/** Running inside a matrix VM (qemu TCG: every process start costs ~1 s, keep loops short). */
export const IN_VM = process.env.TAILCALLS_VM === '1'

/** Scale a count down under emulation (at least `min`). */
export function vmScaled(n: number, {divide = 10, min = 1}: {divide?: number; min?: number} = {}): number {
  return IN_VM ? Math.max(min, Math.ceil(n / divide)) : n
}

/**
 * Expected facts; `undefined` where the boundary lies between kernels we have not run (then
 * only the tool's consistency with its own probe is asserted).
 */
export const EXPECT = {
  // BTF_KIND_FLOAT arrived in 5.13, DECL_TAG in 5.16, TYPE_TAG in 5.17, ENUM64 in 6.0.
  btfKinds: {decl_tag: atLeast(5, 16), enum64: atLeast(6, 0), float: atLeast(5, 13), type_tag: atLeast(5, 17)},
  // Measured: 5.10 answers ENOTSUPP for per-CPU arrays, 6.1 and later read them in batches.
  lookupBatch: {
    array: true,
    hash: true,
    percpu_array: atLeast(6, 1) ? true : atLeast(5, 11) ? undefined : false,
    percpu_hash: true,
  },
  progInfoFields: {
    attach_btf_id: atLeast(6, 0),
    recursion_misses: atLeast(5, 12),
    run_time_ns: true,
    verified_insns: atLeast(5, 16),
  },
}

/** Compare a probed record with EXPECT's, ignoring the undefined (unknown) entries. */
export function knownPart(
  probed: Record<string, unknown>,
  expected: Record<string, boolean | undefined>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(expected)) if (v !== undefined) out[k] = probed[k]
  return out
}

export function definedPart(expected: Record<string, boolean | undefined>): Record<string, boolean | undefined> {
  return Object.fromEntries(Object.entries(expected).filter(([, v]) => v !== undefined))
}
