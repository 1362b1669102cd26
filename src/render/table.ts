/**
 * Tables for people. cli-table3 for lists of bounded size; above `PLAIN_ABOVE` rows (cli-table3's
 * layout is super-linear: ~1 s at 4k rows, minutes at 50k) the same columns are rendered as
 * plain aligned text. No ANSI colour unless stdout is a TTY and NO_COLOR is unset (cli-table3
 * colours by default even into pipes, so its styles are always emptied and we colour ourselves).
 */
import {createRequire} from 'node:module'

import type CliTable3 from 'cli-table3'

export interface Column {
  header: string
  /** Right-align (numbers). */
  right?: boolean
}

/** Rows beyond which cli-table3 is avoided. */
export const PLAIN_ABOVE = 500

/** Colour only for a terminal, and never with NO_COLOR (https://no-color.org) or TERM=dumb. */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false
  if (process.env.TERM === 'dumb') return false
  return Boolean(stream.isTTY)
}

const BOLD = (s: string): string => `\u001B[1m${s}\u001B[22m`
const DIM = (s: string): string => `\u001B[2m${s}\u001B[22m`

/** Bold when colour is on; the plain string otherwise. */
export function bold(s: string, color = useColor()): string {
  return color ? BOLD(s) : s
}

export function dim(s: string, color = useColor()): string {
  return color ? DIM(s) : s
}

/**
 * Text from the system (a process's comm, a pin's file name, a BTF name read from a file) may
 * hold terminal control sequences; printed raw they would reach the user's terminal. Every table
 * cell (and every stderr line) goes through safeText: C0 and C1 control characters but the newline,
 * DEL and the Unicode bidi controls are shown escaped (`\u001b`, `\u202e`). Only our own bold/dim
 * codes (`bold()`, `dim()`) are kept; newlines stay (multi-line cells, multi-line messages).
 */
/* eslint-disable no-control-regex -- control characters are what these match */
const UNSAFE = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/
const UNSAFE_OR_OURS =
  /\u001B\[(?:1|2|22)m|[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g
/* eslint-enable no-control-regex */

export function safeText(s: string): string {
  if (!UNSAFE.test(s)) return s
  return s.replaceAll(UNSAFE_OR_OURS, (m) => {
    if (m.length > 1) return m
    // JSON's spelling: readable in a table, and a status line that is JSON stays valid JSON.
    return `\\u${m.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

/** Display width of a string (no ANSI, wide characters count 2 only in cli-table3; good enough here). */
function width(s: string): number {
  // Strip ANSI escapes before measuring.
  if (!s.includes('\u001B')) return s.length // the common case, without a regex per cell
  // eslint-disable-next-line no-control-regex
  return s.replaceAll(/\u001B\[[0-9;]*m/g, '').length
}

function pad(s: string, w: number, right?: boolean): string {
  const fill = ' '.repeat(Math.max(0, w - width(s)))
  return right ? fill + s : s + fill
}

/**
 * Plain aligned text: a header line, then one line per row, columns separated by two spaces.
 * Linear in the number of rows; this is also what the streaming formatter below produces.
 */
export function renderPlain(columns: Column[], raw: string[][], color = useColor()): string {
  const rows = raw.map((r) => r.map((c) => safeText(c ?? '')))
  const widths = columns.map((c, i) => Math.max(width(c.header), ...rows.map((r) => width(r[i] ?? ''))))
  const lines = [
    formatRow(
      columns,
      widths,
      columns.map((c) => c.header),
      color,
      true,
    ),
  ]
  for (const r of rows) lines.push(formatRow(columns, widths, r, color, false))
  return lines.join('\n') + '\n'
}

function formatRow(columns: Column[], widths: number[], raw: string[], color: boolean, header: boolean): string {
  const cells = header ? raw : raw.map((c) => safeText(c ?? ''))
  const last = columns.length - 1
  const text = columns
    .map((c, i) => (i === last && !c.right ? (cells[i] ?? '') : pad(cells[i] ?? '', widths[i], c.right)))
    .join('  ')
    .trimEnd()
  return header ? bold(text, color) : text
}

/**
 * A formatter for rows that arrive one by one (big dumps): fixed column widths chosen up front
 * (wider cells just push the line), so nothing is buffered.
 */
export function streamingRows(
  columns: Column[],
  widths: number[],
  color = useColor(),
): {header(): string; row(cells: string[]): string} {
  const w = columns.map((c, i) => Math.max(widths[i] ?? 0, width(c.header)))
  return {
    header: () =>
      formatRow(
        columns,
        w,
        columns.map((c) => c.header),
        color,
        true,
      ) + '\n',
    row: (cells) => formatRow(columns, w, cells, color, false) + '\n',
  }
}

let Table: typeof CliTable3 | undefined

/** A boxed table (cli-table3) for up to PLAIN_ABOVE rows, plain aligned text beyond. */
export function renderTable(columns: Column[], rows: string[][], color = useColor()): string {
  if (rows.length > PLAIN_ABOVE) return renderPlain(columns, rows, color)
  // Loaded on demand: --json runs never pay for it.
  Table ??= createRequire(import.meta.url)('cli-table3') as typeof CliTable3
  const table = new Table({
    colAligns: columns.map((c) => (c.right ? 'right' : 'left')),
    head: columns.map((c) => bold(c.header, color)),
    // Compact: no rule between rows (a list reads better, and it is half the height).
    chars: {'left-mid': '', mid: '', 'mid-mid': '', 'right-mid': ''},
    style: {border: [], head: []},
  })
  for (const r of rows) table.push(columns.map((_c, i) => safeText(r[i] ?? '')))
  return table.toString() + '\n'
}
