// The `pids` column's two sources agree: the BPF iterator (bpf/pids.bpf.o) and the /proc walk.
// Two child processes hold one object of every kind (the second also holds the first's map), and
// both tables must list exactly them, the same way, for those objects; by default the iterator
// runs on a kernel with BTF when the machine holds ITER_FROM_OBJECTS objects or more, /proc below
// that, when TAILCALLS_PIDS=proc or when the kernel has no BTF; the CLI prints the same pids
// either way; and nothing the iterator loaded outlives the call.
import assert from 'node:assert/strict'
import {type ChildProcessByStdio, spawn} from 'node:child_process'
import {chmodSync} from 'node:fs'
import {join} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {after, before, describe, test} from 'node:test'

import {TailcallsError} from '../../src/errors.js'
import {objectIds, tryOpenById, withFd} from '../../src/kernel/ids.js'
import {progInfo} from '../../src/kernel/info.js'
import {
  ITER_FROM_OBJECTS,
  type PidRef,
  type PidTable,
  iterPidTables,
  manyObjects,
  pidTablesFrom,
  procPidTables,
} from '../../src/kernel/pids.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {assertGone} from '../helpers/kernel.js'
import {runAsNobody} from '../helpers/nobody.js'
import {needsRoot} from '../helpers/root.js'
import {sys} from '../../src/sys/ffi.js'
import {BPF_PROG_TYPE} from '../../src/sys/uapi.js'

interface Held {
  btf: number
  iterProg: number
  link: number
  map: number
  pid: number
  prog: number
  shared: number | null
}

const KINDS = ['prog', 'map', 'link', 'btf'] as const
const COMMS = ['tc-pids-a', 'tc-pids-b']
const children: ChildProcessByStdio<Writable, Readable, null>[] = []
/** The pin prefix of holder i (it pins its map at `<prefix>-map`, its link at `<prefix>-link`). */
const pinPrefix = (i: number): string => `/sys/fs/bpf/tailcalls-pids-${process.pid}-${i}`
const held: Held[] = []

async function startHolder(comm: string, share?: number): Promise<Held> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'test', 'helpers', 'pids-worker.ts'),
      comm,
      pinPrefix(children.length),
      ...(share === undefined ? [] : [String(share)]),
    ],
    {stdio: ['pipe', 'pipe', 'inherit']},
  )
  children.push(child)
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').once('data', resolve)
    child.once('close', () => reject(new Error(`the holder ${comm} exited`)))
  })
  const h = JSON.parse(line) as Held
  held.push(h)
  return h
}

/** The holders of `id` in a table, [] when none. */
const refs = (t: Map<string, PidTable>, kind: string, id: number): PidRef[] => t.get(kind)?.get(id) ?? []

/** Both tables restricted to the objects the holders made. */
function ours(t: Map<string, PidTable>): Record<string, PidRef[]> {
  const out: Record<string, PidRef[]> = {}
  for (const h of held) {
    out[`prog ${h.prog}`] = refs(t, 'prog', h.prog)
    out[`prog ${h.iterProg}`] = refs(t, 'prog', h.iterProg)
    out[`map ${h.map}`] = refs(t, 'map', h.map)
    out[`link ${h.link}`] = refs(t, 'link', h.link)
    out[`btf ${h.btf}`] = refs(t, 'btf', h.btf)
  }

  return out
}

/** Run `fn` with environment variables set (undefined: unset), restoring them after. */
function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]))
  const set = (v: Record<string, string | undefined>) => {
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) delete process.env[k]
      else process.env[k] = x
    }
  }

  set(vars)
  try {
    return fn()
  } finally {
    set(saved)
  }
}

describe('pids: the iterator and /proc', needsRoot, () => {
  before(async () => {
    const a = await startHolder(COMMS[0])
    await startHolder(COMMS[1], a.map)
  })

  after(async () => {
    await Promise.all(
      children.map(
        (c) =>
          new Promise((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) resolve(undefined)
            else {
              c.once('close', resolve)
              c.stdin.end()
            }
          }),
      ),
    )
    for (const h of held) {
      await assertGone({link: h.link, maps: {map: h.map}, programs: {iterProg: h.iterProg, prog: h.prog}})
    }
  })

  test('give identical tables for the objects two children hold, as bpftool would list them', () => {
    const [a, b] = held
    const {source, tables: iter} = withEnv({TAILCALLS_KERNEL_BTF: undefined, TAILCALLS_PIDS: 'iter'}, () =>
      pidTablesFrom(KINDS),
    )
    assert.equal(source, 'iter')
    // Unset: the iterator from ITER_FROM_OBJECTS objects on (other users' objects count too), /proc below.
    const auto = withEnv({TAILCALLS_KERNEL_BTF: undefined, TAILCALLS_PIDS: undefined}, () => pidTablesFrom(KINDS))
    assert.equal(auto.source, manyObjects(KINDS) ? 'iter' : 'proc')
    const proc = procPidTables(KINDS)
    assert.deepEqual(ours(auto.tables), ours(proc))
    assert.deepEqual(ours(iter), ours(proc))

    const A = {comm: COMMS[0], pid: a.pid}
    const B = {comm: COMMS[1], pid: b.pid}
    // One entry per (object, process) however many fds it holds, pids ascending, comm of the leader.
    assert.deepEqual(refs(iter, 'map', a.map), a.pid < b.pid ? [A, B] : [B, A], 'two holders of one map')
    assert.equal(b.shared, a.map)
    for (const [h, who] of [
      [a, A],
      [b, B],
    ] as const) {
      assert.deepEqual(refs(iter, 'prog', h.prog), [who])
      assert.deepEqual(refs(iter, 'prog', h.iterProg), [who])
      assert.deepEqual(refs(iter, 'link', h.link), [who], 'a link held as bpf_link and as bpf-link')
      assert.deepEqual(refs(iter, 'btf', h.btf), [who])
    }

    // Our own process is never listed: we hold the iterator's own fds while it runs.
    for (const t of iter.values()) for (const rs of t.values()) assert.ok(rs.every((r) => r.pid !== process.pid))
    // Only the kinds asked for.
    assert.deepEqual([...iterPidTables(['map']).keys()], ['map'])
  })

  test('the iterator leaves no program or link behind', async () => {
    const last = Math.max(0, ...objectIds('prog'))
    iterPidTables(KINDS)
    const mine = new Set(held.map((h) => h.iterProg))
    // Ids only grow: a program the call made has an id above `last`. Freed when the call returns
    // (the kernel drops a program's id when its last reference goes); polled in case a busy machine
    // defers the last put.
    const leftover = () =>
      [...objectIds('prog')]
        .filter((id) => id > last && !mine.has(id))
        .filter((id) => {
          const fd = tryOpenById('prog', id)
          return fd !== undefined && withFd(fd, (f) => progInfo(f).name === 'tailcalls_pids')
        })
    const {until} = await import('../helpers/progress.js')
    await until(() => leftover().length === 0, 'the iterator program to go', {
      everyMs: 50,
      idleMs: 10_000,
      progress: () => leftover().join(),
    })
  })

  test('unset, the choice follows the machine: the iterator once ITER_FROM_OBJECTS programs exist', () => {
    // Load programs until the machine holds the threshold (other users' count too), in this
    // process (its own fds are left out of the table), and free them again.
    const progLoad = sys().optional(
      'int bpf_prog_load(int type, const char *name, const char *license, const void *insns, size_t cnt, const void *opts)',
    )
    assert.ok(progLoad, 'libbpf has bpf_prog_load')
    const insns = Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]) // r0 = 0; exit
    const fds: number[] = []
    const auto = () =>
      withEnv({TAILCALLS_KERNEL_BTF: undefined, TAILCALLS_PIDS: undefined}, () => pidTablesFrom(['prog']))
    try {
      // Another suite on the machine may free its programs between the count and the choice: then
      // load up to the threshold again and choose again (a few rounds).
      let many: ReturnType<typeof auto> | undefined
      for (let round = 0; many?.source !== 'iter' && round < 5; round++) {
        for (let i = fds.length; i < ITER_FROM_OBJECTS && !manyObjects(['prog']); i++) {
          const fd = progLoad(BPF_PROG_TYPE.SOCKET_FILTER, 'tc_pids_many', 'GPL', insns, 2, null) as number
          assert.ok(fd >= 0, `bpf_prog_load: ${fd}`)
          fds.push(fd)
        }

        many = auto()
      }

      assert.equal(many?.source, 'iter')
      assert.deepEqual(ours(many.tables), ours(procPidTables(['prog'])))
    } finally {
      for (const fd of fds) sys().libc.close(fd)
    }
  })

  test('fall back to /proc when told to, or when the kernel has no BTF', () => {
    const expected = ours(procPidTables(KINDS))
    const cases: [Record<string, string | undefined>, string][] = [
      [{TAILCALLS_KERNEL_BTF: undefined, TAILCALLS_PIDS: 'proc'}, 'proc'],
      [{TAILCALLS_KERNEL_BTF: '/nonexistent/vmlinux', TAILCALLS_PIDS: undefined}, 'proc'],
      // iter means the iterator or an error: libbpf reads the kernel's own BTF, not ours to redirect.
      [{TAILCALLS_KERNEL_BTF: '/nonexistent/vmlinux', TAILCALLS_PIDS: 'iter'}, 'iter'],
      [{TAILCALLS_KERNEL_BTF: undefined, TAILCALLS_PIDS: 'iter'}, 'iter'],
    ]
    for (const [env, source] of cases) {
      const r = withEnv(env, () => pidTablesFrom(KINDS))
      assert.equal(r.source, source, JSON.stringify(env))
      assert.deepEqual(ours(r.tables), expected, JSON.stringify(env))
    }

    assert.throws(
      () => withEnv({TAILCALLS_PIDS: 'kallsyms'}, () => pidTablesFrom(KINDS)),
      (e: unknown) => e instanceof TailcallsError && /TAILCALLS_PIDS=kallsyms/.test(e.message),
    )
  })

  test('the CLI prints the same pids through either source', async () => {
    const [a] = held
    for (const [kind, id] of [
      ['prog', a.prog],
      ['map', a.map],
      ['link', a.link],
    ] as const) {
      const outs: unknown[] = []
      for (const how of ['iter', 'proc', undefined]) {
        const r = await runCli([kind, 'show', 'id', String(id), '--json'], {env: {TAILCALLS_PIDS: how}})
        assert.equal(r.code, 0, r.stderr)
        assert.equal(r.stderr, '')
        outs.push((JSON.parse(r.stdout) as {pids?: unknown}).pids)
      }

      assert.deepEqual(outs[0], outs[1], `${kind} show: iter and proc`)
      assert.deepEqual(outs[2], outs[0], `${kind} show: the default`)
    }

    const list = await runCli(['map', 'list', '--json'], {env: {TAILCALLS_PIDS: 'iter'}})
    assert.equal(list.code, 0, list.stderr)
    const m = (JSON.parse(list.stdout) as {id: number; pids?: PidRef[]}[]).find((x) => x.id === a.map)
    assert.equal(m?.pids?.length, 2, list.stdout)
  })

  test('a caller with CAP_BPF alone gets /proc (the iterator needs CAP_PERFMON); with it, the iterator', async () => {
    const [a, b] = held
    // `map show pinned` needs only CAP_BPF; the pin must be one uid 65534 may open.
    const pin = `${pinPrefix(0)}-map`
    chmodSync(pin, 0o666)
    const args = ['map', 'show', 'pinned', pin, '--json']
    // Loading the iterator fails with EPERM, /proc answers: the holders are root's, whose fds uid
    // 65534 may not read (EACCES, skipped), so no `pids`, and no error either.
    const bpfOnly = await runAsNobody(args, {caps: '+bpf'})
    assert.equal(bpfOnly.code, 0, bpfOnly.stderr)
    assert.equal(bpfOnly.stderr, '')
    const m = JSON.parse(bpfOnly.stdout) as {id: number; pids?: PidRef[]}
    assert.equal(m.id, a.map)
    assert.equal(m.pids, undefined)
    const forced = await runAsNobody(args, {caps: '+bpf', env: {TAILCALLS_PIDS: 'iter'}})
    assert.equal(forced.code, 3, `TAILCALLS_PIDS=iter: the iterator or an error: ${forced.stderr}`)
    // CAP_PERFMON lets it load, and it sees every process's fds, as bpftool's iterator does.
    const perfmon = await runAsNobody(args, {caps: '+bpf,+perfmon'})
    assert.equal(perfmon.code, 0, perfmon.stderr)
    assert.deepEqual(
      (JSON.parse(perfmon.stdout) as {pids?: PidRef[]}).pids?.map((r) => r.pid),
      [a.pid, b.pid].sort((x, y) => x - y),
    )
  })

  test('in a pid namespace, both give the pids that namespace numbers', async () => {
    const r = await runCli(
      [
        '--pid',
        '--fork',
        '--mount-proc',
        process.execPath,
        '--import',
        'tsx',
        join(ROOT, 'test', 'helpers', 'pids-ns-worker.ts'),
        pinPrefix(9),
      ],
      {command: 'unshare', prefix: []},
    )
    assert.equal(r.code, 0, r.stderr)
    const {
      held: h,
      iter,
      proc,
    } = JSON.parse(r.stdout) as {
      held: {pid: number}
      iter: Record<string, PidRef[]>
      proc: Record<string, PidRef[]>
    }
    // The namespace's first process is the worker (1), its holder comes soon after: a small pid
    // there, whatever the machine's pid counter says.
    assert.ok(h.pid > 1 && h.pid < 100, `the holder's pid in the namespace: ${h.pid}`)
    const expected = [{comm: 'tc-pids-ns', pid: h.pid}]
    assert.deepEqual(iter, {map: expected, prog: expected})
    assert.deepEqual(proc, iter)
  })

  test('a TAILCALLS_PIDS that is neither iter nor proc: one line, nothing printed before it', async () => {
    const r = await runCli(['map', 'list'], {env: {TAILCALLS_PIDS: 'kallsyms'}})
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stdout, '')
    assert.match(
      r.stderr,
      /^tailcalls: error: TAILCALLS_PIDS=kallsyms is not a way to find pids; set TAILCALLS_PIDS to iter or proc, or unset it\n$/,
    )
    const quiet = await runCli(['map', 'list', '--no-pids', '--json'], {env: {TAILCALLS_PIDS: 'kallsyms'}})
    assert.equal(quiet.code, 0, 'no pids, no question how to find them')
  })
})
