// Shell completion (`tailcalls autocomplete`, from @oclif/plugin-autocomplete), as a user sets it
// up: in a fresh HOME, `autocomplete bash|zsh` writes the completion functions into the cache
// folder and `autocomplete script SHELL` prints the line a start-up file sources. Then a real
// bash (the completion function called with COMP_WORDS, as readline does on <TAB>) and a real
// zsh (an interactive shell in a pseudo-terminal, test/cli/complete.zsh) complete command lines.
// What they must offer is read from the manifest, so every command, topic and flag is checked,
// including commands added later.
import assert from 'node:assert/strict'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {ROOT, runCli} from '../helpers/cli.js'
import {runAsNobody} from '../helpers/nobody.js'
import {needsRoot} from '../helpers/root.js'

interface ManifestCommand {
  aliases?: string[]
  flags: Record<string, {hidden?: boolean}>
  hidden?: boolean
  id: string
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, ManifestCommand>
}
/** Every command a user can type, an alias as its own entry (it completes like the command). */
const VISIBLE = Object.values(manifest.commands)
  .filter((c) => !c.hidden)
  .flatMap((c) => [c.id, ...(c.aliases ?? [])].map((id) => ({...c, id})))

/** What completes after `tailcalls `: the topics and the commands outside a topic. */
const TOP = [...new Set(VISIBLE.map((c) => c.id.split(':')[0]))].sort()
/** What completes after `tailcalls TOPIC `, per topic. */
const TOPICS = new Map<string, string[]>()
for (const c of VISIBLE.filter((x) => x.id.includes(':'))) {
  const [topic, sub] = c.id.split(':')
  TOPICS.set(topic, [...(TOPICS.get(topic) ?? []), sub].sort())
}

const flagsOf = (c: ManifestCommand): string[] =>
  Object.entries(c.flags)
    .filter(([, f]) => !f.hidden)
    .map(([name]) => `--${name}`)
    .sort()

let home: string
/** The environment of a user with a fresh HOME: the cache folder goes under it. */
let env: Record<string, string | undefined>

before(() => {
  home = mkdtempSync(join(tmpdir(), 'tailcalls-completion-'))
  env = {HOME: home, XDG_CACHE_HOME: undefined}
})

after(() => rmSync(home, {force: true, recursive: true}))

async function setupLine(shell: 'bash' | 'zsh'): Promise<string> {
  const made = await runCli(['autocomplete', shell], {env})
  assert.equal(made.code, 0, made.stderr)
  assert.match(made.stdout, new RegExp(`tailcalls autocomplete script ${shell}`), 'the instructions name the script')
  const script = await runCli(['autocomplete', 'script', shell], {env})
  assert.equal(script.code, 0, script.stderr)
  assert.match(script.stdout, new RegExp(`^\\s*TAILCALLS_AC_${shell.toUpperCase()}_SETUP_PATH=${home}/`))
  return script.stdout
}

/** Each line's completions in bash: the function `complete -F` registered, called as readline does. */
async function bashComplete(setup: string, lines: string[]): Promise<string[][]> {
  const script = [
    setup,
    'complete -p tailcalls >/dev/null || exit 9',
    'while IFS= read -r line; do',
    '  read -ra COMP_WORDS <<< "$line"',
    '  [[ $line == *" " ]] && COMP_WORDS+=("")',
    '  COMP_CWORD=$((${#COMP_WORDS[@]} - 1)) COMP_LINE=$line COMP_POINT=${#line} COMPREPLY=()',
    '  _tailcalls_autocomplete',
    '  echo "${COMPREPLY[*]}"',
    'done',
  ].join('\n')
  const r = await runCli(['--norc', '--noprofile', '-c', script], {
    command: 'bash',
    env,
    input: lines.join('\n') + '\n',
    prefix: [],
  })
  assert.equal(r.code, 0, r.stderr)
  const out = r.stdout.split('\n').slice(0, -1)
  assert.equal(out.length, lines.length, r.stdout)
  // Readline shows each word once; the function lists a topic once per command under it.
  return out.map((l) => [...new Set(l.split(' ').filter(Boolean))].sort())
}

/** What zsh offers on <TAB> after a line (test/cli/complete.zsh). */
async function zshComplete(line: string): Promise<string[]> {
  const r = await runCli(
    [
      '-f',
      join(ROOT, 'test', 'cli', 'complete.zsh'),
      join(home, '.cache', 'tailcalls', 'autocomplete', 'zsh_setup'),
      line,
    ],
    {
      command: 'zsh',
      env,
      prefix: [],
    },
  )
  assert.equal(r.code, 0, `${line}: ${r.stderr}`)
  return [...new Set(r.stdout.split('\n').filter(Boolean))].sort()
}

test('the manifest has the commands and topics the completion is checked against', () => {
  for (const id of ['prog:list', 'prog:show', 'graph', 'load', 'autocomplete'])
    assert.ok(
      VISIBLE.some((c) => c.id === id),
      id,
    )
  assert.ok(TOPICS.has('prog') && TOPICS.has('map'))
})

test('bash completes every command, topic and flag, in a fresh HOME', async () => {
  const setup = await setupLine('bash')
  assert.ok(existsSync(join(home, '.cache', 'tailcalls', 'autocomplete', 'functions', 'bash', 'tailcalls.bash')))
  const cases: [string, string[]][] = [
    ['tailcalls ', TOP],
    ['tailcalls pro', TOP.filter((t) => t.startsWith('pro'))],
    ...[...TOPICS].map(([topic, subs]): [string, string[]] => [`tailcalls ${topic} `, subs]),
    ...VISIBLE.map((c): [string, string[]] => [`tailcalls ${c.id.replaceAll(':', ' ')} --`, flagsOf(c)]),
    ['tailcalls graph --f', ['--format']],
  ]
  const got = await bashComplete(
    setup,
    cases.map(([line]) => line),
  )
  cases.forEach(([line, want], i) => assert.deepEqual(got[i], want, `bash: ${line}<TAB>`))
})

test('zsh completes every command, topic and flag, and the values of a flag with options', async () => {
  await setupLine('zsh')
  assert.deepEqual(await zshComplete('tailcalls '), TOP)
  for (const [topic, subs] of TOPICS) assert.deepEqual(await zshComplete(`tailcalls ${topic} `), subs, topic)
  for (const c of VISIBLE) {
    const line = `tailcalls ${c.id.replaceAll(':', ' ')} --`
    // zsh adds --help, which oclif gives every command.
    assert.deepEqual(
      (await zshComplete(line)).filter((f) => f !== '--help'),
      flagsOf(c),
      `zsh: ${line}<TAB>`,
    )
  }

  const graph = manifest.commands.graph as ManifestCommand & {flags: {format: {options: string[]}}}
  assert.deepEqual(await zshComplete('tailcalls graph --format '), [...graph.flags.format.options].sort())
})

test('autocomplete --json says where the functions are and the line to source', async () => {
  const r = await runCli(['autocomplete', 'bash', '--json'], {env})
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as {cache: string; setup: string; shell: string}
  assert.equal(out.shell, 'bash')
  assert.equal(out.cache, join(home, '.cache', 'tailcalls', 'autocomplete'))
  assert.ok(out.setup.startsWith(`TAILCALLS_AC_BASH_SETUP_PATH=${out.cache}/bash_setup`), out.setup)
})

test('a shell it does not support: one line naming the choices, exit 2', async () => {
  const r = await runCli(['autocomplete', 'fish'], {env})
  assert.equal(r.code, 2)
  assert.equal(r.stdout, '')
  assert.match(
    r.stderr,
    /^tailcalls: error: Expected fish to be one of: bash, zsh; see `tailcalls autocomplete --help`\n$/,
  )
  const none = await runCli(['autocomplete'], {env: {...env, SHELL: '/usr/bin/fish'}})
  assert.equal(none.code, 2)
  assert.match(none.stderr, /^tailcalls: error: no shell given, .*; use: autocomplete bash, or autocomplete zsh\n$/)
})

test('autocomplete needs no privileges', needsRoot, async () => {
  const r = await runAsNobody(['autocomplete', 'bash', '--json'])
  assert.equal(r.code, 0, r.stderr)
  const out = JSON.parse(r.stdout) as {cache: string}
  assert.ok(existsSync(join(out.cache, 'functions', 'zsh', '_tailcalls')))
})
