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
import {reportFailure} from './failure.js'

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
    if (error.oclif?.exit !== undefined && !toTailcallsError(error) && error.code !== 'EPIPE') {
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

    // Ours, a failed system call, a missing libbpf, a closed reader, or a bug (src/cli/failure.ts).
    process.exitCode = reportFailure(error, this.jsonEnabled())
  }

  private report(line: string, code: number, details?: string[]): void {
    reportError(line, this.jsonEnabled(), details)
    process.exitCode = code
  }
}
