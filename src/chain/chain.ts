/**
 * The seed's tail-call chain, live in the kernel: prog1 attached to sched_process_exec,
 * TAIL_CALL_MAP[0] = prog2, TAIL_CALL_MAP[1] = prog3, state in PER_CPU_MAP.
 *
 * Order matters: open → load → fill both slots → attach prog1, so no exec ever sees an
 * empty slot. The object's fds (the prog array's among them) stay open for the life of
 * the Chain: the kernel empties a prog array when its last user reference closes.
 */
import {existsSync} from 'node:fs'

import {TailcallsError, check} from '../errors.js'
import {vmlinuxBtfPath} from '../kernel/btf.js'
import {waitFreed} from '../kernel/ids.js'
import {SysError, checkRet} from '../sys/error.js'
import {linkInfo, mapInfo, progInfo} from '../kernel/info.js'
import {requireBpfPrivileges} from '../kernel/privileges.js'
import {LoadedObject} from '../libbpf/object.js'
import {bundledObjectFile} from '../libbpf/bundled.js'
import {type BpfLink, sys} from '../sys/ffi.js'
import {CHAIN_STATS, SLOT, STAGE_PROGS, TAIL_CALL_SLOTS} from '../sys/layouts.js'
import {BPF_UPDATE_FLAG} from '../sys/uapi.js'

export const CHAIN_PROGRAMS = ['prog1', 'prog2', 'prog3'] as const
export const CHAIN_MAPS = ['TAIL_CALL_MAP', 'PER_CPU_MAP', 'CHAIN_STATS', 'EVENTS'] as const
export const TRACEPOINT = 'sched_process_exec'

/** The object built from bpf/tailcalls.bpf.c and shipped with the package. */
export function bundledObjectPath(): string {
  return bundledObjectFile('tailcalls.bpf.o')
}

/** The per-CPU value count of a per-CPU map (libbpf reads /sys/devices/system/cpu/possible). */
function numPossibleCpus(): number {
  return checkRet('libbpf_num_possible_cpus', sys().libbpf.libbpf_num_possible_cpus(), 'counting possible CPUs')
}

export function requireKernelBtf(path = vmlinuxBtfPath()): void {
  if (!existsSync(path)) {
    throw new TailcallsError('kernelSupport', `this kernel exposes no BTF (${path} is missing)`, {
      hint: 'boot a kernel built with CONFIG_DEBUG_INFO_BTF=y (tp_btf programs and CO-RE need it)',
    })
  }
}

/** The phases of a load, in order (`tailcalls load` can be interrupted between them). */
export type LoadPhase = 'open' | 'load' | 'fill' | 'attach'

export interface ChainOptions {
  object?: string
  /** EVENTS ring buffer size in bytes (a power of two, multiple of the page size). */
  ringbufSize?: number
}

export interface ChainStats {
  runs: Record<string, number>
  tailCallFailed: number[]
  ringbufDrops: number
}

/**
 * Sum of the per-CPU CHAIN_STATS counters behind `fd` (a loaded chain's, a pinned one's or
 * another process's): runs per stage, failed tail calls per slot, ring-buffer drops.
 */
export function readChainStats(fd: number, possibleCpus = numPossibleCpus()): ChainStats {
  const stride = Math.ceil(CHAIN_STATS.size / 8) * 8
  const values = Buffer.alloc(stride * possibleCpus)
  const key = Buffer.alloc(4)
  check('bpf_map_lookup_elem', sys().libbpf.bpf_map_lookup_elem(fd, key, values), 'reading CHAIN_STATS')
  const runs: Record<string, number> = Object.fromEntries(STAGE_PROGS.map((p) => [p, 0]))
  const tailCallFailed = Array.from({length: TAIL_CALL_SLOTS}, () => 0)
  let ringbufDrops = 0
  for (let cpu = 0; cpu < possibleCpus; cpu++) {
    const base = cpu * stride
    STAGE_PROGS.forEach((p, i) => {
      runs[p] += Number(values.readBigUInt64LE(base + CHAIN_STATS.runs + i * 8))
    })
    for (let s = 0; s < TAIL_CALL_SLOTS; s++)
      tailCallFailed[s] += Number(values.readBigUInt64LE(base + CHAIN_STATS.tail_call_failed + s * 8))
    ringbufDrops += Number(values.readBigUInt64LE(base + CHAIN_STATS.ringbuf_drops))
  }

  return {ringbufDrops, runs, tailCallFailed}
}

export class Chain {
  private link: BpfLink | null = null
  private closed = false
  private pinned = false
  readonly fds: Record<string, number> = {}
  readonly possibleCpus: number

  private constructor(readonly object: LoadedObject) {
    this.possibleCpus = numPossibleCpus()
  }

  /**
   * Load and attach the chain. On any failure everything created so far is released
   * before the error propagates: nothing stays loaded, filled or attached.
   */
  static load(opts: ChainOptions = {}): Chain {
    const steps = Chain.steps(opts)
    for (;;) {
      const step = steps.next()
      if (step.done) return step.value
    }
  }

  /**
   * The same load, one phase at a time: `before(phase)` runs (and may wait, e.g. to let a
   * signal be handled) before each phase. If it throws, what was created so far is released
   * and the error propagates, exactly as when a phase itself fails.
   */
  static async loadInPhases(opts: ChainOptions, before: (phase: LoadPhase) => Promise<void>): Promise<Chain> {
    const steps = Chain.steps(opts)
    let step = steps.next()
    while (!step.done) {
      try {
        await before(step.value)
      } catch (error) {
        steps.return(undefined as never) // runs the generator's cleanup
        throw error
      }

      step = steps.next()
    }

    return step.value
  }

  private static *steps(opts: ChainOptions): Generator<LoadPhase, Chain> {
    const path = opts.object ?? bundledObjectPath()
    requireBpfPrivileges()
    requireKernelBtf()
    yield 'open'
    const object = LoadedObject.open(path)
    const chain = new Chain(object)
    let ok = false
    try {
      object.require(CHAIN_PROGRAMS, CHAIN_MAPS)
      if (opts.ringbufSize !== undefined) {
        check(
          'bpf_map__set_max_entries',
          sys().libbpf.bpf_map__set_max_entries(object.map('EVENTS')!, opts.ringbufSize),
          'resizing EVENTS',
          {EINVAL: 'usage'},
        )
      }

      yield 'load'
      object.load()
      chain.collectFds()
      yield 'fill'
      chain.setSlot(SLOT.prog2, chain.fds.prog2)
      chain.setSlot(SLOT.prog3, chain.fds.prog3)
      yield 'attach'
      chain.attach()
      ok = true
      return chain
    } finally {
      // On an error, or when the caller stopped between phases (a signal).
      if (!ok) chain.close()
    }
  }

  private collectFds(): void {
    const {libbpf} = sys()
    for (const name of this.object.programNames())
      this.fds[name] = checkRet(
        'bpf_program__fd',
        libbpf.bpf_program__fd(this.object.program(name)!),
        `the fd of ${name}`,
      )
    for (const name of CHAIN_MAPS)
      this.fds[name] = checkRet('bpf_map__fd', libbpf.bpf_map__fd(this.object.map(name)!), `the fd of ${name}`)
  }

  /** Put a program (by fd) into a TAIL_CALL_MAP slot. */
  setSlot(slot: number, progFd: number): void {
    const key = Buffer.alloc(4)
    key.writeUInt32LE(slot)
    const value = Buffer.alloc(4)
    value.writeInt32LE(progFd)
    check(
      'bpf_map_update_elem',
      sys().libbpf.bpf_map_update_elem(this.fds.TAIL_CALL_MAP, key, value, BPF_UPDATE_FLAG.ANY),
      `filling TAIL_CALL_MAP[${slot}]`,
      {
        EINVAL: 'incompatible',
      },
    )
  }

  /** Empty a TAIL_CALL_MAP slot: the calling stage then falls through (a failed tail call). */
  clearSlot(slot: number): void {
    const key = Buffer.alloc(4)
    key.writeUInt32LE(slot)
    check(
      'bpf_map_delete_elem',
      sys().libbpf.bpf_map_delete_elem(this.fds.TAIL_CALL_MAP, key),
      `emptying TAIL_CALL_MAP[${slot}]`,
    )
  }

  private attach(): void {
    const {errno, libbpf} = sys()
    const link = libbpf.bpf_program__attach(this.object.program('prog1')!)
    if (!link) {
      const cause = new SysError('bpf_program__attach', errno(), `attaching prog1 to tp_btf/${TRACEPOINT} failed`)
      throw new TailcallsError('attach', cause.message, {
        cause,
        hint: 'run `tailcalls doctor` to check the tracepoint and BTF on this kernel',
      })
    }

    this.link = link
    this.fds.link = checkRet('bpf_link__fd', libbpf.bpf_link__fd(link))
  }

  /** Kernel ids of everything this chain created: what tests check is gone afterwards. */
  ids(): {programs: Record<string, number>; maps: Record<string, number>; link?: number} {
    const programs: Record<string, number> = {}
    const maps: Record<string, number> = {}
    for (const name of this.object.programNames()) programs[name] = progInfo(this.fds[name]).id
    for (const name of CHAIN_MAPS) maps[name] = mapInfo(this.fds[name]).id
    return {link: this.fds.link === undefined ? undefined : linkInfo(this.fds.link).id, maps, programs}
  }

  /** Sum of the per-CPU CHAIN_STATS counters. */
  stats(): ChainStats {
    return readChainStats(this.fds.CHAIN_STATS, this.possibleCpus)
  }

  /**
   * The chain is pinned (src/chain/pins.ts): the pins keep it alive after close(), which
   * then only drops this process's references.
   */
  markPinned(): void {
    this.pinned = true
  }

  /** Detach prog1: no new events. The maps and programs stay until close(). Idempotent. */
  detach(): void {
    // Not checked: libbpf frees the link whatever the detach answers, and there is no retry.
    if (this.link) sys().libbpf.bpf_link__destroy(this.link)
    this.link = null
  }

  /**
   * Detach prog1, then close every fd: the kernel frees the programs and maps. Idempotent.
   *
   * Then wait (bounded) until the prog array is really gone. Closing its last fd schedules
   * the kernel's deferred "clear" work; anyone who opens the map by id before that work ran
   * (`bpftool map list` right after we exit) can leak it for good on kernels up to at least
   * 6.18 (src/kernel/ids.ts says how; reproduced on this project's test kernels). Waiting here, watching with
   * get_next_id (which does not open the map), closes that window for our own exits.
   */
  close(): void {
    if (this.closed) return
    this.closed = true
    // Also after a failed load: libbpf may have created the prog array before a program failed.
    const progArrayMap = this.object.map('TAIL_CALL_MAP')
    const progArrayFd = progArrayMap ? sys().libbpf.bpf_map__fd(progArrayMap) : -1
    let progArrayId: number | undefined
    try {
      progArrayId = progArrayFd >= 0 ? mapInfo(progArrayFd).id : undefined
    } finally {
      // Released even when the id cannot be read (that error then propagates).
      this.detach()
      this.object.close()
    }

    this.detach()
    this.object.close()
    if (progArrayId !== undefined && !this.pinned) waitFreed([{id: progArrayId, kind: 'map'}])
  }
}
