/**
 * What every show/list shares: the pid table (`pids`, an extra on Debian's bpftool) and,
 * with `--bpffs`, the pin table (`pinned`), each built once per command. The pin table is built
 * before the objects are opened, as bpftool does. The pid table is built when the first object
 * asks for it, so a command with nothing to print never loads the pids iterator; the fds we hold
 * by then are not reported, since the table leaves our own process out.
 */
import type {ObjectKind} from '../kernel/ids.js'
import type {MapCache} from './metadata.js'
import {type PidTable, buildPidTable, pidsMethod} from '../kernel/pids.js'
import {type PinTable, buildPinTable} from '../kernel/pinned.js'

export interface ShowContext {
  /** Maps already looked at for program metadata (each map id is opened once per command). */
  maps?: MapCache
  /** Read on first use by showContext's context (a getter): see the header. */
  readonly pids?: PidTable
  /**
   * bpftool prints `pinned` only with -f and only when at least one object of the kind is
   * pinned; it is then present on every object ([] when unpinned). undefined = no key.
   */
  pins?: PinTable
}

export interface ShowOptions {
  /** bpftool -f/--bpffs: add `pinned` (walks every bpffs mount). */
  bpffs?: boolean
  /** Leave out `pids` (saves loading the pids iterator, or the /proc walk). */
  noPids?: boolean
}

export function showContext(kind: ObjectKind, opts: ShowOptions = {}): ShowContext {
  if (!opts.noPids) pidsMethod()
  const pins = opts.bpffs ? buildPinTable(kind) : undefined
  let pids: PidTable | undefined
  return {
    maps: new Map(),
    get pids() {
      if (opts.noPids) return undefined
      pids ??= buildPidTable(kind)
      return pids
    },
    pins: pins && pins.size > 0 ? pins : undefined,
  }
}

/** Append `pinned` and `pids` to a JSON object, under bpftool's conditions. */
export function addRefs(obj: Record<string, unknown>, id: number, ctx: ShowContext): void {
  if (ctx.pins) obj.pinned = ctx.pins.get(id) ?? []
  const refs = ctx.pids?.get(id)
  if (refs && refs.length > 0) obj.pids = refs.map(({pid, comm}) => ({pid, comm}))
}
