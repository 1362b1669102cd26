import {Flags} from '@oclif/core'

import {BaseCommand} from '../../src/cli/base.js'
import type {Needs} from '../../src/cli/privileges.js'
import {selectorArgs} from '../../src/inspect/args.js'

export default class MapDump extends BaseCommand {
  static summary = 'Dump the entries of a BPF map (bpftool map dump), decoded with its BTF'

  static description = `MAP := id N | name NAME | pinned PATH

Works on every map in the kernel. With --json the output is bpftool's, key for key: "key"/"value" as arrays of "0x%02x" byte strings, "values":[{"cpu","value"}] for per-CPU maps (one per possible CPU), and "formatted" (the key and value decoded with the map's BTF, by our own BTF decoder following bpftool's rules) when the map has BTF. Empty prog_array slots are left out, as bpftool does. A name matching several maps gives an array of {"id","type","name","flags","elements"}. Extra: prog_array entries end with "prog": {"id","name","type","tag"} for the program in the slot.

Where bpftool cannot render a BTF type (it prints an unterminated "(unsupported-kind" for FLOAT), we print numbers; a part of a key or value that cannot be decoded at all (a forward declaration, broken BTF) shows as "(cannot decode: …)" with a warning on stderr naming its path and byte offset, and the rest of the output stays valid JSON.

Without --json: a table. A prog_array lists every slot (empty ones marked), with the program's id, name, type and tag; a per-CPU map gives one row per CPU and a total row per key (integer fields only), one column per field; other maps give key and value columns; a value with more than 16 fields is listed one field per row. Past 500 rows the table is streamed as plain aligned text.

Large maps are read with BPF_MAP_LOOKUP_BATCH where the kernel supports it for the map type (hash, array and their per-CPU and LRU variants), and element by element otherwise; the output is streamed, so memory stays flat, and \`| head\` ends quietly.`

  static examples = [
    {
      command: '<%= config.bin %> map dump name TAIL_CALL_MAP',
      description: "The chain's slots: program id, name, type, tag",
    },
    {
      command: '<%= config.bin %> map dump name TAIL_CALL_MAP --json | jq',
      description: 'bpftool\'s JSON, plus "prog" per slot',
    },
    {
      command:
        "<%= config.bin %> map dump name TAIL_CALL_MAP --json | jq -c '.[] | {slot: .formatted.key, prog: .prog.name}'",
      description: 'Slot → program name',
    },
    {command: '<%= config.bin %> map dump name PER_CPU_MAP', description: 'SharedState per CPU, with a total row'},
    {
      command:
        "<%= config.bin %> map dump name PER_CPU_MAP --json | jq -c '.[].formatted.values[] | {cpu, total: .value.total_count}'",
      description: 'total_count per CPU',
    },
    {
      command: '<%= config.bin %> map dump id 42 --json | head -c 1000',
      description: 'A big map: streamed, stops quietly',
    },
    {command: '<%= config.bin %> map dump pinned /sys/fs/bpf/tailcalls/TAIL_CALL_MAP', description: 'A pinned map'},
  ]

  static args = selectorArgs('map')

  static flags = {
    'no-batch': Flags.boolean({
      description: 'read entry by entry (get_next_key + lookup, as bpftool) instead of BPF_MAP_LOOKUP_BATCH',
    }),
  }

  static needs: Needs = {caps: 'admin-or-pinned'}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(MapDump)
    const {parseSelector} = await import('../../src/cli/selector.js')
    const selector = parseSelector('map', args.selector, args.value)
    const warn = (line: string): void => this.status(`tailcalls: warning: ${line}`)
    if (this.jsonEnabled()) {
      const {runMapDumpJson} = await import('../../src/inspect/dump.js')
      await runMapDumpJson(selector, {batch: !flags['no-batch'], json: true, warn})
      return
    }

    const {runMapDumpTable} = await import('../../src/inspect/dump-table.js')
    await runMapDumpTable(selector, {batch: !flags['no-batch'], json: false, warn})
  }
}
