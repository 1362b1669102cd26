// Hostile input, through the real CLI and the decoders:
//  - a process whose comm holds quotes, backslashes, ESC sequences, BEL, a newline, an invalid
//    UTF-8 byte, DEL and a C1 CSI holds a map pinned under a name made of the same: `map show`
//    and `map list` print valid JSON and tables with every control character escaped; the pin
//    with a non-UTF-8 name is found (by its bytes) and `unload` refuses the folder naming it,
//    escaped, instead of failing on it;
//  - BTF whose type, member and enumerator names hold the same bytes renders valid JSON and
//    safe table text;
//  - user input never reaches a shell: no module spawns one, and shell syntax in paths and
//    names is taken literally.
import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {Btf} from '../../src/btf/btf.js'
import {describeType} from '../../src/btf/describe.js'
import type {CompositeType, EnumType} from '../../src/btf/types.js'
import {compileRenderer} from '../../src/render/btf-json.js'
import {renderTable, safeText} from '../../src/render/table.js'
import {BtfBuilder} from '../../src/btf/builder.js'
import {ROOT, runCli} from '../helpers/cli.js'
import {HOSTILE_COMM, HOSTILE_PIN} from '../helpers/hostile-holder.js'
import {assertGone} from '../helpers/kernel.js'
import {needsRoot} from '../helpers/root.js'

/** Characters a terminal acts on: C0 (but the newline), DEL, C1, bidi controls. */
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/

function assertSafeText(text, what) {
  const m = RAW_CONTROL.exec(text)
  assert.equal(
    m,
    null,
    `${what}: a raw control character U+${m?.[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m?.index}: ${JSON.stringify(text.slice(Math.max(0, (m?.index ?? 0) - 40), (m?.index ?? 0) + 20))}`,
  )
}

/** JSON as tailcalls prints it must be valid, and (read on a terminal) hold no raw controls either. */
function parseSafeJson(text, what) {
  assertSafeText(text, what)
  return JSON.parse(text)
}

test(
  'a hostile comm and pin name: valid JSON, escaped tables, the pin is found, unload refuses naming it',
  needsRoot,
  async () => {
    const dir = `/sys/fs/bpf/tailcalls-hostile-${process.pid}`
    const holder = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'test', 'helpers', 'hostile-holder.ts'), dir],
      {stdio: ['pipe', 'pipe', 'inherit']},
    )
    const exited = new Promise((resolve) => holder.on('close', resolve))
    let id
    try {
      const line = await new Promise<string>((resolve, reject) => {
        holder.stdout.setEncoding('utf8').once('data', resolve)
        holder.once('close', () => reject(new Error('the holder exited')))
      })
      id = JSON.parse(line).id
      const comm = HOSTILE_COMM.toString('utf8')
      const pin = `${dir}/${HOSTILE_PIN.toString('utf8')}`

      const show = await runCli(['map', 'show', 'id', String(id), '--json', '-f'])
      assert.equal(show.code, 0, show.stderr)
      const m = parseSafeJson(show.stdout, 'map show --json')
      assert.deepEqual(m.pids, [{comm, pid: holder.pid}])
      assert.deepEqual(m.pinned, [pin], 'the pin with a non-UTF-8 name is found')

      const list = await runCli(['map', 'list', '--json', '-f'])
      assert.equal(list.code, 0, list.stderr)
      const mine = parseSafeJson(list.stdout, 'map list --json').find((x) => x.id === id)
      assert.deepEqual(mine.pids, [{comm, pid: holder.pid}])
      assert.deepEqual(mine.pinned, [pin])

      for (const args of [
        ['map', 'show', 'id', String(id), '-f'],
        ['map', 'list', '-f'],
      ]) {
        const r = await runCli(args)
        assert.equal(r.code, 0, r.stderr)
        assertSafeText(r.stdout, args.join(' '))
        assert.ok(r.stdout.includes('"\\\\u001b[2J\\u0007'), `${args.join(' ')}: the comm, escaped`)
      }

      const show2 = await runCli(['map', 'show', 'id', String(id), '-f'])
      assert.ok(
        show2.stdout.includes('evil\\u001b[31m"\\\\u0007��\\u202egnp\\u001b]0;pwned\\u0007'),
        'the pin name, escaped',
      )

      // The folder holds a pin that is not a chain's (and not even UTF-8): refused, named, untouched.
      const u = await runCli(['unload', '--pin-path', dir])
      assert.equal(u.code, 9, u.stderr)
      assertSafeText(u.stderr, 'unload stderr')
      const errors = u.stderr
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('tailcalls: error: '))
      assert.equal(errors.length, 1, u.stderr)
      assert.match(
        errors[0],
        /holds objects that are not a tailcalls chain: evil\\u001b\[31m.*\(a name that is not valid UTF-8\); nothing was removed/,
      )
      assert.equal(readdirSync(dir, {encoding: 'buffer'}).length, 1, 'the pin is still there')
    } finally {
      holder.stdin.end()
      await exited
      if (existsSync(dir)) rmSync(dir, {force: true, recursive: true})
    }

    await assertGone({maps: {tailcalls_hstl: id}})
  },
)

/** A BTF blob whose names hold the hostile bytes: placeholders are patched to raw bytes afterwards. */
function hostileBtf() {
  const NAMES = {
    NAME_S: Buffer.from('st"\\\u001b[2J'),
    NAME_A: Buffer.concat([Buffer.from('a\u0007\u009b'), Buffer.from([0xff, 0xfe])]),
    NAME_B: Buffer.from('b\u202e\n\t"\''),
    NAME_E: Buffer.from('E\u001b]0;x\u0007'),
    NAME_V: Buffer.concat([Buffer.from([0xc3, 0x28]), Buffer.from('\u2028')]),
  }
  const b = new BtfBuilder()
  const u32 = b.int('unsigned int', 4)
  const chr = b.int('char', 1, {char: true})
  const arr = b.array(chr, 8)
  const en = b.enum('NAME_E', 4, [
    ['NAME_V', 1],
    ['OK', 2],
  ])
  const st = b.struct('NAME_S', 16, [
    {bitOffset: 0, name: 'NAME_A', type: u32},
    {bitOffset: 32, name: 'NAME_B', type: en},
    {bitOffset: 64, name: 'c', type: arr},
  ])
  let blob = b.bytes()
  // Same-length placeholders are not possible for every name: rebuild the string section instead.
  for (const [ph, bytes] of Object.entries(NAMES)) {
    const at = blob.indexOf(Buffer.from(`${ph}\0`))
    assert.ok(at > 0, ph)
    const padded = Buffer.alloc(ph.length, 0x5f)
    bytes.copy(padded, 0, 0, Math.min(bytes.length, ph.length))
    padded.copy(blob, at)
  }

  blob = Buffer.from(blob)
  return {blob, st}
}

test('BTF with hostile type, member and enumerator names: valid JSON, escaped table text', () => {
  const {blob, st} = hostileBtf()
  const btf = Btf.parse(blob, {name: 'hostile'})
  assert.deepEqual(btf.problems, [])
  // bpftool's raw type view (JSON per type): valid JSON whatever the names hold.
  for (let id = 1; id < btf.typeCount; id++) JSON.parse(describeType(btf, btf.type(id)!))

  const r = compileRenderer(btf, st, 16)
  const value = Buffer.alloc(16)
  value.writeUInt32LE(7, 0)
  value.writeUInt32LE(1, 4) // the enumerator with the hostile name
  Buffer.from([0x22, 0x5c, 0x1b, 0xff, 0x07, 0x41, 0, 0]).copy(value, 8) // a char array that is not a string
  const text = r.json(value, 0)
  const v = JSON.parse(text)
  const keys = Object.keys(v)
  assert.equal(keys.length, 3)
  const struct = btf.type(st) as CompositeType
  assert.equal(keys[0], struct.members[0]!.name)
  assert.equal(v[keys[1]!], btf.str((btf.type(struct.members[1]!.type) as EnumType).values[0]!.nameOff))
  // A char array that is not a printable string: one JSON string per char, as bpftool prints them.
  assert.deepEqual(v.c, ['"', '\\', '\u001b', '\u00ff', '\u0007', 'A', '\u0000', '\u0000'])
  assertSafeText(text, 'rendered value')

  // Names as table cells (the map dump table shows field names): escaped.
  const table = renderTable(
    [{header: 'FIELD'}, {header: 'VALUE'}],
    keys.map((k) => [k, String(v[k])]),
    false,
  )
  assertSafeText(table, 'table')
  assert.ok(table.includes('st') || table.includes('a\\u0007\\u009b'))
  assert.equal(safeText('\u001b[1mbold\u001b[22m'), '\u001b[1mbold\u001b[22m', 'our own bold survives')
})

test('no shell ever: no module spawns one, and shell syntax in arguments is taken literally', async () => {
  // Static: the only child process in the shipped code is doctor's fixed `/bin/true`.
  const files: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, {withFileTypes: true})) {
      if (e.isDirectory()) walk(join(d, e.name))
      else if (/\.(ts|js|mjs)$/.test(e.name)) files.push(join(d, e.name))
    }
  }

  for (const d of ['src', 'commands', 'bin']) walk(join(ROOT, d))
  const uses: string[] = []
  for (const f of files) {
    const text = readFileSync(f, 'utf8')
    // Only a module that reaches child_process can start a process (`shell: Shell` elsewhere is
    // a completion script's type, not a spawn option).
    if (/child_process/.test(text)) {
      const calls = text.match(/(?<![.\w])(spawnSync|spawn|execFileSync|execFile|execSync|exec|fork)\(.*/g) ?? []
      uses.push(`${f.slice(ROOT.length + 1)}: ${calls.join(' | ')}${/shell\s*:/.test(text) ? ' (shell option!)' : ''}`)
    }
  }

  // bin/bundle.js is a build step (not in the package): it runs node itself, with fixed arguments.
  assert.deepEqual(uses, [
    "src/doctor/checks.ts: spawnSync('/bin/true')",
    "bin/bundle.js: spawnSync(process.execPath, [join(root, 'bin', 'manifest.js')], {stdio: 'inherit'}) | spawnSync(process.execPath, [join(root, 'bin', 'tailcalls.cjs'), ...args], {",
  ])

  // Dynamic: shell syntax in paths reaches the kernel and the filesystem as plain bytes.
  const marker = `/tmp/tailcalls-shell-${process.pid}`
  const tricks = [`$(touch ${marker})`, `\`touch ${marker}\``, `x; touch ${marker}`, `x | touch ${marker}`]
  for (const t of tricks) {
    for (const args of [
      ['load', '--object', t],
      ['load', '--pin', '--pin-path', `/sys/fs/bpf/${t}`],
      ['map', 'show', 'pinned', t],
      ['unload', '--pin-path', t],
    ]) {
      const r = await runCli(args)
      assert.notEqual(r.code, 0, args.join(' '))
      assert.equal(
        r.stderr
          .trimEnd()
          .split('\n')
          .filter((l) => l.startsWith('tailcalls: error: ')).length,
        1,
        r.stderr,
      )
      assert.doesNotMatch(r.stderr, /\n\s+at /)
    }
  }

  assert.equal(existsSync(marker), false, 'no shell ran the payload')
})
