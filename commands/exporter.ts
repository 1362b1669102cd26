import {Flags} from '@oclif/core'

import {BaseCommand} from '../src/cli/base.js'
import type {Needs} from '../src/cli/privileges.js'

export default class Exporter extends BaseCommand {
  static summary = "Serve the node's tail-call state to Prometheus (/metrics)"

  static description = `An HTTP server for Prometheus: every prog array on the node (slots, the program in each), the tail-call graph of every program (per entry program: longest chain, cycles, call sites whose slot is empty), the kernel run statistics of entry programs while stats are enabled, the counters of chains that count themselves (runs per stage, failed tail calls per slot, ring-buffer drops) and the exporter's own health. Everything is read from the kernel when a scrape arrives; nothing runs in between. Prometheus text format, or OpenMetrics when the scraper asks for it.

Safe by default: it listens on 127.0.0.1:9435 unless --listen says otherwise, changes nothing, serves only /metrics and /healthz (404 for other paths, 405 for methods other than GET and HEAD), and bounds slow or hostile clients (header and request timeouts, header size, connection count). TLS and basic auth come from --web-config FILE in the Prometheus exporter-toolkit format.

--enable-stats holds a BPF_ENABLE_STATS fd for the exporter's life, so run_cnt and run_time_ns count (host-wide: every BPF program pays ~40 ns per run meanwhile). The kernel charges a whole tail-call chain to its entry program; tail-called programs always read 0.

Needs CAP_SYS_ADMIN to list BPF objects by id (without it, scrapes report tailcalls_scrape_error and still serve the rest). Stops on SIGINT, SIGTERM or SIGHUP.`

  static examples = [
    {command: '<%= config.bin %> exporter', description: 'Serve http://127.0.0.1:9435/metrics'},
    {
      command: 'curl -s localhost:9435/metrics | grep tailcalls_empty_slot_sites',
      description: 'Tail calls that will fall through',
    },
    {
      command: '<%= config.bin %> exporter --listen :9435 --web-config web.yml --enable-stats',
      description: 'Every interface, TLS + basic auth, kernel run stats on',
    },
  ]

  // Nothing up front: without privileges every scrape still answers, and says which read failed
  // (tailcalls_scrape_error) — the operator sees the problem in Prometheus, not in a crash loop.
  static needs: Needs = {caps: 'none'}

  static flags = {
    'enable-stats': Flags.boolean({
      description: "hold BPF_ENABLE_STATS for the exporter's life (run_cnt, run_time_ns)",
    }),
    'header-timeout': Flags.integer({
      default: 10,
      description: 'seconds a client has to send its request headers',
      helpValue: 'S',
      min: 1,
    }),
    listen: Flags.string({
      default: '127.0.0.1:9435',
      description: 'address:port to listen on (:PORT = every interface)',
      helpValue: 'ADDR',
    }),
    'max-connections': Flags.integer({
      default: 128,
      description: 'open connections at most; more are dropped at accept',
      helpValue: 'N',
      min: 1,
    }),
    'pin-path': Flags.string({
      description:
        'bpffs folder of a pinned chain, to name it in tailcalls_chain_info (repeatable; default /sys/fs/bpf/tailcalls)',
      helpValue: 'DIR',
      multiple: true,
    }),
    'web-config': Flags.string({
      description: 'TLS and basic auth (exporter-toolkit web config YAML)',
      helpValue: 'FILE',
    }),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Exporter)
    const {runExporter} = await import('../src/exporter/run.js')
    await runExporter({
      enableStats: flags['enable-stats'],
      limits: {headersTimeoutMs: flags['header-timeout'] * 1000, maxConnections: flags['max-connections']},
      listen: flags.listen,
      pinPaths: flags['pin-path'] ?? [],
      status: (line) => this.status(line),
      version: this.config.version,
      webConfig: flags['web-config'],
    })
  }
}
