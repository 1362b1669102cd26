/**
 * How a command's failure ends the process, shared by BaseCommand.catch (the oclif path) and
 * the direct path (src/cli/direct.ts) so both print the same line and exit with the same code.
 * oclif's own parse errors are handled by BaseCommand alone: the direct path never parses what
 * oclif would refuse.
 */
import {EXIT, toTailcallsError} from '../errors.js'
import {reportError} from '../render/report.js'

/** Report `error` (one line on stderr, bpftool's `{"error": …}` under --json) and return the exit code. */
export function reportFailure(error: unknown, json: boolean): number {
  // Ours, a failed system/libbpf call (SysError), or a missing libbpf.so.1: one line, its exit code.
  const known = toTailcallsError(error)
  if (known) {
    reportError(known.line(), json, known.details)
    return known.exitCode
  }

  // The reader went away (`| head`): not an error for the user.
  if ((error as {code?: string} | null)?.code === 'EPIPE') return EXIT.ok
  const debug = process.env.TAILCALLS_DEBUG ? `\n${(error as Error).stack}` : ''
  reportError(
    `internal error: ${(error as Error).message} (set TAILCALLS_DEBUG=1 for details; please report it)${debug}`,
    json,
  )
  return EXIT.internal
}
