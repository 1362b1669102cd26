// deploy/: the Kubernetes manifests are valid against the Kubernetes API schemas and the
// prometheus-operator CRD schemas (kubernetes-models validators; no cluster needed), say what the
// issue asks (capabilities, read-only mounts, tolerations), and the example alerts pass
// `promtool check rules` and fire in `promtool test rules` on recorded series.
import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {test} from 'node:test'

import {PodMonitor} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1'
import {DaemonSet} from 'kubernetes-models/apps/v1'
import {Namespace, Service} from 'kubernetes-models/v1'
import {parse, parseAllDocuments} from 'yaml'

import {ROOT} from '../helpers/cli.js'
import {promtool} from './helpers.js'

const DEPLOY = join(ROOT, 'deploy')
const load = (file: string) => parse(readFileSync(join(DEPLOY, file), 'utf8'))

test('every manifest validates against its API schema', () => {
  const models: Record<string, (o: any) => {validate(): void}> = {
    'daemonset.yaml': (o) => new DaemonSet(o),
    'namespace.yaml': (o) => new Namespace(o),
    'podmonitor.yaml': (o) => new PodMonitor(o),
    'service.yaml': (o) => new Service(o),
  }
  for (const [file, make] of Object.entries(models)) {
    const docs = parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))
    assert.equal(docs.length, 1, file)
    assert.doesNotThrow(() => make(docs[0].toJS()).validate(), file)
  }

  // The validators do catch mistakes (a misspelt field, a wrong type).
  const bad = load('daemonset.yaml')
  bad.spec.template.spec.containers[0].ports[0].containerPort = 'metrics-port'
  assert.throws(() => new DaemonSet(bad).validate())
  const badMonitor = load('podmonitor.yaml')
  badMonitor.spec.podMetricsEndpoints = 'metrics'
  assert.throws(() => new PodMonitor(badMonitor).validate())
})

test('the DaemonSet runs everywhere with only the capabilities and read-only mounts it needs', () => {
  const ds = load('daemonset.yaml')
  const pod = ds.spec.template.spec
  assert.deepEqual(pod.tolerations, [{operator: 'Exists'}])
  assert.ok(!pod.hostNetwork && !pod.hostPID, 'no host network or PID namespace')
  const [c] = pod.containers
  assert.equal(c.securityContext.privileged, false)
  assert.deepEqual(c.securityContext.capabilities, {add: ['BPF', 'PERFMON', 'SYS_ADMIN'], drop: ['ALL']})
  assert.equal(c.securityContext.readOnlyRootFilesystem, true)
  const mounts = Object.fromEntries(c.volumeMounts.map((m: any) => [m.mountPath, m]))
  assert.equal(mounts['/sys/fs/bpf'].readOnly, true)
  assert.equal(mounts['/sys/kernel/btf'].readOnly, true)
  assert.deepEqual(
    c.args.slice(0, 3),
    ['exporter', '--listen', '$(POD_IP):9435'],
    'listens on the pod IP, not every interface',
  )
  const svc = load('service.yaml')
  assert.equal(svc.spec.selector['app.kubernetes.io/name'], ds.spec.template.metadata.labels['app.kubernetes.io/name'])
  const pm = load('podmonitor.yaml')
  assert.equal(
    pm.spec.selector.matchLabels['app.kubernetes.io/name'],
    ds.spec.template.metadata.labels['app.kubernetes.io/name'],
  )
  assert.equal(pm.spec.podMetricsEndpoints[0].port, c.ports[0].name)
})

test('the Dockerfile follows the set-up: Debian 12, libbpf1, npm ci, build', () => {
  const df = readFileSync(join(DEPLOY, 'Dockerfile'), 'utf8')
  assert.match(df, /^FROM node:20-bookworm-slim/m)
  assert.match(df, /apt-get install -y --no-install-recommends libbpf1/)
  assert.match(df, /npm ci/)
  assert.match(df, /npm run build/)
})

test('the example alerts pass promtool check rules and fire in promtool test rules', () => {
  const check = promtool(['check', 'rules', join(DEPLOY, 'alerts.yml')])
  assert.equal(check.code, 0, check.out)
  assert.match(check.out, /SUCCESS: 6 rules found/)
  const run = promtool(['test', 'rules', join(DEPLOY, 'alerts.test.yml')])
  assert.equal(run.code, 0, run.out)
  assert.match(run.out, /SUCCESS/)
})
