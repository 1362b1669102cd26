// Kernel-object bookkeeping for tests: what a test created must be gone when it ends.
// Other objects exist on the machine (and other tests may run concurrently), so every
// check is on the ids this test created, never on whole-system lists.
import {spawnSync} from 'node:child_process'

import {type ObjectKind, nextId} from '../../src/kernel/ids.js'
import {startCli} from './cli.js'
import {until} from './progress.js'

// bpftool's JSON is the oracle: its shape is whatever bpftool prints, read field by field.
export function bpftoolJson(args: string[]): any {
  const r = spawnSync('bpftool', ['--json', ...args], {encoding: 'utf8', maxBuffer: 1 << 28})
  if (r.status === 0) return JSON.parse(r.stdout)
  if (r.status === 255 && isOneLinkShow(args) && r.stderr === '') {
    // bpftool 7.5 (Debian 13) prints one link (`link show id N`, `link show pinned P`) in full and
    // then exits 255 every time: after a single link its do_show returns `errno == ENOENT ? 0 :
    // -1`, errno being whatever call failed last (stdio's isatty check on stdout: ENOTTY). 7.1
    // returns what showing the link returned. A failure there prints {"error": …} instead.
    const shown = JSON.parse(r.stdout)
    if (shown && typeof shown === 'object' && !Array.isArray(shown) && shown.error === undefined) return shown
  }
  throw new Error(
    `bpftool --json ${args.join(' ')} exited ${r.status ?? r.signal}: ${(r.stderr || r.stdout || String(r.error ?? '')).trim()}`,
  )
}

const isOneLinkShow = (args: string[]): boolean =>
  args.length === 4 && args[0] === 'link' && (args[1] === 'show' || args[1] === 'list')

/**
 * Whether an id exists, asked with BPF_*_GET_NEXT_ID, which does not open the object.
 * Never check with `bpftool map list` (or anything that opens maps by id) right after a
 * chain exits: opening a prog array by id while the kernel's deferred clear is pending
 * can leak it for good (src/kernel/ids.ts explains how; reproduced on this machine).
 */
export function exists(kind: ObjectKind, id: number): boolean {
  return nextId(kind, id - 1) === id
}

/** Ids of {programs, maps, link} still present in the kernel. */
/** Kernel ids a test created, by name. */
export interface CreatedIds {
  link?: number
  maps?: Record<string, number>
  programs?: Record<string, number>
}

export function stillAlive(ids: CreatedIds): string[] {
  const alive: string[] = []
  for (const [name, id] of Object.entries(ids.programs ?? {}))
    if (exists('prog', id)) alive.push(`program ${name} (id ${id})`)
  for (const [name, id] of Object.entries(ids.maps ?? {})) if (exists('map', id)) alive.push(`map ${name} (id ${id})`)
  if (ids.link !== undefined && exists('link', ids.link)) alive.push(`link id ${ids.link}`)
  return alive
}

/**
 * The kernel frees programs and maps after an RCU grace period, later on a busy machine: poll
 * while ids keep going away; fail once the survivors stood still for `idleMs`.
 */
export async function assertGone(ids: CreatedIds, {idleMs = 30_000}: {idleMs?: number} = {}): Promise<void> {
  try {
    await until(() => stillAlive(ids).length === 0, 'the ids to go', {
      everyMs: 100,
      idleMs,
      progress: () => stillAlive(ids).length,
    })
  } catch {
    throw new Error(`left in the kernel after the test: ${stillAlive(ids).join(', ')}`)
  }
}

/**
 * Start `tailcalls load --json` for a test and wait until it is attached. Returns the running
 * CLI plus the kernel ids it created and the parsed NDJSON events so far. Always call
 * `finish()` (it stops the CLI with SIGINT, checks exit 0 and that every id is gone).
 */
export async function startChain(extraArgs: string[] = [], {env}: {env?: Record<string, string | undefined>} = {}) {
  // --duration only bounds a chain whose test process died without stopping it: an hour is far
  // beyond any test, however busy the machine.
  const cli = startCli(['load', '--json', '--duration', '3600', ...extraArgs], {env})
  const loadedLine = await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'the loaded line')
  const ids: CreatedIds & {link: number; maps: Record<string, number>; programs: Record<string, number>} =
    JSON.parse(loadedLine).loaded
  await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'Waiting for Ctrl-C')
  // NDJSON chain events as `load --json` prints them (see src/chain/events.ts).
  const events = (): any[] => cli.state.stdoutLines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l))
  return {
    cli,
    events,
    async finish(signal: NodeJS.Signals = 'SIGINT') {
      const result = await cli.stop(signal)
      await assertGone(ids)
      const summaryLine = result.stderr.split('\n').find((l) => l.startsWith('{"summary"'))
      return {...result, summary: summaryLine ? JSON.parse(summaryLine).summary : undefined}
    },
    ids,
    /**
     * Wait until events for every exec in `tgids` (3 stages each) arrived. A tgid listed k times
     * (pids wrap in a long exec loop) needs k execs' worth.
     */
    waitForTgids(tgids: number[], perTgid = 3) {
      const need = new Map<number, number>()
      for (const t of tgids) need.set(t, (need.get(t) ?? 0) + perTgid)
      return cli.waitFor(() => {
        const counts = new Map<number, number>()
        for (const e of events()) if (need.has(e.tgid)) counts.set(e.tgid, (counts.get(e.tgid) ?? 0) + 1)
        return [...need].every(([t, n]) => (counts.get(t) ?? 0) >= n)
      }, `events for ${tgids.length} execs`)
    },
  }
}
