// The output layer (src/render/): compact JSON with exact u64 values and terminal-safe strings,
// the lossless JSON reader the tests and the table view use, and tables whose cells cannot
// carry terminal control sequences, with plain aligned text for long lists.
import assert from 'node:assert/strict'
import {PassThrough} from 'node:stream'
import {test} from 'node:test'

import {RawJson, isBrokenPipe, jsonString, toJson, toJsonData, writeJsonArray} from '../../src/render/json.js'
import {parseJson} from '../../src/render/parse.js'
import {PLAIN_ABOVE, bold, renderPlain, renderTable, safeText, streamingRows, useColor} from '../../src/render/table.js'

/** Everything written to a stream until it ends. */
async function written(run: (out: NodeJS.WritableStream) => Promise<boolean>): Promise<{ok: boolean; text: string}> {
  const out = new PassThrough()
  const chunks: Buffer[] = []
  out.on('data', (c: Buffer) => chunks.push(c))
  const ok = await run(out)
  return {ok, text: Buffer.concat(chunks).toString('utf8')}
}

test('toJson: compact, exact BigInts, undefined keys left out, non-finite numbers null, RawJson verbatim', () => {
  assert.equal(
    toJson({a: 1, b: 'x', c: true, d: null, e: [1, 'y', false]}),
    '{"a":1,"b":"x","c":true,"d":null,"e":[1,"y",false]}',
  )
  assert.equal(
    toJson({big: 18_446_744_073_709_551_615n, neg: -9_223_372_036_854_775_808n}),
    '{"big":18446744073709551615,"neg":-9223372036854775808}',
  )
  assert.equal(toJson({gone: undefined, fn: () => 1, kept: 0}), '{"kept":0}')
  assert.equal(toJson([undefined, Number.NaN, Number.POSITIVE_INFINITY, -0.5]), '[null,null,null,-0.5]')
  assert.equal(toJson({v: new RawJson('{"per_event_count":3}')}), '{"v":{"per_event_count":3}}')
  assert.equal(toJson(undefined), 'null')
  // Same text as JSON.stringify wherever that is exact.
  const plain = {id: 7, name: 'prog1', nested: {list: [1, 2, {x: 'y'}]}, quote: '"\\\n\t'}
  assert.equal(toJson(plain), JSON.stringify(plain))
})

test('toJsonData writes what toJson writes: plain data natively, BigInt and RawJson through toJson', () => {
  const values: unknown[] = [
    {a: 1, b: 'x', c: true, d: null, e: [1, 'y', false], gone: undefined, fn: () => 1},
    [undefined, Number.NaN, Number.POSITIVE_INFINITY, -0.5, -0],
    {'k\u009b': 'v\u202e\u2028\u007f', nested: [{deep: '\u0000\u001b[31m'}]},
    {big: 18_446_744_073_709_551_615n, list: [1n, 'two']},
    {v: new RawJson('{"per_event_count":3}'), w: 'x\u0085'},
    'a string\u2029',
    42,
    undefined,
    null,
  ]
  for (const v of values) assert.equal(toJsonData(v), toJson(v))
})

test('jsonString escapes what a terminal acts on (DEL, C1, bidi, line separators); the JSON value is unchanged', () => {
  const hostile = 'a\u007fb\u009bc\u202ed\u2028e\u2066f\u061cg'
  const text = jsonString(hostile)
  assert.equal(text, '"a\\u007fb\\u009bc\\u202ed\\u2028e\\u2066f\\u061cg"')
  assert.equal(JSON.parse(text), hostile)
  assert.equal(jsonString('plain ünïcødé ✓'), '"plain ünïcødé ✓"')
  assert.equal(jsonString('\u001b[31m'), '"\\u001b[31m"')
  assert.equal(toJson({'k\u009b': 'v'}), '{"k\\u009b":"v"}', 'keys too')
})

test('writeJsonArray streams any iterable as one array line, and stops quietly when the reader is gone', async () => {
  function* gen() {
    yield {id: 1n << 60n}
    yield 'two'
    yield new RawJson('[3]')
  }

  assert.deepEqual(await written((out) => writeJsonArray(gen(), out)), {
    ok: true,
    text: '[{"id":1152921504606846976},"two",[3]]\n',
  })
  assert.deepEqual(await written((out) => writeJsonArray([], out)), {ok: true, text: '[]\n'})
  async function* slow() {
    for (let i = 0; i < 3; i++) yield i
  }

  assert.deepEqual(await written((out) => writeJsonArray(slow(), out)), {ok: true, text: '[0,1,2]\n'})
  // Large enough to be written in several chunks: still one valid array, every element in order.
  const many = Array.from({length: 20_000}, (_, i) => ({i, s: 'x'.repeat(10)}))
  const r = await written((out) => writeJsonArray(many, out))
  assert.deepEqual(JSON.parse(r.text), many)
  assert.equal(isBrokenPipe(Object.assign(new Error('x'), {code: 'EPIPE'})), true)
  assert.equal(isBrokenPipe(Object.assign(new Error('x'), {code: 'ENOSPC'})), false)
  assert.equal(isBrokenPipe(null), false)
})

test('parseJson keeps every digit of u64 values and agrees with JSON.parse elsewhere', () => {
  assert.deepEqual(parseJson('{"a":18446744073709551615,"b":-9223372036854775808,"c":9007199254740993}'), {
    a: 18_446_744_073_709_551_615n,
    b: -9_223_372_036_854_775_808n,
    c: 9_007_199_254_740_993n,
  })
  // Safe integers and every other value: exactly what JSON.parse gives.
  const text =
    '{"n":9007199254740991,"f":-2.25,"e":1e3,"s":"\\u00ff\\n\\"","t":true,"z":null,"a":[[],{}],"k":{"nested":[1,"2"]}}'
  assert.deepEqual(parseJson(text), JSON.parse(text))
  assert.deepEqual(parseJson(' [ 1 , 2 ]\n'), [1, 2])
  for (const bad of ['', '{', '[1,]', '{"a" 1}', '"open', 'tru', '01', '{"a":1}x', 'NaN']) {
    assert.throws(() => parseJson(bad), SyntaxError, JSON.stringify(bad))
  }

  // The round trip through toJson is exact.
  const value = {big: 18_446_744_073_709_551_615n, list: [1, 'two', null, {x: -1n << 63n}]}
  assert.deepEqual(parseJson(toJson(value)), {
    big: 18_446_744_073_709_551_615n,
    list: [1, 'two', null, {x: -9_223_372_036_854_775_808n}],
  })
})

test('safeText escapes control characters in cells, keeps newlines and our own bold/dim', () => {
  assert.equal(safeText('plain'), 'plain')
  assert.equal(safeText('a\u001b[2Jb\u0007c\u009bd\u202ee'), 'a\\u001b[2Jb\\u0007c\\u009bd\\u202ee')
  assert.equal(safeText('two\nlines\ttab'), 'two\nlines\\u0009tab')
  assert.equal(safeText(bold('name', true)), '\u001b[1mname\u001b[22m')
  assert.equal(safeText(`${bold('x', true)}\u001b[31m`), '\u001b[1mx\u001b[22m\\u001b[31m', 'only our codes survive')
})

test('colour only for a terminal, never with NO_COLOR or TERM=dumb', () => {
  const saved = {NO_COLOR: process.env.NO_COLOR, TERM: process.env.TERM}
  const tty = {isTTY: true} as NodeJS.WriteStream
  try {
    delete process.env.NO_COLOR
    process.env.TERM = 'xterm'
    assert.equal(useColor(tty), true)
    assert.equal(useColor({isTTY: false} as NodeJS.WriteStream), false)
    process.env.NO_COLOR = '1'
    assert.equal(useColor(tty), false)
    process.env.NO_COLOR = ''
    assert.equal(useColor(tty), true, 'an empty NO_COLOR does not count (no-color.org)')
    process.env.TERM = 'dumb'
    assert.equal(useColor(tty), false)
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }

  assert.equal(bold('x', false), 'x')
})

test('tables: headers, right-aligned numbers, escaped cells; past PLAIN_ABOVE rows, plain aligned text', () => {
  const columns = [{header: 'ID', right: true}, {header: 'NAME'}]
  const table = renderTable(
    columns,
    [
      ['7', 'prog1'],
      ['123', 'a\u001bb'],
    ],
    false,
  )
  const lines = table.trimEnd().split('\n')
  assert.ok(table.endsWith('\n'))
  assert.match(lines[1]!, /│\s+ID\s+│\s+NAME\s+│/)
  assert.match(table, /│\s+7 │ prog1\s+│/, 'numbers right-aligned')
  assert.ok(table.includes('a\\u001bb'), 'the ESC is shown escaped')
  assert.ok(!table.includes('\u001b'), 'no raw escape, no colour when off')
  assert.deepEqual(
    lines,
    ['┌─────┬──────────┐', '│  ID │ NAME     │', '│   7 │ prog1    │', '│ 123 │ a\\u001bb │', '└─────┴──────────┘'],
    'compact: no rules between rows',
  )

  const plain = renderPlain(
    columns,
    [
      ['7', 'prog1'],
      ['123', 'x'],
    ],
    false,
  )
  assert.equal(plain, ' ID  NAME\n  7  prog1\n123  x\n')
  const rows = Array.from({length: PLAIN_ABOVE + 1}, (_, i) => [String(i), `n${i}`])
  const long = renderTable(columns, rows, false)
  assert.ok(!long.includes('│'), 'no box drawing for a long list')
  assert.equal(long.split('\n').length, PLAIN_ABOVE + 3)
  // Streaming rows look the same as the plain table, line for line.
  const s = streamingRows(columns, [3, 5], false)
  assert.equal(s.header() + s.row(['7', 'prog1']) + s.row(['123', 'x']), plain)
})
