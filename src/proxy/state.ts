/**
 * The proxy application's state (Swift's proxy.server.Application): options from
 * `[app:proxy-server]`, rings, the backend client and the shared info cache.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Ring } from '../common/ring';
import { loadSwiftConf, type SwiftConf } from '../common/swift-conf';
import type { Constraints } from '../common/constraints';
import { BackendClient } from '../common/backend-client';
import { LruInfoCache, type SharedCache } from './info-cache';
import { DEFAULT_EXPIRING_OBJECTS_CONTAINER_DIVISOR, EXPIRING_OBJECTS_ACCOUNT_NAME } from '../common/expiring-objects';
import { boolOption, ConfigError, floatOption, intOption, listOption, type Section } from './config';
import { ProxyMetrics } from './metrics';

/** Swift's default swift_owner_headers (names compared lower-case). */
export const DEFAULT_SWIFT_OWNER_HEADERS = [
  'x-container-read',
  'x-container-write',
  'x-container-sync-key',
  'x-container-sync-to',
  'x-account-meta-temp-url-key',
  'x-account-meta-temp-url-key-2',
  'x-container-meta-temp-url-key',
  'x-container-meta-temp-url-key-2',
  'x-account-access-control',
];

export interface ProxyOptions {
  allowAccountManagement: boolean;
  accountAutocreate: boolean;
  recheckAccountExistence: number;
  recheckContainerExistence: number;
  postQuorumTimeout: number;
  connTimeout: number;
  nodeTimeout: number;
  /** Seconds a client may take to send the next bytes it owes (Swift's client_timeout). */
  clientTimeout: number;
  swiftOwnerHeaders: Set<string>;
  maxContainersPerAccount: number;
  maxContainersWhitelist: Set<string>;
  denyHostHeaders: Set<string>;
  corsAllowOrigin: string[];
  corsExposeHeaders: string[];
  strictCorsMode: boolean;
  transIdSuffix: string;
  exposeInfo: boolean;
  adminKey: string | undefined;
  disallowedSections: string[];
  /** Queue account name under auto_create_account_prefix (expiring_objects_account_name). */
  expiringObjectsAccountName: string;
  /** Seconds of X-Delete-At per queue container set (expiring_objects_container_divisor). */
  expiringObjectsContainerDivisor: number;
}

export interface Rings {
  account: Ring;
  container: Ring;
  /** By storage policy index. */
  object: Map<number, Ring>;
}

export interface ProxyState {
  options: ProxyOptions;
  swiftConf: SwiftConf;
  constraints: Constraints;
  rings: Rings;
  backend: BackendClient;
  /**
   * Where the cache filter keeps shared state: the in-process cache, or the one the proxy
   * workers share (src/proxy/cluster-cache.ts).
   */
  cacheBackend: SharedCache;
  /**
   * The shared cache requests use (Swift's env['swift.cache']): installed by the cache filter
   * (egg:swift#memcache); without it in the pipeline, account and container info are kept for
   * one request only, as in Swift.
   */
  cache: SharedCache | undefined;
  /** Swift's proxy-server StatsD metrics and the events the Prometheus filter counts. */
  metrics: ProxyMetrics;
  /**
   * Set by the authtoken filter when it is built: keystoneauth, later in the pipeline, refuses
   * to start without it (it would otherwise trust nothing, or worse, client headers).
   */
  keystoneAuthtoken: boolean;
  /** The /info document: `swift` from the proxy, one section per filter that registers one. */
  info: Record<string, Record<string, unknown>>;
  close(): Promise<void>;
}

export function proxyOptionsFrom(app: Section): ProxyOptions {
  const owners = listOption(app, 'swift_owner_headers', DEFAULT_SWIFT_OWNER_HEADERS);
  return {
    allowAccountManagement: boolOption(app, 'allow_account_management', false),
    accountAutocreate: boolOption(app, 'account_autocreate', false),
    recheckAccountExistence: intOption(app, 'recheck_account_existence', 60),
    recheckContainerExistence: intOption(app, 'recheck_container_existence', 60),
    postQuorumTimeout: floatOption(app, 'post_quorum_timeout', 0.5),
    connTimeout: floatOption(app, 'conn_timeout', 0.5),
    nodeTimeout: floatOption(app, 'node_timeout', 10),
    clientTimeout: floatOption(app, 'client_timeout', 60),
    swiftOwnerHeaders: new Set(owners.map((h) => h.toLowerCase())),
    maxContainersPerAccount: intOption(app, 'max_containers_per_account', 0),
    maxContainersWhitelist: new Set(listOption(app, 'max_containers_whitelist')),
    denyHostHeaders: new Set(listOption(app, 'deny_host_headers')),
    corsAllowOrigin: listOption(app, 'cors_allow_origin'),
    corsExposeHeaders: listOption(app, 'cors_expose_headers'),
    strictCorsMode: boolOption(app, 'strict_cors_mode', true),
    transIdSuffix: app.trans_id_suffix ?? '',
    exposeInfo: boolOption(app, 'expose_info', true),
    adminKey: app.admin_key || undefined,
    disallowedSections: listOption(app, 'disallowed_sections', ['swift.auto_create_account_prefix', 'swift.valid_api_versions']),
    expiringObjectsAccountName: app.expiring_objects_account_name || EXPIRING_OBJECTS_ACCOUNT_NAME,
    expiringObjectsContainerDivisor: positiveInt(app, 'expiring_objects_container_divisor', DEFAULT_EXPIRING_OBJECTS_CONTAINER_DIVISOR),
  };
}

function positiveInt(app: Section, key: string, dflt: number): number {
  const n = intOption(app, key, dflt);
  if (n <= 0) throw new ConfigError(`${key} must be a positive integer, got ${JSON.stringify(app[key])}`);
  return n;
}

/** Loads account, container and per-policy object rings from swift_dir. */
export function loadRings(swiftDir: string, swiftConf: SwiftConf): Rings {
  const load = (name: string) => {
    const path = join(swiftDir, `${name}.ring.gz`);
    if (!existsSync(path)) throw new ConfigError(`ring file ${path} not found`);
    return Ring.load(path, swiftConf.hash);
  };
  const object = new Map<number, Ring>();
  for (const p of swiftConf.policies) object.set(p.index, load(p.index === 0 ? 'object' : `object-${p.index}`));
  return { account: load('account'), container: load('container'), object };
}

/** The `swift` section of /info, as Swift's proxy registers it (constraints, policies, options). */
function swiftInfo(options: ProxyOptions, conf: SwiftConf): Record<string, unknown> {
  return {
    version: SWIFT_API_VERSION,
    strict_cors_mode: options.strictCorsMode,
    policies: conf.policies
      .filter((p) => !p.deprecated)
      .map((p) => ({ name: p.name, aliases: p.aliases.join(', '), ...(p.isDefault ? { default: true } : {}) })),
    allow_account_management: options.allowAccountManagement,
    account_autocreate: options.accountAutocreate,
    ...conf.constraints,
  };
}

/** The Swift release whose API sluice implements (clients compare /info versions). */
export const SWIFT_API_VERSION = '2.30.1';

export interface ProxyStateInit {
  app: Section;
  swiftDir?: string;
  swiftConf?: SwiftConf;
  rings?: Rings;
  cache?: SharedCache;
}

export function createProxyState(init: ProxyStateInit): ProxyState {
  const swiftDir = init.swiftDir ?? init.app.swift_dir ?? '/etc/swift';
  const swiftConf = init.swiftConf ?? loadSwiftConf(swiftDir);
  const options = proxyOptionsFrom(init.app);
  const rings = init.rings ?? loadRings(swiftDir, swiftConf);
  const backend = new BackendClient({ connTimeout: options.connTimeout, nodeTimeout: options.nodeTimeout });
  const metrics = new ProxyMetrics(init.app);
  backend.observe(metrics);
  let cache: SharedCache | undefined;
  return {
    options,
    swiftConf,
    constraints: swiftConf.constraints,
    rings,
    backend,
    cacheBackend: init.cache ?? new LruInfoCache(),
    // Whatever cache the cache filter installs has its lookups counted (hit ratios).
    get cache() {
      return cache;
    },
    set cache(value) {
      cache = value && metrics.countLookups(value);
    },
    metrics,
    keystoneAuthtoken: false,
    info: { swift: swiftInfo(options, swiftConf) },
    close: async () => {
      await Promise.all([backend.close(), metrics.close()]);
    },
  };
}
