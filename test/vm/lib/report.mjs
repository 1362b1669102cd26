// node:test TAP summary parsing and the matrix report (table, JSON, markdown).

/** Parse node:test's TAP output. Returns null when there is no summary. */
export function parseTap(text) {
  const sum = {}
  for (const m of text.matchAll(/^# (tests|suites|pass|fail|cancelled|skipped|todo|duration_ms) ([\d.]+)\s*$/gm)) {
    sum[m[1]] = Number(m[2])
  }
  if (sum.pass === undefined || sum.fail === undefined) return null
  // Failing tests by name, leaving out parents that failed only because a subtest did.
  const failed = []
  const lines = text.split('\n')
  for (let i = 0; i < lines.length && failed.length < 12; i++) {
    const m = lines[i].match(/^( *)not ok \d+ - (.*?)(?: # .*)?$/)
    if (!m) continue
    let parentOnly = false
    for (let j = i + 1; j < lines.length && lines[j] !== `${m[1]}  ...`; j++) {
      if (lines[j].startsWith(`${m[1]}  failureType: 'subtestsFailed'`)) parentOnly = true
    }
    if (!parentOnly) failed.push(m[2])
  }
  return {
    tests: sum.tests ?? sum.pass + sum.fail,
    pass: sum.pass,
    fail: sum.fail,
    cancelled: sum.cancelled ?? 0,
    skipped: sum.skipped ?? 0,
    todo: sum.todo ?? 0,
    durationMs: sum.duration_ms ?? null,
    failed,
  }
}

/**
 * Decide the outcome of one kernel from the test summary and the test runner's exit code.
 * Returns { result: 'pass'|'fail'|'fault', reason }.
 */
export function judge(summary, rc) {
  if (!summary) {
    return {
      result: 'fault',
      reason: `node --test ${rc === null || rc === undefined ? 'did not finish' : `exited ${describeRc(rc)}`} without a test summary`,
    }
  }
  if (summary.fail > 0 || summary.cancelled > 0) {
    const what = [`${summary.fail} failed`, summary.cancelled ? `${summary.cancelled} cancelled` : null]
      .filter(Boolean)
      .join(', ')
    return {result: 'fail', reason: `${what}: ${summary.failed.slice(0, 4).join('; ')}`}
  }
  if (summary.pass === 0) return {result: 'fault', reason: 'no test ran'}
  if (rc !== 0) return {result: 'fault', reason: `node --test exited ${describeRc(rc)} although no test failed`}
  return {result: 'pass', reason: ''}
}

export function describeRc(rc) {
  if (rc === null || rc === undefined) return 'without an exit code'
  if (rc > 128 && rc < 160) {
    const names = {
      129: 'SIGHUP',
      130: 'SIGINT',
      134: 'SIGABRT',
      135: 'SIGBUS',
      137: 'SIGKILL',
      139: 'SIGSEGV',
      143: 'SIGTERM',
    }
    return `${rc} (${names[rc] ?? `signal ${rc - 128}`})`
  }
  return String(rc)
}

const s = (ms) => (ms === null || ms === undefined ? '' : `${(ms / 1000).toFixed(1)}s`)

export const COLUMNS = [
  ['kernel', (r) => r.kernel],
  ['uname -r', (r) => r.release ?? (r.packageRelease ? `(${r.packageRelease})` : '')],
  ['result', (r) => r.result.toUpperCase()],
  ['pass', (r) => (r.pass ?? '') + ''],
  ['fail', (r) => (r.fail ?? '') + ''],
  ['skip', (r) => (r.skipped ?? '') + ''],
  ['boot', (r) => s(r.bootMs)],
  ['tests', (r) => s(r.testsMs)],
  ['total', (r) => s(r.totalMs)],
  ['reason', (r) => r.reason ?? ''],
]

export function textTable(rows) {
  const head = COLUMNS.map(([h]) => h)
  const body = rows.map((r) => COLUMNS.map(([, f]) => f(r)))
  const width = head.map((h, i) =>
    Math.max(h.length, ...body.map((b) => Math.min(b[i].length, i === head.length - 1 ? 100 : 60))),
  )
  const fmt = (cells) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? (c.length > 100 ? c.slice(0, 97) + '...' : c) : c.padEnd(width[i])))
      .join('  ')
      .trimEnd()
  return [fmt(head), fmt(width.map((w) => '-'.repeat(w))), ...body.map(fmt)].join('\n')
}

export function markdownTable(rows, meta) {
  const esc = (x) => String(x).replace(/\|/g, '\\|').replace(/\n/g, ' ')
  const lines = [
    `Kernel matrix run ${meta.finishedAt} (host ${meta.hostRelease}, qemu TCG, ${meta.smp} vCPU / ${meta.memMiB} MiB per VM)`,
    '',
    `Test files: ${meta.files.map((f) => '`' + f + '`').join(', ')}`,
    '',
    '| ' + COLUMNS.map(([h]) => h).join(' | ') + ' |',
    '|' + COLUMNS.map(() => ' --- ').join('|') + '|',
    ...rows.map((r) => '| ' + COLUMNS.map(([, f]) => esc(f(r))).join(' | ') + ' |'),
    '',
  ]
  return lines.join('\n')
}

/** The TAP blocks of failing tests (the `not ok` line and its YAML diagnostics), at most maxLines lines. */
export function failureExcerpt(text, maxLines = 40) {
  const lines = text.split('\n')
  const out = []
  for (let i = 0; i < lines.length && out.length < maxLines; i++) {
    const m = lines[i].match(/^( *)not ok \d+ - /)
    if (!m) continue
    const ind = m[1]
    out.push(lines[i])
    for (let j = i + 1; j < lines.length && out.length < maxLines; j++) {
      out.push(lines[j])
      if (lines[j] === `${ind}  ...`) break
    }
  }
  return out.join('\n')
}
