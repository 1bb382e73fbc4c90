/**
 * The proxy's metrics: what happens in the proxy application (Swift's `proxy-server.*` StatsD
 * metrics, sent by its app logger from `[app:proxy-server]`'s log_statsd_* options) and what
 * the Prometheus filter counts. Proxy code reports events here with one call; this hub sends
 * Swift's StatsD lines for the events Swift has names for and hands every event to the
 * observers (the Prometheus filter) that subscribed.
 */
import pino, { type Logger } from 'pino';
import { ConfigError, floatOption, intOption, type Section } from './config';
import { SwiftStatsdClient, type StatsdConfig } from '../common/statsd';
import type { BackendError, BackendObserver, BackendRequest } from '../common/backend-client';
import type { RingDevice } from '../common/ring';
import type { SharedCache } from './info-cache';

/** Swift's stat type: the controller's server_type, lower case. */
export type ServerType = 'account' | 'container' | 'object';

/** One client request as proxy-logging measures it (Swift's log_request). */
export interface RequestFigures {
  type: string;
  method: string;
  status: number;
  /** The storage policy index for object requests whose controller chose one. */
  policy: string | undefined;
  seconds: number;
  /** bytes_received + bytes_sent. */
  bytes: number;
}

export type CacheResult = 'hit' | 'miss' | 'error';

/** Everything the hub reports; an observer implements what it counts. */
export interface MetricsObserver {
  request?(f: RequestFigures): void;
  firstByte?(f: Omit<RequestFigures, 'bytes'>): void;
  proxyError?(): void;
  clientTimeout?(type: ServerType): void;
  clientDisconnect?(type: ServerType): void;
  backendRequest?(type: ServerType, handoff: boolean): void;
  backendError?(type: ServerType, kind: BackendError['kind']): void;
  cacheLookup?(kind: string, result: CacheResult): void;
}

const STATSD_KEYS = ['log_statsd_host', 'log_statsd_port', 'log_statsd_default_sample_rate', 'log_statsd_sample_rate_factor', 'log_statsd_metric_prefix'] as const;

/** get_logger's StatsD settings from a conf; undefined when log_statsd_host is unset (StatsD off). */
export function statsdConfigFrom(conf: Partial<Record<(typeof STATSD_KEYS)[number], string>>, where: string): StatsdConfig | undefined {
  const host = conf.log_statsd_host;
  if (!host) return undefined;
  // Only these keys: spreading the whole section would mark every option as read.
  const section: Section = {};
  for (const key of STATSD_KEYS) if (conf[key] !== undefined) section[key] = conf[key];
  try {
    return {
      host,
      port: intOption(section, 'log_statsd_port', 8125),
      basePrefix: conf.log_statsd_metric_prefix ?? '',
      defaultSampleRate: floatOption(section, 'log_statsd_default_sample_rate', 1),
      sampleRateFactor: floatOption(section, 'log_statsd_sample_rate_factor', 1),
    };
  } catch (err) {
    throw new ConfigError(`${where}: ${(err as Error).message}`);
  }
}

/**
 * proxy_logging's StatsD settings: each `access_<key>` when present, else `<key>`, kept only
 * when the value is non-empty (an empty access_ value hides the plain one, as in Swift).
 */
export function accessStatsdConfig(conf: Section): StatsdConfig | undefined {
  const picked: Record<string, string> = {};
  for (const key of STATSD_KEYS) {
    const access = conf[`access_${key}`];
    const value = access !== undefined ? access : conf[key];
    if (value) picked[key] = value;
  }
  return statsdConfigFrom(picked, '[filter:proxy-logging]');
}

/** A StatsD client with Swift's tail prefix `proxy-server`, logging send failures at most once a minute. */
export function proxyStatsd(config: StatsdConfig | undefined, logger: Logger): SwiftStatsdClient | undefined {
  if (!config) return undefined;
  let quietUntil = 0;
  return new SwiftStatsdClient(config, 'proxy-server', (err) => {
    if (Date.now() < quietUntil) return;
    quietUntil = Date.now() + 60_000;
    logger.warn(`Error sending UDP message to ${config.host}:${config.port}: ${err.message}`);
  });
}

/** The stat type of a backend path: `/a`, `/a/c` or `/a/c/o...`. */
function backendType(path: string): ServerType {
  let slashes = 0;
  for (let i = 0; i < path.length && slashes < 3; i++) if (path.charCodeAt(i) === 47) slashes++;
  return slashes <= 1 ? 'account' : slashes === 2 ? 'container' : 'object';
}

/** What kind of entry a shared-cache key holds (Swift's key layouts). */
function cacheKind(key: string): string {
  if (key.startsWith('account/')) return 'account';
  if (key.startsWith('container/')) return 'container';
  if (/\/(token|user)\//.test(key)) return 'token';
  return 'other';
}

export class ProxyMetrics implements BackendObserver {
  private readonly observers = new Set<MetricsObserver>();
  /** The proxy application's StatsD client (Swift's app logger), when log_statsd_host is set. */
  readonly statsd: SwiftStatsdClient | undefined;

  constructor(app: Section, logger: Logger = pino({ name: 'proxy-server' })) {
    this.statsd = proxyStatsd(statsdConfigFrom(app, '[app:proxy-server]'), logger);
  }

  /** Subscribes an observer; returns the unsubscribe. */
  observe(observer: MetricsObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  get observed(): boolean {
    return this.observers.size > 0;
  }

  private each(fn: (o: MetricsObserver) => void): void {
    for (const o of this.observers) fn(o);
  }

  request(f: RequestFigures): void {
    this.each((o) => o.request?.(f));
  }

  firstByte(f: Omit<RequestFigures, 'bytes'>): void {
    this.each((o) => o.firstByte?.(f));
  }

  /** Swift's `errors`: a request the proxy application refused before any controller. */
  proxyError(): void {
    this.statsd?.increment('errors');
    this.each((o) => o.proxyError?.());
  }

  /**
   * A controller's answer: Swift's object controller counts `object.client_timeouts` when it
   * answers 408 and `object.client_disconnects` when it answers 499 (the client stopped sending).
   */
  answered(type: ServerType, status: number): void {
    if (status === 408) {
      this.statsd?.increment(`${type}.client_timeouts`);
      this.each((o) => o.clientTimeout?.(type));
    } else if (status === 499) {
      this.statsd?.increment(`${type}.client_disconnects`);
      this.each((o) => o.clientDisconnect?.(type));
    }
  }

  /** BackendObserver: each request to a storage node (a handoff node has a handoff_index). */
  backendRequest(node: RingDevice, req: BackendRequest): void {
    if (this.observers.size === 0) return;
    const type = backendType(req.path);
    const handoff = 'handoff_index' in node;
    this.each((o) => o.backendRequest?.(type, handoff));
  }

  /** BackendObserver: a storage node that could not be reached or did not answer in time. */
  backendError(err: BackendError, req: BackendRequest): void {
    if (this.observers.size === 0) return;
    const type = backendType(req.path);
    this.each((o) => o.backendError?.(type, err.kind));
  }

  /**
   * The shared cache with its lookups counted (hit, miss or error, by kind of key); every other
   * property (set, delete, mark, incr, ...) is the cache's own.
   */
  countLookups<C extends SharedCache>(cache: C): C {
    const record = (key: string, result: CacheResult) => {
      if (this.observers.size > 0) this.each((o) => o.cacheLookup?.(cacheKind(key), result));
    };
    const get = (key: string) => {
      let out;
      try {
        out = cache.get(key);
      } catch (err) {
        record(key, 'error');
        throw err;
      }
      if (out instanceof Promise) {
        return out.then(
          (v) => (record(key, v === undefined ? 'miss' : 'hit'), v),
          (err: unknown) => {
            record(key, 'error');
            throw err;
          },
        );
      }
      record(key, out === undefined ? 'miss' : 'hit');
      return out;
    };
    const bound = new Map<PropertyKey, unknown>([['get', get]]);
    return new Proxy(cache, {
      get(target, prop) {
        if (bound.has(prop)) return bound.get(prop);
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value.bind(target) as unknown;
        bound.set(prop, fn);
        return fn;
      },
    });
  }

  async close(): Promise<void> {
    this.observers.clear();
    await this.statsd?.close();
  }
}
