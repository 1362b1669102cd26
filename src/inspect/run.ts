/**
 * The one flow behind every list/show command: build the context (pids, pins), select,
 * then print — a streamed JSON array, one JSON object, or a table.
 *
 * Output shape, as bpftool: `list` (and `show` without a selector) → array; `show id|pinned`
 * → one object; `show name|tag` → one object, or an array when several objects match.
 */
import type {ObjectKind} from '../kernel/ids.js'
import {type SelectableKind, type Selector, withSelection} from '../kernel/select.js'
import {writeJson, writeJsonArray, writeOut} from '../render/json.js'
import {renderTable} from '../render/table.js'
import {type ShowContext, type ShowOptions, showContext} from './context.js'
import {oneShotListing} from './one-shot.js'
import {type View, keyValueRows} from './views.js'

export interface InspectSpec<T> {
  kind: ObjectKind & SelectableKind
  list(ctx: ShowContext): Iterable<T>
  one(fd: number, ctx: ShowContext): T
  view: View<T>
  /** Printed under the table when the list is empty. */
  empty: string
  /** A line under a single object's table: what this kernel does not report for it, say. */
  footnote?(fd: number): string | undefined
}

export interface InspectOptions extends ShowOptions {
  json: boolean
  selector?: Selector
}

export async function runInspect<T extends Record<string, unknown>>(
  spec: InspectSpec<T>,
  opts: InspectOptions,
): Promise<void> {
  const ctx = showContext(spec.kind, opts)
  if (!opts.selector) {
    if (opts.json) {
      await writeJsonArray(oneShotListing(spec.list(ctx)))
      return
    }

    const rows: string[][] = []
    for (const o of oneShotListing(spec.list(ctx))) rows.push(spec.view.row(o))
    await writeOut(rows.length === 0 ? `${spec.empty}\n` : renderTable(spec.view.columns, rows))
    return
  }

  const objects = withSelection(spec.kind, opts.selector, (s) => ({
    many: s.many,
    note: opts.json || s.many ? undefined : spec.footnote?.(s.fds[0]),
    objects: s.fds.map((fd) => spec.one(fd, ctx)),
  }))
  if (opts.json) {
    await (objects.many ? writeJsonArray(objects.objects) : writeJson(objects.objects[0]))
    return
  }

  if (objects.many) {
    await writeOut(
      renderTable(
        spec.view.columns,
        objects.objects.map((o) => spec.view.row(o)),
      ),
    )
    return
  }

  await writeOut(
    renderTable([{header: 'KEY'}, {header: 'VALUE'}], keyValueRows(objects.objects[0])) +
      (objects.note ? `${objects.note}\n` : ''),
  )
}
