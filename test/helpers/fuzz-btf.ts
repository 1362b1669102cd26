// Fuzzing the BTF decoder and value renderer: real BTF blobs (captured from the kernel) are
// mutated, and random type graphs are built, then every stage runs on them: parse, describe
// every type, resolve sizes, compile renderers for random types and value sizes, render random
// bytes. A case passes when nothing throws except BtfError from the parser, and every rendered
// value is valid JSON. Runs inside a worker (see runFuzzInWorker) so a hang is caught by a
// timer instead of blocking the test runner.
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {BtfBuilder} from '../../src/btf/builder.js'
import {IDLE_MS} from './progress.js'
import {tsWorker} from './ts-worker.js'
import {xorshift} from './xorshift.js'

const here = dirname(fileURLToPath(import.meta.url))
const ROOT = join(here, '..', '..')

export function seedBlobs(): Buffer[] {
  return ['maps.btf', 'chain.btf'].map((f) => readFileSync(join(ROOT, 'test', 'fixtures', 'btf', f)))
}

const INTERESTING = [
  0, 1, 2, 3, 7, 8, 12, 16, 24, 31, 32, 63, 64, 127, 128, 255, 256, 0x7fff, 0xffff, 0x10000, 0x7fffffff, 0x80000000,
  0xfffffffe, 0xffffffff,
]

function mutate(blob: Buffer, rnd: () => number): Buffer {
  let b = Buffer.from(blob)
  const ops = 1 + (rnd() % 4)
  for (let k = 0; k < ops; k++) {
    switch (rnd() % 6) {
      case 0: {
        // flip a bit
        const i = rnd() % b.length
        b[i] ^= 1 << (rnd() % 8)
        break
      }

      case 1: {
        // random byte
        b[rnd() % b.length] = rnd() & 0xff
        break
      }

      case 2: {
        // an interesting u32 at a 4-aligned offset (header fields, type records)
        const i = (rnd() % Math.max(1, (b.length >> 2) - 1)) * 4
        if (i + 4 <= b.length) b.writeUInt32LE(INTERESTING[rnd() % INTERESTING.length] >>> 0, i)
        break
      }

      case 3: {
        // truncate
        b = b.subarray(0, rnd() % (b.length + 1))
        break
      }

      case 4: {
        // a type's kind/vlen/kflag word
        const i = 24 + (rnd() % Math.max(1, (b.length - 28) >> 2)) * 4
        if (i + 4 <= b.length) b.writeUInt32LE(((rnd() & 0x9f00ffff) | ((rnd() % 21) << 24)) >>> 0, i)
        break
      }

      default: {
        // copy a chunk elsewhere
        const len = rnd() % 64
        const from = rnd() % b.length
        const to = rnd() % b.length
        b.copy(b, to, from, Math.min(b.length, from + len))
      }
    }

    if (b.length === 0) break
  }

  return b
}

/** A random, often malformed type graph: references may point anywhere, including at themselves. */
function randomGraph(rnd: () => number): Buffer {
  const bb = new BtfBuilder()
  const n = 1 + (rnd() % 24)
  const ref = () => rnd() % (n + 3)
  const pick = <T>(a: T[]): T => a[rnd() % a.length] as T
  for (let i = 0; i < n; i++) {
    switch (rnd() % 16) {
      case 0:
        bb.int(`i${i}`, pick([1, 2, 4, 8, 16, 3, 0, 5]), {
          bits: pick([8, 16, 32, 64, 128, 1, 3, 24, 0, 200]),
          encoding: pick([0, 1, 2, 4, 3, 8]),
          offset: pick([0, 0, 1, 7, 64]),
        })
        break
      case 1:
        bb.ptr(ref())
        break
      case 2:
        bb.array(ref(), pick([0, 1, 2, 3, 16, 1000, 0xffffffff, 65536]))
        break
      case 3:
      case 4: {
        const m = rnd() % 6
        bb.struct(
          `s${i}`,
          pick([0, 4, 8, 16, 64]),
          Array.from({length: m}, (_, j) => ({
            bitOffset: pick([0, 8, 32, 3, 64, 0xffffff, 1 << 20]),
            bitfieldSize: rnd() % 3 === 0 ? pick([1, 3, 8, 31, 64, 255]) : 0,
            name: `m${j}`,
            type: ref(),
          })),
          {union: rnd() % 4 === 0},
        )
        break
      }

      case 5:
        bb.enum(
          `e${i}`,
          pick([1, 2, 4, 8, 3]),
          [
            ['A', 0],
            ['B', -1],
            ['C', 0x7fffffff],
          ],
          {signed: rnd() % 2 === 0},
        )
        break
      case 6:
        bb.enum64(
          `E${i}`,
          pick([8, 4]),
          [
            ['X', 0n],
            ['Y', -1n],
            ['Z', 1n << 63n],
          ],
          {signed: rnd() % 2 === 0},
        )
        break
      case 7:
        bb.typedef(`t${i}`, ref())
        break
      case 8:
        bb.const(ref())
        break
      case 9:
        bb.volatile(ref())
        break
      case 10:
        bb.typeTag('tag', ref())
        break
      case 11:
        bb.fwd(`f${i}`, rnd() % 2 === 0)
        break
      case 12:
        bb.float(`fl${i}`, pick([2, 4, 8, 16, 12, 3]))
        break
      case 13:
        bb.var(`v${i}`, ref())
        break
      case 14:
        bb.datasec(`.d${i}`, 32, [
          {offset: pick([0, 4, 100]), size: 4, type: ref()},
          {offset: 8, size: 8, type: ref()},
        ])
        break
      default:
        bb.funcProto(ref(), [['a', ref()]])
        break
    }
  }

  return bb.bytes()
}

/** Case c of seed s draws from its own generator: any case can be replayed alone. */
function caseRng(seed: number, c: number): () => number {
  return xorshift(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(c + 1, 0xc2b2ae35))
}

/**
 * Run cases [from, from + cases) of `seed`. `report(i)` is called before every 16th case
 * (progress, so a hang can be pinned to a case). Returns {cases, parsed, rendered, failures:
 * [{case, error, blob}]}; a failure's (seed, case) replays it: runFuzz({seed, from: case, cases: 1}).
 */
/** A failed case: its number, the error and the blob (base64) that made it fail. */
export interface FuzzFailure {
  blob?: string
  case: number
  error: string
}

export interface FuzzStats {
  cases: number
  failures: FuzzFailure[]
  parsed: number
  rendered: number
}

export interface FuzzOptions {
  cases?: number
  from?: number
  /** Test hook: case number at which to hang on purpose. */
  hangAt?: number
  report?: (i: number) => void
  seed?: number
}

export async function runFuzz({
  seed = 1,
  from = 0,
  cases = 1000,
  report,
  hangAt,
}: FuzzOptions = {}): Promise<FuzzStats> {
  const {Btf, BtfError} = await import('../../src/btf/btf.js')
  const {compileRenderer} = await import('../../src/render/btf-json.js')
  const {describeType} = await import('../../src/btf/describe.js')
  const {parseJson} = await import('../../src/render/parse.js')
  const seeds = seedBlobs()
  const stats: FuzzStats = {cases: 0, failures: [], parsed: 0, rendered: 0}
  for (let c = from; c < from + cases; c++) {
    if (report && c % 16 === 0) report(c)
    // Test hook: a deliberate hang, to prove the detector catches one.
    if (c === hangAt) for (;;) Math.random()
    const rnd = caseRng(seed, c)
    const kind = rnd() % 3
    const blob = kind === 2 ? randomGraph(rnd) : mutate(seeds[rnd() % seeds.length], rnd)
    const tag = `seed ${seed} case ${c}`
    try {
      let btf
      try {
        btf = Btf.parse(blob, {name: tag})
      } catch (error) {
        if (error instanceof BtfError) continue
        throw error
      }

      stats.parsed++
      const count = btf.typeCount
      for (let id = btf.startId; id < count; id++) {
        const t = btf.type(id)
        if (!t) throw new Error(`type [${id}] of ${count} is missing`)
        describeType(btf, t)
        btf.resolveSize(id)
        btf.resolveType(id)
      }

      for (let k = 0; k < 6; k++) {
        const id = rnd() % (count + 2)
        const avail = [0, 1, 4, 8, 16, 64, 176, 4096][rnd() % 8]
        const r = compileRenderer(btf, id, avail)
        const bytes = Buffer.alloc(avail)
        for (let i = 0; i < avail; i++) bytes[i] = rnd() & 0xff
        const text = r.json(bytes, 0)
        parseJson(text)
        stats.rendered++
      }
    } catch (error) {
      stats.failures.push({
        case: c,
        error: `${tag}: ${(error as Error)?.stack ?? error}`,
        blob: blob.toString('base64'),
      })
      if (stats.failures.length >= 10) break
    } finally {
      stats.cases = c + 1 - from
    }
  }

  return stats
}

/** One worker run; rejects with {stalledAt} when no progress came for stallMs. */
function workerRun(opts: FuzzOptions, {stallMs}: {stallMs: number}): Promise<FuzzStats> {
  return new Promise((resolve, reject) => {
    const worker = tsWorker(new URL('fuzz-btf-worker.ts', import.meta.url), {workerData: opts})
    let last = opts.from ?? 0
    let lastAt = Date.now()
    // Starting a worker (tsx compiling its imports) is not a case: the stall clock starts once it
    // says it is loaded; until then only a worker that never loads (IDLE_MS) counts as stalled.
    let loaded = false
    const stop = (error?: Error) => {
      clearInterval(timer)
      worker.terminate()
      if (error) reject(error)
    }

    const timer = setInterval(() => {
      if (Date.now() - lastAt > (loaded ? stallMs : IDLE_MS))
        stop(Object.assign(new Error(`no progress for ${stallMs} ms after case ${last}`), {stalledAt: last}))
    }, 250)
    worker.on('message', (m) => {
      if (m.loaded) {
        loaded = true
        lastAt = Date.now()
      } else if (m.progress !== undefined) {
        last = m.progress
        lastAt = Date.now()
      } else if (m.done) {
        stop()
        resolve(m.done)
      }
    })
    worker.on('error', (e) => stop(e))
  })
}

/**
 * runFuzz in a worker thread, so a hang cannot block the caller. When a worker makes no
 * progress for `stallMs` (16 cases), the 16 cases it was on are replayed alone in a fresh
 * worker with a `replayMs` budget: still stuck is a hang, reported as a failure;
 * done is a starved worker on a busy machine, and the run goes on after them.
 */
export async function runFuzzInWorker(
  opts: FuzzOptions,
  {stallMs = 20_000, replayMs = 60_000}: {replayMs?: number; stallMs?: number} = {},
): Promise<FuzzStats & {slow: string[]}> {
  const from = opts.from ?? 0
  const end = from + (opts.cases ?? 1000)
  const total: FuzzStats & {slow: string[]} = {cases: 0, failures: [], parsed: 0, rendered: 0, slow: []}
  let at = from
  while (at < end) {
    try {
      const s = await workerRun({...opts, cases: end - at, from: at}, {stallMs})
      total.cases += s.cases
      total.parsed += s.parsed
      total.rendered += s.rendered
      total.failures.push(...s.failures)
      return total
    } catch (error) {
      const stuck = (error as {stalledAt?: number}).stalledAt
      if (stuck === undefined) throw error
      const n = Math.min(16, end - stuck)
      try {
        const s = await workerRun({...opts, cases: n, from: stuck}, {stallMs: replayMs})
        total.slow.push(
          `seed ${opts.seed} cases ${stuck}..${stuck + n - 1}: stalled in a busy worker, ${n} cases passed when replayed`,
        )
        total.failures.push(...s.failures)
      } catch {
        total.failures.push({
          case: stuck,
          error: `seed ${opts.seed} cases ${stuck}..${stuck + n - 1}: a hang (no progress for ${replayMs} ms when replayed alone; replay one with runFuzz({seed: ${opts.seed}, from: N, cases: 1}))`,
        })
      }

      total.cases += stuck - at + n
      at = stuck + n
    }
  }

  return total
}
