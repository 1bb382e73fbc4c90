/**
 * Account server, wire-compatible with Swift 2.30's (swift/account/server.py):
 *
 *   HEAD/GET/PUT/POST/DELETE /<device>/<partition>/<account>
 *   PUT /<device>/<partition>/<account>/<container>   (container servers' stat reports)
 *   OPTIONS *
 *
 * The checks run in the order Swift runs them, so a request that fails several of them gets
 * the same status as from Swift (e.g. POST checks X-Timestamp before the drive, PUT after).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { statfsSync } from 'node:fs';
import { join } from 'node:path';
import { AccountBroker, DatabaseAlreadyExistsError, MetadataValidationError, type AccountInfo } from './broker';
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
import { parseListingParams, walkListing } from '../common/listing';
import type { StorageServerOptions } from '../options';
import { hashPath } from '../../src/common/hash-path';
import { loadSwiftConf, policyByIndex, type SwiftConf } from '../../src/common/swift-conf';
import { titleCase, isUserMeta, isSysMeta } from '../../src/common/headers';
import { defaultBody, HTML_CONTENT_TYPE } from '../../src/common/http-status';
import { renderListingBytes, type AccountListingEntry, type ListingContentType, type SubdirEntry } from '../../src/common/listing-format';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';
import { asByteString, bytesOf, textOf, type ByteString } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { quote } from '../../src/compat/quote';
import { configTrue } from '../../src/compat/truthy';
import { withRecon } from '../common/recon';

/** Swift's default reclaim_age: a deleted, empty account DB is removed after a week. */
const RECLAIM_AGE_SECONDS = 7 * 24 * 3600;
/** Swift's default fallocate_reserve: writes get 507 when the drive has under 1% free. */
const FALLOCATE_RESERVE_PERCENT = 1;
/** What swob's charset='utf-8' makes of the default content type on these responses. */
const HTML_UTF8 = 'text/html; charset=utf-8';
/** Methods the account server answers (Swift also has REPLICATE, which sluice does not speak). */
const ALLOWED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const SERVER_HEADER = 'account-server/sluice';

type AccountPath = Omit<BackendPath, 'object'>;

/**
 * Swift's account server checks the path with check_utf8(internal=True): NUL is allowed (names
 * in the reserved namespace, such as object versioning's containers, start with one), and
 * invalid UTF-8 gets 412 'Invalid UTF8'.
 */
const PATH_CHECK: PathCheck = { internal: true, body: 'Invalid UTF8', contentType: HTML_CONTENT_TYPE };

/** split_and_validate_path plus validate_internal_account/container. */
function parseAccountPath(path: string, maxSegs: 3 | 4): AccountPath {
  const { device, partition, account, container } = splitBackendPath(path, 3, maxSegs);
  checkReservedName(account, 'account');
  checkReservedName(container, 'container');
  return { device, partition, account, container };
}

function integerHeader(req: IncomingMessage, name: string, title: string, fallback?: number): number {
  const raw = header(req, name);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new HttpException(400, `Missing ${title} header`, {}, 'text/plain');
  }
  const v = raw.trim();
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new HttpException(400, `Invalid ${title} header: ${JSON.stringify(raw)}`, {}, 'text/plain');
  }
  return Number(v);
}

function timestampHeader(req: IncomingMessage, name: string, title: string): Timestamp {
  const raw = header(req, name);
  if (raw === undefined) throw new HttpException(400, `Missing ${title} header`, {}, 'text/plain');
  try {
    return Timestamp.parse(raw);
  } catch (err) {
    if (err instanceof InvalidTimestampError) throw new HttpException(400, `Invalid ${title} header: ${JSON.stringify(raw)}`, {}, 'text/plain');
    throw err;
  }
}

export class AccountServer {
  private readonly brokers = new DbCache<AccountBroker>();

  constructor(
    private readonly devices: string,
    private readonly conf: SwiftConf,
  ) {}

  close(): void {
    this.brokers.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // account requests carry no body; drain anything sent
    const { rawPath, rawQuery } = splitTarget(req);
    const path = requestPathText(rawPath, PATH_CHECK);
    const method = req.method ?? 'GET';
    if (!ALLOWED_METHODS.includes(method)) {
      send(req, res, 405);
      return;
    }
    switch (method) {
      case 'OPTIONS':
        send(req, res, 200, { headers: { Allow: ALLOWED_METHODS.join(', '), Server: SERVER_HEADER }, body: '' });
        return;
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
    }
  }

  // ---- helpers ----

  /** parseListingParams, with swob's content type on its 412s (they carry no explicit one). */
  private listingParams(req: IncomingMessage, rawQuery: ByteString) {
    try {
      return parseListingParams(rawQuery, header(req, 'accept'), this.conf.constraints.account_listing_limit, false);
    } catch (err) {
      if (err instanceof HttpException && err.status === 412) throw new HttpException(412, err.body, err.headers, HTML_CONTENT_TYPE);
      throw err;
    }
  }

  private checkDrive(device: string): void {
    try {
      checkDevice(this.devices, device);
    } catch (err) {
      // swob's 507 names the drive in its body.
      if (err instanceof HttpException && err.status === 507) {
        throw new HttpException(507, defaultBody(507, { drive: device }), {}, HTML_CONTENT_TYPE);
      }
      throw err;
    }
  }

  /** fs_has_free_space with the default 1% reserve: 507 rather than fill the drive. */
  private checkFreeSpace(device: string): void {
    let ok = true;
    try {
      const st = statfsSync(join(this.devices, device));
      if (st.blocks > 0) ok = (st.bavail * 100) / st.blocks >= FALLOCATE_RESERVE_PERCENT;
    } catch {
      ok = true; // statfs unsupported: behave as if there is room, as the write will tell
    }
    if (!ok) throw new HttpException(507, defaultBody(507, { drive: device }), {}, HTML_CONTENT_TYPE);
  }

  private dbFile(p: AccountPath): string {
    return dbPath(this.devices, p.device, 'accounts', p.partition, hashPath(this.conf.hash, p.account));
  }

  /** The account's broker if its database exists. */
  private broker(file: string): AccountBroker | undefined {
    let b = this.brokers.get(file);
    if (b) return b;
    b = AccountBroker.open(file);
    if (b) this.brokers.set(file, b);
    return b;
  }

  private createBroker(file: string, account: string, putTimestamp: string): AccountBroker {
    const b = AccountBroker.create(file, account, putTimestamp);
    this.brokers.set(file, b);
    return b;
  }

  /**
   * Swift's _deleted_response: the status with an empty body, plus X-Account-Status: Deleted
   * when the database exists and is marked deleted.
   */
  private deletedResponse(req: IncomingMessage, res: ServerResponse, status: number, broker: AccountBroker | undefined, body = ''): void {
    const headers: ResponseHeaders = {};
    if (broker && broker.isStatusDeleted()) headers['X-Account-Status'] = 'Deleted';
    send(req, res, status, { headers, body, contentType: HTML_UTF8 });
  }

  /** Swift's get_response_headers: stats, per-policy stats, then non-empty metadata. */
  private statHeaders(broker: AccountBroker, info: AccountInfo): ResponseHeaders {
    const h: ResponseHeaders = {
      'X-Account-Container-Count': info.container_count,
      'X-Account-Object-Count': info.object_count,
      'X-Account-Bytes-Used': info.bytes_used,
      'X-Timestamp': Timestamp.parse(info.created_at).normal,
      'X-Put-Timestamp': Timestamp.parse(info.put_timestamp).normal,
    };
    for (const ps of broker.policyStats()) {
      const policy = policyByIndex(this.conf, ps.storage_policy_index);
      if (!policy) continue;
      const prefix = `X-Account-Storage-Policy-${policy.name}-`;
      h[titleCase(prefix + 'container-count')] = ps.container_count;
      h[titleCase(prefix + 'object-count')] = ps.object_count;
      h[titleCase(prefix + 'bytes-used')] = ps.bytes_used;
    }
    for (const [key, value] of broker.metadata.visible()) h[titleCase(key)] = bytesOf(value);
    return h;
  }

  /** x-account-meta-* and x-account-sysmeta-* request headers as (key, value) updates. */
  private metadataFromRequest(req: IncomingMessage): [string, string][] {
    const out: [string, string][] = [];
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || !(isUserMeta('account', key) || isSysMeta('account', key))) continue;
      // As swob's wsgi_to_str: invalid bytes become lone surrogates, which validation refuses.
      out.push([key, textOf(asByteString(Array.isArray(value) ? value.join(', ') : value), 'surrogateescape')]);
    }
    return out;
  }

  private updateMetadata(req: IncomingMessage, broker: AccountBroker, timestamp: Timestamp): void {
    try {
      broker.updateMetadata(this.metadataFromRequest(req), timestamp.internal, {
        maxCount: this.conf.constraints.max_meta_count,
        maxOverallSize: this.conf.constraints.max_meta_overall_size,
      });
    } catch (err) {
      if (err instanceof MetadataValidationError) throw new HttpException(400, err.message, {}, HTML_CONTENT_TYPE);
      throw err;
    }
  }

  // ---- methods ----

  private head(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: ByteString): void {
    const p = parseAccountPath(path, 3);
    // Swift negotiates the listing type even for HEAD (so a bad Accept fails it too).
    const { contentType } = this.listingParams(req, rawQuery);
    this.checkDrive(p.device);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    const headers = this.statHeaders(broker, broker.info());
    send(req, res, 204, { headers, body: '', contentType: `${contentType}; charset=utf-8` });
  }

  private get(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: ByteString): void {
    const p = parseAccountPath(path, 3);
    const params = this.listingParams(req, rawQuery);
    this.checkDrive(p.device);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    const headers = this.statHeaders(broker, broker.info());
    const allowReserved = configTrue(header(req, 'x-backend-allow-reserved-names'));
    const rows = walkListing(params, (q) => broker.listContainers(q, allowReserved));
    const items = rows.map((r): AccountListingEntry | SubdirEntry =>
      'subdir' in r
        ? { subdir: r.subdir }
        : { name: r.name, count: r.object_count, bytes: r.bytes_used, last_modified: Timestamp.parse(r.put_timestamp).isoformat },
    );
    const type: ListingContentType = params.contentType;
    const contentType = `${type}; charset=utf-8`;
    // An empty plain-text listing is 204 (JSON and XML empty listings are 200).
    const status = type === 'text/plain' && items.length === 0 ? 204 : 200;
    send(req, res, status, { headers, body: renderListingBytes(items, type, 'account', p.account), contentType });
  }

  private put(req: IncomingMessage, res: ServerResponse, path: string): void {
    const p = parseAccountPath(path, 4);
    // PUT creates <partition>/ on disk. Swift takes any string here; rings only produce
    // integers, and a garbage one must be a 400 rather than a failed mkdir.
    if (!/^\d{1,19}$/.test(p.partition)) throw new HttpException(400, `Invalid partition: ${quote(p.partition)}`, {}, 'text/plain');
    this.checkDrive(p.device);
    this.checkFreeSpace(p.device);
    if (p.container) return this.putContainer(req, res, p);

    const timestamp = requireTimestamp(req);
    const file = this.dbFile(p);
    let broker = this.broker(file);
    if (broker && broker.isStatusDeleted() && broker.isReclaimable(Timestamp.now(), RECLAIM_AGE_SECONDS)) {
      // Swift's replicator would have removed this DB by now; do it on demand instead.
      this.brokers.delete(file);
      broker.destroy();
      broker = undefined;
    }
    let created: boolean;
    if (!broker) {
      try {
        broker = this.createBroker(file, p.account, timestamp.internal);
        created = true;
      } catch (err) {
        if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
        broker = this.broker(file)!;
        created = false;
      }
    } else if (broker.isStatusDeleted()) {
      return this.deletedResponse(req, res, 403, broker, 'Recently deleted');
    } else {
      created = broker.isDeleted();
      broker.updatePutTimestamp(timestamp.internal);
      if (broker.isDeleted()) {
        send(req, res, 409);
        return;
      }
    }
    this.updateMetadata(req, broker, timestamp);
    send(req, res, created ? 201 : 202);
  }

  /** A container server's report of a container's put/delete timestamps and usage. */
  private putContainer(req: IncomingMessage, res: ServerResponse, p: AccountPath): void {
    const timestamp = header(req, 'x-timestamp') === undefined ? Timestamp.now() : requireTimestamp(req);
    const file = this.dbFile(p);
    let broker = this.broker(file);
    // Accounts of the auto-create prefix ('.' : .expiring_objects, .misplaced_objects, ...)
    // come into being on their first container.
    if (!broker && p.account.startsWith(this.conf.constraints.auto_create_account_prefix)) {
      try {
        broker = this.createBroker(file, p.account, timestamp.internal);
      } catch (err) {
        if (!(err instanceof DatabaseAlreadyExistsError)) throw err;
        broker = this.broker(file);
      }
    }
    const override = (header(req, 'x-account-override-deleted') ?? 'no').toLowerCase() === 'yes';
    if (!broker || (!override && broker.isDeleted())) {
      send(req, res, 404);
      return;
    }
    // Read only now, as Swift does: a report for a missing account is a 404 whatever it holds.
    const putTs = timestampHeader(req, 'x-put-timestamp', 'X-Put-Timestamp');
    const deleteTs = timestampHeader(req, 'x-delete-timestamp', 'X-Delete-Timestamp');
    const objectCount = integerHeader(req, 'x-object-count', 'X-Object-Count');
    const bytesUsed = integerHeader(req, 'x-bytes-used', 'X-Bytes-Used');
    const policyIndex = integerHeader(req, 'x-backend-storage-policy-index', 'X-Backend-Storage-Policy-Index', 0);

    broker.putContainer({
      name: p.container!,
      put_timestamp: putTs.internal,
      delete_timestamp: deleteTs.internal,
      object_count: objectCount,
      bytes_used: bytesUsed,
      storage_policy_index: policyIndex,
    });
    send(req, res, deleteTs.compare(putTs) > 0 ? 204 : 201);
  }

  private post(req: IncomingMessage, res: ServerResponse, path: string): void {
    const p = parseAccountPath(path, 3);
    const timestamp = requireTimestamp(req);
    this.checkDrive(p.device);
    this.checkFreeSpace(p.device);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    this.updateMetadata(req, broker, timestamp);
    send(req, res, 204);
  }

  private delete(req: IncomingMessage, res: ServerResponse, path: string): void {
    const p = parseAccountPath(path, 3);
    this.checkDrive(p.device);
    const timestamp = requireTimestamp(req);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    broker.deleteDb(timestamp.internal);
    // Swift answers through _deleted_response, so the 204 says X-Account-Status: Deleted.
    this.deletedResponse(req, res, 204, broker);
  }
}

/** Starts an account server on opts.host/opts.port (127.0.0.1 and an ephemeral port by default). */
export async function startAccountServer(opts: StorageServerOptions): Promise<RunningServer> {
  const conf = opts.swiftConf ?? loadSwiftConf(opts.swiftDir);
  const app = new AccountServer(opts.devices, conf);
  return listen(withRecon({ ...opts, swiftConf: conf }, (req, res) => app.handle(req, res)), {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    name: 'account-server',
    onClose: () => app.close(),
  });
}
