/** `tailcalls load`: the seed's observer. */
import {TailcallsError} from '../errors.js'
import {Chain} from './chain.js'
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
