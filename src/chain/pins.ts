/**
 * A chain pinned in bpffs, so it outlives the process that loaded it.
 *
 * Layout of a pin folder (default /sys/fs/bpf/tailcalls):
 *   prog1_link                                   the link attaching prog1 to sched_process_exec
 *   prog1 prog2 prog3 prog3_v2                   the programs (prog3_v2 so it can be swapped in)
 *   TAIL_CALL_MAP PER_CPU_MAP CHAIN_STATS EVENTS the maps
 *
 * Pinning is all-or-nothing as seen from the final path: everything is pinned into a
 * sibling folder `<name>-pinning-<pid>` that is renamed into place last (bpffs renames
 * folders with their pins). A crash mid-pinning leaves only that sibling, which `unload`
 * and the next `load --pin` recognise (its pid is gone) and remove. `--force` moves the old
 * chain aside to `<name>-replaced-<pid>` first and unpins it after the new one is in place.
 *
 * Unpinning a folder removes exactly the pins listed above, and refuses (before touching
 * anything) a folder that holds anything else.
 */
import {mkdirSync, readFileSync, readdirSync, renameSync, rmdirSync, statSync, unlinkSync} from 'node:fs'
import {join} from 'node:path'

import {TailcallsError, check} from '../errors.js'
import {type ObjectKind, closeFd, fdKind, waitFreed} from '../kernel/ids.js'
import {linkInfo, mapInfo, progInfo} from '../kernel/info.js'
import {linkTypeName, mapTypeName, progTypeName} from '../kernel/names.js'
import {isProcGone} from '../kernel/procfile.js'
import {SysError, errorCode, isVanished} from '../sys/error.js'
import {sys} from '../sys/ffi.js'
import {CHAIN_MAPS} from './chain.js'
import type {PinDir} from './pinpath.js'

export const LINK_PIN = 'prog1_link'

export interface PinnedObject {
  /** File name in the pin folder. */
  pin: string
  kind: ObjectKind
  id: number
  /** The kernel's name of the object (programs and maps), or the link's type. */
  name: string
  /** Program, map or link type, as bpftool names it. */
  type: string | number
}

export interface FolderContents {
  objects: PinnedObject[]
  /** Entries that are not part of a tailcalls chain, with why. */
  foreign: string[]
}

export interface PinReport {
  path: string
  objects: PinnedObject[]
}

/** Open the object pinned at `path` (bpf_obj_get); undefined when nothing is pinned there (ENOENT). */
function tryObjGet(path: string): number | undefined {
  const fd = sys().libbpf.bpf_obj_get(path)
  if (fd >= 0) return fd
  const error = new SysError('bpf_obj_get', -fd, `opening ${path}`)
  if (isVanished(error)) return undefined
  throw error
}

function describe(pin: string, fd: number): PinnedObject | string {
  const kind = fdKind(fd)
  if (kind === 'prog') {
    const info = progInfo(fd)
    return {id: info.id, kind, name: info.name ?? '', pin, type: progTypeName(info.type)}
  }

  if (kind === 'map') {
    const info = mapInfo(fd)
    return {id: info.id, kind, name: info.name, pin, type: mapTypeName(info.type)}
  }

  if (kind === 'link') {
    const info = linkInfo(fd)
    return {id: info.id, kind, name: info.tpName ?? '', pin, type: linkTypeName(info.type)}
  }

  return `${pin} is a pinned ${kind ?? 'object'} of a kind a chain does not pin`
}

/**
 * What a pin folder holds, object by object (ids read through bpf_obj_get; every fd is
 * closed again, so no reference is left). Pins with a chain's names and kinds are the
 * chain's; any other entry (a sub-folder, a symlink, a pin of another kind) is foreign.
 */
export function readPinFolder(dir: string): FolderContents {
  const objects: PinnedObject[] = []
  const foreign: string[] = []
  let names: string[]
  try {
    // Names as bytes first: one that is not UTF-8 cannot be one of ours, and as a string it
    // would be mangled (stat would miss it and the folder would look like a clean chain).
    const raw = readdirSync(dir, {encoding: 'buffer'})
    names = []
    for (const b of raw) {
      const name = b.toString('utf8')
      if (Buffer.from(name, 'utf8').equals(b)) names.push(name)
      else foreign.push(`${name} (a name that is not valid UTF-8)`)
    }

    names.sort()
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOENT')
      throw new TailcallsError('notFound', `no pinned chain at ${dir}`, {hint: 'pin one with `tailcalls load --pin`'})
    throw new TailcallsError('internal', `cannot read ${dir}: ${code}`)
  }

  for (const pin of names) {
    const path = join(dir, pin)
    const st = statSync(path, {throwIfNoEntry: false})
    if (!st) continue
    if (!st.isFile()) {
      foreign.push(`${pin} (a ${st.isDirectory() ? 'folder' : 'special file'})`)
      continue
    }

    let fd: number | undefined
    try {
      fd = tryObjGet(path)
    } catch (error) {
      // A pin we cannot open is not shown to be ours: reported as foreign, which refuses the
      // folder (nothing is removed), and the errno is in the message.
      if (!(error instanceof SysError)) throw error
      foreign.push(`${pin} (cannot open: ${error.code})`)
      continue
    }

    if (fd === undefined) continue // unpinned meanwhile

    try {
      const d = describe(pin, fd)
      if (typeof d === 'string') foreign.push(d)
      else if (!expectedPin(d))
        foreign.push(`${pin} (a pinned ${d.kind} ${d.name ? `'${d.name}' ` : ''}that a chain does not pin)`)
      else objects.push(d)
    } finally {
      closeFd(fd)
    }
  }

  const rank = (o: PinnedObject) => (o.kind === 'link' ? 0 : o.kind === 'prog' ? 1 : 2)
  objects.sort((a, b) => rank(a) - rank(b) || (a.pin < b.pin ? -1 : 1))
  return {foreign, objects}
}

/**
 * A pin name and kind a tailcalls folder uses: the bundled chain's maps and link, a generic
 * object's maps (named after the map, bpffs's forbidden dots as '_': `obj.bss` → `obj_bss`) and
 * links (`<program>_link`), or a program named after its pin. The kernel keeps 15 characters of
 * a name, so a pin must start with the object's kernel name.
 */
function expectedPin(o: PinnedObject): boolean {
  if (o.kind === 'link') return o.pin === LINK_PIN || /^[A-Za-z0-9_]+_link$/.test(o.pin)
  if (o.kind === 'map')
    return (
      ((CHAIN_MAPS as readonly string[]).includes(o.pin) && o.pin.startsWith(o.name)) ||
      (/^[A-Za-z0-9_]+$/.test(o.pin) && o.name !== '' && o.pin.startsWith(pinName(o.name)))
    )
  if (o.kind === 'prog') return /^[A-Za-z0-9_]+$/.test(o.pin) && o.pin.startsWith(o.name)
  return false
}

/** The pin name of an object name: bpffs refuses dots in names (libbpf's internal maps have them). */
export function pinName(name: string): string {
  return name.replaceAll('.', '_')
}

/** Pin every object of a loaded chain into `dir` (which must exist and be empty). */
function chainOrder(fds: Record<string, number>, programs: string[]): Array<[string, number]> {
  return [
    ...CHAIN_MAPS.map((m): [string, number] => [m, fds[m]]),
    ...programs.map((p): [string, number] => [p, fds[p]]),
    // The link last: until it is pinned, the chain still dies with this process.
    [LINK_PIN, fds.link],
  ]
}

/** Pin each [name, fd] into `dir`, in order. */
function pinAll(order: Array<[string, number]>, dir: string): void {
  const {libbpf} = sys()
  for (const [pin, fd] of order) {
    if (fd === undefined || fd < 0) throw new TailcallsError('internal', `the chain has no fd for ${pin}`)
    check('bpf_obj_pin', libbpf.bpf_obj_pin(fd, join(dir, pin)), `pinning ${pin} at ${join(dir, pin)}`)
    crashPoint(pin)
  }
}

/**
 * Fault injection for the crash-recovery test: TAILCALLS_TEST_CRASH_AFTER_PIN=<pin name>
 * SIGKILLs this process right after that pin, mid-pinning, as a crash or `kill -9` would;
 * `moved-aside`: with --force, right after the old chain was moved aside.
 */
function crashPoint(pin: string): void {
  if (process.env.TAILCALLS_TEST_CRASH_AFTER_PIN === pin) process.kill(process.pid, 'SIGKILL')
}

/** Remove the pins of a chain folder (link first: no new events), then the folder. */
function unpinObjects(dir: string, objects: PinnedObject[]): void {
  const rank = (o: PinnedObject) => (o.kind === 'link' ? 0 : o.kind === 'prog' ? 1 : 2)
  for (const o of [...objects].sort((a, b) => rank(a) - rank(b))) {
    try {
      unlinkSync(join(dir, o.pin))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }

  rmdirSync(dir)
}

// ---------------------------------------------------------------------------------------------
// unfinished pinnings

const TEMP = /^(.+)-(pinning|replaced)-(\d+)$/

export interface StaleFolder {
  path: string
  pid: number
  stage: 'pinning' | 'replaced'
  objects: PinnedObject[]
}

/** Whether `pid` is a live tailcalls process (a reused pid running something else is not). */
function isTailcallsProcess(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return cmdline.includes('tailcalls') || cmdline.includes('run.js')
  } catch (error) {
    if (isProcGone(error)) return false // exited
    throw error
  }
}

/**
 * Remove what a crashed `load --pin` / `--force` left next to `target`: sibling folders
 * `<name>-pinning-<pid>` / `<name>-replaced-<pid>` whose process is gone. Folders of a live
 * tailcalls process are left alone (it is pinning right now). Returns what was removed.
 */
export function cleanStale(target: PinDir): StaleFolder[] {
  const removed: StaleFolder[] = []
  let names: string[]
  try {
    names = readdirSync(target.parent)
  } catch (error) {
    if (isVanished(error)) return removed // no parent folder: nothing was left there
    throw error
  }

  for (const entry of names) {
    const m = TEMP.exec(entry)
    if (!m || m[1] !== target.name) continue
    const pid = Number(m[3])
    if (isTailcallsProcess(pid)) continue
    const path = join(target.parent, entry)
    const contents = readPinFolder(path)
    if (contents.foreign.length > 0) continue // not ours to delete
    unpinObjects(path, contents.objects)
    waitFreed(contents.objects)
    removed.push({objects: contents.objects, path, pid, stage: m[2] as StaleFolder['stage']})
  }

  return removed
}

// ---------------------------------------------------------------------------------------------
// pin, unpin

/**
 * Refuse (before anything is loaded) a target that holds a chain, unless `force`, and any
 * target that holds something else, even with `force`.
 */
export function checkPinTarget(target: PinDir, force: boolean): FolderContents | undefined {
  if (!target.exists) return undefined
  const contents = readPinFolder(target.path)
  if (contents.foreign.length > 0) {
    throw new TailcallsError(
      'conflict',
      `${target.path} holds objects that are not a tailcalls chain: ${contents.foreign.join(', ')}`,
      {
        hint: 'choose another --pin-path; tailcalls never removes what it did not pin',
      },
    )
  }

  if (contents.objects.length > 0 && !force) {
    const ids = contents.objects.map((o) => `${o.pin} ${o.kind} ${o.id}`).join(', ')
    throw new TailcallsError('conflict', `a pinned chain already exists at ${target.path} (${ids})`, {
      hint: `remove it with \`tailcalls unload --pin-path ${target.path}\`, or replace it with --force`,
    })
  }

  return contents
}

/**
 * Pin a loaded chain's fds at `target` atomically (see the file comment). With `force`, an
 * existing chain there is replaced and unpinned. Returns the pinned objects and, when one
 * was replaced, what was removed.
 */
export function pinChain(
  fds: Record<string, number>,
  programs: string[],
  target: PinDir,
  force: boolean,
): {pinned: PinReport; replaced?: PinReport} {
  return pinFolder(chainOrder(fds, programs), target, force)
}

/**
 * Pin [name, fd] pairs (links last) at `target` atomically, with the same rules as a chain:
 * what a generic object's loader pins (src/load/).
 */
export function pinFolder(
  order: Array<[string, number]>,
  target: PinDir,
  force: boolean,
): {pinned: PinReport; replaced?: PinReport} {
  const temp = join(target.parent, `${target.name}-pinning-${process.pid}`)
  mkdirSync(temp)
  try {
    pinAll(order, temp)
  } catch (error) {
    const partial = readPinFolder(temp)
    unpinObjects(temp, partial.objects)
    throw error
  }

  const pinnedObjects = readPinFolder(temp).objects
  let replaced: PinReport | undefined
  let existing: FolderContents | undefined
  try {
    // Re-check right before the rename: another process may have pinned meanwhile.
    existing = checkPinTarget(
      {...target, exists: statSync(target.path, {throwIfNoEntry: false})?.isDirectory() ?? false},
      force,
    )
  } catch (error) {
    // Refused: take this run's pins back out (they would otherwise outlive it as a stale folder).
    unpinObjects(temp, pinnedObjects)
    throw error
  }

  let aside: string | undefined
  try {
    if (existing && existing.objects.length > 0) {
      aside = join(target.parent, `${target.name}-replaced-${process.pid}`)
      renameSync(target.path, aside)
      replaced = {objects: existing.objects, path: target.path}
      crashPoint('moved-aside')
    }

    renameSync(temp, target.path)
  } catch (error) {
    if (aside) {
      try {
        renameSync(aside, target.path)
      } catch (restoreError) {
        // A failed rename back leaves <name>-replaced-<pid>, which cleanStale removes later;
        // the first error is the one to report. A bug (no errno) is not hidden.
        if (errorCode(restoreError) === undefined) throw restoreError
      }
    }

    unpinObjects(temp, pinnedObjects)
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new TailcallsError(
        'conflict',
        `another chain was pinned at ${target.path} while this one was being pinned`,
        {
          hint: 'run `tailcalls unload` for it first, or pass --force',
        },
      )
    }

    throw error
  }

  if (aside && replaced) {
    unpinObjects(aside, replaced.objects)
    waitFreed(replaced.objects)
  }

  return {pinned: {objects: pinnedObjects, path: target.path}, replaced}
}

/**
 * Remove the chain pinned at `target`: refuse a folder with foreign entries (nothing is
 * touched), unpin every pin (link first), remove the folder, and wait until the kernel has
 * freed what nobody else holds. Returns what was unpinned and what is still alive (held by
 * another process's fds).
 */
export function unpinChain(target: PinDir): {removed: PinReport; stillHeld: PinnedObject[]} {
  const contents = readPinFolder(target.path)
  if (contents.foreign.length > 0) {
    throw new TailcallsError(
      'conflict',
      `${target.path} holds objects that are not a tailcalls chain: ${contents.foreign.join(', ')}`,
      {
        hint: 'nothing was removed; remove those entries yourself if they are yours, then run unload again',
      },
    )
  }

  unpinObjects(target.path, contents.objects)
  const stillHeld = waitFreed(contents.objects)
  return {removed: {objects: contents.objects, path: target.path}, stillHeld}
}

// ---------------------------------------------------------------------------------------------
// opening a pinned chain

/** Fds of a pinned chain's objects, opened from their pins; close() releases them. */
export class PinnedChain {
  private closed = false

  private constructor(
    readonly path: string,
    readonly fds: Record<string, number>,
    readonly objects: PinnedObject[],
  ) {}

  /** Open the pins named in `want` (all must be there, with the right kind). */
  static open(target: PinDir, want: readonly string[]): PinnedChain {
    if (!target.exists) {
      throw new TailcallsError('notFound', `no pinned chain at ${target.path}`, {
        hint: 'pin one with `tailcalls load --pin`, or give its folder with --pin-path',
      })
    }

    const fds: Record<string, number> = {}
    const objects: PinnedObject[] = []
    try {
      for (const pin of want) {
        const path = join(target.path, pin)
        const fd = tryObjGet(path)
        if (fd === undefined) {
          throw new TailcallsError(
            'notFound',
            `${target.path} has no ${pin} pin, so it is not a complete tailcalls chain`,
            {
              hint: `pin a chain there with \`tailcalls load --pin --force --pin-path ${target.path}\``,
            },
          )
        }

        fds[pin] = fd
        const d = describe(pin, fd)
        if (typeof d === 'string' || !expectedPin(d)) {
          throw new TailcallsError('invalidObject', `${path} is not the ${pin} of a tailcalls chain`, {
            hint: 'give the folder a chain was pinned in',
          })
        }

        objects.push(d)
      }
    } catch (error) {
      for (const fd of Object.values(fds)) closeFd(fd)
      throw error
    }

    return new PinnedChain(target.path, fds, objects)
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    for (const fd of Object.values(this.fds)) closeFd(fd)
  }
}
