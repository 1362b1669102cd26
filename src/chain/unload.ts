/** `tailcalls unload`: remove a pinned chain (and what crashed pinnings left next to it). */
import {TailcallsError} from '../errors.js'
import {type PinReport, type PinnedObject, type StaleFolder, cleanStale, unpinChain} from './pins.js'
import {DEFAULT_PIN_PATH, resolvePinDir} from './pinpath.js'

export interface UnloadResult {
  path: string
  /** The chain's pins that were removed (null when only crashed leftovers were found). */
  unpinned: PinReport | null
  /** Unfinished pinnings of crashed runs that were removed. */
  cleaned: Array<{path: string; pid: number; objects: PinnedObject[]}>
  /** Objects still alive after unpinning: another process holds an fd to them. */
  still_held: PinnedObject[]
}

export function runUnload(pinPath = DEFAULT_PIN_PATH): UnloadResult {
  const target = resolvePinDir(pinPath)
  const cleaned: StaleFolder[] = cleanStale(target)
  const leftovers = cleaned.map((c) => ({objects: c.objects, path: c.path, pid: c.pid}))
  if (!target.exists) {
    if (cleaned.length > 0) return {cleaned: leftovers, path: target.path, still_held: [], unpinned: null}
    throw new TailcallsError('notFound', `no pinned chain at ${target.path}`, {
      hint: 'nothing to unload; `ls /sys/fs/bpf` shows what is pinned, `tailcalls load --pin` pins a chain',
    })
  }

  const {removed, stillHeld} = unpinChain(target)
  return {cleaned: leftovers, path: target.path, still_held: stillHeld, unpinned: removed}
}

const list = (objects: PinnedObject[]) => objects.map((o) => `${o.pin} (${o.kind} ${o.id})`).join(', ')

export function formatUnload(r: UnloadResult): string {
  const lines: string[] = []
  for (const c of r.cleaned)
    lines.push(
      `Removed an unfinished pinning left by a crashed run (pid ${c.pid}): ${c.path}: ${list(c.objects) || 'empty'}.`,
    )
  if (r.unpinned) {
    lines.push(`Unpinned the chain at ${r.path}: ${list(r.unpinned.objects) || 'no pins'}; removed the folder.`)
  } else {
    lines.push(`No complete chain was pinned at ${r.path}.`)
  }

  if (r.still_held.length > 0) {
    lines.push(
      `Still alive, held by another process: ${list(r.still_held)} (freed when it closes them; \`bpftool prog show\` names the holders).`,
    )
  } else {
    lines.push('The kernel freed every object.')
  }

  return lines.join('\n')
}
