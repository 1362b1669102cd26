/**
 * The base of every command: `--json` everywhere, and one error path that prints one
 * line on stderr (plus bpftool's `{"error": …}` on stdout under --json) and exits with
 * the error's own code, never a stack trace.
 */
import {Command} from '@oclif/core'

import {EXIT, toTailcallsError} from '../errors.js'
import {safeText} from '../render/table.js'
import {type Needs, requirePrivileges} from './privileges.js'
import {reportError} from '../render/report.js'

export abstract class BaseCommand extends Command {
  static enableJsonFlag = true

  /** What the command needs from the kernel (src/cli/privileges.ts); every command declares it. */
  static needs?: Needs

  /** Refuse at once, in one line, when this process lacks what the command needs. */
  async init(): Promise<void> {
    await super.init()
    const {needs} = this.constructor as typeof BaseCommand
    if (!needs) throw new Error(`command ${this.id} declares no privileges (static needs)`)
    requirePrivileges(this.id ?? '', needs, this.argv)
  }

  /** Write to stdout; returns false when the reader is slow (see stream backpressure). */
  protected out(text: string): boolean {
    return process.stdout.write(text)
  }

  /** Status and warnings: stderr, so pipes get only data. */
  protected status(line: string): void {
    process.stderr.write(`${safeText(line)}\n`)
  }

  protected async catch(error: Error & {oclif?: {exit?: number}; code?: string}): Promise<void> {
    // Ours, a failed system/libbpf call (SysError), or a missing libbpf.so.1: one line, its exit code.
    const known = toTailcallsError(error)
    if (known) {
      this.report(known.line(), known.exitCode, known.details)
      return
    }

    if (error.code === 'EPIPE') {
      // The reader went away (`| head`): not an error for the user.
      process.exitCode = 0
      return
    }

    if (error.oclif?.exit !== undefined) {
      // oclif's parse and usage errors: one line, and where the usage is.
      const first = error.message
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean)
        .join(' ')
        .replace(/See more help with --help/, '')
        .trim()
      this.report(
        `${first}; see \`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''} --help\``,
        error.oclif.exit || EXIT.usage,
      )
      return
    }

    const debug = process.env.TAILCALLS_DEBUG ? `\n${error.stack}` : ''
    this.report(
      `internal error: ${error.message} (set TAILCALLS_DEBUG=1 for details; please report it)${debug}`,
      EXIT.internal,
    )
  }

  private report(line: string, code: number, details?: string[]): void {
    reportError(line, this.jsonEnabled(), details)
    process.exitCode = code
  }
}
