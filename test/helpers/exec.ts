// A bounded exec load: spawn a short-lived program N times from `workers` parallel loops.
// The tgid the BPF side reports for an exec is the spawned child's pid. Bounded by count, never
// by the clock: on a busy machine the same execs take longer, and the tests still want them all.
import {spawn} from 'node:child_process'

function execOnce(command: string, args: string[]): {done: Promise<unknown>; pid: number} {
  const child = spawn(command, args, {stdio: 'ignore'})
  // A failed spawn has no pid; its 'error' rejects `done`, so the pid is never used then.
  return {done: new Promise((resolve, reject) => child.on('error', reject).on('close', resolve)), pid: child.pid ?? -1}
}

export async function execLoop(
  count: number,
  {workers = 1, command = '/bin/true', args = []}: {args?: string[]; command?: string; workers?: number} = {},
): Promise<number[]> {
  const tgids: number[] = []
  let next = 0
  const worker = async () => {
    while (next < count) {
      next++
      const {done, pid} = execOnce(command, args)
      tgids.push(pid)
      await done
    }
  }

  await Promise.all(Array.from({length: workers}, worker))
  return tgids
}

/** Keep an exec load running until stop() is called (at most maxCount execs). */
export function execLoad({workers = 1, maxCount = 20_000}: {maxCount?: number; workers?: number} = {}): {
  stop(): Promise<number[]>
  tgids: number[]
} {
  let stopped = false
  const tgids: number[] = []
  const worker = async () => {
    while (!stopped && tgids.length < maxCount) {
      const {done, pid} = execOnce('/bin/true', [])
      tgids.push(pid)
      await done
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
