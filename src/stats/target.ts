/**
 * Which chain `tailcalls stats` reads, and its fds:
 *
 *   --pid N       the chain of a running `tailcalls load` (or any process): the CHAIN_STATS
 *                 map among the maps that process holds (read from /proc/N/fdinfo)
 *   --pin-path D  the chain pinned in D
 *   (neither)     the chain pinned at /sys/fs/bpf/tailcalls if there is one; otherwise the
 *                 one running chain held by a process (an error names them if several)
 *
 * A chain's programs are the programs whose map ids include its CHAIN_STATS map (the pinned
 * ones, for a pinned chain). CHAIN_STATS is a per-CPU array, safe to open by id; prog arrays
 * are never opened by id here (that can leak them: see src/kernel/ids.ts): fdinfo tells their type first.
 */
import {readFileSync, readdirSync, readlinkSync} from 'node:fs'

import {readChainStats} from '../chain/chain.js'
import {PinnedChain, readPinFolder} from '../chain/pins.js'
import {DEFAULT_PIN_PATH, type PinDir, resolvePinDir} from '../chain/pinpath.js'
import {TailcallsError, isKind} from '../errors.js'
import {isProcGone} from '../kernel/procfile.js'
import {isErrno} from '../sys/error.js'
import {closeFd, eachObject, kindOfLink, tryOpenById} from '../kernel/ids.js'
import {mapInfo, progInfo, progMapIds} from '../kernel/info.js'
import {CHAIN_STATS, STAGE_PROGS} from '../sys/layouts.js'
import {BPF_MAP_TYPE} from '../sys/uapi.js'
import type {ChainStats} from '../chain/chain.js'

export interface ChainProgram {
  name: string
  id: number
  fd: number
}

export interface StatsTarget {
  source: 'pinned' | 'pid'
  /** The pin folder (pinned) or the holding pid(s). */
  path?: string
  pids?: number[]
  /** null for a generic object's pin folder (`load FILE.o --pin`): no CHAIN_STATS, kernel counters only. */
  chainStatsId: number | null
  programs: ChainProgram[]
  chainStats(): ChainStats
  close(): void
}

interface FdinfoMap {
  mapId: number
  mapType: number
  valueSize: number
  maxEntries: number
}

function parseFdinfo(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':')
    if (colon > 0) out.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }

  return out
}

/**
 * A /proc failure that leaves a process out of the search: it exited or closed the fd
 * (isProcGone), or its fds are not ours to read (EACCES: another user's process when we run
 * with CAP_BPF but not as root), which cannot be a chain we could read either.
 */
function skippable(error: unknown): boolean {
  return isProcGone(error) || isErrno(error, 'EACCES')
}

/** The BPF maps process `pid` holds, from /proc (nothing is opened). */
function mapsHeldBy(pid: number): FdinfoMap[] {
  let fds: string[]
  try {
    fds = readdirSync(`/proc/${pid}/fd`)
  } catch (error) {
    if (skippable(error)) return []
    throw error
  }

  const out: FdinfoMap[] = []
  for (const fd of fds) {
    try {
      if (kindOfLink(readlinkSync(`/proc/${pid}/fd/${fd}`)) !== 'map') continue
      const fi = parseFdinfo(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))
      out.push({
        mapId: Number(fi.get('map_id')),
        mapType: Number(fi.get('map_type')),
        maxEntries: Number(fi.get('max_entries')),
        valueSize: Number(fi.get('value_size')),
      })
    } catch (error) {
      if (!skippable(error)) throw error // else: the fd closed or the process exited meanwhile
    }
  }

  return out
}

/** Looks like CHAIN_STATS by its shape (from fdinfo, without opening it). */
const chainStatsShape = (m: FdinfoMap) =>
  m.mapType === BPF_MAP_TYPE.PERCPU_ARRAY && m.valueSize === CHAIN_STATS.size && m.maxEntries === 1

/** Open a map by id if it is named CHAIN_STATS; its fd, or undefined. */
function openChainStats(id: number): number | undefined {
  const fd = tryOpenById('map', id)
  if (fd === undefined) return undefined
  if (mapInfo(fd).name === 'CHAIN_STATS') return fd
  closeFd(fd)
  return undefined
}

/** Programs that use map `mapId`, in the chain's stage order (others after, by id). */
function programsUsing(mapId: number): ChainProgram[] {
  const found: ChainProgram[] = []
  for (const {fd, id} of eachObject('prog')) {
    const info = progInfo(fd)
    if (!progMapIds(fd, info.nrMapIds).includes(mapId)) continue
    // eachObject closes its fd when we move on: keep a duplicate of our own.
    const own = tryOpenById('prog', id)
    if (own !== undefined) found.push({fd: own, id, name: info.name ?? ''})
  }

  const rank = (p: ChainProgram) => {
    const i = (STAGE_PROGS as readonly string[]).indexOf(p.name)
    return i === -1 ? STAGE_PROGS.length : i
  }

  return found.sort((a, b) => rank(a) - rank(b) || a.id - b.id)
}

function byFd(
  source: StatsTarget['source'],
  statsFd: number,
  chainStatsId: number,
  programs: ChainProgram[],
  extra: Partial<StatsTarget>,
): StatsTarget {
  let closed = false
  return {
    chainStats: () => readChainStats(statsFd),
    chainStatsId,
    close() {
      if (closed) return
      closed = true
      closeFd(statsFd)
      for (const p of programs) closeFd(p.fd)
    },
    programs,
    source,
    ...extra,
  }
}

export function pidTarget(pid: number): StatsTarget {
  if (!Number.isInteger(pid) || pid <= 0)
    throw new TailcallsError('usage', `invalid pid '${pid}'`, {hint: 'give the pid of a running `tailcalls load`'})
  try {
    readdirSync(`/proc/${pid}/fd`)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new TailcallsError('notFound', `no process with pid ${pid}`, {
        hint: 'give the pid of a running `tailcalls load` (pgrep -f "tailcalls load")',
      })
    throw new TailcallsError('permission', `cannot read the fds of pid ${pid}: ${code}`, {hint: 'run as root'})
  }

  for (const m of mapsHeldBy(pid).filter(chainStatsShape)) {
    const fd = openChainStats(m.mapId)
    if (fd === undefined) continue
    return byFd('pid', fd, m.mapId, programsUsing(m.mapId), {pids: [pid]})
  }

  throw new TailcallsError('notFound', `process ${pid} holds no tailcalls chain (no CHAIN_STATS map among its fds)`, {
    hint: 'give the pid of a running `tailcalls load`, or --pin-path for a pinned chain',
  })
}

export function pinnedTarget(pinPath: string): StatsTarget {
  const target = resolvePinDir(pinPath)
  if (!target.exists) {
    throw new TailcallsError('notFound', `no pinned chain at ${target.path}`, {
      hint: 'pin one with `tailcalls load --pin`, or give --pid of a running `tailcalls load`',
    })
  }

  const contents = readPinFolder(target.path)
  const progPins = contents.objects.filter((o) => o.kind === 'prog').map((o) => o.pin)
  if (progPins.length > 0 && !contents.objects.some((o) => o.pin === 'CHAIN_STATS'))
    return genericTarget(target, progPins)
  const chain = PinnedChain.open(target, ['CHAIN_STATS', ...progPins])
  const statsObj = chain.objects.find((o) => o.pin === 'CHAIN_STATS')!
  const programs = chain.objects
    .filter((o) => o.kind === 'prog')
    .map((o) => ({fd: chain.fds[o.pin], id: o.id, name: o.name}))
  const rank = (p: ChainProgram) => {
    const i = (STAGE_PROGS as readonly string[]).indexOf(p.name)
    return i === -1 ? STAGE_PROGS.length : i
  }

  programs.sort((a, b) => rank(a) - rank(b) || a.id - b.id)
  return {
    chainStats: () => readChainStats(chain.fds.CHAIN_STATS),
    chainStatsId: statsObj.id,
    close: () => chain.close(),
    path: target.path,
    programs,
    source: 'pinned',
  }
}

/**
 * A generic object pinned by `load FILE.o --pin`: its programs' kernel counters (run_cnt,
 * run_time_ns) are all there is; the chain counters (per stage, failed tail calls, drops) are
 * the bundled chain's own map and stay empty.
 */
function genericTarget(target: PinDir, progPins: string[]): StatsTarget {
  const chain = PinnedChain.open(target, progPins)
  const programs = chain.objects.map((o) => ({fd: chain.fds[o.pin], id: o.id, name: o.pin})).sort((a, b) => a.id - b.id)
  return {
    chainStats: () => ({ringbufDrops: 0, runs: {}, tailCallFailed: []}),
    chainStatsId: null,
    close: () => chain.close(),
    path: target.path,
    programs,
    source: 'pinned',
  }
}

/** Every process holding a CHAIN_STATS map: map id → pids. */
function runningChains(): Map<number, number[]> {
  const out = new Map<number, number[]>()
  const pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n))

  for (const p of pids) {
    const pid = Number(p)
    if (pid === process.pid) continue
    for (const m of mapsHeldBy(pid).filter(chainStatsShape)) {
      const list = out.get(m.mapId) ?? []
      if (!list.includes(pid)) list.push(pid)
      out.set(m.mapId, list)
    }
  }

  return out
}

export interface TargetOptions {
  pid?: number
  pinPath?: string
}

export function resolveTarget(opts: TargetOptions): StatsTarget {
  if (opts.pid !== undefined && opts.pinPath !== undefined) {
    throw new TailcallsError('usage', '--pid and --pin-path name two different chains', {hint: 'give one of them'})
  }

  if (opts.pid !== undefined) return pidTarget(opts.pid)
  if (opts.pinPath !== undefined) return pinnedTarget(opts.pinPath)
  let pinned
  try {
    pinned = resolvePinDir(DEFAULT_PIN_PATH)
  } catch (error) {
    // /sys/fs/bpf missing (notFound) or not a bpffs (usage): then no chain is pinned there.
    if (!isKind(error, 'notFound', 'usage')) throw error
    pinned = undefined
  }

  if (pinned?.exists) return pinnedTarget(DEFAULT_PIN_PATH)
  const candidates: Array<{fd: number; id: number; pids: number[]}> = []
  try {
    for (const [id, pids] of runningChains()) {
      const fd = openChainStats(id)
      if (fd !== undefined) candidates.push({fd, id, pids})
    }

    if (candidates.length === 1) {
      const [c] = candidates
      candidates.length = 0
      return byFd('pid', c.fd, c.id, programsUsing(c.id), {pids: c.pids})
    }
  } finally {
    for (const c of candidates) closeFd(c.fd)
  }

  const running = [...runningChains().values()].map((pids) => pids.join('/'))
  if (running.length > 1) {
    throw new TailcallsError(
      'usage',
      `${running.length} chains are running (held by pids ${running.join(', ')}) and none is pinned at ${DEFAULT_PIN_PATH}`,
      {
        hint: 'choose one with --pid N or --pin-path DIR',
      },
    )
  }

  throw new TailcallsError(
    'notFound',
    `no chain to read: none is pinned at ${DEFAULT_PIN_PATH} and no process holds one`,
    {
      hint: 'start one with `tailcalls load` (then --pid) or `tailcalls load --pin`',
    },
  )
}
