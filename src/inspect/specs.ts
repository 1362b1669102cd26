/** What list/show need per object kind: how to list, how to show one, how to draw a table. */
import {progInfoNote} from '../kernel/features.js'
import {progInfo} from '../kernel/info.js'
import {type LinkJson, linkJson, linkList} from './link.js'
import {type MapJson, mapJson, mapList} from './map.js'
import {type ProgJson, progJson, progList} from './prog.js'
import type {InspectSpec} from './run.js'
import {linkView, mapView, progView} from './views.js'

export const progSpec: InspectSpec<ProgJson> = {
  empty: 'No BPF programs are loaded.',
  footnote: (fd) => progInfoNote(progInfo(fd).infoLen),
  kind: 'prog',
  list: progList,
  one: progJson,
  view: progView,
}

export const mapSpec: InspectSpec<MapJson> = {
  empty: 'No BPF maps exist.',
  kind: 'map',
  list: mapList,
  one: mapJson,
  view: mapView,
}

export const linkSpec: InspectSpec<LinkJson> = {
  empty: 'No BPF links exist.',
  kind: 'link',
  list: linkList,
  one: linkJson,
  view: linkView,
}
