/**
 * bpftool's object selectors, resolved to open fds:
 *
 *   PROG := id N | name NAME | tag TAG | pinned PATH
 *   MAP  := id N | name NAME | pinned PATH
 *   LINK := id N | pinned PATH
 *
 * The grammar has two halves with two homes. Reading it from the command line (keywords,
 * abbreviations, id syntax, usage errors) is argv parsing: src/cli/selector.ts. What a
 * selector designates is a question for the kernel, answered here for every feature that
 * takes an object (inspect, graph, slots): a program name is compared with its full (BTF)
 * name, a map name with the kernel's 15-char name, a tag as 16 hex digits. `id` and `pinned`
 * select one object; `name` and `tag` select every match (the output is then an array if more
 * than one matches). Unlike bpftool, no match is an error with a message (bpftool exits 255
 * silently).
 */
import {TailcallsError} from '../errors.js'
import {closeFd, objectIds, openById, openPinned, tryOpenById} from './ids.js'
import {mapInfo, progFullName, progInfo} from './info.js'

export type Selector =
  {by: 'id'; id: number} | {by: 'name'; name: string} | {by: 'pinned'; path: string} | {by: 'tag'; tag: string}

export type SelectableKind = 'link' | 'map' | 'prog'

/** "id 12", "name prog1", … for messages. */
export function describeSelector(sel: Selector): string {
  switch (sel.by) {
    case 'id': {
      return `id ${sel.id}`
    }

    case 'name': {
      return `name ${sel.name}`
    }

    case 'pinned': {
      return `pinned ${sel.path}`
    }

    case 'tag': {
      return `tag ${sel.tag}`
    }
  }
}

export interface Selection {
  /** Open fds, in id order; the caller owns them (see withSelection). */
  fds: number[]
  /**
   * bpftool's output shape: a name/tag selection that matched several objects is printed
   * as an array; everything else as a single object.
   */
  many: boolean
}

/**
 * Open the objects a selector designates. Throws notFound when nothing matches.
 * Every fd opened but not returned is closed, also on errors.
 */
export function select(kind: SelectableKind, sel: Selector): Selection {
  switch (sel.by) {
    case 'id': {
      return {fds: [openById(kind, sel.id)], many: false}
    }

    case 'pinned': {
      return {fds: [openPinned(sel.path, kind)], many: false}
    }

    case 'name':
    case 'tag': {
      // Keep the fds of the matches open from the scan itself (as bpftool does): re-opening
      // a prog array by id is what can leak it in the kernel (see src/kernel/ids.ts).
      const fds: number[] = []
      try {
        for (const id of objectIds(kind)) {
          const fd = tryOpenById(kind, id)
          if (fd === undefined) continue
          let keep = false
          try {
            keep = matches(kind, fd, sel)
          } finally {
            if (keep) fds.push(fd)
            else closeFd(fd)
          }
        }
      } catch (error) {
        for (const fd of fds) closeFd(fd)
        throw error
      }

      if (fds.length === 0) {
        const what = kind === 'prog' ? 'program' : kind
        throw new TailcallsError('notFound', `no ${what} with ${describeSelector(sel)}`, {
          hint: `list them with \`tailcalls ${kind} list\``,
        })
      }

      return {fds, many: fds.length > 1}
    }
  }
}

function matches(kind: SelectableKind, fd: number, sel: Selector): boolean {
  if (kind === 'prog') {
    const info = progInfo(fd)
    if (sel.by === 'tag') return info.tag === sel.tag
    if (sel.by === 'name') return progFullName(fd, info) === sel.name
    return false
  }

  if (kind === 'map' && sel.by === 'name') return mapInfo(fd).name === sel.name
  return false
}

/** Run `fn` on a selection and close all its fds afterwards. */
export function withSelection<T>(kind: SelectableKind, sel: Selector, fn: (s: Selection) => T): T {
  const s = select(kind, sel)
  try {
    return fn(s)
  } finally {
    for (const fd of s.fds) closeFd(fd)
  }
}
