/**
 * `bpf_obj_get_info_by_fd` decoded: progs, maps, links and BTF objects, plus the extras the
 * kernel only shows in /proc/self/fdinfo (memlock, owner_prog_type, owner_jited, frozen).
 *
 * Kernel-version tolerance: we pass a zeroed buffer of the 6.18 struct size; an older kernel
 * copies a shorter prefix and writes the length it used back into info_len. Fields beyond
 * that length are reported as absent (undefined), never as zero.
 *
 * Arrays the kernel fills through a pointer field (map_ids, xlated insns, func_info, strings)
 * need a second call with native memory (koffi.alloc), because the kernel writes into it
 * after the call has started and a JS Buffer's address is not ours to hand out.
 */
import {readFileSync, readdirSync, statSync} from 'node:fs'

import {Btf, BtfError} from '../btf/btf.js'
import {KIND} from '../btf/kinds.js'
import {TailcallsError} from '../errors.js'
import {SysError, isVanished} from '../sys/error.js'
import {cstring} from '../sys/cstring.js'
import {sys} from '../sys/ffi.js'
import {
  BPF_BTF_INFO as BTF_INFO,
  BPF_FUNC_INFO,
  BPF_LINK_INFO as LINK_INFO,
  BPF_LINK_TYPE,
  BPF_MAP_INFO as MAP_INFO,
  BPF_OBJ_NAME_LEN,
  BPF_PROG_INFO as PROG_INFO,
  BPF_TAG_SIZE,
  CLOCK,
} from '../sys/uapi.js'
import {tryOpenById, withFd} from './ids.js'
import {type OwnFdinfo, fieldInt, tryReadProcFile} from './procfile.js'

// ---------------------------------------------------------------------------------------------
// raw calls

/**
 * Scratch info buffers, one per struct size, zeroed before every call and read by the caller
 * right away (every decoder below copies what it needs out before the next call): listing
 * 1,000 programs then allocates no buffers at all.
 */
const scratch = new Map<number, Buffer>()
const lenBox = new Uint32Array(1)

/** One get_info call into a zeroed buffer; `prepare` may set input fields first. The buffer is reused by the next call. */
function getInfo(fd: number, size: number, what: string, prepare?: (buf: Buffer) => void): {buf: Buffer; len: number} {
  let buf = scratch.get(size)
  if (buf) buf.fill(0)
  else scratch.set(size, (buf = Buffer.alloc(size)))
  prepare?.(buf)
  return {buf, len: getInfoInto(fd, buf, what)}
}

/** BPF_OBJ_GET_INFO_BY_FD into `buf` (zeroed by the caller); the number of bytes the kernel filled. */
function getInfoInto(fd: number, buf: Buffer, what: string): number {
  lenBox[0] = buf.length
  const ret = sys().libbpf.bpf_obj_get_info_by_fd(fd, buf, lenBox)
  if (ret < 0) throw new SysError('BPF_OBJ_GET_INFO_BY_FD', -ret, `reading ${what} info`)
  return lenBox[0]
}

/**
 * Native scratch memory the kernel can write into during a get_info call: `fill` gets its
 * address, the bytes are copied out into a Buffer afterwards and the memory is freed.
 */
function withNative<T>(bytes: number, fill: (address: bigint) => T): {bytes: Buffer; result: T} {
  const {koffi} = sys()
  const n = Math.max(bytes, 1)
  const mem = koffi.alloc('uint8_t', n)
  try {
    const result = fill(koffi.address(mem))
    const copy = Buffer.from(new Uint8Array(koffi.view(mem, n)).slice(0, bytes))
    return {bytes: copy, result}
  } finally {
    koffi.free(mem)
  }
}

/** A field reader that answers undefined for fields the kernel did not copy. */
class Fields {
  constructor(
    readonly buf: Buffer,
    readonly len: number,
  ) {}
  has(off: number, size: number): boolean {
    return off + size <= this.len
  }

  u32(off: number): number | undefined {
    return this.has(off, 4) ? this.buf.readUInt32LE(off) : undefined
  }

  s32(off: number): number | undefined {
    return this.has(off, 4) ? this.buf.readInt32LE(off) : undefined
  }

  u64(off: number): bigint | undefined {
    return this.has(off, 8) ? this.buf.readBigUInt64LE(off) : undefined
  }
}

// ---------------------------------------------------------------------------------------------
// programs

export interface ProgInfo {
  /** Bytes of struct bpf_prog_info the kernel copied: fields beyond are undefined. */
  infoLen: number
  type: number
  id: number
  /** 16 lowercase hex digits. */
  tag: string
  jitedProgLen: number
  xlatedProgLen: number
  /** ns since boot (CLOCK_BOOTTIME); see loadTimeToEpoch. */
  loadTime?: bigint
  createdByUid?: number
  nrMapIds?: number
  /** The kernel's 16-byte name (at most 15 chars); see progFullName for the BTF name. */
  name?: string
  ifindex?: number
  gplCompatible?: boolean
  netnsDev?: bigint
  netnsIno?: bigint
  nrJitedKsyms?: number
  btfId?: number
  funcInfoRecSize?: number
  nrFuncInfo?: number
  nrLineInfo?: number
  runTimeNs?: bigint
  runCnt?: bigint
  recursionMisses?: bigint
  verifiedInsns?: number
  attachBtfObjId?: number
  attachBtfId?: number
}

/**
 * struct bpf_prog_info's scratch buffer, with u32 and u64 views of the same memory: progInfo runs
 * once per program of a listing, mostly before V8 has optimised it, and an element of a typed
 * array costs less to read than a Buffer's readUInt32LE or readBigUInt64LE. (Every u32 member is
 * 4-aligned and every u64 8-aligned, as in the kernel's struct; the views are in host order, as
 * the kernel writes.)
 */
const progScratch = new ArrayBuffer(PROG_INFO.size)
const progBuf = Buffer.from(progScratch)
const progU32 = new Uint32Array(progScratch)
const progU64 = new BigUint64Array(progScratch)

/** The u32 at byte `off` when the kernel filled it (`len` bytes), else undefined. */
function progU32At(len: number, off: number): number | undefined {
  return off + 4 <= len ? progU32[off >>> 2] : undefined
}

/** The u64 at byte `off` when the kernel filled it, else undefined; 0n without allocating a BigInt. */
function progU64At(len: number, off: number): bigint | undefined {
  if (off + 8 > len) return undefined
  return progU32[off >>> 2] === 0 && progU32[(off >>> 2) + 1] === 0 ? 0n : progU64[off >>> 3]
}

export function progInfo(fd: number): ProgInfo {
  progBuf.fill(0)
  const len = getInfoInto(fd, progBuf, 'program')
  const P = PROG_INFO
  const u32 = progU32
  return {
    attachBtfId: progU32At(len, P.attach_btf_id),
    attachBtfObjId: progU32At(len, P.attach_btf_obj_id),
    btfId: progU32At(len, P.btf_id),
    createdByUid: progU32At(len, P.created_by_uid),
    funcInfoRecSize: progU32At(len, P.func_info_rec_size),
    gplCompatible: P.gpl_compatible + 4 <= len ? (u32[P.gpl_compatible >>> 2] & 1) === 1 : undefined,
    id: u32[P.id >>> 2],
    ifindex: progU32At(len, P.ifindex),
    infoLen: len,
    jitedProgLen: progU32At(len, P.jited_prog_len) ?? 0,
    loadTime: progU64At(len, P.load_time),
    name: P.name + BPF_OBJ_NAME_LEN <= len ? cstring(progBuf, P.name, BPF_OBJ_NAME_LEN) : undefined,
    netnsDev: progU64At(len, P.netns_dev),
    netnsIno: progU64At(len, P.netns_ino),
    nrFuncInfo: progU32At(len, P.nr_func_info),
    nrJitedKsyms: progU32At(len, P.nr_jited_ksyms),
    nrLineInfo: progU32At(len, P.nr_line_info),
    nrMapIds: progU32At(len, P.nr_map_ids),
    recursionMisses: progU64At(len, P.recursion_misses),
    runCnt: progU64At(len, P.run_cnt),
    runTimeNs: progU64At(len, P.run_time_ns),
    tag: progBuf.toString('hex', P.tag, P.tag + BPF_TAG_SIZE),
    type: u32[P.type >>> 2],
    verifiedInsns: progU32At(len, P.verified_insns),
    xlatedProgLen: progU32At(len, P.xlated_prog_len) ?? 0,
  }
}

/**
 * The ids of the maps a program uses (second get_info call, as bpftool's show_prog_maps).
 * `count` is nrMapIds from progInfo; pass it to save a call.
 */
export function progMapIds(fd: number, count?: number): number[] {
  const n = count ?? progInfo(fd).nrMapIds ?? 0
  if (n === 0) return []
  const {bytes, result: written} = withNative(n * 4, (address) => {
    const {buf, len} = getInfo(fd, PROG_INFO.size, 'program', (b) => {
      b.writeUInt32LE(n, PROG_INFO.nr_map_ids)
      b.writeBigUInt64LE(address, PROG_INFO.map_ids)
    })
    return len >= PROG_INFO.nr_map_ids + 4 ? buf.readUInt32LE(PROG_INFO.nr_map_ids) : 0
  })
  // The kernel writes back the real count; it copied min(n, real) ids.
  const got = Math.min(n, written)
  const ids: number[] = []
  for (let i = 0; i < got; i++) ids.push(bytes.readUInt32LE(i * 4))
  return ids
}

/**
 * The program's translated (post-verifier) instructions, 8 bytes each, as the kernel dumps
 * them (map references rewritten to map ids). Empty when the caller is not bpf_capable
 * (the kernel then reports length 0) or when raw dumps are not allowed.
 */
export function progXlated(fd: number): Buffer {
  const len = progInfo(fd).xlatedProgLen
  if (len === 0) return Buffer.alloc(0)
  const {bytes, result: got} = withNative(len, (address) => {
    const {buf} = getInfo(fd, PROG_INFO.size, 'program', (b) => {
      b.writeUInt32LE(len, PROG_INFO.xlated_prog_len)
      b.writeBigUInt64LE(address, PROG_INFO.xlated_prog_insns)
    })
    // A zeroed pointer back means "not allowed" (constant blinding without raw-dump rights).
    return buf.readBigUInt64LE(PROG_INFO.xlated_prog_insns) === 0n
      ? 0
      : Math.min(len, buf.readUInt32LE(PROG_INFO.xlated_prog_len))
  })
  return bytes.subarray(0, got)
}

/** type_id of the program's first func_info record (its main function's BTF FUNC), or undefined. */
export function progMainFuncTypeId(fd: number, info: ProgInfo): number | undefined {
  if (!info.btfId || !info.nrFuncInfo) return undefined
  const recSize = Math.min(info.funcInfoRecSize ?? BPF_FUNC_INFO.size, BPF_FUNC_INFO.size)
  const {bytes} = withNative(BPF_FUNC_INFO.size, (address) =>
    getInfo(fd, PROG_INFO.size, 'program', (b) => {
      b.writeUInt32LE(1, PROG_INFO.nr_func_info)
      b.writeUInt32LE(recSize, PROG_INFO.func_info_rec_size)
      b.writeBigUInt64LE(address, PROG_INFO.func_info)
    }),
  )
  return bytes.readUInt32LE(BPF_FUNC_INFO.type_id)
}

/**
 * Program BTF by id, parsed once per process (src/btf/btf.ts); null when it is gone or its
 * header is unusable. Program BTF is standalone (never split on vmlinux).
 */
const btfCache = new Map<number, Btf | null>()

function programBtf(id: number): Btf | null {
  let btf = btfCache.get(id)
  if (btf === undefined) {
    const fd = tryOpenById('btf', id)
    btf = fd === undefined ? null : parseOrNull(withFd(fd, btfData), `BTF id ${id}`)
    btfCache.set(id, btf)
  }

  return btf
}

function parseOrNull(bytes: Buffer, name: string): Btf | null {
  try {
    return Btf.parse(bytes, {name})
  } catch (error) {
    if (error instanceof BtfError) return null
    throw error
  }
}

/**
 * The program's name as bpftool prints it: the kernel keeps 15 chars; when the name fills
 * them and the program has BTF func info, the full name is its main function's BTF name.
 *
 * The BTF is read by the one parser. Where a record has a kind it does not know, that parser
 * stops (the record's length depends on its kind, so everything after it would be read
 * misaligned) and the types after it do not exist; the walker this replaced skipped such a
 * record as if it had no trailing data and could return a name read from the middle of
 * another record. Not knowing the name, we print the kernel's 15 characters instead.
 */
export function progFullName(fd: number, info: ProgInfo): string {
  const short = info.name ?? ''
  if (short.length < BPF_OBJ_NAME_LEN - 1 || !info.btfId || !info.nrFuncInfo) return short
  // No catch: the open program fd keeps its BTF object alive, so nothing here can vanish;
  // BTF the parser cannot read gives no name (programBtf).
  const typeId = progMainFuncTypeId(fd, info)
  if (!typeId) return short
  const t = programBtf(info.btfId)?.type(typeId)
  return t?.kind === KIND.FUNC ? (t.name ?? short) : short
}

// ---------------------------------------------------------------------------------------------
// maps

export interface MapInfo {
  infoLen: number
  type: number
  id: number
  keySize: number
  valueSize: number
  maxEntries: number
  mapFlags: number
  name: string
  ifindex?: number
  btfVmlinuxValueTypeId?: number
  netnsDev?: bigint
  netnsIno?: bigint
  btfId?: number
  btfKeyTypeId?: number
  btfValueTypeId?: number
  btfVmlinuxId?: number
  mapExtra?: bigint
}

export function mapInfo(fd: number): MapInfo {
  const {buf, len} = getInfo(fd, MAP_INFO.size, 'map')
  const f = new Fields(buf, len)
  const M = MAP_INFO
  return {
    btfId: f.u32(M.btf_id),
    btfKeyTypeId: f.u32(M.btf_key_type_id),
    btfValueTypeId: f.u32(M.btf_value_type_id),
    btfVmlinuxId: f.u32(M.btf_vmlinux_id),
    btfVmlinuxValueTypeId: f.u32(M.btf_vmlinux_value_type_id),
    id: buf.readUInt32LE(M.id),
    ifindex: f.u32(M.ifindex),
    infoLen: len,
    keySize: buf.readUInt32LE(M.key_size),
    mapExtra: f.u64(M.map_extra),
    mapFlags: buf.readUInt32LE(M.map_flags),
    maxEntries: buf.readUInt32LE(M.max_entries),
    name: f.has(M.name, BPF_OBJ_NAME_LEN) ? cstring(buf, M.name, BPF_OBJ_NAME_LEN) : '',
    netnsDev: f.u64(M.netns_dev),
    netnsIno: f.u64(M.netns_ino),
    type: buf.readUInt32LE(M.type),
    valueSize: buf.readUInt32LE(M.value_size),
  }
}

// ---------------------------------------------------------------------------------------------
// fdinfo

/** /proc/self/fdinfo/<fd> as key → value (text after the TAB); empty without /proc. */
export function fdinfo(fd: number): Map<string, string> {
  const out = new Map<string, string>()
  const text = tryReadProcFile(`/proc/self/fdinfo/${fd}`)
  if (text === undefined) return out

  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    out.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }

  return out
}

export interface MapFdinfo {
  /** Bytes charged for the map (bpftool's bytes_memlock); undefined when fdinfo has no memlock line. */
  memlock?: number
  /** prog_array only: the prog type that owns the array (set once a program uses it). */
  ownerProgType?: number
  ownerJited?: boolean
  /** 0/1 (bpftool prints it as an int); 0 when fdinfo has no frozen line. */
  frozen: number
}

export function mapFdinfo(fd: number): MapFdinfo {
  const fi = fdinfo(fd)
  const owner = fi.get('owner_prog_type')
  const jited = fi.get('owner_jited')
  const memlock = fi.get('memlock')
  return {
    frozen: fi.has('frozen') ? Number.parseInt(fi.get('frozen')!, 10) || 0 : 0,
    memlock: memlock === undefined ? undefined : Number.parseInt(memlock, 10),
    ownerJited: jited === undefined ? undefined : Number.parseInt(jited, 10) !== 0,
    ownerProgType: owner === undefined ? undefined : Number.parseInt(owner, 10),
  }
}

/**
 * memlock: from a prog's fdinfo (bpftool's bytes_memlock), or undefined. A listing passes its
 * OwnFdinfo (for `prog_id`) and the program's id, to read the file without reopening it.
 */
export function progMemlock(fd: number, own?: {fdinfo: OwnFdinfo; id: number}): number | undefined {
  const text = own ? own.fdinfo.read(fd, own.id) : tryReadProcFile(`/proc/self/fdinfo/${fd}`)
  return text === undefined ? undefined : fieldInt(text, 'memlock')
}

// ---------------------------------------------------------------------------------------------
// links

export interface LinkInfo {
  infoLen: number
  type: number
  id: number
  progId: number
  /** raw_tracepoint */
  tpName?: string
  /** tracing, cgroup, netns, tcx/netkit, sockmap */
  attachType?: number
  /** tracing */
  targetObjId?: number
  targetBtfId?: number
  /** cgroup, iter(cgroup) */
  cgroupId?: bigint
  /** iter */
  targetName?: string
  mapId?: number
  order?: number
  tid?: number
  pid?: number
  /** netns */
  netnsIno?: number
  /** xdp, tcx, netkit */
  ifindex?: number
  /** perf_event: 1 uprobe, 2 uretprobe, 3 kprobe, 4 kretprobe, 5 tracepoint, 6 event */
  perfEventType?: number
  /** netfilter */
  pf?: number
  hooknum?: number
  priority?: number
  flags?: number
}

/** Longest string we accept for tp_name / target_name (the kernel fails with ENOSPC beyond). */
const NAME_BUF = 4096

export function linkInfo(fd: number): LinkInfo {
  let {buf, len} = getInfo(fd, LINK_INFO.size, 'link')
  const type = buf.readUInt32LE(LINK_INFO.type)
  const U = LINK_INFO
  let tpName: string | undefined
  let targetName: string | undefined
  // Strings come back through a pointer: a second call with a buffer, as bpftool does.
  if (type === BPF_LINK_TYPE.RAW_TRACEPOINT || type === BPF_LINK_TYPE.ITER) {
    const ptrOff = type === BPF_LINK_TYPE.ITER ? U.iter.target_name : U.raw_tracepoint.tp_name
    const lenOff = type === BPF_LINK_TYPE.ITER ? U.iter.target_name_len : U.raw_tracepoint.tp_name_len
    const {bytes, result} = withNative(NAME_BUF, (address) =>
      getInfo(fd, LINK_INFO.size, 'link', (b) => {
        b.writeBigUInt64LE(address, ptrOff)
        b.writeUInt32LE(NAME_BUF, lenOff)
      }),
    )
    ;({buf, len} = result)
    const s = cstring(bytes, 0, NAME_BUF)
    if (type === BPF_LINK_TYPE.ITER) targetName = s
    else tpName = s
  }

  const f = new Fields(buf, len)
  const info: LinkInfo = {
    id: buf.readUInt32LE(LINK_INFO.id),
    infoLen: len,
    progId: buf.readUInt32LE(LINK_INFO.prog_id),
    type,
  }
  switch (type) {
    case BPF_LINK_TYPE.RAW_TRACEPOINT: {
      info.tpName = tpName
      break
    }

    case BPF_LINK_TYPE.TRACING: {
      info.attachType = f.u32(U.tracing.attach_type)
      info.targetObjId = f.u32(U.tracing.target_obj_id)
      info.targetBtfId = f.u32(U.tracing.target_btf_id)
      break
    }

    case BPF_LINK_TYPE.CGROUP: {
      info.cgroupId = f.u64(U.cgroup.cgroup_id)
      info.attachType = f.u32(U.cgroup.attach_type)
      break
    }

    case BPF_LINK_TYPE.ITER: {
      info.targetName = targetName
      info.mapId = f.u32(U.iter.map.map_id)
      info.cgroupId = f.u64(U.iter.cgroup.cgroup_id)
      info.order = f.u32(U.iter.cgroup.order)
      info.tid = f.u32(U.iter.task.tid)
      info.pid = f.u32(U.iter.task.pid)
      break
    }

    case BPF_LINK_TYPE.NETNS: {
      info.netnsIno = f.u32(U.netns.netns_ino)
      info.attachType = f.u32(U.netns.attach_type)
      break
    }

    case BPF_LINK_TYPE.XDP: {
      info.ifindex = f.u32(U.xdp.ifindex)
      break
    }

    case BPF_LINK_TYPE.STRUCT_OPS: {
      info.mapId = f.u32(U.struct_ops.map_id)
      break
    }

    case BPF_LINK_TYPE.NETFILTER: {
      info.pf = f.u32(U.netfilter.pf)
      info.hooknum = f.u32(U.netfilter.hooknum)
      info.priority = f.s32(U.netfilter.priority)
      info.flags = f.u32(U.netfilter.flags)
      break
    }

    case BPF_LINK_TYPE.TCX:
    case BPF_LINK_TYPE.NETKIT: {
      info.ifindex = f.u32(U.tcx.ifindex)
      info.attachType = f.u32(U.tcx.attach_type)
      break
    }

    case BPF_LINK_TYPE.SOCKMAP: {
      info.mapId = f.u32(U.sockmap.map_id)
      info.attachType = f.u32(U.sockmap.attach_type)
      break
    }

    case BPF_LINK_TYPE.PERF_EVENT: {
      info.perfEventType = f.u32(U.perf_event.type)
      break
    }

    default: {
      break
    }
  }

  return info
}

// ---------------------------------------------------------------------------------------------
// BTF objects

export interface BtfInfo {
  infoLen: number
  id: number
  btfSize: number
  /** Module or vmlinux name for kernel BTF; '' for program BTF. */
  name?: string
  kernelBtf?: boolean
}

export function btfInfo(fd: number): BtfInfo {
  const first = getInfo(fd, BTF_INFO.size, 'BTF')
  const f0 = new Fields(first.buf, first.len)
  // Read everything before the second call: it reuses the same scratch buffer.
  const kernel = f0.u32(BTF_INFO.kernel_btf)
  const btfSize = first.buf.readUInt32LE(BTF_INFO.btf_size)
  const id = first.buf.readUInt32LE(BTF_INFO.id)
  const infoLen = first.len
  let name: string | undefined
  if (f0.has(BTF_INFO.name_len, 4)) {
    const {bytes} = withNative(256, (address) =>
      getInfo(fd, BTF_INFO.size, 'BTF', (b) => {
        b.writeBigUInt64LE(address, BTF_INFO.name)
        b.writeUInt32LE(256, BTF_INFO.name_len)
      }),
    )
    name = cstring(bytes, 0, 256)
  }

  return {btfSize, id, infoLen, kernelBtf: kernel === undefined ? undefined : kernel !== 0, name}
}

/** The raw BTF blob (header, types, strings) of a BTF fd: what `bpftool btf dump` decodes. */
export function btfData(fd: number): Buffer {
  const size = btfInfo(fd).btfSize
  if (size === 0) return Buffer.alloc(0)
  const {bytes} = withNative(size, (address) =>
    getInfo(fd, BTF_INFO.size, 'BTF', (b) => {
      b.writeBigUInt64LE(address, BTF_INFO.btf)
      b.writeUInt32LE(size, BTF_INFO.btf_size)
    }),
  )
  return bytes
}

/** The raw BTF blob of BTF object `id`; throws notFound when it does not exist. */
export function btfDataById(id: number): Buffer {
  const fd = tryOpenById('btf', id)
  if (fd === undefined) throw new TailcallsError('notFound', `no BTF object with id ${id}`)
  return withFd(fd, btfData)
}

// ---------------------------------------------------------------------------------------------
// time and devices

/** REALTIME - BOOTTIME in ns, as whole seconds and the nanoseconds left (loadTimeToEpoch). */
let bootToReal: {secs: bigint; nsec: bigint} | undefined

/**
 * load_time (ns since boot, CLOCK_BOOTTIME) → unix seconds, computed exactly as bpftool's
 * print_boot_time: (real.sec - boot.sec) + (real.nsec - boot.nsec + load_time) / 1e9.
 */
export function loadTimeToEpoch(loadTime: bigint): number {
  if (bootToReal === undefined) {
    const {libc} = sys()
    const real = Buffer.alloc(16)
    const boot = Buffer.alloc(16)
    if (libc.clock_gettime(CLOCK.REALTIME, real) !== 0)
      throw new SysError('clock_gettime', sys().errno(), 'reading CLOCK_REALTIME')
    if (libc.clock_gettime(CLOCK.BOOTTIME, boot) !== 0)
      throw new SysError('clock_gettime', sys().errno(), 'reading CLOCK_BOOTTIME')

    const secs = real.readBigInt64LE(0) - boot.readBigInt64LE(0)
    const ns = secs * 1_000_000_000n + (real.readBigInt64LE(8) - boot.readBigInt64LE(8))
    bootToReal = {nsec: ns % 1_000_000_000n, secs: ns / 1_000_000_000n}
  }

  // Same integer arithmetic as bpftool: whole seconds of the difference, then of the sum.
  return Number(bootToReal.secs + (bootToReal.nsec + loadTime) / 1_000_000_000n)
}

/** Interface name for ifindex if the object's netns is ours (bpftool's ifindex_to_name_ns). */
export function ifnameInNs(ifindex: number, nsDev: bigint, nsIno: bigint): string | undefined {
  const st = statSync('/proc/self/ns/net', {bigint: true})
  if (st.dev !== nsDev || st.ino !== nsIno) return undefined
  for (const name of readdirSync('/sys/class/net')) {
    let text: string
    try {
      text = readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8')
    } catch (error) {
      if (isVanished(error)) continue // the interface was removed meanwhile
      throw error
    }

    if (text.trim() === String(ifindex)) return name
  }

  return undefined
}
