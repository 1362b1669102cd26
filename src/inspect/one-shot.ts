/**
 * A listing is a one-shot process: it starts, prints and exits within a few hundred
 * milliseconds. V8's optimising compiler (TurboFan) pays off in processes that live longer: for
 * a long listing it compiles the per-object functions (progInfo, progJson, the JSON writer) on a
 * background thread whose CPU time counts in the command's, and in a run this short the compiled
 * code never wins that time back. Measured with bench/prog-list.mjs, `prog list --json --no-pids`
 * over 3,000 programs: 83 µs of CPU per program with TurboFan, 57 µs without it (bpftool: 39 µs).
 *
 * So once a listing reaches TURBOFAN_OFF_AFTER objects, TurboFan is switched off for the rest of
 * the process (code it already optimised stays optimised; Ignition and Sparkplug, V8's
 * interpreter and baseline compiler, run the rest). Not before: switching costs a few ms (the
 * flag change makes V8 refuse the code cache of the Node modules loaded afterwards), which a
 * listing of a few dozen objects would not win back, and below a few hundred calls TurboFan has
 * not started on them anyway.
 *
 * Only the list/show commands use this: a long-lived command (`load`'s event stream, the exporter)
 * keeps TurboFan.
 */

/** How many objects a listing prints before TurboFan is switched off. */
export const TURBOFAN_OFF_AFTER = 64

/**
 * V8's --no-opt for the rest of this process. `process.getBuiltinModule` (Node ≥ 20.16) reaches
 * node:v8 synchronously from the ES modules and the CommonJS bundle alike; on an older Node the
 * listing just keeps TurboFan.
 */
function turbofanOff(): void {
  if (typeof process.getBuiltinModule !== 'function') return
  process.getBuiltinModule('node:v8').setFlagsFromString('--no-opt')
}

/**
 * `items`, unchanged, switching TurboFan off when the `after`-th one is reached (see the header).
 * `off` is for the unit test.
 */
export function* oneShotListing<T>(
  items: Iterable<T>,
  after = TURBOFAN_OFF_AFTER,
  off: () => void = turbofanOff,
): Generator<T> {
  let n = 0
  for (const item of items) {
    if (++n === after) off()
    yield item
  }
}
