/**
 * How the CLI reports a failure: one line on stderr (`tailcalls: error: …`), the same line as
 * bpftool's `{"error": …}` on stdout under --json, any detail lines before it. Shared by the
 * oclif commands (BaseCommand.catch) and the direct path of `graph --object` (src/object/main.ts).
 */
import {toJson} from './json.js'
import {safeText} from './table.js'

export function reportError(line: string, json: boolean, details?: string[]): void {
  if (json) process.stdout.write(`${toJson({error: line})}\n`)
  // Names from the system (pins, objects) can end up in a message: no control sequences on a terminal.
  if (details?.length) process.stderr.write(details.map((d) => `  ${safeText(d)}\n`).join(''))
  process.stderr.write(`tailcalls: error: ${safeText(line)}\n`)
}
