/**
 * What `prog|map|link list|show` run once their arguments are parsed: the oclif commands
 * (commands/{prog,map,link}/) and the direct path (src/cli/direct.ts) both call this, so the
 * two paths select, read and print through the same code. Free of @oclif/core (the flag and
 * argument declarations stay in src/inspect/args.ts): the direct path's bundle holds no oclif.
 */
import {parseSelector} from '../cli/selector.js'
import type {SelectableKind, Selector} from '../kernel/select.js'

export interface InspectArgs {
  selector?: string
  value?: string
}

export interface InspectFlags {
  bpffs: boolean
  pids: boolean
}

/** undefined when no selector was given (then the command lists everything, as bpftool). */
export function selectorFrom(kind: SelectableKind, args: InspectArgs): Selector | undefined {
  if (args.selector === undefined) return undefined
  return parseSelector(kind, args.selector, args.value)
}

/** List or show objects of `kind` (a list when `args` has no selector). */
export async function runInspectCommand(
  kind: SelectableKind,
  args: InspectArgs,
  flags: InspectFlags,
  json: boolean,
): Promise<void> {
  const {runInspect} = await import('./run.js')
  const specs = await import('./specs.js')
  const opts = {bpffs: flags.bpffs, json, noPids: !flags.pids, selector: selectorFrom(kind, args)}
  if (kind === 'prog') await runInspect(specs.progSpec, opts)
  else if (kind === 'map') await runInspect(specs.mapSpec, opts)
  else await runInspect(specs.linkSpec, opts)
}
