// Only the exporter pays for prom-client: `prog list` (and every other command) starts without
// loading it. A preload script lists the npm packages a run loaded; the exporter itself, after
// one scrape, must show prom-client (so the probe does see it when it is loaded).
import assert from 'node:assert/strict'
import {join} from 'node:path'
import {test} from 'node:test'

import {ROOT, runCli, startCli} from '../helpers/cli.js'
import {freePort, scrape} from './helpers.js'

const PRELOAD = join(ROOT, 'test/exporter/fixtures/loaded-modules.cjs')

function loaded(stderr: string): string[] {
  const line = stderr.split('\n').find((l) => l.startsWith('LOADED-PACKAGES '))
  assert.ok(line, `the preload reported: ${stderr.slice(-500)}`)
  return JSON.parse(line.slice('LOADED-PACKAGES '.length))
}

test('prog list, map list and graph do not load prom-client, bcryptjs or yaml', async () => {
  for (const args of [
    ['prog', 'list', '--json'],
    ['map', 'list'],
    ['graph', '--json'],
  ]) {
    const r = await runCli(args, {env: {NODE_OPTIONS: `--require ${PRELOAD}`}})
    // The whole-kernel graph exits 16 when some chain in the kernel (anyone's) has an error finding.
    const errorFindings = args[0] === 'graph' && r.code === 16
    assert.ok(r.code === 0 || errorFindings, `exit ${r.code}: ${r.stderr}`)
    if (errorFindings) assert.ok(JSON.parse(r.stdout).findings.some((f) => f.severity === 'error'))
    const pkgs = loaded(r.stderr)
    for (const p of ['prom-client', 'bcryptjs', 'yaml']) assert.ok(!pkgs.includes(p), `${args.join(' ')} loaded ${p}`)
  }
})

test('the exporter loads prom-client on its first scrape', async () => {
  const port = await freePort()
  const cli = startCli(['exporter', '--listen', `127.0.0.1:${port}`], {env: {NODE_OPTIONS: `--require ${PRELOAD}`}})
  try {
    await cli.waitFor((s) => s.stderr.includes('Serving http://'), 'the exporter to listen')
    const r = await scrape(port)
    assert.equal(r.status, 200)
    assert.match(r.body, /^tailcalls_build_info\{/m)
  } finally {
    const end = await cli.stop('SIGTERM')
    assert.equal(end.code, 0, end.stderr)
    assert.ok(loaded(end.stderr).includes('prom-client'))
  }
})
