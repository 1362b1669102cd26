// Pinned chains on the real kernel, through the real CLI: load --pin outlives its process and
// keeps firing, `events` streams it, `unload` frees exactly it; double pins are refused,
// --force replaces, pin paths are confined to bpffs, a crash mid-pinning is cleaned up.
// Every test uses its own pin folder (/sys/fs/bpf/tailcalls-test-<pid>-<n>) and removes it,
// and anything a crash left next to it, even when the test fails.
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, unlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {basename, dirname, join} from 'node:path'
import {after, test} from 'node:test'

import {EXIT} from '../../src/errors.js'
import {BIN, runCli, startCli} from '../helpers/cli.js'
import {execLoop} from '../helpers/exec.js'
import {assertGone, stillAlive} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

const BPFFS = '/sys/fs/bpf'
const folders: string[] = []
let n = 0

/** A fresh pin folder path for this test (not created). */
function pinPath() {
  const path = join(BPFFS, `tailcalls-test-${process.pid}-${n++}`)
  folders.push(path)
  return path
}

/** Remove a pin folder and its crash leftovers, whatever state they are in. */
async function cleanup(path) {
  if (existsSync(path)) await runCli(['unload', '--pin-path', path])
  const name = basename(path)
  for (const entry of existsSync(BPFFS) ? readdirSync(BPFFS) : []) {
    if (entry === name || entry.startsWith(`${name}-pinning-`) || entry.startsWith(`${name}-replaced-`)) {
      rmSync(join(BPFFS, entry), {force: true, recursive: true})
    }
  }
}

after(async () => {
  for (const path of folders) await cleanup(path)
})

/** One error line on stderr, with the exit code. */
function assertError(result, code, pattern) {
  assert.equal(result.code, code, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr
    .trimEnd()
    .split('\n')
    .filter((l) => l.startsWith('tailcalls: error: '))
  assert.equal(lines.length, 1, `one error line: ${result.stderr}`)
  assert.match(lines[0], pattern)
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace')
}

async function pin(path: string, extra: string[] = []) {
  const r = await runCli(['load', '--pin', '--pin-path', path, '--json', ...extra])
  assert.equal(r.code, 0, `load --pin: ${r.stderr}`)
  const ids = JSON.parse(r.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
  return {ids, out: JSON.parse(r.stdout)}
}

test(
  'a pinned chain outlives its process, streams through `events`, and `unload` frees exactly it',
  needsRoot,
  async () => {
    const path = pinPath()
    try {
      const {ids, out} = await pin(path)
      assert.equal(out.pinned.path, path)
      assert.deepEqual(out.pinned.objects.map((o) => o.pin).sort(), [
        'CHAIN_STATS',
        'EVENTS',
        'PER_CPU_MAP',
        'TAIL_CALL_MAP',
        'prog1',
        'prog1_link',
        'prog2',
        'prog3',
        'prog3_v2',
      ])
      assert.equal(out.pinned.objects.find((o) => o.pin === 'prog1_link').id, ids.link)
      assert.deepEqual(readdirSync(path).sort(), out.pinned.objects.map((o) => o.pin).sort())
      // The loading process has exited: everything is still in the kernel.
      assert.deepEqual(stillAlive(ids).length, 4 + 4 + 1, 'all programs, maps and the link outlive the process')

      // The inspection commands select the pins and report where objects are pinned (-f).
      const prog = await runCli(['prog', 'show', 'pinned', join(path, 'prog1'), '--json', '-f'])
      assert.equal(prog.code, 0, prog.stderr)
      assert.equal(JSON.parse(prog.stdout).id, ids.programs.prog1)
      assert.deepEqual(JSON.parse(prog.stdout).pinned, [join(path, 'prog1')])
      const map = await runCli(['map', 'show', 'pinned', join(path, 'TAIL_CALL_MAP'), '--json', '-f'])
      assert.equal(JSON.parse(map.stdout).id, ids.maps.TAIL_CALL_MAP)
      assert.deepEqual(JSON.parse(map.stdout).pinned, [join(path, 'TAIL_CALL_MAP')])
      const link = await runCli(['link', 'show', 'pinned', join(path, 'prog1_link'), '--json', '-f'])
      const l = JSON.parse(link.stdout)
      assert.deepEqual(
        [l.id, l.prog_id, l.tp_name, l.pinned],
        [ids.link, ids.programs.prog1, 'sched_process_exec', [join(path, 'prog1_link')]],
      )
      const dump = await runCli(['map', 'dump', 'pinned', join(path, 'TAIL_CALL_MAP'), '--json'])
      assert.deepEqual(
        JSON.parse(dump.stdout).map((e) => e.formatted),
        [
          {key: 0, value: ids.programs.prog2},
          {key: 1, value: ids.programs.prog3},
        ],
        'the pinned prog array stays filled after the loader exited',
      )

      const events = startCli(['events', '--pin-path', path, '--json', '--since-now', '--duration', '120'])
      try {
        await events.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'events to start')
        const tgids = await execLoop(50)
        const want = new Set(tgids)
        await events.waitFor((s) => {
          const seen = new Map()
          for (const l of s.stdoutLines) {
            if (!l.startsWith('{')) continue
            const e = JSON.parse(l)
            if (want.has(e.tgid)) seen.set(e.tgid, [...(seen.get(e.tgid) ?? []), e.prog])
          }

          return tgids.every((t) => seen.get(t)?.join() === 'prog1,prog2,prog3')
        }, 'three stages for every exec')
      } finally {
        const result = await events.stop('SIGINT')
        assert.equal(result.code, 0, result.stderr)
        const summary = JSON.parse(result.stderr.split('\n').find((l) => l.startsWith('{"summary"'))!).summary
        assert.deepEqual(summary.tail_call_failed, [0, 0])
      }

      // Stopping the reader left the chain running.
      assert.equal(stillAlive(ids).length, 9)
      const unload = await runCli(['unload', '--pin-path', path, '--json'])
      assert.equal(unload.code, 0, unload.stderr)
      const report = JSON.parse(unload.stdout)
      assert.equal(report.unpinned.objects.length, 9)
      assert.deepEqual(report.still_held, [])
      assert.equal(existsSync(path), false, 'the pin folder is gone')
      await assertGone(ids)

      const again = await runCli(['unload', '--pin-path', path])
      assertError(again, EXIT.notFound, /no pinned chain at/)
    } finally {
      await cleanup(path)
    }
  },
)

test('a second pin at the same path is refused; --force replaces the first', needsRoot, async () => {
  const path = pinPath()
  try {
    const first = await pin(path)
    const refused = await runCli(['load', '--pin', '--pin-path', path])
    assertError(refused, EXIT.conflict, /a pinned chain already exists at .*--force/)
    assert.doesNotMatch(refused.stderr, /Loaded|"loaded"/, 'refused before anything was loaded')
    assert.equal(stillAlive(first.ids).length, 9, 'the first chain is untouched')

    const second = await pin(path, ['--force'])
    assert.deepEqual(
      second.out.replaced.objects.map((o) => o.id).sort(),
      Object.values(first.out.pinned.objects.map((o) => o.id)).sort(),
    )
    await assertGone(first.ids)
    assert.equal(stillAlive(second.ids).length, 9)
    assert.deepEqual(
      readdirSync(dirname(path)).filter((e) => e.startsWith(`${basename(path)}-`)),
      [],
      'no temporary folder left',
    )

    const unload = await runCli(['unload', '--pin-path', path])
    assert.equal(unload.code, 0, unload.stderr)
    await assertGone(second.ids)
  } finally {
    await cleanup(path)
  }
})

test(
  'pin paths are confined to bpffs: outside, `..`, symlinks and foreign names are refused before anything is written',
  needsRoot,
  async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'tailcalls-pin-'))
    const link = pinPath()
    try {
      const outside = join(scratch, 'tailcalls')
      assertError(await runCli(['load', '--pin', '--pin-path', outside]), EXIT.usage, /is not on a bpf filesystem/)
      assert.equal(existsSync(outside), false)

      assertError(
        await runCli(['load', '--pin', '--pin-path', `${BPFFS}/../../${scratch}/tailcalls`]),
        EXIT.usage,
        /contains '\.\.'/,
      )
      assertError(
        await runCli(['load', '--pin', '--pin-path', `${BPFFS}/tailcalls/../x-tailcalls`]),
        EXIT.usage,
        /contains '\.\.'/,
      )
      assertError(
        await runCli(['load', '--pin', '--pin-path', `${BPFFS}/mychain`]),
        EXIT.usage,
        /must contain 'tailcalls'/,
      )
      assertError(
        await runCli(['load', '--pin', '--pin-path', `${BPFFS}/tailcalls.v2`]),
        EXIT.usage,
        /must contain 'tailcalls'/,
      )

      // A symlink in bpffs pointing out of it: as a parent, and as the folder itself.
      symlinkSync(scratch, link)
      assertError(
        await runCli(['load', '--pin', '--pin-path', join(link, 'tailcalls')]),
        EXIT.usage,
        new RegExp(`resolves to ${scratch}`),
      )
      assert.deepEqual(readdirSync(scratch), [], 'nothing written through the symlink')
      assertError(await runCli(['load', '--pin', '--pin-path', link]), EXIT.usage, /is a symbolic link/)
      assertError(await runCli(['unload', '--pin-path', link]), EXIT.usage, /is a symbolic link/)
      assertError(await runCli(['events', '--pin-path', outside]), EXIT.usage, /is not on a bpf filesystem/)
      assertError(await runCli(['stats', '--pin-path', outside]), EXIT.usage, /is not on a bpf filesystem/)
      assertError(
        await runCli(['load', '--pin', '--pin-path', `${BPFFS}/no-such-dir/tailcalls`]),
        EXIT.notFound,
        /does not exist/,
      )
    } finally {
      if (existsSync(link)) unlinkSync(link)
      rmSync(scratch, {force: true, recursive: true})
    }
  },
)

test(
  'a crash mid-pinning leaves no chain at the path; unload and the next load --pin clean up what it left',
  needsRoot,
  async () => {
    const path = pinPath()
    try {
      for (const [round, cleaner] of [
        [0, 'unload'],
        [1, 'load'],
      ]) {
        const crash = await runCli(['load', '--pin', '--pin-path', path, '--json'], {
          env: {TAILCALLS_TEST_CRASH_AFTER_PIN: round === 0 ? 'prog2' : 'prog3_v2'},
        })
        assert.equal(crash.signal, 'SIGKILL', `killed mid-pinning: ${crash.stderr}`)
        const ids = JSON.parse(crash.stderr.split('\n').find((l) => l.startsWith('{"loaded"'))!).loaded
        assert.equal(existsSync(path), false, 'the final folder never appeared')
        const leftovers = readdirSync(BPFFS).filter((e) => e.startsWith(`${basename(path)}-pinning-`))
        assert.equal(leftovers.length, 1, 'one unfinished pinning folder')
        assert.ok(stillAlive(ids).length > 0, 'the pins of the unfinished folder hold objects')

        if (cleaner === 'unload') {
          const r = await runCli(['unload', '--pin-path', path, '--json'])
          assert.equal(r.code, 0, r.stderr)
          const report = JSON.parse(r.stdout)
          assert.equal(report.unpinned, null)
          assert.equal(report.cleaned.length, 1)
          assert.equal(report.cleaned[0].path, join(BPFFS, leftovers[0]))
        } else {
          const r = await pin(path)
          assert.equal(r.out.cleaned.length, 1)
          assert.equal(r.out.cleaned[0].path, join(BPFFS, leftovers[0]))
          const u = await runCli(['unload', '--pin-path', path])
          assert.equal(u.code, 0, u.stderr)
          await assertGone(r.ids)
        }

        assert.deepEqual(
          readdirSync(BPFFS).filter((e) => e.startsWith(`${basename(path)}`)),
          [],
        )
        await assertGone(ids)
      }
    } finally {
      await cleanup(path)
    }
  },
)

test('unload refuses a folder holding anything a chain does not pin, and removes nothing', needsRoot, async () => {
  const path = pinPath()
  try {
    const {ids} = await pin(path)
    mkdirSync(join(path, 'extra'))
    const r = await runCli(['unload', '--pin-path', path])
    assertError(r, EXIT.conflict, /not a tailcalls chain: extra \(a folder\)/)
    assert.equal(stillAlive(ids).length, 9, 'nothing was unpinned')
    assert.equal(readdirSync(path).length, 10)
    assertError(await runCli(['load', '--pin', '--force', '--pin-path', path]), EXIT.conflict, /not a tailcalls chain/)
    rmSync(join(path, 'extra'), {recursive: true})
    assert.equal((await runCli(['unload', '--pin-path', path])).code, 0)
    await assertGone(ids)
  } finally {
    await cleanup(path)
  }
})

test('events and unload on a missing chain, --force without --pin: one line, distinct codes', needsRoot, async () => {
  const path = pinPath()
  assertError(await runCli(['events', '--pin-path', path]), EXIT.notFound, /no pinned chain at/)
  assertError(await runCli(['events', '--pin-path', path, '--json']), EXIT.notFound, /no pinned chain at/)
  assertError(await runCli(['unload', '--pin-path', path]), EXIT.notFound, /no pinned chain at/)
  assertError(await runCli(['load', '--force']), EXIT.usage, /--force only applies to a pinned chain/)
})

test('load --pin mounts bpffs at /sys/fs/bpf when it is not (in a private mount namespace)', needsRoot, async () => {
  // The namespace's own bpffs disappears with it: nothing can outlive the test.
  const path = `${BPFFS}/tailcalls-test-mnt-${process.pid}`
  const script = `umount ${BPFFS} && stat -f -c %T ${BPFFS} && "$0" "$1" load --pin --pin-path ${path} --json && stat -f -c %T ${BPFFS} && "$0" "$1" unload --pin-path ${path} --json`
  const r = await runCli([], {
    command: 'unshare',
    prefix: ['--mount', '--propagation', 'private', 'sh', '-c', script, process.execPath, BIN],
  })
  assert.equal(r.code, 0, r.stderr)
  const [before, pinned, after, unloaded] = r.stdout.trimEnd().split('\n')
  assert.equal(before, 'sysfs')
  assert.equal(JSON.parse(pinned).mounted_bpffs, true)
  assert.equal(after, 'bpf_fs')
  const report = JSON.parse(unloaded)
  assert.equal(report.unpinned.objects.length, 9)
  const ids = {link: report.unpinned.objects.find((o) => o.kind === 'link').id, maps: {}, programs: {}}
  for (const o of report.unpinned.objects)
    if (o.kind !== 'link') ids[o.kind === 'map' ? 'maps' : 'programs'][o.pin] = o.id
  await assertGone(ids)
})

test('load --pin --follow streams and leaves the chain pinned', needsRoot, async () => {
  const path = pinPath()
  try {
    const cli = startCli(['load', '--pin', '--pin-path', path, '--follow', '--json'])
    const loaded = await cli.waitFor((s) => s.stderrLines.find((l) => l.startsWith('{"loaded"')), 'loaded')
    const ids = JSON.parse(loaded).loaded
    await cli.waitFor((s) => s.stderrLines.includes('Waiting for Ctrl-C...'), 'streaming')
    assert.ok(
      cli.state.stderrLines.some((l) => l.startsWith('{"pinned"') || l.includes('"pinned":')),
      'a pinned status line',
    )
    const tgids = await execLoop(10)
    await cli.waitFor(
      (s) => tgids.every((t) => s.stdoutLines.some((l) => l.includes(`"tgid":${t},`) && l.includes('"prog3"'))),
      'events',
    )
    const end = await cli.stop('SIGINT')
    assert.equal(end.code, 0, end.stderr)
    assert.match(end.stderr, /\{"summary"/)
    assert.match(end.stderr, /Exiting\.\.\./)
    assert.equal(stillAlive(ids).length, 9, 'still pinned after the streaming process exited')
    assert.equal((await runCli(['unload', '--pin-path', path])).code, 0)
    await assertGone(ids)
  } finally {
    await cleanup(path)
  }
})

test('--help of load, unload, events, stats and doctor has examples', needsRoot, async () => {
  for (const cmd of ['load', 'unload', 'events', 'stats', 'doctor']) {
    const r = await runCli([cmd, '--help'])
    assert.equal(r.code, 0)
    assert.match(r.stdout, /EXAMPLES/, `${cmd} --help`)
  }
})
