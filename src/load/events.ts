/**
 * `load --events MAP --event-type TYPE`: the records of a user's ring buffer, decoded with the
 * object's own BTF by the project's one decoder (src/render/btf-json.ts), one per line. A record
 * whose size is not the type's is never decoded: it is counted and skipped.
 */
import {Btf, BtfError} from '../btf/btf.js'
import {btfFromObjectFile} from '../btf/elf.js'
import {KIND} from '../btf/kinds.js'
import {TailcallsError} from '../errors.js'
import {RingBufferReader} from '../libbpf/ringbuf.js'
import {type Renderer, compileRenderer} from '../render/btf-json.js'
import {safeText} from '../render/table.js'

export interface EventDecoder {
  type: string
  size: number
  renderer: Renderer
}

const NAMED = new Set<number>([KIND.STRUCT, KIND.UNION, KIND.TYPEDEF])

/** Find TYPE (`foo`, `struct foo`, `union foo`) in the object's BTF and compile its renderer. */
export function eventDecoder(path: string, type: string): EventDecoder {
  let btf: Btf
  try {
    btf = btfFromObjectFile(path)
  } catch (error) {
    if (error instanceof BtfError)
      throw new TailcallsError('invalidObject', `--event-type ${type}: ${error.message}`, {
        hint: 'build the object with clang -g so it carries BTF',
      })
    throw error
  }

  const name = type.replace(/^(struct|union)\s+/, '')
  let id: number | undefined
  const candidates: string[] = []
  for (let i = 1; i < btf.typeCount; i++) {
    const t = btf.type(i)
    if (!t || !NAMED.has(t.kind) || !t.name) continue
    if (t.kind !== KIND.TYPEDEF) candidates.push(t.name)
    if (t.name === name && (id === undefined || t.kind !== KIND.TYPEDEF)) id = i
  }

  if (id === undefined) {
    throw new TailcallsError(
      'notFound',
      `--event-type ${type}: the object's BTF has no struct, union or typedef ${name}`,
      {
        hint: `its named structs and unions: ${[...new Set(candidates)].slice(0, 20).join(', ') || 'none'}; clang keeps a type in BTF only when a global or a function signature uses it (e.g. \`const struct ${name} *${name}_type __attribute__((unused));\`)`,
      },
    )
  }

  const size = btf.resolveSize(id)
  if (!size.ok || size.value === 0)
    throw new TailcallsError(
      'invalidObject',
      `--event-type ${type}: its size cannot be known (${size.ok ? 'zero bytes' : size.error})`,
    )
  return {renderer: compileRenderer(btf, id, size.value, {label: type}), size: size.value, type: name}
}

/** One readable line: `field=value` for the top-level members, JSON text below them. */
export function readableLine(json: string): string {
  const v = JSON.parse(json) as unknown
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return safeText(json)
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k}=${typeof x === 'number' ? x : JSON.stringify(x)}`)
    .map((s) => safeText(s))
    .join(' ')
}

export interface EventStream {
  reader: RingBufferReader
  /** Records decoded and written. */
  received(): number
}

/** Start reading the ring behind `mapFd`; each record becomes one line through `write`. */
export function streamRecords(
  mapFd: number,
  decoder: EventDecoder,
  json: boolean,
  write: (text: string) => void,
): EventStream {
  let received = 0
  const {renderer, size} = decoder
  const reader = new RingBufferReader(mapFd, size, ({buf, count}) => {
    let out = ''
    for (let i = 0; i < count; i++) {
      const text = renderer.json(buf, i * size)
      out += `${json ? text : readableLine(text)}\n`
    }

    received += count
    write(out)
  })
  reader.start()
  return {reader, received: () => received}
}
