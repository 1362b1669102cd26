/**
 * What `tailcalls` runs, and the entry of the bundle `npm run build` makes (bin/bundle.js):
 * every command by id, for oclif's "explicit" command discovery (package.json `oclif.commands`
 * names this object instead of a directory to glob), and oclif's `execute` for bin/run.js, so
 * the commands and the CLI share one copy of @oclif/core. The command classes are small: each
 * imports its real work with `await import()` inside `run()`, so loading all of them costs
 * little and a run evaluates only what its command needs.
 */
import type {Command} from '@oclif/core'

export {execute} from '@oclif/core'

import Autocomplete from '../../commands/autocomplete.js'
import AutocompleteScript from '../../commands/autocomplete/script.js'
import Doctor from '../../commands/doctor.js'
import Events from '../../commands/events.js'
import Exporter from '../../commands/exporter.js'
import Graph from '../../commands/graph.js'
import Help from '../../commands/help.js'
import LinkList from '../../commands/link/list.js'
import LinkShow from '../../commands/link/show.js'
import Load from '../../commands/load.js'
import MapDelete from '../../commands/map/delete.js'
import MapDump from '../../commands/map/dump.js'
import MapList from '../../commands/map/list.js'
import MapShow from '../../commands/map/show.js'
import MapUpdate from '../../commands/map/update.js'
import PerfList from '../../commands/perf/list.js'
import ProgList from '../../commands/prog/list.js'
import ProgRun from '../../commands/prog/run.js'
import ProgShow from '../../commands/prog/show.js'
import Stats from '../../commands/stats.js'
import Unload from '../../commands/unload.js'

export const COMMANDS: Record<string, Command.Class> = {
  autocomplete: Autocomplete,
  'autocomplete:script': AutocompleteScript,
  doctor: Doctor,
  events: Events,
  exporter: Exporter,
  graph: Graph,
  help: Help,
  'link:list': LinkList,
  'link:show': LinkShow,
  load: Load,
  'map:delete': MapDelete,
  'map:dump': MapDump,
  'map:list': MapList,
  'map:show': MapShow,
  'map:update': MapUpdate,
  'perf:list': PerfList,
  'prog:list': ProgList,
  'prog:run': ProgRun,
  'prog:show': ProgShow,
  stats: Stats,
  unload: Unload,
}
