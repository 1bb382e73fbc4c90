/**
 * A complete cluster in one process: account, container and object servers, the object
 * expirer and the proxy, with swift.conf and rings written under a data directory. `npm start` runs it on fixed
 * ports under ./data; tests and user harnesses run it on ephemeral ports in a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { buildRing, writeRingFile, type RingBuildDevice } from '../common/ring';
import { loadSwiftConf } from '../common/swift-conf';
import { startAccountServer, startContainerServer, startObjectServer } from '../../servers/index';
import type { RunningServer } from '../../servers/common/http';
import type { RunningObjectServer } from '../../servers/object/server';
import { ObjectExpirer } from '../../servers/expirer/expirer';
import { startProxyServer, type RunningProxy } from '../proxy/server';
import { parseProxyConfig, type ProxyConfig } from '../proxy/config';
import { DEVELOPMENT_USERS } from '../middleware/tempauth/config';
// The built-in filters, registered for the pipelines this module builds.
import '../middleware/index';

export interface DevClusterOptions {
  /** Where swift.conf, rings and device data live. */
  dataDir: string;
  host?: string;
  /** Proxy port; 0 for an ephemeral one. */
  proxyPort?: number;
  /** Storage server ports; 0 for ephemeral ones (rings are then rewritten on every start). */
  accountPort?: number;
  containerPort?: number;
  objectPort?: number;
  /** Devices per storage server, and so the replica count of every ring. */
  replicas?: number;
  partPower?: number;
  /** proxy-server.conf text or parsed configuration; defaults to the development configuration. */
  proxyConfig?: string | ProxyConfig;
  logger?: Logger;
  accessLogger?: Logger;
  /**
   * Seconds between the object expirer's passes (default 300, Swift's); 0 runs no passes by
   * itself (call `expirer.runOnce()`). startCluster defaults to 0.
   */
  expirerInterval?: number;
}

export interface DevCluster {
  proxy: RunningProxy;
  account: RunningServer;
  container: RunningServer;
  object: RunningObjectServer;
  /** Removes expired objects; `runOnce()` does one pass now. */
  expirer: ObjectExpirer;
  dataDir: string;
  swiftDir: string;
  url: string;
  stop(): Promise<void>;
}

export const DEV_PROXY_CONF = `
[DEFAULT]
bind_ip = 127.0.0.1
bind_port = 8080

[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck proxy-logging cache listing_formats bulk tempurl tempauth copy container-quotas account-quotas slo dlo versioned_writes symlink proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:proxy-logging]
use = egg:swift#proxy_logging

[filter:cache]
use = egg:swift#memcache

[filter:listing_formats]
use = egg:swift#listing_formats

# Development users (Swift's own test users, whose keys are well known): dev_users = true
# installs them when there are no user_ lines; sluice warns that they are for development only.
[filter:tempauth]
use = egg:swift#tempauth
dev_users = true
reseller_prefix = AUTH, SERVICE
SERVICE_require_group = service

[filter:copy]
use = egg:swift#copy

[filter:versioned_writes]
use = egg:swift#versioned_writes
allow_versioned_writes = true

[filter:bulk]
use = egg:swift#bulk

[filter:tempurl]
use = egg:swift#tempurl

[filter:container-quotas]
use = egg:swift#container_quotas

[filter:account-quotas]
use = egg:swift#account_quotas

[filter:symlink]
use = egg:swift#symlink

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`;

/**
 * The development configuration with a TempAuth user store at `userStore` (what `sluice start`
 * runs). The development users are spelled out as user_ lines, because a configured store
 * alone would (safely) leave them out.
 */
export function devProxyConfWithUserStore(userStore: string): string {
  const devUsers = Object.entries(DEVELOPMENT_USERS).map(([k, v]) => `${k} = ${v}`).join('\n');
  return DEV_PROXY_CONF.replace('[filter:tempauth]\nuse = egg:swift#tempauth\n', `[filter:tempauth]\nuse = egg:swift#tempauth\nusers_db = ${userStore}\n${devUsers}\n`);
}

/** authtoken's service credentials and where Keystone is, for `devProxyConfWithKeystone`. */
export interface DevKeystoneAuth {
  /** Keystone's URL, with or without its version (`http://127.0.0.1:5000/v3` or `.../5000`). */
  url: string;
  /** The service user that validates tokens (keystonemiddleware's `username`). */
  username: string;
  password: string;
  /** The project it is scoped to (`project_name`). */
  projectName: string;
  /** The domain id of both the user and the project (`user_domain_id`, `project_domain_id`). */
  domainId: string;
}

/**
 * Keystone's unversioned URL from one with or without its version: what keystonemiddleware's
 * www_authenticate_uri (sent to clients in `WWW-Authenticate: Keystone uri=...`, where they do
 * version discovery) and auth_url conventionally hold. Throws on a URL no client could reach:
 * not http(s), no host, user info, a query or a fragment.
 */
export function keystoneBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Keystone URL ${JSON.stringify(raw)} is not a URL (e.g. http://127.0.0.1:5000/v3)`);
  }
  const bad =
    url.protocol !== 'http:' && url.protocol !== 'https:'
      ? 'is not http(s)'
      : !url.hostname
        ? 'has no host'
        : url.username || url.password
          ? 'must not hold credentials'
          : url.search || url.hash || raw.includes('?') || raw.includes('#')
            ? 'must not have a query or fragment'
            : undefined;
  if (bad) throw new Error(`Keystone URL ${JSON.stringify(raw)} ${bad}`);
  const path = url.pathname.replace(/\/+$/, '').replace(/\/v(3|2\.0)$/, '');
  return `${url.origin}${path}`;
}

/**
 * A value for an option line of proxy-server.conf that reads back as `value`: configparser strips
 * the ends of a value and has no way to write a line break; Swift's interpolation leaves a value
 * alone unless it holds `%(`, and then reads `%%` as `%`.
 */
function confValue(option: string, value: string): string {
  if (value === '' || /[\r\n]/.test(value) || value.trim() !== value) {
    throw new Error(`${option} cannot be written to proxy-server.conf: it is empty, holds a line break, or begins or ends with white space`);
  }
  return value.includes('%(') ? value.replaceAll('%', '%%') : value;
}

/**
 * The development configuration with Keystone in place of TempAuth (what `sluice start --auth
 * keystone` runs): `authtoken keystoneauth` where DEV_PROXY_CONF has `tempauth`, as Swift's
 * sample proxy-server.conf does, the rest of the pipeline unchanged. delay_auth_decision is on,
 * as Swift's sample says it must be: without it authtoken refuses every request without a valid
 * token before keystoneauth sees it, so container ACLs (.r:*) and anonymous tempurl could not work.
 */
/**
 * The built-in configuration with `policy_file` in its auth filter's section (tempauth or
 * keystoneauth): `sluice start --policy FILE`.
 */
export function devProxyConfWithPolicy(conf: string, policyFile: string): string {
  const section = /^\[filter:(tempauth|keystoneauth)\]\n/m;
  if (!section.test(conf)) throw new Error('the built-in configuration has no tempauth or keystoneauth section');
  return conf.replace(section, (head) => `${head}policy_file = ${confValue('the policy file path', policyFile)}\npolicy_check_interval = 1\n`);
}

export function devProxyConfWithKeystone(auth: DevKeystoneAuth): string {
  const base = keystoneBaseUrl(auth.url);
  const sections = `[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory
www_authenticate_uri = ${base}
auth_url = ${base}
auth_type = password
username = ${confValue('the Keystone user', auth.username)}
password = ${confValue('the Keystone password', auth.password)}
user_domain_id = ${confValue('the Keystone domain', auth.domainId)}
project_name = ${confValue('the Keystone project', auth.projectName)}
project_domain_id = ${confValue('the Keystone domain', auth.domainId)}
delay_auth_decision = true
# As Swift's sample config: validated tokens in the proxy's cache, and no catalog asked for
# (keystoneauth needs none)
cache = swift.cache
include_service_catalog = false
# an X-Service-Token must carry a service role (keystonemiddleware's default, false, is deprecated)
service_token_roles_required = true

[filter:keystoneauth]
use = egg:swift#keystoneauth
operator_roles = admin, swiftoperator
reseller_admin_role = ResellerAdmin
`;
  const tempauthSection = /# Development users[^\n]*\n(#[^\n]*\n)*\[filter:tempauth\]\n([^[\n][^\n]*\n)*/;
  const pipeline = /^(pipeline = .*) tempauth (.*)$/m;
  if (!tempauthSection.test(DEV_PROXY_CONF) || !pipeline.test(DEV_PROXY_CONF)) throw new Error('DEV_PROXY_CONF has no tempauth to replace');
  return DEV_PROXY_CONF.replace(pipeline, '$1 authtoken keystoneauth $2').replace(tempauthSection, sections);
}

/** Writes swift.conf with a fresh random hash suffix, once: changing it would orphan all data. */
function ensureSwiftConf(swiftDir: string): void {
  const path = join(swiftDir, 'swift.conf');
  if (existsSync(path)) return;
  writeFileSync(
    path,
    `[swift-hash]\nswift_hash_path_prefix = ${randomBytes(8).toString('hex')}\nswift_hash_path_suffix = ${randomBytes(8).toString('hex')}\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n`,
    { mode: 0o600 },
  );
}

function ringDevices(host: string, port: number, devices: string[]): RingBuildDevice[] {
  return devices.map((device, i) => ({ region: 1, zone: i + 1, ip: host, port, device, weight: 1 }));
}

export interface DevStorage {
  account: RunningServer;
  container: RunningServer;
  object: RunningObjectServer;
  expirer: ObjectExpirer;
  dataDir: string;
  swiftDir: string;
  stop(): Promise<void>;
}

/** Names the server in its start-up failure: of three ports, "address already in use" alone does not say whose. */
async function starting<T>(name: string, server: Promise<T>): Promise<T> {
  try {
    return await server;
  } catch (err) {
    throw new Error(`${name}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
  }
}

/**
 * The storage half of a development cluster: swift.conf (made once), the three servers, rings
 * naming them (rewritten only when the servers' addresses change), and the object expirer.
 */
export async function startDevStorage(opts: DevClusterOptions): Promise<DevStorage> {
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const replicas = opts.replicas ?? 1;
  const swiftDir = join(dataDir, 'etc');
  const devicesDir = join(dataDir, 'node');
  const devices = Array.from({ length: replicas }, (_, i) => `d${i + 1}`);
  try {
    mkdirSync(swiftDir, { recursive: true });
    for (const d of devices) mkdirSync(join(devicesDir, d), { recursive: true });
    ensureSwiftConf(swiftDir);
  } catch (err) {
    throw new Error(`data directory ${dataDir} cannot be used: ${(err as Error).message}`, { cause: err });
  }
  const swiftConf = loadSwiftConf(swiftDir);

  const started: { close(): Promise<void> }[] = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.close().catch(() => undefined);
  };
  try {
    const common = { devices: devicesDir, host, swiftDir, swiftConf };
    const account = await starting('account-server', startAccountServer({ ...common, port: opts.accountPort ?? 0 }));
    started.push(account);
    const container = await starting('container-server', startContainerServer({ ...common, port: opts.containerPort ?? 0 }));
    started.push(container);
    const object = await starting('object-server', startObjectServer({ ...common, port: opts.objectPort ?? 0 }));
    started.push(object);

    const partPower = opts.partPower ?? 8;
    const rings: [string, number][] = [
      ['account', account.port],
      ['container', container.port],
      ...swiftConf.policies.map((p): [string, number] => [p.index === 0 ? 'object' : `object-${p.index}`, object.port]),
    ];
    for (const [name, port] of rings) {
      const path = join(swiftDir, `${name}.ring.gz`);
      const stamp = join(swiftDir, `${name}.ring.ports`);
      const want = `${host}:${port}:${replicas}`;
      if (existsSync(path) && existsSync(stamp) && readFileSync(stamp, 'utf8') === want) continue;
      writeRingFile(path, buildRing({ partPower, replicas, devices: ringDevices(host, port, devices) }));
      writeFileSync(stamp, want);
    }
    const expirer = new ObjectExpirer({
      swiftDir,
      swiftConf,
      interval: opts.expirerInterval ?? 300,
      logger: (opts.logger ?? pino()).child({ name: 'object-expirer' }),
    });
    started.push(expirer);
    expirer.start();
    return { account, container, object, expirer, dataDir, swiftDir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

export function devProxyConfig(opts: Pick<DevClusterOptions, 'proxyConfig'>): ProxyConfig {
  return typeof opts.proxyConfig === 'object' ? opts.proxyConfig : parseProxyConfig(opts.proxyConfig ?? DEV_PROXY_CONF, 'development proxy-server.conf');
}

export async function startDevCluster(opts: DevClusterOptions): Promise<DevCluster> {
  const storage = await startDevStorage(opts);
  try {
    const proxy = await startProxyServer({
      config: devProxyConfig(opts),
      host: opts.host ?? '127.0.0.1',
      port: opts.proxyPort ?? 0,
      swiftDir: storage.swiftDir,
      swiftConf: loadSwiftConf(storage.swiftDir),
      logger: opts.logger,
      accessLogger: opts.accessLogger,
    });
    return {
      ...storage,
      proxy,
      url: proxy.url,
      async stop() {
        await proxy.close();
        await storage.stop();
      },
    };
  } catch (err) {
    await storage.stop();
    throw err;
  }
}

export interface TestCluster extends DevCluster {
  /** Removes the temp directory too. */
  stop(): Promise<void>;
}

/** A throwaway cluster on ephemeral ports in a temp directory (for tests and harnesses). */
export async function startCluster(opts: Partial<Omit<DevClusterOptions, 'dataDir'>> & { dataDir?: string } = {}): Promise<TestCluster> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  // Quiet by default: a harness's output is the tests', not the access log.
  const logger = opts.logger ?? pino({ level: 'silent' });
  const cluster = await startDevCluster({ ...opts, logger, dataDir, proxyPort: opts.proxyPort ?? 0, expirerInterval: opts.expirerInterval ?? 0 });
  return {
    ...cluster,
    async stop() {
      await cluster.stop();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
