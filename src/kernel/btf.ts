/**
 * BTF from the running kernel, decoded by our own parser (src/btf/, which knows the format and
 * nothing of where blobs come from): BTF objects by id (BPF_BTF_GET_FD_BY_ID +
 * bpf_btf_info{btf, btf_size}), vmlinux from /sys/kernel/btf/vmlinux, kernel module BTF split
 * on vmlinux. Parsed blobs are cached for the life of the process.
 */
import {readFileSync} from 'node:fs'

import {Btf, BtfError} from '../btf/btf.js'
import {TailcallsError} from '../errors.js'
import {tryOpenById, withFd} from './ids.js'
import {btfData, btfInfo} from './info.js'

/** Where the kernel exposes its own BTF (CONFIG_DEBUG_INFO_BTF). */
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux'

/**
 * The vmlinux BTF file this process uses: TAILCALLS_KERNEL_BTF when set (tests point it at a
 * missing file to see how a kernel without BTF is reported), else VMLINUX_BTF.
 */
export function vmlinuxBtfPath(): string {
  return process.env.TAILCALLS_KERNEL_BTF ?? VMLINUX_BTF
}

const byId = new Map<number, Btf>()
let vmlinux: Btf | undefined

/** The kernel's own BTF (read once). */
export function vmlinuxBtf(path = vmlinuxBtfPath()): Btf {
  if (vmlinux) return vmlinux
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (error) {
    throw new TailcallsError(
      'kernelSupport',
      `cannot read the kernel's BTF at ${path}: ${(error as NodeJS.ErrnoException).code}`,
      {
        hint: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y',
      },
    )
  }

  vmlinux = parseOrThrow(bytes, {name: 'vmlinux'})
  return vmlinux
}

function parseOrThrow(bytes: Buffer, opts: {base?: Btf; name: string}): Btf {
  try {
    return Btf.parse(bytes, opts)
  } catch (error) {
    if (error instanceof BtfError)
      throw new TailcallsError('invalidObject', `cannot decode ${opts.name}: ${error.message}`)
    throw error
  }
}

/**
 * BTF object `id` from the kernel. Module BTF (kernel BTF other than vmlinux) is split BTF
 * and is parsed on top of vmlinux. Throws notFound when the id does not exist.
 */
export function kernelBtf(id: number): Btf {
  const cached = byId.get(id)
  if (cached) return cached
  const fd = tryOpenById('btf', id)
  if (fd === undefined)
    throw new TailcallsError('notFound', `no BTF object with id ${id}`, {hint: 'list them with `bpftool btf list`'})
  const btf = withFd(fd, (f) => {
    const info = btfInfo(f)
    const bytes = btfData(f)
    const split = info.kernelBtf === true && info.name !== undefined && info.name !== 'vmlinux'
    return parseOrThrow(bytes, {
      base: split ? vmlinuxBtf() : undefined,
      name: `BTF id ${id}${info.name ? ` (${info.name})` : ''}`,
    })
  })
  byId.set(id, btf)
  return btf
}
