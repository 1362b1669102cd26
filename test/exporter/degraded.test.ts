// A scrape whose syscalls fail still serves the rest: the exporter run without privileges (uid
// 65534, no capabilities) cannot list BPF objects, says so at start, and every scrape answers 200
// with tailcalls_scrape_error{operation="snapshot"} and its own health. And a pinned chain is
// found and named by its pin folder (--pin-path).
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {mkdtempSync, rmSync, chmodSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'

import {collect, runCli} from '../helpers/cli.js'
import {nobodyTree} from '../helpers/nobody.js'
import {until} from '../helpers/progress.js'
import {freePort, sample, scrape, startExporter} from './helpers.js'

test('without privileges a scrape reports the failed operation and serves the rest', async () => {
  const root = nobodyTree()
  const home = mkdtempSync(join(tmpdir(), 'tailcalls-exp-home-'))
  chmodSync(home, 0o777)
  const port = await freePort()
  const child = spawn(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      process.execPath,
      join(root, 'bin/run.js'),
      'exporter',
      '--listen',
      `127.0.0.1:${port}`,
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        HOME: home,
        NO_COLOR: '1',
        XDG_CACHE_HOME: home,
        XDG_CONFIG_HOME: home,
        XDG_DATA_HOME: home,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    },
  )
  const done = collect(child)
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  try {
    await until(() => stderr.includes('Serving http://'), 'the unprivileged exporter to listen', {
      progress: () => stderr.length,
    })
    assert.match(stderr, /warning: without CAP_SYS_ADMIN/)
    for (let i = 0; i < 2; i++) {
      const r = await scrape(port)
      assert.equal(r.status, 200)
      assert.equal(sample(r.body, 'tailcalls_scrape_error', {operation: 'snapshot'}), 1)
      assert.equal(sample(r.body, 'tailcalls_scrape_errors_total', {operation: 'snapshot'}), i + 1)
      assert.equal(sample(r.body, 'tailcalls_build_info'), 1)
    }

    assert.match(stderr, /scrape: snapshot failed: .*EPERM/)
    assert.equal(stderr.split('\n').filter((l) => l.startsWith('scrape:')).length, 1, 'the same failure is logged once')
  } finally {
    child.kill('SIGTERM')
    const end = await done
    rmSync(home, {force: true, recursive: true})
    assert.equal(end.code, 0, end.stderr)
  }
})

test('a pinned chain is named by its pin folder', async () => {
  const pin = `/sys/fs/bpf/tailcalls-exporter-${process.pid}`
  const load = await runCli(['load', '--pin', '--pin-path', pin])
  assert.equal(load.code, 0, load.stderr)
  try {
    const exporter = await startExporter(['--pin-path', pin])
    try {
      const r = await scrape(exporter.port)
      const line = r.body
        .split('\n')
        .find((l) => l.startsWith('tailcalls_chain_info{') && l.includes(`pin_path="${pin}"`))
      assert.ok(line, 'tailcalls_chain_info names the pin folder')
      const chain = /chain="(\d+)"/.exec(line)![1]
      assert.ok(sample(r.body, 'tailcalls_stage_runs_total', {chain, stage: 'prog1'})! >= 0)
    } finally {
      const end = await exporter.stop()
      assert.equal(end.code, 0, end.stderr)
    }
  } finally {
    const un = await runCli(['unload', '--pin-path', pin])
    assert.equal(un.code, 0, un.stderr)
  }
})
