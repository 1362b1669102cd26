// TLS and basic auth from --web-config (the exporter-toolkit format): without credentials, with
// wrong ones and over plain HTTP a scrape is refused; Prometheus with the right ones scrapes it
// (up == 1) while a Prometheus job without them gets up == 0. Bad web configs are refused at
// start with one line.
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {test} from 'node:test'

import bcrypt from 'bcryptjs'

import {runCli} from '../helpers/cli.js'
import {num, sample, scrape, startExporter, startPrometheus} from './helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'tailcalls-webcfg-'))
process.on('exit', () => rmSync(dir, {force: true, recursive: true}))

function certificate() {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      join(dir, 'server.key'),
      '-out',
      join(dir, 'server.crt'),
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    {stdio: 'ignore'},
  )
}

test('TLS + basic auth: refused without the right credentials, Prometheus with them scrapes', async () => {
  certificate()
  const password = 'correct horse battery staple'
  writeFileSync(
    join(dir, 'web.yml'),
    `tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n  min_version: TLS12\nbasic_auth_users:\n  prometheus: ${bcrypt.hashSync(password, 10)}\n`,
  )
  const ca = readFileSync(join(dir, 'server.crt'))
  const exporter = await startExporter(['--web-config', join(dir, 'web.yml')])
  let prom
  try {
    assert.match(exporter.cli.state.stderr, /Serving https:\/\/127\.0\.0\.1:\d+\/metrics.*basic auth/)
    const none = await scrape(exporter.port, {tls: {ca}})
    assert.equal(none.status, 401)
    assert.match(String(none.headers['www-authenticate']), /^Basic /)
    assert.doesNotMatch(none.body, /tailcalls_/)
    assert.equal((await scrape(exporter.port, {auth: 'prometheus:wrong', tls: {ca}})).status, 401)
    assert.equal((await scrape(exporter.port, {auth: `nobody:${password}`, tls: {ca}})).status, 401)
    await assert.rejects(scrape(exporter.port), 'plain HTTP to the TLS port is not served')
    assert.equal(
      (await scrape(exporter.port, {path: '/healthz', tls: {ca}})).status,
      200,
      'the health path needs no credentials',
    )
    const ok = await scrape(exporter.port, {auth: `prometheus:${password}`, tls: {ca}})
    assert.equal(ok.status, 200)
    assert.ok(sample(ok.body, 'tailcalls_http_requests_refused_total', {reason: 'unauthorized'})! >= 3)

    prom = await startPrometheus(
      [
        `  - job_name: with-credentials\n    scheme: https\n    tls_config:\n      ca_file: ${join(dir, 'server.crt')}\n      server_name: localhost\n    basic_auth:\n      username: prometheus\n      password: '${password}'\n    static_configs:\n      - targets: ['127.0.0.1:${exporter.port}']\n`,
        `  - job_name: without-credentials\n    scheme: https\n    tls_config:\n      ca_file: ${join(dir, 'server.crt')}\n      server_name: localhost\n    static_configs:\n      - targets: ['127.0.0.1:${exporter.port}']\n`,
      ].join(''),
    )
    await prom.waitFor('up{job="with-credentials"}', (r) => num(r) === 1, 'the authenticated job up')
    await prom.waitFor('up{job="without-credentials"}', (r) => r.length === 1, 'the anonymous job scraped')
    assert.equal(num(await prom.query('up{job="without-credentials"}')), 0)
    await prom.waitFor(
      'tailcalls_build_info{job="with-credentials"}',
      (r) => r.length === 1,
      'metrics through TLS + auth',
    )
  } finally {
    await prom?.stop()
    const end = await exporter.stop()
    assert.equal(end.code, 0, end.stderr)
  }
})

test('bad web configs are refused at start with one line', async () => {
  const cases: Array<[string, string, number, RegExp]> = [
    ['typo.yml', 'basic_auth_user:\n  a: b\n', 2, /unknown or unsupported key 'basic_auth_user'/],
    ['plain.yml', 'basic_auth_users:\n  prometheus: hunter2\n', 2, /basic_auth_users\.prometheus is not a bcrypt hash/],
    ['nokey.yml', 'tls_server_config:\n  cert_file: server.crt\n', 2, /needs cert_file and key_file/],
    ['notyaml.yml', 'basic_auth_users: [\n', 2, /not valid YAML/],
  ]
  for (const [file, text, code, message] of cases) {
    writeFileSync(join(dir, file), text)
    const r = await runCli(['exporter', '--listen', '127.0.0.1:0', '--web-config', join(dir, file)])
    assert.equal(r.code, code, `${file}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
  }

  const missing = await runCli(['exporter', '--listen', '127.0.0.1:0', '--web-config', join(dir, 'absent.yml')])
  assert.equal(missing.code, 5, missing.stderr)
  const badListen = await runCli(['exporter', '--listen', 'localhost'])
  assert.equal(badListen.code, 2, badListen.stderr)
  assert.match(badListen.stderr, /is not host:port/)
})
