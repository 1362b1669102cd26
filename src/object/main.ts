/**
 * `tailcalls graph --object FILE.o` without oclif: the entry of dist/bundle/object.cjs, which
 * bin/run.js tries first when the arguments are `graph … --object …`.
 *
 * Why: reading an object file is a few milliseconds of work, and oclif's start-up (its config,
 * the manifest, the command table, the parser) is most of what the command would cost otherwise;
 * a CI gate runs it on every build. This path takes only the arguments it understands exactly as
 * the `graph` command does (commands/graph.ts): `--object FILE`, `--slot MAP[KEY]=PROG`
 * (repeatable), `--format FORMAT`, `--json` and `prog name NAME`, each flag also as `--flag=value`.
 * Anything else (`--help`, an unknown or repeated flag, another selector, a value that looks
 * like a flag) returns undefined and bin/run.js hands the arguments to oclif, so help, usage
 * errors and every other command behave exactly as before. The work and the error report are
 * the command's own (graph.ts here, src/render/report.ts): same output, same exit codes.
 */
import {EXIT, toTailcallsError} from '../errors.js'
import type {GraphFormat} from '../graph/render.js'
import {reportError} from '../render/report.js'
import {runObjectGraph} from './graph.js'

const FORMATS: readonly string[] = ['tree', 'dot', 'mermaid', 'json']

interface ObjectArgs {
  object: string
  slots: string[]
  format?: string
  json: boolean
  programs?: string[]
}

/** The arguments after `graph`, if this path handles them exactly as oclif would; else undefined. */
export function parseObjectArgs(argv: string[]): ObjectArgs | undefined {
  let object: string | undefined
  let format: string | undefined
  let json = false
  const slots: string[] = []
  const positional: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('-')) {
      positional.push(a)
      continue
    }

    if (a === '--json') {
      if (json) return undefined
      json = true
      continue
    }

    const eq = a.indexOf('=')
    const name = eq === -1 ? a : a.slice(0, eq)
    if (name !== '--object' && name !== '--slot' && name !== '--format') return undefined
    let value: string | undefined
    if (eq === -1) {
      value = argv[++i]
      // A missing value, or one oclif would read as a flag: let oclif say what is wrong.
      if (value === undefined || value.startsWith('-')) return undefined
    } else {
      value = a.slice(eq + 1)
    }

    if (value === '') return undefined
    if (name === '--slot') {
      slots.push(value)
    } else if (name === '--object') {
      if (object !== undefined) return undefined
      object = value
    } else {
      if (format !== undefined || !FORMATS.includes(value)) return undefined
      format = value
    }
  }

  if (object === undefined) return undefined
  if (positional.length === 0) return {format, json, object, slots}
  if (positional.length === 3 && positional[0] === 'prog' && positional[1] === 'name')
    return {format, json, object, programs: [positional[2]], slots}
  return undefined
}

/**
 * Run `graph` with these arguments (those after `graph`) if this path handles them: resolves to
 * the exit status, or undefined for oclif to run them instead.
 */
export async function run(argv: string[]): Promise<number | undefined> {
  const args = parseObjectArgs(argv)
  if (!args) return undefined
  try {
    const format = (args.json ? 'json' : (args.format ?? 'tree')) as GraphFormat
    const {errors} = await runObjectGraph({
      format,
      object: args.object,
      programs: args.programs,
      slots: args.slots,
    })
    return errors > 0 ? EXIT.graphErrors : EXIT.ok
  } catch (error) {
    const known = toTailcallsError(error)
    if (known) {
      reportError(known.line(), args.json, known.details)
      return known.exitCode
    }

    if ((error as {code?: string}).code === 'EPIPE') return EXIT.ok
    const debug = process.env.TAILCALLS_DEBUG ? `\n${(error as Error).stack}` : ''
    reportError(
      `internal error: ${(error as Error).message} (set TAILCALLS_DEBUG=1 for details; please report it)${debug}`,
      args.json,
    )
    return EXIT.internal
  }
}
