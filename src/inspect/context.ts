/**
 * What every show/list shares: the pid table (`pids`, an extra on Debian's bpftool) and,
 * with `--bpffs`, the pin table (`pinned`), both built once per command before the objects
 * are opened, as bpftool does (so we never report ourselves).
 */
import type {ObjectKind} from '../kernel/ids.js'
import type {MapCache} from './metadata.js'
import {type PidTable, buildPidTable} from '../kernel/pids.js'
import {type PinTable, buildPinTable} from '../kernel/pinned.js'

export interface ShowContext {
  /** Maps already looked at for program metadata (each map id is opened once per command). */
  maps?: MapCache
  pids?: PidTable
  /**
   * bpftool prints `pinned` only with -f and only when at least one object of the kind is
   * pinned; it is then present on every object ([] when unpinned). undefined = no key.
   */
  pins?: PinTable
}

export interface ShowOptions {
  /** bpftool -f/--bpffs: add `pinned` (walks every bpffs mount). */
  bpffs?: boolean
  /** Leave out `pids` (saves the /proc walk). */
  noPids?: boolean
}

export function showContext(kind: ObjectKind, opts: ShowOptions = {}): ShowContext {
  const pins = opts.bpffs ? buildPinTable(kind) : undefined
  return {
    maps: new Map(),
    pids: opts.noPids ? undefined : buildPidTable(kind),
    pins: pins && pins.size > 0 ? pins : undefined,
  }
}

/** Append `pinned` and `pids` to a JSON object, under bpftool's conditions. */
export function addRefs(obj: Record<string, unknown>, id: number, ctx: ShowContext): void {
  if (ctx.pins) obj.pinned = ctx.pins.get(id) ?? []
  const refs = ctx.pids?.get(id)
  if (refs && refs.length > 0) obj.pids = refs.map(({pid, comm}) => ({pid, comm}))
}
