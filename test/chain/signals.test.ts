// Signals and crashes on the real kernel, through the real CLI.
//  - SIGINT, SIGTERM and SIGHUP in every phase of `load` (opening, loading, filling, attaching,
//    pinning, starting to stream; TAILCALLS_DEBUG_PAUSE=<phase> holds the CLI there) and while
//    streaming: a clean exit, every kernel object it held is gone.
//  - SIGKILL: a non-pinned chain is freed by the kernel and the next load works; a `load --pin`
//    killed after each single pin (and mid --force replacement) leaves no half chain at the path,
//    and `unload` / the next `load --pin` find what it left, say so and clean it.
//  - Two loads at once coexist; two `load --pin` at one path: one pins, the other refuses.
//  - A reader that goes away (`| head -n 3`) while streaming, listing or dumping: exit 0, quietly.
// The kernel ids a paused CLI holds are read from /proc/<pid>/fdinfo, which opens nothing.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, readlinkSync, rmSync} from 'node:fs'
import {constants} from 'node:os'
import {basename, join} from 'node:path'
import {after, test} from 'node:test'

import {closeFd, nextId} from '../../src/kernel/ids.js'
import {mapInfo} from '../../src/kernel/info.js'
import {sys} from '../../src/sys/ffi.js'
import {BPF_MAP_TYPE} from '../../src/sys/uapi.js'
import {BIN, collect, runCli, startCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {type CreatedIds, assertGone} from '../helpers/kernel.js'
import {until} from '../helpers/progress.js'
import {needsRoot} from '../helpers/root.js'

const BPFFS = '/sys/fs/bpf'
const folders: string[] = []
let n = 0

function pinPath() {
  const path = join(BPFFS, `tailcalls-sigtest-${process.pid}-${n++}`)
  folders.push(path)
  return path
}

/** Remove a pin folder and whatever a crash left next to it, in any state. */
async function cleanup(path) {
  if (existsSync(path)) await runCli(['unload', '--pin-path', path])
  const name = basename(path)
  for (const entry of readdirSync(BPFFS)) {
    if (entry.startsWith(`${name}-pinning-`) || entry.startsWith(`${name}-replaced-`))
      await runCli(['unload', '--pin-path', path])
  }

  for (const entry of readdirSync(BPFFS)) {
    if (entry === name || entry.startsWith(`${name}-`)) rmSync(join(BPFFS, entry), {force: true, recursive: true})
  }
}

after(async () => {
  for (const path of folders) await cleanup(path)
})

/** Kernel objects a process holds fds to: {programs, maps, link, btf: [ids]} (fdinfo opens nothing). */
function heldIds(pid) {
  const ids: CreatedIds & {btf: number[]; maps: Record<string, number>; programs: Record<string, number>} = {
    btf: [],
    link: undefined,
    maps: {},
    programs: {},
  }
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target
    let info
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
      info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8')
    } catch {
      continue
    }

    const field = (name) => Number(new RegExp(`^${name}:\\s*(\\d+)`, 'm').exec(info)?.[1])
    if (target === 'anon_inode:bpf-map') ids.maps[`fd${fd}`] = field('map_id')
    else if (target === 'anon_inode:bpf-prog') ids.programs[`fd${fd}`] = field('prog_id')
    else if (target === 'anon_inode:bpf_link') ids.link = field('link_id')
    else if (target === 'anon_inode:btf') ids.btf.push(field('btf_id'))
  }

  return ids
}

async function assertAllGone(ids) {
  await assertGone(ids)
  const alive = () => ids.btf.filter((id) => nextId('btf', id - 1) === id)
  await until(() => alive().length === 0, 'the BTF objects to go', {
    everyMs: 100,
    idleMs: 30_000,
    progress: () => alive().length,
  }).catch(() => {})
  assert.deepEqual(alive(), [], 'BTF objects left in the kernel')
}

function assertOneErrorLine(stderr, pattern) {
  const lines = stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('tailcalls: error: '))
  assert.equal(lines.length, 1, `one error line: ${stderr}`)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace')
}

/** Run tasks with at most `limit` at a time. */
async function pool<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = []
  let next = 0
  await Promise.all(
    Array.from({length: limit}, async () => {
      while (next < tasks.length) {
        const i = next++
        results[i] = await tasks[i]!()
      }
    }),
  )
  return results
}

const PHASE_WORDS = {
  attach: 'attaching prog1',
  fill: 'filling TAIL_CALL_MAP',
  load: 'loading the programs',
  open: 'opening the object',
  pin: 'pinning the chain',
  stream: 'starting to stream',
}

test(
  'SIGINT, SIGTERM and SIGHUP in every phase of load: exit 128+signo, nothing left in the kernel',
  needsRoot,
  async () => {
    const cases: {phase: string; signal: NodeJS.Signals}[] = []
    for (const phase of ['open', 'load', 'fill', 'attach', 'stream', 'pin']) {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) cases.push({phase, signal})
    }

    await pool(
      cases.map(({phase, signal}) => async () => {
        const path = phase === 'pin' ? pinPath() : undefined
        const args = ['load', ...(path ? ['--pin', '--pin-path', path] : [])]
        const cli = startCli(args, {env: {TAILCALLS_DEBUG_PAUSE: phase, TAILCALLS_DEBUG_PAUSE_MS: '60000'}})
        await cli.waitFor(
          (s) => s.stderrLines.some((l) => l.startsWith(`Paused before ${phase}`)),
          `the pause before ${phase}`,
        )
        const ids = heldIds(cli.child.pid)
        if (['fill', 'attach', 'stream', 'pin'].includes(phase))
          assert.ok(Object.keys(ids.programs).length >= 4, `${phase}: programs loaded`)
        if (['stream', 'pin'].includes(phase)) assert.notEqual(ids.link, undefined, `${phase}: prog1 attached`)
        const r = await cli.stop(signal)
        assert.equal(r.code, 128 + constants.signals[signal], `${phase}/${signal}: ${r.stderr}`)
        assertOneErrorLine(
          r.stderr,
          new RegExp(`interrupted by ${signal} before ${PHASE_WORDS[phase]}; nothing was left in the kernel`),
        )
        await assertAllGone(ids)
        if (path)
          assert.deepEqual(
            readdirSync(BPFFS).filter((e) => e.startsWith(basename(path))),
            [],
            'nothing pinned',
          )
      }),
      3,
    )
  },
)

test('SIGINT, SIGTERM and SIGHUP while streaming: summary, exit 0, nothing left', needsRoot, async () => {
  await pool(
    (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((signal) => async () => {
      const cli = startCli(['load', '--json'])
      await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'streaming')
      const ids = heldIds(cli.child.pid)
      await execLoop(20)
      const r = await cli.stop(signal)
      assert.equal(r.code, 0, r.stderr)
      const summary = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"summary"'))!).summary
      assert.equal(summary.stop_reason, 'signal')
      assert.equal(summary.signal, signal)
      assert.doesNotMatch(r.stderr, /error/)
      await assertAllGone(ids)
    }),
    3,
  )
})

test('SIGKILL of a non-pinned load: the kernel frees everything and the next load works', needsRoot, async () => {
  const cli = startCli(['load', '--json'])
  await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'streaming')
  const ids = heldIds(cli.child.pid)
  await execLoop(10)
  const r = await cli.stop('SIGKILL')
  assert.equal(r.signal, 'SIGKILL')
  await assertAllGone(ids)

  const next = await runCli(['load', '--json', '--duration', '1'])
  assert.equal(next.code, 0, next.stderr)
  await assertAllGone({btf: [], ...JSON.parse(next.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded})
})

/** The objects pinned in a folder, by id (bpftool opens pins by path, which is safe). */
function leftoverFolders(path) {
  return readdirSync(BPFFS).filter(
    (e) => e.startsWith(`${basename(path)}-pinning-`) || e.startsWith(`${basename(path)}-replaced-`),
  )
}

test(
  'SIGKILL after each single pin of load --pin: never a half chain at the path; unload or the next load --pin clean up and say so',
  needsRoot,
  async () => {
    const PINS = [
      'TAIL_CALL_MAP',
      'PER_CPU_MAP',
      'CHAIN_STATS',
      'EVENTS',
      'prog1',
      'prog2',
      'prog3',
      'prog3_v2',
      'prog1_link',
    ]
    await pool(
      PINS.map((pin, i) => async () => {
        const path = pinPath()
        try {
          const crash = await runCli(['load', '--pin', '--pin-path', path, '--json'], {
            env: {TAILCALLS_TEST_CRASH_AFTER_PIN: pin},
          })
          assert.equal(crash.signal, 'SIGKILL', `killed after pinning ${pin}: ${crash.stderr}`)
          const ids = JSON.parse(crash.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
          assert.equal(existsSync(path), false, `after ${pin}: no chain at the path`)
          const left = leftoverFolders(path)
          assert.equal(left.length, 1, `after ${pin}: one unfinished pinning`)
          assert.equal(readdirSync(join(BPFFS, left[0])).length, i + 1, `after ${pin}: ${i + 1} pins in it`)

          if (i % 2 === 0) {
            const u = await runCli(['unload', '--pin-path', path])
            assert.equal(u.code, 0, u.stderr)
            assert.match(
              u.stdout,
              new RegExp(`Removed an unfinished pinning left by a crashed run \\(pid \\d+\\): ${join(BPFFS, left[0])}`),
            )
            assert.match(u.stdout, /No complete chain was pinned at/)
          } else {
            const again = await runCli(['load', '--pin', '--pin-path', path])
            assert.equal(again.code, 0, again.stderr)
            assert.match(
              again.stdout,
              new RegExp(`Removed an unfinished pinning left by a crashed run \\(pid \\d+\\): ${join(BPFFS, left[0])}`),
            )
            assert.match(again.stdout, /Pinned the chain at/)
            assert.equal(readdirSync(path).length, 9, 'the new chain is complete')
            const u = await runCli(['unload', '--pin-path', path])
            assert.equal(u.code, 0, u.stderr)
          }

          assert.deepEqual(leftoverFolders(path), [])
          assert.equal(existsSync(path), false)
          await assertGone(ids)
        } finally {
          await cleanup(path)
        }
      }),
      3,
    )
  },
)

test(
  'SIGKILL of load --pin --force mid-replacement: the path holds one whole chain or none, and unload cleans the rest',
  needsRoot,
  async () => {
    const path = pinPath()
    try {
      const first = await runCli(['load', '--pin', '--pin-path', path, '--json'])
      assert.equal(first.code, 0, first.stderr)
      const firstIds = JSON.parse(first.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
      const crash = await runCli(['load', '--pin', '--force', '--pin-path', path, '--json'], {
        env: {TAILCALLS_TEST_CRASH_AFTER_PIN: 'moved-aside'},
      })
      assert.equal(crash.signal, 'SIGKILL', crash.stderr)
      const ids = JSON.parse(crash.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
      // The old chain was moved aside, the new one not yet renamed into place: no chain at the path.
      assert.equal(existsSync(path), false)
      assert.equal(leftoverFolders(path).length, 2)
      const u = await runCli(['unload', '--pin-path', path, '--json'])
      assert.equal(u.code, 0, u.stderr)
      const report = JSON.parse(u.stdout)
      assert.equal(report.cleaned.length, 2, 'both the moved-aside and the unfinished folder')
      assert.deepEqual(leftoverFolders(path), [])
      await assertGone(ids)
      await assertGone(firstIds)
    } finally {
      await cleanup(path)
    }
  },
)

test(
  'two loads at once coexist; two load --pin at one path: one pins, the other refuses; nothing leaks',
  needsRoot,
  async () => {
    const a = startCli(['load', '--json'])
    const b = startCli(['load', '--json'])
    await Promise.all([a, b].map((c) => c.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'streaming')))
    const tgids = await execLoop(10)
    for (const c of [a, b]) {
      await c.waitFor(
        (s) => tgids.every((t) => s.stdoutLines.filter((l) => l.includes(`"tgid":${t},`)).length === 3),
        'both see every exec',
      )
    }

    const ids = [a, b].map((c) => JSON.parse(c.state.stderrLines.find((l) => l.startsWith('{"loaded"'))!).loaded)
    assert.notEqual(ids[0].maps.EVENTS, ids[1].maps.EVENTS)
    const [ra, rb] = await Promise.all([a.stop('SIGINT'), b.stop('SIGTERM')])
    assert.equal(ra.code, 0, ra.stderr)
    assert.equal(rb.code, 0, rb.stderr)
    for (const i of ids) await assertGone(i)

    const path = pinPath()
    try {
      const results = await Promise.all([0, 1].map(() => runCli(['load', '--pin', '--pin-path', path, '--json'])))
      const winners = results.filter((r) => r.code === 0)
      const losers = results.filter((r) => r.code !== 0)
      assert.equal(winners.length, 1, results.map((r) => r.stderr).join('\n'))
      assert.equal(losers[0].code, 9, losers[0].stderr)
      assertOneErrorLine(losers[0].stderr, /(a pinned chain already exists at|another chain was pinned at) /)
      const loserIds = losers[0].stderr.split('\n').find((l) => l.startsWith('{"loaded"'))
      if (loserIds) await assertGone(JSON.parse(loserIds).loaded)
      assert.equal(readdirSync(path).length, 9)
      assert.deepEqual(leftoverFolders(path), [])
      const winnerIds = JSON.parse(winners[0].stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
      const u = await runCli(['unload', '--pin-path', path])
      assert.equal(u.code, 0, u.stderr)
      await assertGone(winnerIds)
    } finally {
      await cleanup(path)
    }
  },
)

/** `bash -c '<cli> ARGS | head -n 3'`: resolves {code of the CLI, stdout (head's), stderr (the CLI's)}. */
function throughHead(args, {head = 'head -n 3'} = {}) {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
  const err = `/tmp/tailcalls-head-${process.pid}-${n++}.err`
  const child = spawn(
    'bash',
    ['-c', `${quoted} 2>"$ERR" | ${head}; echo "cli=\${PIPESTATUS[0]}" >&2; cat "$ERR" >&2`],
    {
      env: {...process.env, ERR: err, NO_COLOR: '1'},
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  return collect(child).then(({stderr, stdout}) => {
    rmSync(err, {force: true})
    return {code: Number(/cli=(\d+)/.exec(stderr)?.[1]), stderr, stdout}
  })
}

test(
  'a reader that goes away (| head -n 3): load, prog list, map list and map dump exit 0 quietly; load detaches',
  needsRoot,
  async () => {
    // load: head exits after 3 event lines; the next write fails (EPIPE) and load stops.
    const storm = execLoop(400)
    const r = await throughHead(['load', '--json', '--duration', '60'])
    await storm
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim().split('\n').length, 3)
    assert.doesNotMatch(r.stderr, /error|\n\s+at /i)
    const loaded = r.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))
    assert.match(r.stderr, /"stop_reason":"closed-output"/)
    await assertGone(JSON.parse(loaded!).loaded)

    // Lists that fit in the pipe: a reader that is already gone (`| head -c 0`) makes the first write fail.
    for (const args of [
      ['prog', 'list'],
      ['prog', 'list', '--json'],
      ['map', 'list'],
      ['map', 'list', '--json'],
      ['link', 'list'],
      ['link', 'list', '--json'],
    ]) {
      const out = await throughHead(args, {head: 'head -c 0'})
      assert.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`)
      assert.doesNotMatch(out.stderr, /error|\n\s+at /i, args.join(' '))
    }

    // A dump far larger than the pipe: head takes 3 lines and leaves mid-stream.
    const {libbpf} = sys()
    const fd = libbpf.bpf_map_create(BPF_MAP_TYPE.ARRAY, 'tailcalls_big', 4, 64, 20_000, null)
    assert.ok(fd >= 0, `bpf_map_create: ${fd}`)
    try {
      const id = mapInfo(fd).id
      // The text dump is one line per entry; the JSON one is a single array (cut after 4 KiB).
      for (const [args, head] of [
        [['map', 'dump', 'id', String(id)], 'head -n 3'],
        [['map', 'dump', 'id', String(id), '--json'], 'head -c 4096'],
      ] as [string[], string][]) {
        const out = await throughHead(args, {head})
        assert.equal(out.code, 0, `${args.join(' ')}: ${out.stderr}`)
        assert.ok(out.stdout.length > 0 && out.stdout.length <= 65536, args.join(' '))
        assert.doesNotMatch(out.stderr, /error|\n\s+at /i, args.join(' '))
      }
    } finally {
      closeFd(fd)
    }
  },
)
