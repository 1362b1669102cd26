// Kernel tests need root (CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN: loading programs, reading
// every object, setpriv to an unprivileged user). Without it they are skipped with a reason
// ("skipped: needs root") instead of failing on EPERM, so a developer can run any file; the full suite (test/run.mjs)
// fails when anything was skipped, so CI, which runs as root, never passes on skipped tests.
//
//   test('loads the chain', needsRoot, async () => { … })
//   describe('on the live chain', needsRoot, () => { … })
import type {TestOptions} from 'node:test'

export const IS_ROOT = process.geteuid?.() === 0

/** test()/describe() options: skipped, saying why, unless running as root. */
export const needsRoot: TestOptions = IS_ROOT ? {} : {skip: 'skipped: needs root'}
