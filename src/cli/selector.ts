/**
 * The object grammar on the command line: `[keyword, value]` from argv into a Selector, which
 * src/kernel/select.ts resolves to fds. Used by the commands and by the features' own
 * argument parsers (src/inspect/args.ts, src/slots/args.ts); it depends on no feature.
 *
 *   PROG := id N | name NAME | tag TAG | pinned PATH
 *   MAP  := id N | name NAME | pinned PATH
 *   LINK := id N | pinned PATH
 *
 * As in bpftool: the keyword may be abbreviated (`i 12`), ids are parsed like strtoul(…, 0)
 * (decimal, 0x hex, 0 octal). Names longer than the kernel keeps and malformed tags are usage
 * errors (exit 2) here, before anything is opened.
 */
import {TailcallsError} from '../errors.js'
import type {SelectableKind, Selector} from '../kernel/select.js'
import {BPF_OBJ_NAME_LEN} from '../sys/uapi.js'

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
  const expected = allowed
    .map((k) => `'${k}'`)
    .join(', ')
    .replace(/, ([^,]*)$/, ' or $1')
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
      if (id === undefined)
        throw new TailcallsError('usage', `can't parse '${value}' as an id`, {
          hint: 'an id is a whole number, as printed by the list commands',
        })
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
        throw new TailcallsError('usage', `can't parse '${value}' as a tag`, {
          hint: 'a tag is 16 hex digits, as printed by `tailcalls prog list`',
        })
      }

      return {by, tag: value.toLowerCase()}
    }

    case 'pinned': {
      return {by, path: value}
    }
  }
}
