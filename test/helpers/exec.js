// A bounded exec load: spawn a short-lived program N times from `workers` parallel loops.
// The tgid the BPF side reports for an exec is the spawned child's pid.
import {spawn} from 'node:child_process'

export async function execLoop(count, {workers = 1, timeoutMs = 60_000, command = '/bin/true', args = []} = {}) {
  const tgids = []
  const deadline = Date.now() + timeoutMs
  let next = 0
  const worker = async () => {
    while (next < count && Date.now() < deadline) {
      next++
      const child = spawn(command, args, {stdio: 'ignore'})
      tgids.push(child.pid)
      await new Promise((resolve) => child.on('close', resolve))
    }
  }

  await Promise.all(Array.from({length: workers}, worker))
  return tgids
}

/** Keep an exec load running until stop() is called (bounded by maxCount and timeoutMs). */
export function execLoad({workers = 1, maxCount = 20_000, timeoutMs = 120_000} = {}) {
  let stopped = false
  const tgids = []
  const deadline = Date.now() + timeoutMs
  const worker = async () => {
    while (!stopped && tgids.length < maxCount && Date.now() < deadline) {
      const child = spawn('/bin/true', [], {stdio: 'ignore'})
      tgids.push(child.pid)
      await new Promise((resolve) => child.on('close', resolve))
    }
  }

  const running = Promise.all(Array.from({length: workers}, worker))
  return {
    async stop() {
      stopped = true
      await running
      return tgids
    },
    tgids,
  }
}
