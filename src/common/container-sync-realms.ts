/**
 * container-sync-realms.conf (swift/common/container_sync_realms.py): the sync realms a
 * cluster belongs to, each with its cluster-to-cluster keys and the endpoints of its clusters,
 * read as Python's configparser reads it and read again when the file's mtime changes (checked
 * at most every `mtime_check_interval` seconds, [DEFAULT], default 300):
 *
 *   [realm1]                      realm names are case-insensitive (kept upper case)
 *   key = realm1key               signs and checks X-Container-Sync-Auth
 *   key2 = realm1key2             also accepted, for key rotation
 *   cluster_name1 = https://host1/v1/
 *
 * Also the realm half of Swift's validate_sync_to (`//realm/cluster/account/container`) and
 * the request signature (get_sig). A missing file is no error (no realms), as in Swift; a file
 * that cannot be read or parsed is a start-up error, and on a later reload is logged while the
 * realms read before stay in use.
 */
import { createHmac } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { ConfigDocument, ConfigError, decodeConfigBytes, getOption, sectionItems } from '../compat/config-parser';
import { pyRepr } from '../compat/repr';

export interface Realm {
  key: string | undefined;
  key2: string | undefined;
  /** Cluster names (upper case) to endpoints, in the file's order. */
  clusters: Map<string, string>;
}

/** What the realms module logs (pino's shape). */
export interface RealmsLogger {
  debug(msg: string): void;
  error(msg: string): void;
}

const SILENT: RealmsLogger = { debug: () => undefined, error: () => undefined };

export const DEFAULT_MTIME_CHECK_INTERVAL = 300;

/** Python's float() of a string: decimal, exponent, `_` between digits, inf, nan. */
const PY_FLOAT = /^[+-]?(?:(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?|inf|infinity|nan)$/i;

function pyFloat(text: string): number | undefined {
  const t = text.trim();
  if (!PY_FLOAT.test(t)) return undefined;
  const lower = t.toLowerCase().replace(/_/g, '');
  if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
  if (lower.endsWith('nan')) return NaN;
  return Number(lower);
}

export interface ParsedRealms {
  realms: Map<string, Realm>;
  /** The [DEFAULT] mtime_check_interval: a number, absent, or the text that is not one. */
  interval: number | undefined | { invalid: string };
}

/** Parses the file's text; throws ConfigError (with file and line) when configparser would refuse it. */
export function parseRealms(text: string, source: string): ParsedRealms {
  const doc = new ConfigDocument({ optionCase: 'lower', strict: true });
  doc.read(text, source);
  const rawInterval = getOption(doc, 'DEFAULT', 'mtime_check_interval', 'basic');
  let interval: ParsedRealms['interval'];
  if (rawInterval !== undefined) interval = pyFloat(rawInterval) ?? { invalid: rawInterval };
  const realms = new Map<string, Realm>();
  for (const section of doc.sectionNames()) {
    const realm: Realm = { key: undefined, key2: undefined, clusters: new Map() };
    // conf.items(section): [DEFAULT]'s options too.
    for (const [option, value] of sectionItems(doc, section, 'basic')!) {
      if (option === 'key') realm.key = value;
      else if (option === 'key2') realm.key2 = value;
      else if (option.startsWith('cluster_')) realm.clusters.set(option.slice('cluster_'.length).toUpperCase(), value);
    }
    realms.set(section.toUpperCase(), realm);
  }
  return { realms, interval };
}

export interface RealmsOptions {
  logger?: RealmsLogger;
  /** The clock, in seconds (tests). */
  now?: () => number;
}

export class ContainerSyncRealms {
  private data = new Map<string, Realm>();
  private nextMtimeCheck = 0;
  private mtimeCheckInterval = DEFAULT_MTIME_CHECK_INTERVAL;
  private mtime: number | undefined;
  logger: RealmsLogger;
  private readonly now: () => number;

  /** Reads the file now: a file that exists but cannot be read or parsed throws ConfigError. */
  constructor(
    readonly path: string,
    opts: RealmsOptions = {},
  ) {
    this.logger = opts.logger ?? SILENT;
    this.now = opts.now ?? (() => Date.now() / 1000);
    this.reload(true);
  }

  /** Reads the file if the check interval has passed and its mtime changed (Swift's _reload). */
  private reload(strict = false): void {
    const now = this.now();
    if (now < this.nextMtimeCheck) return;
    this.nextMtimeCheck = now + this.mtimeCheckInterval;
    let mtime: number;
    try {
      mtime = statSync(this.path).mtimeMs;
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const msg = `Could not load ${pyRepr(this.path)}: ${e.message}`;
      if (e.code !== 'ENOENT' && strict) throw new ConfigError(msg, { kind: 'read', source: this.path });
      if (e.code === 'ENOENT') this.logger.debug(msg);
      else this.logger.error(msg);
      return;
    }
    if (mtime === this.mtime) return;
    this.mtime = mtime;
    let parsed: ParsedRealms;
    try {
      parsed = parseRealms(decodeConfigBytes(readFileSync(this.path), this.path), this.path);
    } catch (err) {
      const ce = err instanceof ConfigError ? err : new ConfigError(`cannot read ${this.path}: ${(err as Error).message}`, { kind: 'read', source: this.path });
      if (strict) throw ce;
      this.logger.error(`Could not load ${pyRepr(this.path)}: ${ce.message}`);
      return;
    }
    const { interval } = parsed;
    if (typeof interval === 'object') {
      const msg = `${this.path}: mtime_check_interval must be a number of seconds, got ${JSON.stringify(interval.invalid)}`;
      if (strict) throw new ConfigError(msg, { source: this.path });
      this.logger.error(msg);
    } else {
      this.mtimeCheckInterval = interval ?? DEFAULT_MTIME_CHECK_INTERVAL;
      this.nextMtimeCheck = now + this.mtimeCheckInterval;
    }
    this.data = parsed.realms;
  }

  /** The realm names (upper case), in the file's order. */
  realms(): string[] {
    this.reload();
    return [...this.data.keys()];
  }

  key(realm: string): string | undefined {
    this.reload();
    return this.data.get(realm.toUpperCase())?.key;
  }

  key2(realm: string): string | undefined {
    this.reload();
    return this.data.get(realm.toUpperCase())?.key2;
  }

  clusters(realm: string): string[] {
    this.reload();
    return [...(this.data.get(realm.toUpperCase())?.clusters.keys() ?? [])];
  }

  endpoint(realm: string, cluster: string): string | undefined {
    this.reload();
    return this.data.get(realm.toUpperCase())?.clusters.get(cluster.toUpperCase());
  }
}

/**
 * get_sig: the hex HMAC-SHA1, keyed with the realm key, of
 * `<method>\n<path>\n<x-timestamp>\n<nonce>\n<user key>`. `path` is the quoted request path;
 * the nonce (a header value, one character per byte) and the keys are taken as UTF-8 text, as
 * Swift's get_valid_utf8_str takes them. Undefined where Swift raises: a method or X-Timestamp
 * that is not ASCII.
 */
export function containerSyncSignature(method: string, path: string, xTimestamp: string, nonce: string, realmKey: string, userKey: string): string | undefined {
  if (/[^\x00-\x7f]/.test(method + path + xTimestamp)) return undefined;
  const message = Buffer.concat([Buffer.from(`${method}\n${path}\n${xTimestamp}\n`, 'latin1'), Buffer.from(nonce, 'utf8'), Buffer.from('\n'), Buffer.from(userKey, 'utf8')]);
  return createHmac('sha1', Buffer.from(realmKey, 'utf8')).update(message).digest('hex');
}

/**
 * The realm half of validate_sync_to for an X-Container-Sync-To value: the error text Swift
 * gives for `//realm/cluster/account/container` (bad format, unknown realm key, unknown
 * cluster), `undefined` when the realm value is good, `null` when the value is not a realm value
 * (empty, or a full URL: checked against allowed_sync_hosts by the container server).
 */
export function realmSyncToError(value: string, realms: ContainerSyncRealms): string | undefined | null {
  const stripped = value.replace(/\/+$/, '');
  if (!stripped.startsWith('//')) return null;
  const data = stripped.slice(2).split('/');
  if (data.length !== 4) return `Invalid X-Container-Sync-To format ${pyRepr(value)}`;
  const [realm, cluster] = data as [string, string, string, string];
  if (!realms.key(realm)) return `No realm key for ${pyRepr(realm)}`;
  if (!realms.endpoint(realm, cluster)) return `No cluster endpoint for ${pyRepr(realm)} ${pyRepr(cluster)}`;
  return undefined;
}
