/** `tailcalls load`: the seed's observer. */
import {TailcallsError} from '../errors.js'
import {Chain, TRACEPOINT} from './chain.js'
import {type StreamSummary, streamEvents} from './stream.js'

export interface LoadOptions {
  object?: string
  ringbufSize?: number
  json: boolean
  count?: number
  durationSec?: number
  status: (line: string) => void
}

export async function runLoad(opts: LoadOptions): Promise<StreamSummary> {
  if (opts.ringbufSize !== undefined && (opts.ringbufSize < 4096 || (opts.ringbufSize & (opts.ringbufSize - 1)) !== 0)) {
    throw new TailcallsError('usage', `--ringbuf-size ${opts.ringbufSize} is not a power of two of at least 4096`, {
      hint: 'use e.g. 4096, 65536 or 262144',
    })
  }

  const chain = Chain.load({object: opts.object, ringbufSize: opts.ringbufSize})
  try {
    opts.status(describeLoaded(chain, opts.json))
    return await streamEvents(
      {
        detach: () => chain.detach(),
        eventsFd: chain.fds.EVENTS,
        stats: () => chain.stats(),
      },
      {count: opts.count, durationSec: opts.durationSec, json: opts.json, out: process.stdout, status: opts.status},
    )
  } finally {
    chain.close()
  }
}

/** One status line naming the kernel ids of what was loaded (stderr; JSON under --json). */
function describeLoaded(chain: Chain, json: boolean): string {
  const ids = chain.ids()
  if (json) return JSON.stringify({loaded: ids})
  const progs = Object.entries(ids.programs).map(([name, id]) => `${name} (id ${id})`).join(', ')
  return `Loaded ${progs}; TAIL_CALL_MAP (id ${ids.maps.TAIL_CALL_MAP}): [0] = prog2, [1] = prog3; ` +
    `attached prog1 to tp_btf/${TRACEPOINT} (link id ${ids.link})`
}
