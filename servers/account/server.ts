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
  header,
  headerBytes,
  HttpError,
  listen,
  requireTimestamp,
  send,
  type ResponseHeaders,
  type RunningServer,
} from '../common/http';
import { dbPath, DbCache } from '../common/db';
import { parseListingParams, walkListing } from '../common/listing';
import type { StorageServerOptions } from '../options';
import { hashPath } from '../../src/common/hash-path';
import { loadSwiftConf, configTrue, policyByIndex, type SwiftConf } from '../../src/common/swift-conf';
import { titleCase, isUserMeta, isSysMeta } from '../../src/common/headers';
import { defaultBody, HTML_CONTENT_TYPE } from '../../src/common/http-status';
import { pythonJson, type ListingContentType, type SubdirEntry } from '../../src/common/listing-format';
import { InvalidPathError, pyQuote, splitPath } from '../../src/common/path';
import { InvalidTimestampError, Timestamp } from '../../src/common/timestamp';

/** Swift's default reclaim_age: a deleted, empty account DB is removed after a week. */
const RECLAIM_AGE_SECONDS = 7 * 24 * 3600;
/** Swift's default fallocate_reserve: writes get 507 when the drive has under 1% free. */
const FALLOCATE_RESERVE_PERCENT = 1;
/** What swob's charset='utf-8' makes of the default content type on these responses. */
const HTML_UTF8 = 'text/html; charset=utf-8';
/** Methods the account server answers (Swift also has REPLICATE, which sluice does not speak). */
const ALLOWED_METHODS = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT'];
const SERVER_HEADER = 'account-server/sluice';

interface AccountPath {
  device: string;
  partition: string;
  account: string;
  container?: string;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Percent-decodes the raw path as UTF-8. Unlike the container and object servers, Swift's
 * account server checks the path with check_utf8(internal=True): NUL is allowed (names in the
 * reserved namespace, such as object versioning's containers, start with one), and invalid
 * UTF-8 gets 412 'Invalid UTF8'.
 */
function decodeAccountPath(raw: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(c & 0xff);
  }
  try {
    return strictUtf8.decode(Buffer.from(bytes));
  } catch {
    throw new HttpError(412, 'Invalid UTF8', {}, HTML_CONTENT_TYPE);
  }
}

/** split_and_validate_path plus validate_internal_account/container. */
function parseAccountPath(path: string, maxSegs: 3 | 4): AccountPath {
  let segs: (string | undefined)[];
  try {
    segs = splitPath(path, 3, maxSegs);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new HttpError(400, err.message, {}, 'text/plain');
    throw err;
  }
  const [device, partition, account, container] = segs as [string, string, string, string | undefined];
  if (device.includes('/') || device === '.' || device === '..') {
    throw new HttpError(400, `Invalid device: ${pyQuote(device)}`, {}, 'text/plain');
  }
  if (partition.includes('/') || partition === '.' || partition === '..') {
    throw new HttpError(400, `Invalid partition: ${pyQuote(partition)}`, {}, 'text/plain');
  }
  // A reserved-namespace name must start with the reserved byte, not merely contain it.
  if (account.includes('\0') && !account.startsWith('\0')) {
    throw new HttpError(400, 'Invalid reserved-namespace account', {}, HTML_CONTENT_TYPE);
  }
  if (container && container.includes('\0') && !container.startsWith('\0')) {
    throw new HttpError(400, 'Invalid reserved-namespace container', {}, HTML_CONTENT_TYPE);
  }
  return { device, partition, account, container: container || undefined };
}

/**
 * Header bytes (Node's latin-1 view) decoded as UTF-8 with Python's surrogateescape, as
 * swob's wsgi_to_str does: invalid bytes become lone surrogates that metadata validation
 * rejects (400 'Metadata must be valid UTF-8').
 */
function headerSurrogateEscape(value: string): string {
  if (!/[^\x00-\x7f]/.test(value)) return value;
  const buf = Buffer.from(value, 'latin1');
  try {
    return strictUtf8.decode(buf);
  } catch {
    let out = '';
    let i = 0;
    while (i < buf.length) {
      const len = utf8SeqLen(buf, i);
      if (len > 0) {
        out += buf.subarray(i, i + len).toString('utf8');
        i += len;
      } else {
        out += String.fromCharCode(0xdc00 + buf[i]!);
        i += 1;
      }
    }
    return out;
  }
}

/** Length of a valid UTF-8 sequence at i, or 0 if the byte there starts none. */
function utf8SeqLen(buf: Buffer, i: number): number {
  const b = buf[i]!;
  const n = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
  if (n <= 1) return n;
  if (i + n > buf.length) return 0;
  try {
    strictUtf8.decode(buf.subarray(i, i + n));
    return n;
  } catch {
    return 0;
  }
}

function xmlText(s: string): string {
  return s.replace(/[&<>]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

function xmlAttr(s: string): string {
  return s.replace(
    /[&<>"\n\r\t]/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\n': '&#10;', '\r': '&#13;', '\t': '&#09;' })[c]!,
  );
}

interface AccountListingItem {
  name: string;
  count: number;
  bytes: number;
  last_modified: string;
}

/**
 * listing_formats.account_to_xml as ElementTree serialises it: a newline after the opening
 * tag and after each entry, and subdirs as empty `<subdir name="..." />` elements.
 */
export function accountXml(account: string, items: (AccountListingItem | SubdirEntry)[]): string {
  const parts = [`<?xml version="1.0" encoding="UTF-8"?>\n<account name="${xmlAttr(account)}">\n`];
  for (const item of items) {
    if ('subdir' in item) parts.push(`<subdir name="${xmlAttr(item.subdir)}" />\n`);
    else {
      parts.push(
        `<container><name>${xmlText(item.name)}</name><count>${item.count}</count>` +
          `<bytes>${item.bytes}</bytes><last_modified>${xmlText(item.last_modified)}</last_modified></container>\n`,
      );
    }
  }
  parts.push('</account>');
  return parts.join('');
}

function integerHeader(req: IncomingMessage, name: string, title: string, fallback?: number): number {
  const raw = header(req, name);
  if (raw === undefined) {
    if (fallback !== undefined) return fallback;
    throw new HttpError(400, `Missing ${title} header`, {}, 'text/plain');
  }
  const v = raw.trim();
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new HttpError(400, `Invalid ${title} header: ${JSON.stringify(raw)}`, {}, 'text/plain');
  }
  return Number(v);
}

function timestampHeader(req: IncomingMessage, name: string, title: string): Timestamp {
  const raw = header(req, name);
  if (raw === undefined) throw new HttpError(400, `Missing ${title} header`, {}, 'text/plain');
  try {
    return Timestamp.parse(raw);
  } catch (err) {
    if (err instanceof InvalidTimestampError) throw new HttpError(400, `Invalid ${title} header: ${JSON.stringify(raw)}`, {}, 'text/plain');
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
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = decodeAccountPath(q < 0 ? url : url.slice(0, q));
    const rawQuery = q < 0 ? '' : url.slice(q + 1);
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
  private listingParams(req: IncomingMessage, rawQuery: string) {
    try {
      return parseListingParams(rawQuery, header(req, 'accept'), this.conf.constraints.account_listing_limit, false);
    } catch (err) {
      if (err instanceof HttpError && err.status === 412) throw new HttpError(412, err.body, err.headers, HTML_CONTENT_TYPE);
      throw err;
    }
  }

  private checkDrive(device: string): void {
    try {
      checkDevice(this.devices, device);
    } catch (err) {
      // swob's 507 names the drive in its body.
      if (err instanceof HttpError && err.status === 507) {
        throw new HttpError(507, defaultBody(507, { drive: device }), {}, HTML_CONTENT_TYPE);
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
    if (!ok) throw new HttpError(507, defaultBody(507, { drive: device }), {}, HTML_CONTENT_TYPE);
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
    for (const [key, value] of broker.metadata.visible()) h[titleCase(key)] = headerBytes(value);
    return h;
  }

  /** x-account-meta-* and x-account-sysmeta-* request headers as (key, value) updates. */
  private metadataFromRequest(req: IncomingMessage): [string, string][] {
    const out: [string, string][] = [];
    for (const [key, value] of Object.entries(req.headers)) {
      if (value === undefined || !(isUserMeta('account', key) || isSysMeta('account', key))) continue;
      out.push([key, headerSurrogateEscape(Array.isArray(value) ? value.join(', ') : value)]);
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
      if (err instanceof MetadataValidationError) throw new HttpError(400, err.message, {}, HTML_CONTENT_TYPE);
      throw err;
    }
  }

  // ---- methods ----

  private head(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): void {
    const p = parseAccountPath(path, 3);
    // Swift negotiates the listing type even for HEAD (so a bad Accept fails it too).
    const { contentType } = this.listingParams(req, rawQuery);
    this.checkDrive(p.device);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    const headers = this.statHeaders(broker, broker.info());
    send(req, res, 204, { headers, body: '', contentType: `${contentType}; charset=utf-8` });
  }

  private get(req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): void {
    const p = parseAccountPath(path, 3);
    const params = this.listingParams(req, rawQuery);
    this.checkDrive(p.device);
    const broker = this.broker(this.dbFile(p));
    if (!broker || broker.isDeleted()) return this.deletedResponse(req, res, 404, broker);
    const headers = this.statHeaders(broker, broker.info());
    const allowReserved = configTrue(header(req, 'x-backend-allow-reserved-names'));
    const rows = walkListing(params, (q) => broker.listContainers(q, allowReserved));
    const items = rows.map((r) =>
      'subdir' in r
        ? { subdir: r.subdir }
        : { name: r.name, count: r.object_count, bytes: r.bytes_used, last_modified: Timestamp.parse(r.put_timestamp).isoformat },
    );
    const type: ListingContentType = params.contentType;
    const contentType = `${type}; charset=utf-8`;
    if (type.endsWith('/xml')) {
      send(req, res, 200, { headers, body: accountXml(p.account, items), contentType });
    } else if (type.endsWith('/json')) {
      send(req, res, 200, { headers, body: pythonJson(items), contentType });
    } else if (items.length > 0) {
      send(req, res, 200, { headers, body: items.map((i) => ('subdir' in i ? i.subdir : i.name) + '\n').join(''), contentType });
    } else {
      // An empty plain-text listing is 204 (JSON and XML empty listings are 200).
      send(req, res, 204, { headers, body: '', contentType });
    }
  }

  private put(req: IncomingMessage, res: ServerResponse, path: string): void {
    const p = parseAccountPath(path, 4);
    // PUT creates <partition>/ on disk. Swift takes any string here; rings only produce
    // integers, and a garbage one must be a 400 rather than a failed mkdir.
    if (!/^\d{1,19}$/.test(p.partition)) throw new HttpError(400, `Invalid partition: ${pyQuote(p.partition)}`, {}, 'text/plain');
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
  return listen((req, res) => app.handle(req, res), {
    host: opts.host ?? '127.0.0.1',
    port: opts.port ?? 0,
    name: 'account-server',
    onClose: () => app.close(),
  });
}
