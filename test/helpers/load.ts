// Helpers for the generic loader's tests (`tailcalls load FILE.o`): fixtures from
// test/fixtures/load/ built with clang, the one-line error check, and a veth pair into a network
// namespace the test creates (and always removes).
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'

import {ROOT, runCli} from './cli.js'

const MULTIARCH = process.arch === 'arm64' ? 'aarch64-linux-gnu' : 'x86_64-linux-gnu'

/** Build test/fixtures/<rel>.bpf.c (with -D defines) into `dir`; returns the object's path. */
export function buildObject(dir: string, rel: string, defines: string[] = [], out = basename(rel)): string {
  const path = join(dir, `${out}.bpf.o`)
  execFileSync(
    'clang',
    [
      '-O2',
      '-g',
      '-target',
      'bpf',
      `-I/usr/include/${MULTIARCH}`,
      '-Wall',
      ...defines.map((d) => `-D${d}`),
      '-c',
      join(ROOT, 'test', 'fixtures', `${rel}.bpf.c`),
      '-o',
      path,
    ],
    {stdio: ['ignore', 'ignore', 'pipe']},
  )
  return path
}

export function scratchDir(): {dir: string; cleanup(): void} {
  const dir = mkdtempSync(join(tmpdir(), 'tailcalls-load-'))
  return {cleanup: () => rmSync(dir, {force: true, recursive: true}), dir}
}

/** One `tailcalls: error:` line (verifier details may precede it), the exit code, no stack trace. */
export function assertErrorLine(
  result: {code: number | null; stderr: string},
  code: number,
  pattern: RegExp,
  {details = false}: {details?: boolean} = {},
): string {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr.trimEnd().split('\n')
  const errors = lines.filter((l) => l.startsWith('tailcalls: error: '))
  assert.equal(errors.length, 1, `one error line: ${result.stderr}`)
  assert.equal(lines.at(-1), errors[0], 'the error line comes last')
  if (!details) assert.equal(lines.length, 1, `only the error line: ${result.stderr}`)
  assert.match(errors[0], pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
  return errors[0]
}

/** A veth pair: `host` here (10.<a>.<b>.1/30), `peer` in a fresh netns (….2/30). */
export interface VethPair {
  ns: string
  host: string
  peer: string
  hostAddr: string
  peerAddr: string
  /** Run a command inside the namespace. */
  inNs(command: string, args: string[]): string
  remove(): void
}

export function createVeth(tag: string): VethPair {
  const id = process.pid % 10_000
  const ns = `tailcalls-${tag}-${process.pid}`
  const host = `tc${tag.slice(0, 3)}${id}a`
  const peer = `tc${tag.slice(0, 3)}${id}b`
  // Link-local to this pair only: a /30 in 10.x chosen from the pid, never routed anywhere else.
  const third = Math.floor(process.pid / 64) % 250
  const fourth = (process.pid % 64) * 4
  const hostAddr = `10.213.${third}.${fourth + 1}`
  const peerAddr = `10.213.${third}.${fourth + 2}`
  const ip = (...args: string[]) => execFileSync('ip', args, {stdio: ['ignore', 'pipe', 'pipe']})
  const pair: VethPair = {
    host,
    hostAddr,
    inNs: (command, args) => execFileSync('ip', ['netns', 'exec', ns, command, ...args], {encoding: 'utf8'}),
    ns,
    peer,
    peerAddr,
    remove() {
      // Deleting one end deletes the pair; deleting the namespace deletes what is left in it.
      try {
        ip('link', 'del', host)
      } catch {
        // already gone (or never created)
      }

      try {
        ip('netns', 'del', ns)
      } catch {
        // already gone
      }
    },
  }
  try {
    ip('netns', 'add', ns)
    ip('link', 'add', host, 'type', 'veth', 'peer', 'name', peer, 'netns', ns)
    ip('addr', 'add', `${hostAddr}/30`, 'dev', host)
    ip('link', 'set', host, 'up')
    ip('-n', ns, 'addr', 'add', `${peerAddr}/30`, 'dev', peer)
    ip('-n', ns, 'link', 'set', peer, 'up')
    ip('-n', ns, 'link', 'set', 'lo', 'up')
  } catch (error) {
    pair.remove()
    throw error
  }

  return pair
}

/** The XDP program id on an interface, from `ip -j link` (undefined when there is none). */
export function xdpProgId(iface: string): number | undefined {
  const [link] = JSON.parse(execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', iface], {encoding: 'utf8'}))
  return link?.xdp?.prog?.id ?? link?.xdp?.attached?.[0]?.prog?.id
}

/** Remove a pin folder the test made, and what a crash left next to it. */
export async function removePinFolder(path: string): Promise<void> {
  if (existsSync(path)) await runCli(['unload', '--pin-path', path])
  const parent = join(path, '..')
  const name = basename(path)
  for (const entry of existsSync(parent) ? readdirSync(parent) : []) {
    if (entry === name || entry.startsWith(`${name}-pinning-`) || entry.startsWith(`${name}-replaced-`))
      rmSync(join(parent, entry), {force: true, recursive: true})
  }
}

/**
 * Programs with these names, newer than `baseId`, that no process holds: what a failed run
 * left behind (other loaders' objects are held by their processes). Polls while they go away
 * (the kernel frees after an RCU grace period).
 */
export async function assertNoneLeft(names: string[], baseId: number): Promise<void> {
  const left = async () => {
    const r = await runCli(['prog', 'list', '--json'])
    return (JSON.parse(r.stdout) as any[])
      .filter((p) => p.id > baseId && names.includes(p.name) && (p.pids ?? []).length === 0)
      .map((p) => `${p.name} ${p.id}`)
  }

  // Bounded by progress: fail only once the survivors stood still for 30 s.
  let now = await left()
  let last = Date.now()
  while (now.length > 0 && Date.now() - last < 30_000) {
    await sleep(200)
    const next = await left()
    if (next.length < now.length) last = Date.now()
    now = next
  }

  assert.deepEqual(now, [], 'left in the kernel after a failed load')
}

/** The highest program id now (ids only grow, so anything newer was created after this). */
export async function maxProgId(): Promise<number> {
  const r = await runCli(['prog', 'list', '--json'])
  return Math.max(0, ...(JSON.parse(r.stdout) as any[]).map((p) => p.id))
}
