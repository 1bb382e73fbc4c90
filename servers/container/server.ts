/**
 * Container server, wire-compatible with Swift 2.30's (swift/container/server.py), always
 * answering as an unsharded container:
 *
 *   HEAD/GET/PUT/POST/DELETE /<device>/<partition>/<account>/<container>
 *   PUT/DELETE /<device>/<partition>/<account>/<container>/<object>   (object servers' row updates)
 *
 * Checks run in Swift's order, so a request failing several gets Swift's status. Where Swift
 * would leave a half-applied change behind (metadata rejected after the container was created,
 * malformed account-update headers noticed after the DB changed), sluice validates first or
 * rolls the transaction back instead.
 *
 * Account stats: container PUT/DELETE report to the account replicas named in X-Account-*
 * (Swift's account_update); everything else (object-row updates, POST, failed updates) is
 * reported by the container updater running inside this server (updater.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Agent } from 'undici';
import { ContainerBroker, extractSwiftBytes, ZERO_TIMESTAMP, type ContainerInfo, type ListedObject, type ReportedStats } from './broker';
import { ListingCache } from './listing-cache';
import { ContainerUpdater, reportLanded, sendAccountUpdates, type AccountTarget } from './updater';
import {
  checkDevice,
  checkReservedName,
  header,
  listen,
  requestPathText,
  requireTimestamp,
  send,
  splitBackendPath,
  splitTarget,
  type BackendPath,
  type PathCheck,
  type ResponseHeaders,
  type RunningServer,
} from '../common/http';
import { dbPath, DbCache } from '../common/db';
import { parseListingParams, type ListingParams } from '../common/listing';
import type { StorageServerOptions } from '../options';
import { hashPath } from '../../src/common/hash-path';
import { defaultPolicy, loadSwiftConf, policyByIndex, type SwiftConf } from '../../src/common/swift-conf';
import { isSysMeta, isUserMeta, titleCase } from '../../src/common/headers';
import { defaultBody, HTML_CONTENT_TYPE } from '../../src/common/http-status';
import { BadAcceptError, listingContentType, NotAcceptableError, renderListingBytes, type ContainerListingEntry, type ListingContentType } from '../../src/common/listing-format';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';
import { asByteString, bytesOf, checkUtf8, textIfUtf8, textOf, type ByteString } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { getParam, swobParams } from '../../src/compat/query';
import { pyRepr } from '../../src/compat/repr';
import { ContainerSyncRealms, realmSyncToError } from '../../src/common/container-sync-realms';
import { configTrue } from '../../src/compat/truthy';
import { sendOptions } from '../common/options-method';
import { withRecon } from '../common/recon';

export interface ContainerServerOptions extends StorageServerOptions {
  /** Swift's deprecated `allow_versions`: also save X-Versions-Location (off by default, as in Swift). */
  allowVersions?: boolean;
  /** Hosts X-Container-Sync-To may name (Swift's allowed_sync_hosts, default 127.0.0.1). */
  allowedSyncHosts?: string[];
  /**
   * Seconds from an object-row update to the report of the container's new stats to its
   * account (changes within the window are coalesced into one report). Default 1.
   */
  accountUpdateDelay?: number;
  /**
   * Seconds between container updater sweeps, which also retry failed reports (Swift's
   * container-updater `interval`, default 300). 0 disables the updater, sweeps and prompt
   * reports alike (tests that count account updates).
   */
  updaterInterval?: number;
  /** Containers the updater reports at once (default 4). */
  updaterConcurrency?: number;
  /**
   * Bytes of rendered listings kept for DBs that have not changed since (ListingCache; default
   * 32 MiB, 0 keeps none).
   */
  listingCacheBytes?: number;
}

export interface RunningContainerServer extends RunningServer {
  updater: ContainerUpdater;
}

const SAVE_HEADERS = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to'];
const POLICY_HEADER = 'X-Backend-Storage-Policy-Index';
/** ContainerServerOptions.listingCacheBytes' default. */
const DEFAULT_LISTING_CACHE_BYTES = 32 * 1024 * 1024;

type ContainerPath = BackendPath & { container: string };

/**
 * Swift's container server checks the path with check_utf8(internal=True): NUL is allowed
 * (reserved-namespace names, e.g. object versioning's, start with it); invalid UTF-8 is 412.
 */
const PATH_CHECK: PathCheck = { internal: true, body: 'Invalid UTF8 or contains NULL', contentType: HTML_CONTENT_TYPE };

/** split_and_validate_path + validate_internal_container/obj. */
function parseContainerPath(path: string, maxSegs: 4 | 5): ContainerPath {
  const { device, partition, account, container, object } = splitBackendPath(path, 4, maxSegs, maxSegs === 5);
  checkReservedName(account, 'account');
  checkReservedName(container, 'container');
  // Swift lets auto-created (internal) accounts hold any object name.
  if (!account.startsWith('.') && account !== '.misplaced_objects') checkReservedName(object, 'object');
  return { device, partition, account, container: container!, object };
}

/**
 * Swift's validate_sync_to: an empty value (after trailing slashes) is fine; `//realm/cluster/
 * account/container` must name a realm with a key and one of its clusters in the realms file
 * (none given: no realm has a key); otherwise an http(s) URL with a path, no
 * params/query/fragment, and a host in the allowed list. Returns the error text or undefined.
 */
export function validateSyncTo(value: string, allowedHosts: string[], realms?: ContainerSyncRealms): string | undefined {
  const v = value.replace(/\/+$/, '');
  if (!v) return undefined;
  if (v.startsWith('//')) {
    if (realms) return realmSyncToError(value, realms) ?? undefined;
    const data = v.slice(2).split('/');
    if (data.length !== 4) return `Invalid X-Container-Sync-To format ${pyRepr(value)}`;
    return `No realm key for ${pyRepr(data[0]!)}`;
  }
  // urllib.parse.urlparse, enough of it for these checks.
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):(.*)$/s.exec(v);
  const scheme = m ? m[1]!.toLowerCase() : '';
  let rest = m ? m[2]! : v;
  if (scheme !== 'http' && scheme !== 'https') {
    return `Invalid scheme ${pyRepr(scheme)} in X-Container-Sync-To, must be "//", "http", or "https".`;
  }
  let netloc = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
    rest = end < 0 ? '' : rest.slice(2 + end);
  }
  let fragment = '';
  let query = '';
  const hash = rest.indexOf('#');
  if (hash >= 0) [rest, fragment] = [rest.slice(0, hash), rest.slice(hash + 1)];
  const qm = rest.indexOf('?');
  if (qm >= 0) [rest, query] = [rest.slice(0, qm), rest.slice(qm + 1)];
  const lastSeg = rest.slice(rest.lastIndexOf('/') + 1);
  const params = lastSeg.includes(';') ? lastSeg.slice(lastSeg.indexOf(';') + 1) : '';
  const path = params ? rest.slice(0, rest.length - params.length - 1) : rest;
  if (!path) return 'Path required in X-Container-Sync-To';
  if (params || query || fragment) return 'Params, queries, and fragments not allowed in X-Container-Sync-To';
  let host = netloc.slice(netloc.lastIndexOf('@') + 1);
  const v6 = /^\[([^\]]*)\]/.exec(host);
  host = v6 ? v6[1]! : host.split(':')[0]!;
  host = host.toLowerCase();
  if (!allowedHosts.includes(host)) return `Invalid host ${host ? pyRepr(host) : 'None'} in X-Container-Sync-To`;
  return undefined;
}

/** Swift's override_bytes_from_content_type on one listing row. */
function listingEntry(o: ListedObject, type: ListingContentType): ContainerListingEntry {
  const { contentType, swiftBytes } = extractSwiftBytes(o.contentType);
  let bytes = o.bytes;
  if (swiftBytes !== undefined && /^\s*[+-]?\d+\s*$/.test(swiftBytes)) bytes = Number(swiftBytes);
  const lastModified = Timestamp.parse(o.lastModified).isoformat;
  // Swift's JSON keeps its dict's insertion order; its XML writes the fields in a fixed order.
  return type === 'application/json'
    ? { bytes, hash: o.hash, name: o.name, content_type: contentType, last_modified: lastModified }
    : { name: o.name, hash: o.hash, bytes, content_type: contentType, last_modified: lastModified };
}

function normal(internal: string): string {
  return Timestamp.parse(internal).normal;
}

/** Swift's gen_resp_headers: X-Backend-* always; the client-facing stats only when not deleted. */
function respHeaders(info: ContainerInfo | undefined, deleted: boolean): ResponseHeaders {
  const h: ResponseHeaders = {
    'X-Backend-Timestamp': info?.createdAt ?? ZERO_TIMESTAMP,
    'X-Backend-PUT-Timestamp': info?.putTimestamp ?? ZERO_TIMESTAMP,
    'X-Backend-DELETE-Timestamp': info?.deleteTimestamp ?? ZERO_TIMESTAMP,
    'X-Backend-Status-Changed-At': info?.statusChangedAt ?? ZERO_TIMESTAMP,
    [POLICY_HEADER]: String(info?.storagePolicyIndex ?? 0),
  };
  if (!deleted) {
    h['X-Container-Object-Count'] = String(info?.objectCount ?? 0);
    h['X-Container-Bytes-Used'] = String(info?.bytesUsed ?? 0);
    h['X-Timestamp'] = normal(info?.createdAt ?? ZERO_TIMESTAMP);
    h['X-PUT-Timestamp'] = normal(info?.putTimestamp ?? ZERO_TIMESTAMP);
    h['X-Backend-Sharding-State'] = 'unsharded';
  }
  return h;
}

class ContainerServer {
  readonly conf: SwiftConf;
  private readonly saveHeaders: Set<string>;
  private readonly allowedSyncHosts: string[];
  /** `<swift_dir>/container-sync-realms.conf`, which `//realm/cluster/...` sync-to values name. */
  private readonly realms: ContainerSyncRealms | undefined;
  private readonly brokers = new DbCache<ContainerBroker>(256);
  private readonly listings: ListingCache | undefined;
  private readonly agent: Agent;
  private readonly connTimeoutMs: number;
  private readonly nodeTimeoutMs: number;
  readonly updater: ContainerUpdater;

  constructor(private readonly opts: ContainerServerOptions) {
    this.conf = opts.swiftConf ?? loadSwiftConf(opts.swiftDir);
    this.saveHeaders = new Set(opts.allowVersions ? [...SAVE_HEADERS, 'x-versions-location'] : SAVE_HEADERS);
    this.allowedSyncHosts = opts.allowedSyncHosts ?? ['127.0.0.1'];
    // A file that cannot be read or parsed stops the server at start-up (Swift logs and goes on).
    this.realms = opts.swiftDir ? new ContainerSyncRealms(join(opts.swiftDir, 'container-sync-realms.conf'), { logger: { debug: () => undefined, error: (m) => this.log(m) } }) : undefined;
    this.connTimeoutMs = Math.max(1, (opts.connTimeout ?? 0.5) * 1000);
    this.nodeTimeoutMs = Math.max(1, (opts.nodeTimeout ?? 3) * 1000);
    const listingCacheBytes = opts.listingCacheBytes ?? DEFAULT_LISTING_CACHE_BYTES;
    this.listings = listingCacheBytes > 0 ? new ListingCache(listingCacheBytes) : undefined;
    this.agent = new Agent({
      connect: { timeout: this.connTimeoutMs },
      headersTimeout: this.nodeTimeoutMs,
      bodyTimeout: this.nodeTimeoutMs,
      keepAliveTimeout: 4_000,
    });
    this.updater = new ContainerUpdater({
      devices: opts.devices,
      swiftDir: opts.swiftDir,
      hash: this.conf.hash,
      dispatcher: this.agent,
      timeoutMs: this.connTimeoutMs + this.nodeTimeoutMs,
      accountUpdateDelay: opts.accountUpdateDelay ?? 1,
      interval: opts.updaterInterval ?? 300,
      concurrency: Math.max(1, opts.updaterConcurrency ?? 4),
      withBroker: (file, fn) => this.withBroker(file, fn),
      log: (msg) => this.log(msg),
    });
    // Prompt reports of this server's own changes go out either way; only the sweeps are shared.
    if (opts.backgroundSweeps !== false) this.updater.start();
  }

  async close(): Promise<void> {
    await this.updater.close();
    this.brokers.clear();
    this.listings?.clear();
    await this.agent.close().catch(() => undefined);
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { rawPath, rawQuery } = splitTarget(req);
    // Nothing here reads a request body; drain any so the connection stays usable.
    req.resume();
    const path = requestPathText(rawPath, PATH_CHECK);
    switch (req.method) {
      case 'HEAD':
        return this.head(req, res, path, rawQuery);
      case 'GET':
        return this.get(req, res, path, rawQuery);
      case 'PUT':
        return this.put(req, res, path);
      case 'POST':
        return this.post(req, res, path);
      case 'DELETE':
        return this.delete(req, res, path);
      case 'OPTIONS':
        return sendOptions(req, res, 'container');
      default:
        return send(req, res, 405);
    }
  }

  // ---- helpers -------------------------------------------------------------------------

  private device(device: string): void {
    try {
      checkDevice(this.opts.devices, device);
    } catch (err) {
      if (err instanceof HttpException && err.status === 507) {
        throw new HttpException(507, defaultBody(507, { drive: device }), {}, HTML_CONTENT_TYPE);
      }
      throw err;
    }
  }

  private dbFile(p: ContainerPath): string {
    return dbPath(this.opts.devices, p.device, 'containers', p.partition, hashPath(this.conf.hash, p.account, p.container));
  }

  /** The container's broker if its DB exists. */
  private broker(p: ContainerPath): ContainerBroker | undefined {
    const file = this.dbFile(p);
    const cached = this.brokers.get(file);
    if (cached) return cached.initialized() ? cached : undefined;
    const b = ContainerBroker.open(file);
    if (b) this.brokers.set(file, b);
    return b;
  }

  /**
   * Runs fn on the DB at `file`: the cached handle if there is one, else a handle opened for
   * fn alone, so the updater's sweep over every DB does not churn the request path's cache.
   */
  private withBroker<T>(file: string, fn: (b: ContainerBroker) => T): T | undefined {
    const cached = this.brokers.get(file);
    if (cached) return cached.initialized() ? fn(cached) : undefined;
    const b = ContainerBroker.open(file);
    if (!b) return undefined;
    try {
      return fn(b);
    } finally {
      b.close();
    }
  }

  /** A handle on the container's DB file, creating the file (not the container) if needed. */
  private brokerFile(p: ContainerPath): ContainerBroker {
    const file = this.dbFile(p);
    let b = this.brokers.get(file);
    if (!b) {
      b = ContainerBroker.openFile(file);
      this.brokers.set(file, b);
    }
    return b;
  }

  /** X-Backend-Storage-Policy-Index as a known policy index; 400 as Swift words it otherwise. */
  private requestedPolicy(req: IncomingMessage): number | undefined {
    const raw = header(req, 'x-backend-storage-policy-index');
    if (raw === undefined) return undefined;
    if (!/^\s*[+-]?\d+\s*$/.test(raw)) throw new HttpException(400, `Invalid ${POLICY_HEADER} ${pyRepr(raw)}`, {}, 'text/plain');
    const n = Number(raw);
    if (!policyByIndex(this.conf, n)) throw new HttpException(400, `Invalid ${POLICY_HEADER} ${n}`, {}, 'text/plain');
    return n;
  }

  private checkSyncTo(req: IncomingMessage): void {
    const v = header(req, 'x-container-sync-to');
    if (v === undefined) return;
    const err = validateSyncTo(v, this.allowedSyncHosts, this.realms);
    if (err) throw new HttpException(400, err, {}, HTML_CONTENT_TYPE);
  }

  /** The container-level metadata a request carries, values decoded from UTF-8 (400 if not UTF-8). */
  private metadataUpdates(req: IncomingMessage, ts: Timestamp): [string, string, string][] {
    const out: [string, string, string][] = [];
    for (const [name, raw] of Object.entries(req.headers)) {
      if (raw === undefined) continue;
      if (!(this.saveHeaders.has(name) || isUserMeta('container', name) || isSysMeta('container', name))) continue;
      const value = asByteString(Array.isArray(raw) ? raw.join(', ') : raw);
      if (value && !checkUtf8(value)) throw new HttpException(400, 'Metadata must be valid UTF-8', {}, HTML_CONTENT_TYPE);
      out.push([name, textOf(value, 'strict'), ts.internal]);
    }
    return out;
  }

  /**
   * Applies metadata last-writer-wins, then checks the merged user metadata against
   * max_meta_count / max_meta_overall_size (Swift's validate_metadata). Must run inside the
   * caller's transaction so a rejection rolls everything back.
   */
  private applyMetadata(broker: ContainerBroker, updates: [string, string, string][]): void {
    if (updates.length === 0) return;
    broker.metadata.update(updates);
    const c = this.conf.constraints;
    let count = 0;
    let size = 0;
    const prefix = 'x-container-meta-';
    for (const [key, value] of broker.metadata.visible()) {
      if (!key.startsWith(prefix)) continue;
      count += 1;
      size += [...key.slice(prefix.length)].length + [...value].length;
    }
    if (count > c.max_meta_count) throw new HttpException(400, `Too many metadata items; max ${c.max_meta_count}`, {}, HTML_CONTENT_TYPE);
    if (size > c.max_meta_overall_size) throw new HttpException(400, `Total metadata too large; max ${c.max_meta_overall_size}`, {}, HTML_CONTENT_TYPE);
  }

  private metadataHeaders(broker: ContainerBroker, headers: ResponseHeaders): void {
    for (const [key, value] of broker.metadata.visible()) {
      if (this.saveHeaders.has(key) || isUserMeta('container', key) || isSysMeta('container', key)) headers[titleCase(key)] = bytesOf(value);
    }
  }

  private shouldAutocreate(req: IncomingMessage, account: string): boolean {
    const h = header(req, 'x-backend-auto-create');
    if (h) return configTrue(h);
    const prefix = this.conf.constraints.auto_create_account_prefix;
    // Only the sharder creates shard containers.
    if (account.startsWith(prefix + 'shards_')) return false;
    return account.startsWith(prefix);
  }

  /** Swift's _maybe_autocreate for object-row updates: 404 unless the DB exists or may be created. */
  private rowBroker(req: IncomingMessage, p: ContainerPath, ts: Timestamp, policy: number): ContainerBroker {
    const existing = this.broker(p);
    if (existing) return existing;
    if (!this.shouldAutocreate(req, p.account)) throw new HttpException(404);
    const broker = this.brokerFile(p);
    broker.transaction(() => broker.initialize({ account: p.account, container: p.container, putTimestamp: ts.internal, storagePolicyIndex: policy }));
    return broker;
  }

  /** Where the container updater reports when there is no account ring: the latest replicas named. */
  private rememberAccountTargets(broker: ContainerBroker, targets: AccountTarget[], partition: string): void {
    if (targets.length === 0) return;
    broker.setAccountTargets(targets.map((t) => t.host).join(','), targets.map((t) => t.device).join(','), partition);
  }

  private accountTargets(req: IncomingMessage): { targets: AccountTarget[]; partition: string } {
    const hosts = (header(req, 'x-account-host') ?? '').split(',').map((s) => s.trim());
    const devices = (header(req, 'x-account-device') ?? '').split(',').map((s) => s.trim());
    // Swift answers a bare 400 (the detail goes to its log only).
    if (hosts.length !== devices.length) throw new HttpException(400);
    const partition = header(req, 'x-account-partition') ?? '';
    if (!partition) return { targets: [], partition };
    return { targets: hosts.map((host, i) => ({ host, device: devices[i]! })), partition };
  }

  /**
   * Reports the container's stats to each account replica (Swift's account_update), in
   * parallel, each bounded by conn_timeout + node_timeout. `notFound` when every replica
   * answered 404, so the proxy learns the account is gone. When a majority accepted, the
   * stats are recorded as reported; otherwise the container updater retries (Swift leaves
   * such failures to its container-updater sweep).
   */
  private async accountUpdate(req: IncomingMessage, p: ContainerPath, broker: ContainerBroker, targets: AccountTarget[], partition: string): Promise<{ notFound: boolean }> {
    if (targets.length === 0) {
      this.updater.changed(broker.path);
      return { notFound: false };
    }
    const info = broker.info();
    const sent: ReportedStats = { putTimestamp: info.putTimestamp, deleteTimestamp: info.deleteTimestamp, objectCount: info.objectCount, bytesUsed: info.bytesUsed };
    const headers: Record<string, string> = {
      'X-Put-Timestamp': info.putTimestamp,
      'X-Delete-Timestamp': info.deleteTimestamp,
      'X-Object-Count': String(info.objectCount),
      'X-Bytes-Used': String(info.bytesUsed),
      'X-Trans-Id': header(req, 'x-trans-id') ?? '-',
      [POLICY_HEADER]: String(info.storagePolicyIndex),
      'User-Agent': `container-server ${process.pid}`,
      Referer: `${req.method} http://${header(req, 'host') ?? '-'}${req.url ?? ''}`,
    };
    if ((header(req, 'x-account-override-deleted') ?? 'no').toLowerCase() === 'yes') headers['X-Account-Override-Deleted'] = 'yes';
    const statuses = await sendAccountUpdates({
      targets,
      partition,
      account: p.account,
      container: p.container,
      headers,
      dispatcher: this.agent,
      timeoutMs: this.connTimeoutMs + this.nodeTimeoutMs,
      log: (msg) => this.log(msg),
    });
    // The handle may have been evicted from the cache while the update was in flight.
    const file = broker.path;
    if (reportLanded(statuses)) this.withBroker(file, (b) => b.markReported(sent));
    else this.updater.changed(file);
    return { notFound: statuses.every((s) => s === 404) };
  }

  private log(msg: string): void {
    process.stderr.write(`container-server: ${msg}\n`);
  }

  // ---- methods -------------------------------------------------------------------------

  private head(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: ByteString): void {
    const p = parseContainerPath(path, 5);
    const type = this.contentType(req, rawQuery);
    this.device(p.device);
    const broker = this.broker(p);
    const info = broker?.info();
    const deleted = !info || ContainerBroker.isDeletedInfo(info);
    const headers = respHeaders(info, deleted);
    if (deleted) return send(req, res, 404, { headers });
    this.metadataHeaders(broker!, headers);
    headers['Content-Type'] = `${type}; charset=utf-8`;
    headers['Last-Modified'] = Timestamp.parse(info.putTimestamp).httpDate;
    send(req, res, 204, { headers, body: '' });
  }

  /** The listing content type from format= / Accept, as get_listing_content_type. */
  private contentType(req: IncomingMessage, rawQuery: ByteString): ListingContentType {
    const format = getParam(swobParams(rawQuery), 'format');
    try {
      return listingContentType(format, header(req, 'accept'));
    } catch (err) {
      if (err instanceof NotAcceptableError) throw new HttpException(406);
      if (err instanceof BadAcceptError) throw new HttpException(400, 'Invalid Accept header', {}, HTML_CONTENT_TYPE);
      throw err;
    }
  }

  private get(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: ByteString): void {
    const p = parseContainerPath(path, 5);
    const params = parseListingParams(rawQuery, header(req, 'accept'), this.conf.constraints.container_listing_limit, true);
    this.device(p.device);
    const broker = this.broker(p);
    const info = broker?.info();
    const deleted = !info || ContainerBroker.isDeletedInfo(info);
    const recordType = (header(req, 'x-backend-record-type') ?? '').toLowerCase();
    let headers: ResponseHeaders;
    let body: Buffer;
    if (recordType === 'shard') {
      // Never sharded: there are no shard ranges to list.
      const overrideDeleted = !!info && configTrue(header(req, 'x-backend-override-deleted'));
      headers = respHeaders(info, deleted && !overrideDeleted);
      if (deleted && !overrideDeleted) return send(req, res, 404, { headers });
      headers['X-Backend-Record-Type'] = 'shard';
      body = renderListingBytes([], params.contentType, 'container', p.container);
    } else {
      const requested = this.requestedPolicy(req);
      headers = respHeaders(info, deleted);
      if (deleted) return send(req, res, 404, { headers });
      headers['X-Backend-Record-Type'] = 'object';
      const policy = requested ?? info.storagePolicyIndex;
      headers['X-Backend-Record-Storage-Policy-Index'] = String(policy);
      const allowReserved = configTrue(header(req, 'x-backend-allow-reserved-names'));
      body = this.objectListing(broker!, p.container, params, policy, allowReserved);
    }
    this.metadataHeaders(broker!, headers);
    headers['Last-Modified'] = Timestamp.parse(info!.putTimestamp).httpDate;
    send(req, res, body.length ? 200 : 204, { headers, body, contentType: `${params.contentType}; charset=utf-8` });
  }

  /** An object listing's body: kept in the ListingCache while the DB does not change. */
  private objectListing(broker: ContainerBroker, container: string, params: ListingParams, policy: number, allowReserved: boolean): Buffer {
    const render = () =>
      renderListingBytes(
        broker.listObjects(params, policy, allowReserved).map((e) => ('subdir' in e ? e : listingEntry(e, params.contentType))),
        params.contentType,
        'container',
        container,
      );
    if (!this.listings) return render();
    const stamp = broker.changeStamp();
    // The body depends on the DB and on these alone (XML names the container).
    const query = JSON.stringify([container, policy, allowReserved, params]);
    let body = this.listings.get(stamp, query);
    if (!body) {
      body = render();
      this.listings.set(stamp, query, body);
    }
    return body;
  }

  private async put(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const p = parseContainerPath(path, 5);
    const ts = requireTimestamp(req);
    this.checkSyncTo(req);
    this.device(p.device);
    const requested = this.requestedPolicy(req);
    if (p.object) return this.putObjectRow(req, res, p, ts, requested ?? 0);

    if ((header(req, 'x-backend-record-type') ?? '').toLowerCase() === 'shard') {
      throw new HttpException(400, 'Invalid body: sharding is not supported', {}, HTML_CONTENT_TYPE);
    }
    let newPolicy: number;
    if (requested !== undefined) newPolicy = requested;
    else {
      const dflt = header(req, 'x-backend-storage-policy-default');
      if (dflt === undefined) newPolicy = defaultPolicy(this.conf).index;
      else if (/^\s*\d+\s*$/.test(dflt) && policyByIndex(this.conf, Number(dflt))) newPolicy = Number(dflt);
      else throw new HttpException(400, `Invalid X-Backend-Storage-Policy-Default ${pyRepr(dflt)}`, {}, 'text/plain');
    }
    // Validated before any change (Swift finds malformed update headers only afterwards).
    const { targets, partition } = this.accountTargets(req);
    const meta = this.metadataUpdates(req, ts);
    const t = ts.internal;
    const broker = this.brokerFile(p);
    const created = broker.transaction(() => {
      // The row may already exist (DB created by another request, or earlier in this one).
      if (broker.initialize({ account: p.account, container: p.container, putTimestamp: t, storagePolicyIndex: newPolicy })) {
        this.applyMetadata(broker, meta);
        return true;
      }
      const info = broker.info();
      const recreated = ContainerBroker.isDeletedInfo(info);
      if (recreated) broker.setStoragePolicyIndex(newPolicy, t);
      else if (requested !== undefined && requested !== info.storagePolicyIndex) {
        throw new HttpException(409, undefined, { [POLICY_HEADER]: String(info.storagePolicyIndex) });
      }
      broker.updatePutTimestamp(t);
      // An older PUT than the DELETE leaves the container deleted.
      if (broker.isDeleted()) throw new HttpException(409);
      if (recreated) broker.updateStatusChangedAt(t);
      this.applyMetadata(broker, meta);
      return recreated;
    });
    this.rememberAccountTargets(broker, targets, partition);
    if ((await this.accountUpdate(req, p, broker, targets, partition)).notFound) return send(req, res, 404);
    send(req, res, created ? 201 : 202, { headers: { [POLICY_HEADER]: String(broker.storagePolicyIndex) } });
  }

  private putObjectRow(req: IncomingMessage, res: ServerResponse, p: ContainerPath, ts: Timestamp, policy: number): void {
    const sizeRaw = header(req, 'x-size');
    if (sizeRaw === undefined || !/^\s*\+?\d+\s*$/.test(sizeRaw)) throw new HttpException(400, `Invalid X-Size header`, {}, 'text/plain');
    const contentType = header(req, 'x-content-type');
    if (contentType === undefined) throw new HttpException(400, 'Missing X-Content-Type header', {}, 'text/plain');
    const etag = header(req, 'x-etag');
    if (etag === undefined) throw new HttpException(400, 'Missing X-Etag header', {}, 'text/plain');
    const optTs = (name: string): string | undefined => {
      const v = header(req, name);
      if (v === undefined || v === '') return undefined;
      try {
        return Timestamp.parse(v).internal;
      } catch (err) {
        if (err instanceof InvalidTimestampError) throw new HttpException(400, `Invalid ${titleCase(name)} header`, {}, 'text/plain');
        throw err;
      }
    };
    const ctypeTimestamp = optTs('x-content-type-timestamp');
    const metaTimestamp = optTs('x-meta-timestamp');
    const broker = this.rowBroker(req, p, ts, policy);
    const changed = broker.putObject({
      name: p.object!,
      storagePolicyIndex: policy,
      timestamp: ts.internal,
      size: Number(sizeRaw),
      // X-Content-Type / X-Etag arrive as UTF-8 bytes; undecodable values are kept as received.
      contentType: textIfUtf8(contentType),
      etag: textIfUtf8(etag),
      deleted: false,
      ctypeTimestamp,
      metaTimestamp,
    });
    if (changed) this.updater.changed(broker.path);
    send(req, res, 201);
  }

  private post(req: IncomingMessage, res: ServerResponse, path: string): void {
    const p = parseContainerPath(path, 4);
    const ts = requireTimestamp(req);
    this.checkSyncTo(req);
    this.device(p.device);
    const meta = this.metadataUpdates(req, ts);
    const broker = this.broker(p);
    if (!broker || broker.isDeleted()) return send(req, res, 404);
    broker.transaction(() => {
      broker.updatePutTimestamp(ts.internal);
      this.applyMetadata(broker, meta);
    });
    // A newer put timestamp is news for the account too (Swift's updater reports it).
    this.updater.changed(broker.path);
    send(req, res, 204);
  }

  private async delete(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const p = parseContainerPath(path, 5);
    const ts = requireTimestamp(req);
    this.device(p.device);
    const policy = this.requestedPolicy(req) ?? 0;
    if (p.object) {
      const broker = this.rowBroker(req, p, ts, policy);
      const changed = broker.putObject({
        name: p.object,
        storagePolicyIndex: policy,
        timestamp: ts.internal,
        size: 0,
        contentType: 'application/deleted',
        etag: 'noetag',
        deleted: true,
      });
      if (changed) this.updater.changed(broker.path);
      return send(req, res, 204);
    }
    const { targets, partition } = this.accountTargets(req);
    const broker = this.broker(p);
    if (!broker) return send(req, res, 404);
    const existed = broker.transaction(() => {
      if (!broker.empty()) throw new HttpException(409);
      const info = broker.info();
      const existed = info.putTimestamp !== ZERO_TIMESTAMP && !ContainerBroker.isDeletedInfo(info);
      broker.deleteDb(ts.internal);
      return existed;
    });
    this.rememberAccountTargets(broker, targets, partition);
    // A DELETE older than the last PUT clears older metadata (last writer wins) but the
    // container stays: 409, as Swift.
    if (!broker.isDeleted()) {
      this.updater.changed(broker.path);
      return send(req, res, 409);
    }
    if ((await this.accountUpdate(req, p, broker, targets, partition)).notFound) return send(req, res, 404);
    send(req, res, existed ? 204 : 404);
  }
}

export async function startContainerServer(opts: ContainerServerOptions): Promise<RunningContainerServer> {
  const server = new ContainerServer(opts);
  try {
    const running = await listen(withRecon({ ...opts, swiftConf: server.conf }, (req, res) => server.handle(req, res)), {
      host: opts.host ?? '127.0.0.1',
      port: opts.port ?? 0,
      name: 'container-server',
      onClose: () => server.close(),
    });
    return { ...running, updater: server.updater };
  } catch (err) {
    await server.close();
    throw err;
  }
}
