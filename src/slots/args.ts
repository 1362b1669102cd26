/**
 * The words of `map update` / `map delete`, parsed by hand (oclif sees them as free args):
 *
 *   map update MAP key K prog PROG      (bpftool's `value PROG` is accepted for `prog PROG`)
 *   map delete MAP key K
 *   MAP  := id N | name NAME | pinned PATH
 *   PROG := id N | name NAME | tag TAG | pinned PATH
 *   K    := a number (decimal or 0x hex), or bpftool's 4 key bytes (`key 1 0 0 0`, `key hex 01 00 00 00`)
 */
import {grammar, parseId, parseSelector} from '../cli/selector.js'
import {TailcallsError} from '../errors.js'
import type {Selector} from '../kernel/select.js'

export interface SlotArgs {
  map: Selector
  key: number
  prog?: Selector
}

const UPDATE_USAGE = `map update MAP key K prog PROG   (MAP := ${grammar('map')}; PROG := ${grammar('prog')})`
const DELETE_USAGE = `map delete MAP key K   (MAP := ${grammar('map')})`

function usage(message: string, withProg: boolean): TailcallsError {
  return new TailcallsError('usage', message, {hint: `usage: tailcalls ${withProg ? UPDATE_USAGE : DELETE_USAGE}`})
}

/** One byte written as bpftool accepts it: decimal, 0x hex, or bare hex after `hex`. */
function parseByte(text: string, hex: boolean): number | undefined {
  const v = hex ? (/^[0-9a-f]{1,2}$/i.test(text) ? Number.parseInt(text, 16) : undefined) : parseId(text)
  return v !== undefined && v <= 0xff ? v : undefined
}

/** The key words (between `key` and `prog`/`value`/end) → a u32 slot index. */
export function parseKey(words: string[], withProg: boolean): number {
  if (words.length === 0) throw usage("'key' needs a value", withProg)
  if (words.length === 1) {
    const k = parseId(words[0])
    if (k === undefined) throw usage(`can't parse key '${words[0]}': a key is a slot number (0, 1, … or 0x…)`, withProg)
    return k
  }

  const hex = words[0] === 'hex'
  const bytes = hex ? words.slice(1) : words
  if (bytes.length !== 4) {
    throw usage(`a prog array key is 4 bytes, got ${bytes.length} (${words.join(' ')})`, withProg)
  }

  const parsed = bytes.map((b) => parseByte(b, hex))
  const bad = bytes.find((_, i) => parsed[i] === undefined)
  if (bad !== undefined) throw usage(`can't parse key byte '${bad}'`, withProg)
  return Buffer.from(parsed as number[]).readUInt32LE(0)
}

export function parseSlotArgs(argv: string[], withProg: boolean): SlotArgs {
  // A map may be named `key`: the keyword is the third word when MAP is well formed.
  const keyAt = argv[2] === 'key' ? 2 : argv.indexOf('key')
  if (keyAt === -1) throw usage(argv.length === 0 ? 'missing MAP' : "missing 'key K'", withProg)
  if (keyAt !== 2) {
    throw usage(
      keyAt < 2
        ? `MAP is two words (${grammar('map')}), got '${argv.slice(0, keyAt).join(' ')}'`
        : `unexpected '${argv.slice(2, keyAt).join(' ')}' after MAP`,
      withProg,
    )
  }

  const map = parseSelector('map', argv[0], argv[1])
  const rest = argv.slice(keyAt + 1)
  const progAt = rest.findIndex((w) => w === 'prog' || w === 'value')
  if (!withProg) {
    if (progAt !== -1) throw usage(`unexpected '${rest[progAt]}': map delete takes no program`, false)
    return {key: parseKey(rest, false), map}
  }

  if (progAt === -1) throw usage("missing 'prog PROG' (the program to put in the slot)", true)
  const key = parseKey(rest.slice(0, progAt), true)
  const progWords = rest.slice(progAt + 1)
  if (progWords.length > 2) throw usage(`unexpected '${progWords.slice(2).join(' ')}' after PROG`, true)
  return {key, map, prog: parseSelector('prog', progWords[0], progWords[1])}
}
