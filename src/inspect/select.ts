/**
 * bpftool's object grammar, shared by every command that takes an object:
 *
 *   PROG := id N | name NAME | tag TAG | pinned PATH
 *   MAP  := id N | name NAME | pinned PATH
 *   LINK := id N | pinned PATH
 *
 * As in bpftool: the keyword may be abbreviated (`i 12`), ids are parsed like strtoul(…, 0)
 * (decimal, 0x hex, 0 octal), a program name is compared with its full (BTF) name, a map
 * name with the kernel's 15-char name, a tag as 16 hex digits. `id` and `pinned` select one
 * object; `name` and `tag` select every match (the output is then an array if more than one
 * matches). Unlike bpftool, no match is an error with a message (bpftool exits 255 silently).
 */
import {TailcallsError} from '../errors.js'
import {closeFd, objectIds, openById, openPinned, tryOpenById} from '../kernel/ids.js'
import {mapInfo, progFullName, progInfo} from '../kernel/info.js'
import {BPF_OBJ_NAME_LEN} from '../sys/uapi.js'

export type Selector =
  | {by: 'id'; id: number}
  | {by: 'name'; name: string}
  | {by: 'pinned'; path: string}
  | {by: 'tag'; tag: string}

export type SelectableKind = 'link' | 'map' | 'prog'

const KEYWORDS: Record<SelectableKind, readonly Selector['by'][]> = {
  link: ['id', 'pinned'],
  map: ['id', 'name', 'pinned'],
  prog: ['id', 'name', 'tag', 'pinned'],
}

/** `PROG := id N | name NAME | tag TAG | pinned PATH` for help texts and errors. */
export function grammar(kind: SelectableKind): string {
  const words: Record<Selector['by'], string> = {id: 'id N', name: 'name NAME', pinned: 'pinned PATH', tag: 'tag TAG'}
  return KEYWORDS[kind].map((k) => words[k]).join(' | ')
}

/** Longest names bpftool accepts: a full program name (BTF) and a map name (BPF_OBJ_NAME_LEN - 1). */
const MAX_PROG_NAME = 127
const MAX_MAP_NAME = BPF_OBJ_NAME_LEN - 1

/** strtoul(s, &end, 0) with *end == 0: decimal, 0x… hex, 0… octal; undefined if not a whole u32. */
export function parseId(text: string): number | undefined {
  const s = text.trim()
  let value: number
  if (/^0x[0-9a-f]+$/i.test(s)) value = Number.parseInt(s.slice(2), 16)
  else if (/^0[0-7]*$/.test(s)) value = Number.parseInt(s, 8)
  else if (/^[1-9]\d*$/.test(s)) value = Number(s)
  else return undefined
  return Number.isSafeInteger(value) && value <= 0xffff_ffff ? value : undefined
}

/**
 * Parse `[keyword, value]` into a selector. Throws a usage error (exit 2) naming what was
 * expected, e.g. "expected 'id', 'name' or 'pinned', got 'foo'".
 */
export function parseSelector(kind: SelectableKind, keyword: string | undefined, value: string | undefined): Selector {
  const allowed = KEYWORDS[kind]
  const expected = allowed.map((k) => `'${k}'`).join(', ').replace(/, ([^,]*)$/, ' or $1')
  if (!keyword) throw new TailcallsError('usage', `missing ${kind} selector`, {hint: `give ${grammar(kind)}`})
  // bpftool's is_prefix: the keyword may be any prefix of the full word.
  const by = allowed.find((k) => keyword.length > 0 && k.startsWith(keyword))
  if (!by) throw new TailcallsError('usage', `expected ${expected}, got '${keyword}'`, {hint: `give ${grammar(kind)}`})
  if (value === undefined || value === '') {
    throw new TailcallsError('usage', `'${by}' needs a value`, {hint: `give ${grammar(kind)}`})
  }

  switch (by) {
    case 'id': {
      const id = parseId(value)
      if (id === undefined) throw new TailcallsError('usage', `can't parse '${value}' as an id`, {hint: 'an id is a whole number, as printed by the list commands'})
      return {by, id}
    }

    case 'name': {
      const max = kind === 'prog' ? MAX_PROG_NAME : MAX_MAP_NAME
      if (value.length > max) {
        throw new TailcallsError('usage', `name '${value}' is longer than ${max} characters`, {
          hint: kind === 'map' ? 'the kernel keeps 15 characters of a map name: give those' : undefined,
        })
      }

      return {by, name: value}
    }

    case 'tag': {
      if (!/^[0-9a-f]{16}$/i.test(value)) {
        throw new TailcallsError('usage', `can't parse '${value}' as a tag`, {hint: 'a tag is 16 hex digits, as printed by `tailcalls prog list`'})
      }

      return {by, tag: value.toLowerCase()}
    }

    case 'pinned': {
      return {by, path: value}
    }
  }
}

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
      // a prog array by id is what can leak it in the kernel (kernel-and-anchors.md §4.6).
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
        throw new TailcallsError('notFound', `no ${what} with ${describeSelector(sel)}`, {hint: `list them with \`tailcalls ${kind} list\``})
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
