/**
 * `tailcalls load`: the seed's observer; with --pin, a chain that outlives this process.
 */
import {TailcallsError} from '../errors.js'
import {toJson} from '../render/json.js'
import {Chain, TRACEPOINT} from './chain.js'
import {type PinReport, type StaleFolder, checkPinTarget, cleanStale, pinChain} from './pins.js'
import {resolvePinDir} from './pinpath.js'
import {SignalGuard} from './interrupt.js'
import {OutputLedger, type StreamSummary, ZERO_STATS, settleOutput, streamEvents} from './stream.js'

export interface LoadOptions {
  object?: string
  ringbufSize?: number
  json: boolean
  count?: number
  durationSec?: number
  /** Pin the chain in this bpffs folder (load --pin). */
  pinPath?: string
  /** Replace a chain already pinned there. */
  force?: boolean
  /** With pinPath: also stream events (otherwise return once pinned). */
  follow?: boolean
  status: (line: string) => void
}

export interface PinOutcome {
  pinned: PinReport
  /** A chain that --force replaced (unpinned). */
  replaced?: PinReport
  /** Unfinished pinnings of crashed runs that were removed first. */
  cleaned: StaleFolder[]
  /** This run mounted bpffs at /sys/fs/bpf. */
  mounted: boolean
}

export interface LoadResult {
  /**
   * The reader never took the last output and a second signal gave up on it: exit with
   * process.exit() after the summary (Node would otherwise wait for the pipe forever).
   */
  abandonedOutput?: boolean
  /** When events were streamed. */
  summary?: StreamSummary
  /** When the chain was pinned. */
  pin?: PinOutcome
}

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  if (
    opts.ringbufSize !== undefined &&
    (opts.ringbufSize < 4096 || (opts.ringbufSize & (opts.ringbufSize - 1)) !== 0)
  ) {
    throw new TailcallsError('usage', `--ringbuf-size ${opts.ringbufSize} is not a power of two of at least 4096`, {
      hint: 'use e.g. 4096, 65536 or 262144',
    })
  }

  // Everything about the pin folder is checked before anything is loaded.
  const target = opts.pinPath === undefined ? undefined : resolvePinDir(opts.pinPath, {mount: true})
  let cleaned: StaleFolder[] = []
  if (target) {
    cleaned = cleanStale(target)
    checkPinTarget(target, opts.force ?? false)
  }

  // From here on a signal stops the load at the next phase boundary (src/chain/interrupt.ts).
  const guard = new SignalGuard()
  const before = (phase: string) => guard.before(phase, opts.status, opts.json)
  const ledger = new OutputLedger()
  let summary: StreamSummary
  let pin: PinOutcome | undefined
  try {
    const chain = await Chain.loadInPhases({object: opts.object, ringbufSize: opts.ringbufSize}, before)
    try {
      opts.status(describeLoaded(chain, opts.json))
      if (target) {
        await before('pin')
        const {pinned, replaced} = pinChain(chain.fds, chain.object.programNames(), target, opts.force ?? false)
        chain.markPinned()
        pin = {cleaned, mounted: target.mounted, pinned, replaced}
        // A signal during the (atomic) pinning: the chain is pinned whole; report it, do not follow.
        if (!opts.follow || guard.signal) return {pin}
        opts.status(opts.json ? toJson(pinJson(pin)) : describePinned(pin))
      }

      await before('stream')
      const streaming = streamEvents(
        {
          // A pinned chain keeps running after we stop reading: nothing to detach.
          detach: () => {
            if (pin) return false
            chain.detach()
            return true
          },
          eventsFd: chain.fds.EVENTS,
          stats: () => chain.stats(),
        },
        {
          // The chain was created by this process: its counters and its ring start empty.
          baseline: ZERO_STATS,
          count: opts.count,
          durationSec: opts.durationSec,
          json: opts.json,
          ledger,
          out: process.stdout,
          status: opts.status,
        },
      )
      // streamEvents installed its own signal handlers synchronously: hand over.
      guard.dispose()
      summary = await streaming
    } finally {
      chain.close()
    }
  } finally {
    guard.dispose()
  }

  // The kernel side is gone; now let a slow reader take what is still buffered.
  const settled = await settleOutput(process.stdout, ledger, opts.status, opts.json)
  summary.undelivered = settled.undelivered
  return {abandonedOutput: settled.abandoned, pin, summary}
}

/** One status line naming the kernel ids of what was loaded (stderr; JSON under --json). */
function describeLoaded(chain: Chain, json: boolean): string {
  const ids = chain.ids()
  if (json) return toJson({loaded: ids})
  const progs = Object.entries(ids.programs)
    .map(([name, id]) => `${name} (id ${id})`)
    .join(', ')
  return (
    `Loaded ${progs}; TAIL_CALL_MAP (id ${ids.maps.TAIL_CALL_MAP}): [0] = prog2, [1] = prog3; ` +
    `attached prog1 to tp_btf/${TRACEPOINT} (link id ${ids.link})`
  )
}

export function pinJson(pin: PinOutcome): Record<string, unknown> {
  return {
    cleaned: pin.cleaned.map((c) => ({objects: c.objects, path: c.path, pid: c.pid})),
    mounted_bpffs: pin.mounted,
    pinned: pin.pinned,
    replaced: pin.replaced ?? null,
  }
}

/** What was pinned, for people. */
export function describePinned(pin: PinOutcome): string {
  const lines: string[] = []
  if (pin.mounted) lines.push('Mounted bpffs at /sys/fs/bpf (it was not mounted).')
  for (const c of pin.cleaned) {
    lines.push(
      `Removed an unfinished pinning left by a crashed run (pid ${c.pid}): ${c.path} (${c.objects.length} pins).`,
    )
  }

  if (pin.replaced) {
    lines.push(
      `Replaced the chain pinned at ${pin.replaced.path} (--force): unpinned ${pin.replaced.objects.map((o) => `${o.pin} (${o.kind} ${o.id})`).join(', ')}.`,
    )
  }

  const p = pin.pinned
  lines.push(`Pinned the chain at ${p.path}: ${p.objects.map((o) => `${o.pin} (${o.kind} ${o.id})`).join(', ')}.`)
  lines.push(
    `It stays loaded after this process exits: \`tailcalls events --pin-path ${p.path}\` streams its events, ` +
      `\`tailcalls stats --pin-path ${p.path}\` counts them, \`tailcalls unload --pin-path ${p.path}\` removes it.`,
  )
  return lines.join('\n')
}
