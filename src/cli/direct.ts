/**
 * The direct path: the commands run most often, started without oclif. The entry of
 * dist/bundle/direct.cjs (bin/bundle.js), which bin/tailcalls.cjs (the installed entry) tries first.
 *
 * Why: a listing is a few milliseconds of work, and oclif's start-up (evaluating @oclif/core,
 * its config and manifest, the command table, the parser) cost more than Node's own start.
 * This path takes exactly:
 *   --version                                   the line oclif prints (its `userAgent`)
 *   prog|map|link list|show [SELECTOR] [flags]  the flags and arguments their classes declare,
 *                                               read from them at build time (direct-table.ts)
 *   graph … --object FILE …                     handed to dist/bundle/object.cjs (src/object/main.ts)
 * and returns undefined for anything else: --help, an unknown, repeated or abbreviated flag,
 * `--`, an extra argument, DEBUG or TAILCALLS_CONTENT_TYPE set (which change what oclif prints).
 * bin/tailcalls.cjs then hands the same arguments to oclif, so help and usage errors are oclif's, as
 * before. What it takes runs the commands' own code: the privilege check (privileges.ts), the
 * listing (src/inspect/command.ts) and the error report (failure.ts) the oclif command calls.
 * test/cli/direct.test.ts checks both paths print the same bytes and exit with the same code.
 */
import {existsSync, readFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {arch, release} from 'node:os'

import {writeOut} from '../render/json.js'
import type {DirectCommand, DirectTable} from './direct-table.js'
import {reportFailure} from './failure.js'
import {requirePrivileges} from './privileges.js'

/** Set by the build (bin/bundle.js): directTable() of the command classes. */
declare const DIRECT_TABLE: DirectTable
/** Set by the build: package.json's name and version, as oclif's config reads them. */
declare const PACKAGE_NAME: string
declare const PACKAGE_VERSION: string

export interface DirectRun {
  id: string
  command: DirectCommand
  args: Record<string, string>
  flags: Record<string, boolean>
  json: boolean
  /** The arguments after the command id (oclif's `this.argv`). */
  rest: string[]
}

/** `argv` as oclif would parse it for one of `table`'s commands, or undefined when the direct path does not take it. */
export function parseDirect(argv: string[], table: DirectTable): DirectRun | undefined {
  if (argv.length < 2) return undefined
  const id = `${argv[0]}:${argv[1]}`
  if (!Object.hasOwn(table, id)) return undefined
  const command = table[id]
  const rest = argv.slice(2)
  const flags: Record<string, boolean> = {}
  const positional: string[] = []
  for (const a of rest) {
    if (!a.startsWith('-')) {
      // An empty argument: oclif's reading of it is its own business.
      if (a === '') return undefined
      positional.push(a)
      continue
    }

    let name: string | undefined
    let value = true
    if (a.startsWith('--')) {
      name = a.slice(2)
      if (!Object.hasOwn(command.flags, name)) {
        name = a.startsWith('--no-') ? a.slice(5) : undefined
        if (name === undefined || !Object.hasOwn(command.flags, name) || !command.flags[name].allowNo) return undefined
        value = false
      }
    } else if (a.length === 2) {
      name = Object.keys(command.flags).find((n) => command.flags[n].char === a[1])
    }

    // Unknown (`--help`, `--`, `-fx`, `--json=true`), or given twice: oclif says what it makes of it.
    if (name === undefined || Object.hasOwn(flags, name)) return undefined
    flags[name] = value
  }

  if (positional.length > command.args.length) return undefined
  for (const [name, f] of Object.entries(command.flags)) if (!Object.hasOwn(flags, name)) flags[name] = f.default
  const args = Object.fromEntries(positional.map((v, i) => [command.args[i], v]))
  return {args, command, flags, id, json: flags.json === true, rest}
}

/**
 * oclif's `config.platform` is `wsl` on WSL (is-wsl): anything that may be WSL goes to oclif,
 * which then decides as before.
 */
function mayBeWsl(): boolean {
  let procVersion = ''
  try {
    procVersion = readFileSync('/proc/version', 'utf8')
  } catch (error) {
    // No /proc/version: is-wsl then looks at the paths below. Anything else: let oclif decide.
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return true
  }

  return (
    /microsoft/i.test(release()) ||
    /microsoft/i.test(procVersion) ||
    existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') ||
    existsSync('/run/WSL')
  )
}

/** oclif's `--version` line (config.userAgent): `tailcalls/0.1.0 linux-x64 node-v20.20.0`. */
async function version(): Promise<number | undefined> {
  if (process.platform !== 'linux' || mayBeWsl()) return undefined
  await writeOut(
    `${PACKAGE_NAME}/${PACKAGE_VERSION} linux-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`,
  )
  return 0
}

/** `graph … --object FILE`: src/object/main.ts in its own bundle, which hands back what it does not take. */
async function objectGraph(argv: string[]): Promise<number | undefined> {
  // A run of a few hundred milliseconds at most: V8's optimising compiler (on its own threads)
  // would spend more CPU compiling the analysis than the compiled code saves before the process
  // ends (a third of the command's CPU on a 1,000-site object). A 15× budget leaves it to the
  // functions that stay hot, which on a large object still get optimised.
  const require = createRequire(import.meta.url)
  require('node:v8').setFlagsFromString('--interrupt-budget=1000000')
  // A sibling in dist/bundle/ (bin/bundle.js builds it), not a module of the source tree.
  const objectBundle = './load-object.cjs'
  return require(objectBundle).run(argv.slice(1))
}

/**
 * Run `argv` (the arguments after `tailcalls`) if the direct path takes it: resolves to the exit
 * status, or undefined for oclif to run it.
 */
export async function run(argv: string[]): Promise<number | undefined> {
  // What changes oclif's output without an argument: oclif's debug log, JSON errors by environment.
  if (process.env.DEBUG || process.env.TAILCALLS_CONTENT_TYPE !== undefined) return undefined
  if (argv[0] === '--version') return version()
  if (argv[0] === 'graph' && argv.some((a) => a === '--object' || a.startsWith('--object='))) return objectGraph(argv)
  const parsed = parseDirect(argv, DIRECT_TABLE)
  if (!parsed) return undefined
  try {
    requirePrivileges(parsed.id, parsed.command.needs, parsed.rest)
    const {runInspectCommand} = await import('../inspect/command.js')
    await runInspectCommand(
      parsed.command.kind,
      parsed.args,
      {bpffs: parsed.flags.bpffs, pids: parsed.flags.pids},
      parsed.json,
    )
    return process.exitCode === undefined ? 0 : Number(process.exitCode)
  } catch (error) {
    return reportFailure(error, parsed.json)
  }
}
