/**
 * `tailcalls events`: stream a pinned chain's events, in the same formats as `load`.
 *
 * EVENTS and CHAIN_STATS are opened from their pins (bpf_obj_get); the chain keeps running
 * when we stop, so nothing is detached. A ring buffer has one consumer position, shared by
 * every reader: two readers of one chain split its events between them, so run one at a time.
 */
import {RingBufferReader} from '../libbpf/ringbuf.js'
import {toJson} from '../render/json.js'
import {EVENT} from '../sys/layouts.js'
import {readChainStats} from './chain.js'
import {PinnedChain} from './pins.js'
import {DEFAULT_PIN_PATH, resolvePinDir} from './pinpath.js'
import {OutputLedger, type StreamSummary, settleOutput, streamEvents} from './stream.js'

export interface EventsOptions {
  pinPath?: string
  json: boolean
  count?: number
  durationSec?: number
  /** Discard what queued in the ring buffer before we started (nobody was reading). */
  sinceNow?: boolean
  status: (line: string) => void
}

export async function runEvents(opts: EventsOptions): Promise<StreamSummary & {abandonedOutput?: boolean}> {
  const target = resolvePinDir(opts.pinPath ?? DEFAULT_PIN_PATH)
  const chain = PinnedChain.open(target, ['EVENTS', 'CHAIN_STATS'])
  const ledger = new OutputLedger()
  let summary: StreamSummary
  try {
    if (opts.sinceNow) {
      let skipped = 0
      const skip = new RingBufferReader(chain.fds.EVENTS, EVENT.size, ({count}) => (skipped += count))
      try {
        skip.drain()
      } finally {
        skip.close()
      }

      opts.status(
        opts.json ? toJson({skipped_queued: skipped}) : `Skipped ${skipped} events queued before this command started.`,
      )
    }

    const ids = Object.fromEntries(chain.objects.map((o) => [o.pin, o.id]))
    opts.status(
      opts.json
        ? toJson({following: {maps: ids, path: chain.path}})
        : `Following the chain pinned at ${chain.path} (EVENTS map ${ids.EVENTS}).`,
    )
    summary = await streamEvents(
      {
        detach() {},
        eventsFd: chain.fds.EVENTS,
        stats: () => readChainStats(chain.fds.CHAIN_STATS),
      },
      {
        count: opts.count,
        durationSec: opts.durationSec,
        json: opts.json,
        ledger,
        out: process.stdout,
        status: opts.status,
      },
    )
  } finally {
    chain.close()
  }

  // As in `load`: the fds are closed; now a slow reader gets what is still buffered (or a second signal gives up).
  const settled = await settleOutput(process.stdout, ledger, opts.status, opts.json)
  summary.undelivered = settled.undelivered
  return {...summary, abandonedOutput: settled.abandoned || undefined}
}
