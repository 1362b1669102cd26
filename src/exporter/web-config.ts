/**
 * `--web-config FILE`: TLS and basic auth in the format of the Prometheus exporter-toolkit
 * (the file node_exporter, blackbox_exporter… take with --web.config.file), so operators reuse
 * the files and the bcrypt hashes they already have:
 *
 *   tls_server_config:
 *     cert_file: server.crt          # relative paths are relative to this file's folder
 *     key_file: server.key
 *     client_auth_type: RequireAndVerifyClientCert   # optional, with client_ca_file
 *     client_ca_file: ca.crt
 *     min_version: TLS12             # TLS10 … TLS13
 *   basic_auth_users:
 *     prometheus: $2y$10$…           # bcrypt hash (htpasswd -nBC 10 "" | tr -d ':\n')
 *
 * Like the toolkit, keys this exporter does not know are refused rather than silently ignored
 * (a misspelt `basic_auth_user` must not leave the exporter open).
 */
import {loadBcrypt, loadYaml} from './libs.js'
import {createHash} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {dirname, isAbsolute, join} from 'node:path'

import {TailcallsError} from '../errors.js'

export interface WebConfig {
  tls?: {
    cert: Buffer
    key: Buffer
    ca?: Buffer
    requestCert: boolean
    minVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3'
  }
  /** user → bcrypt hash. */
  users?: Map<string, string>
}

const TLS_KEYS = new Set(['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version'])
const TOP_KEYS = new Set(['tls_server_config', 'basic_auth_users'])
const MIN_VERSION = {TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3'} as const
const CLIENT_AUTH = new Set(['NoClientCert', 'RequireAndVerifyClientCert'])

function bad(file: string, what: string): TailcallsError {
  return new TailcallsError('usage', `--web-config ${file}: ${what}`, {
    hint: 'see the exporter-toolkit web configuration format (tls_server_config, basic_auth_users)',
  })
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

export async function loadWebConfig(file: string): Promise<WebConfig> {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new TailcallsError('notFound', `cannot read --web-config ${file}: ${(error as NodeJS.ErrnoException).code}`, {
      hint: 'give the path of a readable YAML file',
    })
  }

  const {parse} = loadYaml()
  let doc: unknown
  try {
    doc = parse(text) ?? {}
  } catch (error) {
    throw bad(file, `not valid YAML (${(error as Error).message.split('\n')[0]})`)
  }

  if (!isObject(doc)) throw bad(file, 'the top level must be a mapping')
  for (const k of Object.keys(doc)) if (!TOP_KEYS.has(k)) throw bad(file, `unknown or unsupported key '${k}'`)
  const base = dirname(file)
  const path = (p: unknown, key: string) => {
    if (typeof p !== 'string' || p === '') throw bad(file, `tls_server_config.${key} must be a file path`)
    return isAbsolute(p) ? p : join(base, p)
  }

  const read = (p: string, key: string) => {
    try {
      return readFileSync(p)
    } catch (error) {
      throw bad(file, `cannot read tls_server_config.${key} ${p}: ${(error as NodeJS.ErrnoException).code}`)
    }
  }

  const config: WebConfig = {}
  const tls = doc.tls_server_config
  if (tls !== undefined && tls !== null) {
    if (!isObject(tls)) throw bad(file, 'tls_server_config must be a mapping')
    for (const k of Object.keys(tls))
      if (!TLS_KEYS.has(k)) throw bad(file, `unknown or unsupported key 'tls_server_config.${k}'`)
    if (tls.cert_file === undefined || tls.key_file === undefined)
      throw bad(file, 'tls_server_config needs cert_file and key_file')
    const clientAuth = tls.client_auth_type ?? 'NoClientCert'
    if (typeof clientAuth !== 'string' || !CLIENT_AUTH.has(clientAuth))
      throw bad(file, `client_auth_type must be one of ${[...CLIENT_AUTH].join(', ')}`)
    const requestCert = clientAuth === 'RequireAndVerifyClientCert'
    if (requestCert && tls.client_ca_file === undefined)
      throw bad(file, 'client_auth_type RequireAndVerifyClientCert needs client_ca_file')
    let minVersion: NonNullable<WebConfig['tls']>['minVersion']
    if (tls.min_version !== undefined) {
      minVersion = MIN_VERSION[tls.min_version as keyof typeof MIN_VERSION]
      if (!minVersion) throw bad(file, `min_version must be one of ${Object.keys(MIN_VERSION).join(', ')}`)
    }

    config.tls = {
      ca:
        tls.client_ca_file === undefined
          ? undefined
          : read(path(tls.client_ca_file, 'client_ca_file'), 'client_ca_file'),
      cert: read(path(tls.cert_file, 'cert_file'), 'cert_file'),
      key: read(path(tls.key_file, 'key_file'), 'key_file'),
      minVersion,
      requestCert,
    }
  }

  const users = doc.basic_auth_users
  if (users !== undefined && users !== null) {
    if (!isObject(users)) throw bad(file, 'basic_auth_users must be a mapping of user: bcrypt-hash')
    config.users = new Map()
    for (const [user, hash] of Object.entries(users)) {
      if (typeof hash !== 'string' || !/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash))
        throw bad(file, `basic_auth_users.${user} is not a bcrypt hash`)
      if (user.includes(':')) throw bad(file, `user name '${user}' contains ':'`)
      config.users.set(user, hash)
    }
  }

  return config
}

/** A bcrypt hash of nothing anyone can send: unknown users cost the same as known ones. */
const DUMMY_HASH = '$2b$10$D8jOQGFS8G.0jk3MeKlWaea/sUGK//BMuwAJ4Ef/kLn/sMozV/N3q'
const CACHE_MAX = 100

/**
 * Basic-auth checks. bcrypt is slow on purpose (tens of ms per check in pure JS), so, like the
 * exporter-toolkit, a successful (user, password) is remembered (by a SHA-256 of both and the
 * hash, in a bounded cache): Prometheus re-sends the same credentials every scrape. Failures are
 * never cached.
 */
export class BasicAuth {
  private readonly ok = new Map<string, true>()

  constructor(private readonly users: Map<string, string>) {}

  async check(header: string | undefined): Promise<boolean> {
    if (!header?.startsWith('Basic ')) return false
    const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) return false
    const user = decoded.slice(0, colon)
    const password = decoded.slice(colon + 1)
    const hash = this.users.get(user)
    const key = createHash('sha256')
      .update(user)
      .update('\0')
      .update(password)
      .update('\0')
      .update(hash ?? '')
      .digest('hex')
    if (hash !== undefined && this.ok.has(key)) return true
    const bcrypt = loadBcrypt()
    const match = await bcrypt.compare(password, hash ?? DUMMY_HASH)
    if (!match || hash === undefined) return false
    if (this.ok.size >= CACHE_MAX) this.ok.delete(this.ok.keys().next().value!)
    this.ok.set(key, true)
    return true
  }
}
