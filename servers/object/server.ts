/**
 * The object server: PUT/GET/HEAD/POST/DELETE on `/<device>/<partition>/<a>/<c>/<o>`,
 * wire-compatible with swift/obj/server.py of Swift 2.30 for replicated policies.
 * Storage is servers/object/diskfile.ts; container updates and their retry are
 * servers/object/updater.ts; ranges and conditionals are servers/object/ranges.ts.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash, type Hash } from 'node:crypto';
import { OBJECT_ALLOWED_HEADERS } from '../../src/common/headers';
import { isUserMeta, isSysMeta, OBJECT_TRANSIENT_SYSMETA_PREFIX, titleCase } from '../../src/common/headers';
import { defaultBody } from '../../src/common/http-status';
import { loadSwiftConf, policyByIndex, type SwiftConf } from '../../src/common/swift-conf';
import { Timestamp } from '../../src/common/timestamp';
import {
  buildTaskObject,
  DEFAULT_EXPIRING_OBJECTS_CONTAINER_DIVISOR,
  expirerContainer,
  expiringObjectsAccount,
  normalizeDeleteAt,
} from '../../src/common/expiring-objects';
import type { Constraints } from '../../src/common/constraints';
import {
  checkDevice,
  header,
  listen,
  OBJECT_PATH_CHECK,
  validateInternalObject,
  requestPathText,
  requireTimestamp,
  send,
  splitBackendPath,
  splitTarget,
  type ResponseHeaders,
  type RunningServer,
} from '../common/http';
import type { StorageServerOptions } from '../options';
import { sendOptions } from '../common/options-method';
import { withRecon } from '../common/recon';
import { asByteString, bytesOf, isUtf8, textOf } from '../../src/compat/bytes';
import { HttpException } from '../../src/compat/http-exception';
import { unquote } from '../../src/compat/quote';
import { configTrue } from '../../src/compat/truthy';
import {
  DiskFileCollision,
  DiskFileDeleted,
  DiskFileExpired,
  DiskFileManager,
  DiskFileNotExist,
  DiskFileQuarantined,
  type DiskFile,
  type DiskFileWriter,
  type Metadata,
  type OpenedObject,
} from './diskfile';
import {
  closingBoundary,
  conditionalStatus,
  contentRangeValue,
  makeBoundary,
  multipartContentType,
  multipartLength,
  normalizeEtag,
  parseMatch,
  parseRange,
  PART_TRAILER,
  partHeader,
  rangesForLength,
  matchContains,
  type ByteRange,
} from './ranges';
import { DEFAULT_VERIFIED_READ_SECONDS, VerifiedReads } from './verified-reads';
import { ContainerUpdateClient, ObjectUpdater, writeAsyncPending, type AsyncPending, type UpdateTarget } from './updater';

export interface ObjectServerOptions extends StorageServerOptions {
  /** Seconds between updater sweeps of async pendings; 0 disables the background updater. Default 300 (Swift's). */
  updaterInterval?: number;
  /** Seconds a write waits for its container updates before answering (Swift's container_update_timeout, 1). */
  containerUpdateTimeout?: number;
  /** Seconds without body data before a PUT gives up with 408 (Swift's client_timeout, 60). */
  clientTimeout?: number;
  /** Seconds after which tombstones are reclaimed (Swift's reclaim_age, a week). */
  reclaimAge?: number;
  /** Headers stored with objects besides metadata (Swift's allowed_headers). */
  allowedHeaders?: string[];
  /** Seconds of X-Delete-At per queue container when the proxy names none (expiring_objects_container_divisor, 86400). */
  expiringObjectsContainerDivisor?: number;
  /** The queue account's name under auto_create_account_prefix (expiring_objects_account_name). */
  expiringObjectsAccountName?: string;
  /**
   * Seconds during which a .data file whose whole read matched its ETag, and which has not
   * changed since, is not hashed again on the next whole read (verified-reads.ts); 0 hashes
   * every whole read, as Swift. Default 60.
   */
  verifiedReadSeconds?: number;
}

export interface RunningObjectServer extends RunningServer {
  updater?: ObjectUpdater;
  /** Resolves when container updates still running in the background have finished. */
  settle(): Promise<void>;
}

const RESERVED_DATAFILE_META = new Set(['content-length', 'deleted', 'etag']);
const EMPTY_MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
/**
 * Bytes of a .data file per socket write on GET: the disk_chunk_size reads fill a quarter MiB
 * before it goes out, so a large object costs four writes and awaits per MiB, not sixteen.
 */
const SEND_CHUNK = 256 * 1024;
/** Send buffers kept for reuse: a fresh quarter MiB is page-faulted in again on first touch. */
const SEND_BUFFERS_KEPT = 32;
const HTML = 'text/html; charset=UTF-8';

/** Python's int() on a header value: optional sign, digits, single underscores, surrounding space. */
function pyInt(value: string): number | undefined {
  const v = value.trim();
  if (!/^[+-]?\d+(_\d+)*$/.test(v)) return undefined;
  return Number(v.replace(/_/g, ''));
}

/** Swift's DiskFileNoSpace: out of blocks or inodes (ENOSPC) or over quota (EDQUOT). */
const isNoSpace = (err: unknown) => ['ENOSPC', 'EDQUOT'].includes((err as NodeJS.ErrnoException | undefined)?.code ?? '');

const isTransientSysmeta = (k: string) => k.toLowerCase().startsWith(OBJECT_TRANSIENT_SYSMETA_PREFIX) && k.length > OBJECT_TRANSIENT_SYSMETA_PREFIX.length;

export async function startObjectServer(opts: ObjectServerOptions): Promise<RunningObjectServer> {
  const conf: SwiftConf = opts.swiftConf ?? loadSwiftConf(opts.swiftDir);
  const ctx = new ObjectController(opts, conf);
  const running = await listen(withRecon({ ...opts, swiftConf: conf }, (req, res) => ctx.handle(req, res)), {
    host: opts.host,
    port: opts.port,
    name: 'object-server',
    onClose: () => ctx.close(),
  });
  // Take over `Expect: 100-continue` so the 100 goes out only once the request passed its
  // checks (a 409/412/507 is answered instead, as Swift's object server does); the proxy
  // relies on that to fail fast.
  running.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => running.server.emit('request', req, res));
  running.server.on('clientError', onClientError);
  const interval = opts.updaterInterval ?? 300;
  if (interval > 0 && opts.backgroundSweeps !== false) ctx.updater.start();
  return { ...running, updater: ctx.updater, settle: () => ctx.settle() };
}

/**
 * Node's parser errors. A body cut short by the client (EOF before Content-Length bytes) is
 * Swift's 499 Client Disconnect: answer that (the PUT handler sees the abort and discards its
 * temp file). Everything else gets the 400/408/431 Node would send by default.
 */
function onClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  const inFlight = (socket as unknown as { _httpMessage?: ServerResponse })._httpMessage;
  if (socket.writable && !(inFlight && inFlight.headersSent)) {
    let status = '400 Bad Request';
    let body = '';
    if (err.code === 'HPE_INVALID_EOF_STATE' && inFlight) {
      status = '499 Client Disconnect';
      body = defaultBody(499);
    } else if (err.code === 'HPE_HEADER_OVERFLOW') status = '431 Request Header Fields Too Large';
    else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') status = '408 Request Timeout';
    socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () =>
      socket.destroy(),
    );
    return;
  }
  socket.destroy();
}

interface ObjectRequest {
  req: IncomingMessage;
  res: ServerResponse;
  device: string;
  partition: string;
  account: string;
  container: string;
  obj: string;
  policy: number;
  rawPath: string;
}

class ObjectController {
  readonly diskFiles: DiskFileManager;
  readonly client: ContainerUpdateClient;
  readonly updater: ObjectUpdater;
  private readonly allowedHeaders: Set<string>;
  private readonly constraints: Constraints;
  private readonly containerUpdateTimeout: number;
  private readonly clientTimeout: number;
  private readonly background = new Set<Promise<void>>();
  private readonly sendBuffers: Buffer[] = [];
  private readonly verifiedReads: VerifiedReads | undefined;

  constructor(
    readonly opts: ObjectServerOptions,
    readonly conf: SwiftConf,
  ) {
    this.diskFiles = new DiskFileManager({ hash: conf.hash, reclaimAge: opts.reclaimAge });
    this.client = new ContainerUpdateClient(opts.connTimeout ?? 0.5, opts.nodeTimeout ?? 3);
    this.updater = new ObjectUpdater({
      devices: opts.devices,
      swiftConf: conf,
      swiftDir: opts.swiftDir,
      client: this.client,
      interval: opts.updaterInterval ?? 300,
    });
    this.allowedHeaders = new Set((opts.allowedHeaders ?? OBJECT_ALLOWED_HEADERS).map((h) => h.trim().toLowerCase()).filter((h) => h && !RESERVED_DATAFILE_META.has(h)));
    this.constraints = conf.constraints;
    this.containerUpdateTimeout = opts.containerUpdateTimeout ?? 1;
    this.clientTimeout = opts.clientTimeout ?? 60;
    const verifiedReadSeconds = opts.verifiedReadSeconds ?? DEFAULT_VERIFIED_READ_SECONDS;
    this.verifiedReads = verifiedReadSeconds > 0 ? new VerifiedReads(verifiedReadSeconds) : undefined;
  }

  async settle(): Promise<void> {
    while (this.background.size) await Promise.all([...this.background]);
  }

  async close(): Promise<void> {
    await this.updater.stop();
    await this.settle();
    await this.client.close();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? '';
    const { rawPath } = splitTarget(req);
    // Path UTF-8 is checked first (412), then the method (405), then policy (503), then the path (400).
    const handlers: Record<string, (r: ObjectRequest) => Promise<void>> = {
      PUT: (r) => this.PUT(r),
      GET: (r) => this.GET(r),
      HEAD: (r) => this.GET(r),
      POST: (r) => this.POST(r),
      DELETE: (r) => this.DELETE(r),
    };
    requestPathText(rawPath, OBJECT_PATH_CHECK);
    if (method === 'OPTIONS') return sendOptions(req, res, 'object');
    const handler = handlers[method];
    if (!handler) {
      send(req, res, 405);
      return;
    }
    const policyRaw = header(req, 'x-backend-storage-policy-index');
    let policy = 0;
    if (policyRaw !== undefined && policyRaw !== '') {
      const n = pyInt(policyRaw);
      if (n === undefined || !policyByIndex(this.conf, n)) {
        throw new HttpException(503, `No policy with index ${policyRaw}`, {}, 'text/plain');
      }
      policy = n;
    }
    const p = splitBackendPath(requestPathText(rawPath, OBJECT_PATH_CHECK), 5, 5, true);
    validateInternalObject(p.account, p.container!, p.object!, this.conf.constraints.auto_create_account_prefix);
    const r: ObjectRequest = { req, res, device: p.device, partition: p.partition, account: p.account, container: p.container!, obj: p.object!, policy, rawPath };
    await handler(r);
  }

  // -------------------------------------------------------------------------------------------
  // helpers

  private devicePath(r: ObjectRequest): string {
    try {
      return checkDevice(this.opts.devices, r.device);
    } catch (err) {
      if (err instanceof HttpException && err.status === 507) throw this.insufficientStorage(r);
      throw err;
    }
  }

  private insufficientStorage(r: ObjectRequest): HttpException {
    return new HttpException(507, defaultBody(507, { drive: r.device }), {}, 'text/html; charset=UTF-8');
  }

  private diskFile(r: ObjectRequest, devPath: string): DiskFile {
    return this.diskFiles.diskFile(devPath, r.partition, r.account, r.container, r.obj, r.policy);
  }

  private referer(r: ObjectRequest): string {
    return `${r.req.method} http://${header(r.req, 'host') ?? 'localhost'}${r.rawPath}`;
  }

  /** Maps disk I/O failures that mean "no space" to 507, as Swift's DiskFileNoSpace. */
  private async guardDisk<T>(r: ObjectRequest, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isNoSpace(err)) throw this.insufficientStorage(r);
      throw err;
    }
  }

  /** Swift's check_metadata over all request headers, for object PUTs. */
  private checkMetadata(req: IncomingMessage): void {
    const c = this.constraints;
    const prefix = 'x-object-meta-';
    let count = 0;
    let size = 0;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const key = req.rawHeaders[i]!;
      const value = req.rawHeaders[i + 1]!;
      if (value.length > c.max_header_size) {
        throw new HttpException(400, `Header value too long: ${titleCase(key).slice(0, c.max_meta_name_length)}`, {}, 'text/plain');
      }
      if (!key.toLowerCase().startsWith(prefix)) continue;
      const name = key.slice(prefix.length);
      if (!name) throw new HttpException(400, 'Metadata name cannot be empty', {}, 'text/plain');
      count++;
      size += name.length + value.length;
      if (name.length > c.max_meta_name_length) throw new HttpException(400, `Metadata name too long: ${prefix}${name}`, {}, 'text/plain');
      if (value.length > c.max_meta_value_length) {
        throw new HttpException(400, `Metadata value longer than ${c.max_meta_value_length}: ${prefix}${name}`, {}, 'text/plain');
      }
      if (count > c.max_meta_count) throw new HttpException(400, `Too many metadata items; max ${c.max_meta_count}`, {}, 'text/plain');
      if (size > c.max_meta_overall_size) throw new HttpException(400, `Total metadata too large; max ${c.max_meta_overall_size}`, {}, 'text/plain');
    }
  }

  /** Swift's check_delete_headers: validates X-Delete-At / X-Delete-After; returns the X-Delete-At to store. */
  private checkDeleteHeaders(req: IncomingMessage, now: Timestamp): string | undefined {
    const replication = configTrue(header(req, 'x-backend-replication'));
    let deleteAt: string | undefined = header(req, 'x-delete-at');
    const after = header(req, 'x-delete-after');
    if (after !== undefined) {
      const n = pyInt(after);
      if (n === undefined) throw new HttpException(400, 'Non-integer X-Delete-After', {}, 'text/plain');
      const actual = normalizeDeleteAt(now.seconds + n);
      if (Number(actual) <= now.seconds) throw new HttpException(400, 'X-Delete-After in past', {}, 'text/plain');
      deleteAt = actual;
    }
    if (deleteAt !== undefined) {
      const n = pyInt(deleteAt);
      if (n === undefined) throw new HttpException(400, 'Non-integer X-Delete-At', {}, 'text/plain');
      if (Number(normalizeDeleteAt(n)) <= now.seconds && !replication) throw new HttpException(400, 'X-Delete-At in past', {}, 'text/plain');
    }
    return deleteAt;
  }

  /** Request headers copied into stored metadata: allowed headers plus X-Backend-Replication-Headers. */
  private copiedHeaders(req: IncomingMessage): Metadata {
    const out: Metadata = {};
    const names = [...(header(req, 'x-backend-replication-headers') ?? '').split(/\s+/).filter(Boolean), ...this.allowedHeaders];
    for (const name of names) {
      const v = header(req, name.toLowerCase());
      if (v !== undefined) out[titleCase(name)] = textOf(v, 'surrogateescape');
    }
    return out;
  }

  /** X-Object-Meta-*, (optionally) X-Object-Sysmeta-* and transient sysmeta from the request. */
  private requestMeta(req: IncomingMessage, withSysmeta: boolean): Metadata {
    const out: Metadata = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const key = req.rawHeaders[i]!;
      if (isUserMeta('object', key) || isTransientSysmeta(key) || (withSysmeta && isSysMeta('object', key))) {
        const name = titleCase(key);
        const value = textOf(asByteString(req.rawHeaders[i + 1]!), 'surrogateescape');
        // Node keeps duplicates in rawHeaders; join them as its parsed headers would.
        out[name] = name in out ? `${out[name]}, ${value}` : value;
      }
    }
    return out;
  }

  /** Metadata headers a GET/HEAD returns. */
  private responseHeaders(metadata: Metadata): ResponseHeaders {
    const h: ResponseHeaders = {};
    for (const [k, v] of Object.entries(metadata)) {
      if (isUserMeta('object', k) || isSysMeta('object', k) || isTransientSysmeta(k) || this.allowedHeaders.has(k.toLowerCase())) {
        h[k] = bytesOf(v);
      }
    }
    return h;
  }

  // -------------------------------------------------------------------------------------------
  // container updates

  private track(p: Promise<void>): Promise<void> {
    const tracked = p.catch((err: unknown) => {
      process.stderr.write(`object-server: container update error: ${String(err)}\n`);
    });
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
    return tracked;
  }

  /**
   * Sends (or, failing that, saves) one update to each target; all failed targets go into one
   * async pending. Swift's async_update.
   */
  private asyncUpdate(
    op: 'PUT' | 'DELETE',
    account: string,
    container: string,
    obj: string,
    targets: UpdateTarget[],
    headersOut: Record<string, string>,
    devPath: string,
    objHash: string,
    policy: number,
    containerPath: string | null,
  ): Promise<void> {
    const headers: Record<string, string> = { ...headersOut, 'User-Agent': `object-server ${process.pid}` };
    const get = (name: string) => Object.entries(headers).find(([k]) => k.toLowerCase() === name)?.[1];
    const fullPath = containerPath ? `/${containerPath}/${obj}` : `/${account}/${container}/${obj}`;
    return this.track(
      (async () => {
        const sendable = targets.filter((t) => t.host && t.partition && t.device);
        const results = await Promise.all(sendable.map(async (t) => ({ t, r: await this.client.sendToHost(t, op, fullPath, headers) })));
        const failed = results.filter((x) => !x.r.ok);
        for (const { t, r } of failed) {
          process.stderr.write(
            `object-server: ERROR container update failed with ${t.host}/${t.device} (saving for async update later): ${r.status ?? r.error}\n`,
          );
        }
        if (failed.length === 0 && sendable.length === targets.length) return;
        const data: AsyncPending = { op, account, container, obj, headers, targets: failed.map((x) => x.t) };
        if (containerPath) data.container_path = containerPath;
        const ts = Timestamp.parse(get('x-meta-timestamp') ?? get('x-timestamp'));
        await writeAsyncPending(devPath, policy, objHash, ts, data);
      })(),
    );
  }

  /** Swift's container_update: one update per X-Container-Host/Device pair, waited on briefly. */
  private async containerUpdate(op: 'PUT' | 'DELETE', r: ObjectRequest, headersOut: Record<string, string>, devPath: string, objHash: string): Promise<void> {
    const req = r.req;
    const hosts = (header(req, 'x-container-host') ?? '').split(',').map((s) => s.trim());
    const devices = (header(req, 'x-container-device') ?? '').split(',').map((s) => s.trim());
    const partition = header(req, 'x-container-partition') ?? '';
    if (hosts.length !== devices.length) {
      process.stderr.write(`object-server: ERROR Container update failed: different numbers of hosts and devices in request: "${hosts}" vs "${devices}"\n`);
      return;
    }
    let contpath: string | null = null;
    const quoted = header(req, 'x-backend-quoted-container-path');
    if (quoted) contpath = unquote(quoted);
    else contpath = header(req, 'x-backend-container-path') ?? null;
    if (contpath !== null && !/^[^/]+\/[^/]+$/.test(contpath)) {
      process.stderr.write(`object-server: Invalid X-Backend-Container-Path, should be of the form 'account/container' but got ${contpath}\n`);
      contpath = null;
    }
    if (!partition) return;
    const targets = hosts.map((host, i) => ({ host, device: devices[i]!, partition }));
    const headers: Record<string, string> = {
      ...headersOut,
      'X-Trans-Id': header(req, 'x-trans-id') ?? '-',
      Referer: this.referer(r),
      'X-Backend-Storage-Policy-Index': String(r.policy),
    };
    const p = this.asyncUpdate(op, r.account, r.container, r.obj, targets, headers, devPath, objHash, r.policy, contpath);
    // Wait a little so a listing right after the response usually shows the change.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([p, new Promise<void>((resolve) => (timer = setTimeout(resolve, this.containerUpdateTimeout * 1000)))]);
    clearTimeout(timer);
  }

  /** Swift's delete_at_update: maintains the .expiring_objects queue rows. */
  private async deleteAtUpdate(op: 'PUT' | 'DELETE', deleteAt: number, r: ObjectRequest, reqTimestamp: Timestamp, devPath: string): Promise<void> {
    const req = r.req;
    if (configTrue(header(req, 'x-backend-replication'))) return;
    const headersOut: Record<string, string> = {
      'X-Backend-Storage-Policy-Index': '0', // system accounts are always policy 0
      'X-Timestamp': reqTimestamp.internal,
      'X-Trans-Id': header(req, 'x-trans-id') ?? '-',
      Referer: this.referer(r),
    };
    let targets: UpdateTarget[] = [{ host: '', device: '', partition: '' }];
    // The proxy names the queue container; without it (older proxies) and for removals, the
    // object server works it out with its own divisor, as Swift does.
    const guessContainer = () =>
      expirerContainer(deleteAt, this.opts.expiringObjectsContainerDivisor ?? DEFAULT_EXPIRING_OBJECTS_CONTAINER_DIVISOR, this.conf.hash, r.account, r.container, r.obj);
    let container: string;
    if (op !== 'DELETE') {
      const hosts = header(req, 'x-delete-at-host');
      if (hosts === undefined) return; // other object servers will do it
      const given = header(req, 'x-delete-at-container');
      const n = given ? Number(given) : NaN;
      container = given && Number.isFinite(n) ? normalizeDeleteAt(n) : guessContainer();
      const partition = header(req, 'x-delete-at-partition') ?? '';
      const devices = (header(req, 'x-delete-at-device') ?? '').split(',').map((s) => s.trim());
      const pairs = hosts.split(',').map((h, i) => ({ host: h.trim(), device: devices[i] ?? '', partition }));
      const usable = pairs.slice(0, Math.min(pairs.length, devices.length)).filter((t) => t.host && t.device && partition);
      if (usable.length) targets = usable;
      headersOut['X-Size'] = '0';
      headersOut['X-Content-Type'] = 'text/plain';
      headersOut['X-Etag'] = EMPTY_MD5;
    } else {
      if (!configTrue(header(req, 'x-backend-clean-expiring-object-queue') ?? 't')) return;
      container = guessContainer();
    }
    const account = expiringObjectsAccount(this.conf.constraints.auto_create_account_prefix, this.opts.expiringObjectsAccountName);
    const taskObj = buildTaskObject(deleteAt, r.account, r.container, r.obj);
    const objHash = this.diskFiles.objectHash(account, container, taskObj);
    // Each target is tried independently as in Swift; unreachable ones become async pendings.
    await Promise.all(
      targets.map((t) => this.asyncUpdate(op, account, container, taskObj, [t], headersOut, devPath, objHash, r.policy, null)),
    );
  }

  // -------------------------------------------------------------------------------------------
  // PUT

  private async PUT(r: ObjectRequest): Promise<void> {
    const { req, res } = r;
    const reqTs = requireTimestamp(req);
    // check_object_creation
    const chunked = /(^|,)\s*chunked\s*$/i.test(header(req, 'transfer-encoding') ?? '');
    let fsize: number | null = null;
    if (!chunked && header(req, 'content-length') !== undefined) {
      const n = pyInt(header(req, 'content-length')!);
      if (n === undefined) throw new HttpException(400, 'Invalid Content-Length header value', {}, 'text/plain');
      fsize = n;
    }
    if (fsize !== null && fsize > this.constraints.max_file_size) throw new HttpException(413, 'Your request is too large.', {}, 'text/plain');
    if (fsize === null && !chunked) throw new HttpException(411, 'Missing Content-Length header.', {}, 'text/plain');
    const nameLen = [...r.obj].length;
    if (nameLen > this.constraints.max_object_name_length) {
      throw new HttpException(400, `Object name length of ${nameLen} longer than ${this.constraints.max_object_name_length}`, {}, 'text/plain');
    }
    const ctypeRaw = header(req, 'content-type');
    if (ctypeRaw === undefined) throw new HttpException(400, 'No content type', {}, 'text/plain');
    const deleteAt = this.checkDeleteHeaders(req, reqTs);
    if (!isUtf8(ctypeRaw)) throw new HttpException(400, 'Invalid Content-Type', {}, 'text/plain');
    const contentType = textOf(ctypeRaw, 'surrogateescape');
    this.checkMetadata(req);

    const devPath = this.devicePath(r);
    const df = this.diskFile(r, devPath);
    let origMetadata: Metadata = {};
    let origTimestamp = new Timestamp(0);
    try {
      const { metadata, opened } = await df.readMetadata(reqTs.seconds);
      origMetadata = metadata;
      origTimestamp = opened.dataTimestamp;
    } catch (err) {
      if (err instanceof DiskFileDeleted) origTimestamp = err.timestamp ?? origTimestamp;
      else if (!(err instanceof DiskFileNotExist || err instanceof DiskFileQuarantined)) throw err;
    }
    const inm = parseMatch(header(req, 'if-none-match'));
    if (inm && Object.keys(origMetadata).length) {
      if (inm.has('*') || (origMetadata.ETag !== undefined && inm.has(normalizeEtag(origMetadata.ETag)))) throw new HttpException(412);
    }
    if (origTimestamp.compare(reqTs) >= 0) throw new HttpException(409, undefined, { 'X-Backend-Timestamp': origTimestamp.internal });

    const writer = await this.guardDisk(r, () => df.createWriter());
    let etag: string;
    let metadata: Metadata;
    try {
      if (/100-continue/i.test(header(req, 'expect') ?? '')) res.writeContinue();
      await this.guardDisk(r, () => this.receiveBody(req, writer, fsize));
      etag = writer.etag();
      metadata = {
        'X-Timestamp': reqTs.internal,
        'Content-Type': contentType,
        'Content-Length': String(writer.uploadSize),
        ETag: etag,
        ...this.requestMeta(req, true),
        ...this.copiedHeaders(req),
      };
      if (deleteAt !== undefined) metadata['X-Delete-At'] = deleteAt;
      const received = normalizeEtag(header(req, 'etag') ?? '');
      if (received && received !== etag) throw new HttpException(422);
      await this.guardDisk(r, () => writer.commit(metadata));
    } catch (err) {
      await writer.abort();
      throw err;
    }

    // Expiry queue bookkeeping, then the container row (Swift's _post_commit_updates).
    const origDeleteAt = pyInt(origMetadata['X-Delete-At'] ?? '0') ?? 0;
    const newDeleteAt = deleteAt !== undefined ? (pyInt(deleteAt) ?? 0) : 0;
    if (origDeleteAt !== newDeleteAt) {
      if (newDeleteAt) await this.deleteAtUpdate('PUT', newDeleteAt, r, reqTs, devPath);
      if (origDeleteAt) await this.deleteAtUpdate('DELETE', origDeleteAt, r, reqTs, devPath);
    }
    const updateHeaders: Record<string, string> = {
      'X-Size': metadata['Content-Length']!,
      'X-Content-Type': metadata['Content-Type']!,
      'X-Timestamp': metadata['X-Timestamp']!,
      'X-Etag': metadata.ETag!,
    };
    this.applyContainerOverrides(updateHeaders, this.requestHeaderMap(req));
    await this.containerUpdate('PUT', r, updateHeaders, devPath, df.hash);
    send(req, res, 201, { headers: { ETag: `"${etag}"` } });
  }

  private requestHeaderMap(req: IncomingMessage): Metadata {
    const out: Metadata = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) out[req.rawHeaders[i]!] = textOf(asByteString(req.rawHeaders[i + 1]!), 'surrogateescape');
    return out;
  }

  /** Swift's _check_container_override: x-backend- then x-object-sysmeta- override prefixes. */
  private applyContainerOverrides(update: Record<string, string>, source: Metadata): void {
    for (const prefix of ['x-backend-container-update-override-', 'x-object-sysmeta-container-update-override-']) {
      for (const [k, v] of Object.entries(source)) {
        if (!k.toLowerCase().startsWith(prefix)) continue;
        const name = titleCase('x-' + k.toLowerCase().slice(prefix.length));
        for (const existing of Object.keys(update)) if (existing.toLowerCase() === name.toLowerCase()) delete update[existing];
        update[name] = v;
      }
    }
  }

  /**
   * Streams the request body into the writer with backpressure. A body shorter than its
   * Content-Length (client gone) is 499; no data for client_timeout is 408; a chunked body
   * beyond max_file_size is 413.
   */
  private async receiveBody(req: IncomingMessage, writer: DiskFileWriter, fsize: number | null): Promise<void> {
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        req.destroy(new Error('client timeout'));
      }, this.clientTimeout * 1000);
    };
    arm();
    // Disk full mid-body: the temp file goes at once, and the rest of the body is read and
    // discarded (as eventlet discards what a Swift app left unread) so the 507 reaches a sender
    // still writing, instead of a stalled upload it only gives up on at its node_timeout.
    let noSpace: NodeJS.ErrnoException | undefined;
    try {
      for await (const chunk of req as AsyncIterable<Buffer>) {
        arm();
        if (noSpace) continue;
        try {
          await writer.write(chunk);
        } catch (err) {
          if (!isNoSpace(err)) throw err;
          noSpace = err as NodeJS.ErrnoException;
          await writer.abort();
          continue;
        }
        if (fsize === null && writer.uploadSize > this.constraints.max_file_size) {
          throw new HttpException(413, 'Your request is too large.', {}, 'text/plain');
        }
      }
    } catch (err) {
      if (err instanceof HttpException) throw err;
      if (timedOut) throw new HttpException(408);
      if (isNoSpace(err)) throw err;
      if (req.destroyed || req.readableAborted || (err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as Error).message === 'aborted') {
        throw new HttpException(499);
      }
      throw err;
    } finally {
      clearTimeout(timer);
    }
    if (noSpace) throw noSpace;
    if (req.readableAborted || !req.complete || (fsize !== null && writer.uploadSize !== fsize)) throw new HttpException(499);
  }

  // -------------------------------------------------------------------------------------------
  // GET / HEAD

  private async GET(r: ObjectRequest): Promise<void> {
    const { req, res } = r;
    const reqTs = header(req, 'x-timestamp') !== undefined ? requireTimestamp(req) : Timestamp.now();
    const devPath = this.devicePath(r);
    const df = this.diskFile(r, devPath);
    const openExpired = configTrue(header(req, 'x-backend-replication'));
    let opened: OpenedObject;
    try {
      opened = await df.open(reqTs.seconds, openExpired);
    } catch (err) {
      if (err instanceof DiskFileCollision) throw new HttpException(403);
      if (err instanceof DiskFileNotExist || err instanceof DiskFileQuarantined) {
        const headers: ResponseHeaders = {};
        if (err instanceof DiskFileNotExist && err.timestamp) headers['X-Backend-Timestamp'] = err.timestamp.internal;
        // A 404 is conditional too: If-Match: * on a missing object is 412 with an empty body.
        if (conditionalStatus({ status: 404, ifMatch: header(req, 'if-match') }) === 412) {
          send(req, res, 412, { headers: { ...headers, 'Content-Length': 0 }, body: '' });
          return;
        }
        send(req, res, 404, { headers });
        return;
      }
      throw err;
    }
    try {
      await this.serveObject(r, opened, df);
    } finally {
      await opened.close();
    }
  }

  private async serveObject(r: ObjectRequest, o: OpenedObject, df: DiskFile): Promise<void> {
    const { req, res } = r;
    const md = o.metadata;
    const fileTs = Timestamp.parse(md['X-Timestamp']!);
    const contentType = bytesOf(md['Content-Type'] ?? 'application/octet-stream');
    const lastModified = Math.ceil(fileTs.ticks / 100_000);
    const headers: ResponseHeaders = {
      'Content-Type': contentType,
      ...this.responseHeaders(md),
      ETag: `"${md.ETag ?? ''}"`,
      'Last-Modified': fileTs.httpDate,
      'X-Timestamp': fileTs.normal,
      'X-Backend-Timestamp': fileTs.internal,
      'X-Backend-Data-Timestamp': o.dataTimestamp.internal,
      'X-Backend-Durable-Timestamp': o.dataTimestamp.internal,
    };
    // X-Backend-Etag-Is-At names metadata holding the etag conditionals compare against.
    let conditionalEtag = md.ETag;
    const etagIsAt = header(req, 'x-backend-etag-is-at');
    if (etagIsAt) {
      const lower = new Map(Object.entries(md).map(([k, v]) => [k.toLowerCase(), v]));
      for (const name of etagIsAt.split(',').map((s) => s.trim().toLowerCase())) {
        if (lower.has(name)) {
          conditionalEtag = lower.get(name);
          break;
        }
      }
    }
    const cond = conditionalStatus({
      status: 200,
      etag: conditionalEtag,
      lastModified,
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifModifiedSince: header(req, 'if-modified-since'),
      ifUnmodifiedSince: header(req, 'if-unmodified-since'),
    });
    if (cond) {
      res.writeHead(cond, { ...headers, 'Content-Length': 0 } as Record<string, string | number>);
      res.end();
      return;
    }
    const size = o.contentLength;
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'Content-Length': size } as Record<string, string | number>);
      res.end();
      return;
    }
    let rangeHeader = header(req, 'range');
    const ignoreIf = header(req, 'x-backend-ignore-range-if-metadata-present');
    if (rangeHeader && ignoreIf) {
      const names = new Set(ignoreIf.split(',').map((s) => s.trim().toLowerCase()));
      if (Object.keys(md).some((k) => names.has(k.toLowerCase()))) rangeHeader = undefined;
    }
    const ranges = rangesForLength(parseRange(rangeHeader), size);
    if (ranges && ranges.length === 0) {
      const body = Buffer.from(defaultBody(416), 'utf8');
      res.writeHead(416, { ...headers, 'Content-Range': `bytes */${size}`, 'Content-Length': body.length } as Record<string, string | number>);
      res.end(body);
      return;
    }
    if (!ranges || size === 0) {
      res.writeHead(200, { ...headers, 'Content-Length': size } as Record<string, string | number>);
      // As Swift's DiskFileReader: a body read whole whose MD5 is not its ETag is quarantined
      // once sent, so the next read goes to a good replica (and the replicator can repair it).
      // A file unchanged since it last passed, within verifiedReadSeconds, is not hashed again.
      const etag = md.ETag;
      const verified = this.verifiedReads;
      const identity = etag !== undefined && verified ? o.identity() : undefined;
      const md5 = identity !== undefined && verified!.has(identity, etag!) ? undefined : createHash('md5');
      const whole = await this.pump(o, [[0, size]], res, md5);
      res.end();
      if (!md5 || !whole || etag === undefined) return;
      const actual = md5.digest('hex');
      if (actual !== etag) await df.quarantine(`ETag ${etag} and file's md5 ${actual} do not match`);
      else if (identity !== undefined) verified!.add(identity, etag);
      return;
    }
    if (ranges.length === 1) {
      const [start, end] = ranges[0]!;
      res.writeHead(206, { ...headers, 'Content-Range': contentRangeValue(start, end, size), 'Content-Length': end - start } as Record<string, string | number>);
      await this.pump(o, [[start, end]], res);
      res.end();
      return;
    }
    const boundary = makeBoundary();
    res.writeHead(206, {
      ...headers,
      'Content-Type': multipartContentType(boundary),
      'Content-Length': multipartLength(boundary, contentType, ranges, size),
    } as Record<string, string | number>);
    for (const range of ranges) {
      if ((await this.writeChunk(res, partHeader(boundary, contentType, range, size))) !== 'sent') return;
      if (!(await this.pump(o, [range], res))) return;
      if ((await this.writeChunk(res, PART_TRAILER)) !== 'sent') return;
    }
    res.end(closingBoundary(boundary));
  }

  /**
   * Writes `buf` and resolves once the socket is done with it, so that a pooled buffer may be
   * refilled: 'sent' when it went out, 'failed' when the write failed (the socket let go of
   * the buffer), 'gone' when the client went away first (the buffer may still be referenced).
   */
  private writeChunk(res: ServerResponse, buf: Buffer): Promise<'sent' | 'failed' | 'gone'> {
    if (res.destroyed) return Promise.resolve('failed');
    return new Promise((resolve) => {
      const onClose = () => resolve('gone');
      res.once('close', onClose);
      res.write(buf, (err) => {
        res.off('close', onClose);
        resolve(err ? 'failed' : 'sent');
      });
    });
  }

  /**
   * Streams byte ranges of the open .data file to the response: disk_chunk_size reads in line
   * (as Swift's DiskFileReader) fill a pooled SEND_CHUNK buffer, which goes out in one write.
   */
  private async pump(o: OpenedObject, ranges: ByteRange[], res: ServerResponse, md5?: Hash): Promise<boolean> {
    const buf = this.sendBuffers.pop() ?? Buffer.allocUnsafeSlow(SEND_CHUNK);
    let reusable = true;
    try {
      for (const [start, end] of ranges) {
        let pos = start;
        while (pos < end) {
          const want = Math.min(SEND_CHUNK, end - pos);
          let filled = 0;
          for (let n = -1; filled < want && n !== 0; filled += n) n = o.read(buf, filled, want - filled, pos + filled);
          if (filled === 0) {
            // The file shrank under us: cut the connection rather than send a short body.
            res.destroy();
            return false;
          }
          pos += filled;
          const chunk = filled === SEND_CHUNK ? buf : buf.subarray(0, filled);
          md5?.update(chunk);
          const sent = await this.writeChunk(res, chunk);
          if (sent === 'gone') reusable = false;
          if (sent !== 'sent') return false;
        }
      }
      return true;
    } finally {
      if (reusable && this.sendBuffers.length < SEND_BUFFERS_KEPT) this.sendBuffers.push(buf);
    }
  }

  // -------------------------------------------------------------------------------------------
  // POST

  private async POST(r: ObjectRequest): Promise<void> {
    const { req, res } = r;
    const reqTs = requireTimestamp(req);
    const deleteAtRaw = header(req, 'x-delete-at');
    let newDeleteAt = 0;
    if (deleteAtRaw) {
      const n = pyInt(deleteAtRaw);
      if (n === undefined) throw new HttpException(400, 'Non-integer X-Delete-At', {}, 'text/plain');
      newDeleteAt = n;
    }
    if (newDeleteAt && newDeleteAt < reqTs.seconds) throw new HttpException(400, 'X-Delete-At in past', {}, 'text/plain');
    const devPath = this.devicePath(r);
    const df = this.diskFile(r, devPath);
    const openExpired = configTrue(header(req, 'x-backend-replication'));
    let orig: Awaited<ReturnType<DiskFile['readMetadata']>>;
    try {
      orig = await df.readMetadata(reqTs.seconds, openExpired);
    } catch (err) {
      if (err instanceof DiskFileCollision) throw new HttpException(403);
      if (err instanceof DiskFileNotExist || err instanceof DiskFileQuarantined) throw new HttpException(404);
      throw err;
    }
    const origMetadata = orig.metadata;
    const o = orig.opened;
    const origTs = Timestamp.tryParse(origMetadata['X-Timestamp']) ?? new Timestamp(0);
    const origCtypeTs = o.contentTypeTimestamp;
    const reqCtype = header(req, 'content-type');
    let reqCtypeTs = new Timestamp(0);
    if (reqCtype) {
      const t = header(req, 'content-type-timestamp');
      reqCtypeTs = t !== undefined ? (Timestamp.tryParse(t) ?? reqTs) : reqTs;
    }
    if (origTs.compare(reqTs) >= 0 && origCtypeTs.compare(reqCtypeTs) >= 0) {
      throw new HttpException(409, undefined, { 'X-Backend-Timestamp': origTs.internal });
    }
    let metadata: Metadata;
    if (reqTs.compare(origTs) > 0) {
      metadata = { 'X-Timestamp': reqTs.internal, ...this.requestMeta(req, false), ...this.copiedHeaders(req) };
      const origDeleteAt = pyInt(origMetadata['X-Delete-At'] ?? '0') ?? 0;
      if (origDeleteAt !== newDeleteAt) {
        if (newDeleteAt) await this.deleteAtUpdate('PUT', newDeleteAt, r, reqTs, devPath);
        if (origDeleteAt) await this.deleteAtUpdate('DELETE', origDeleteAt, r, reqTs, devPath);
      }
    } else {
      // An older POST that only brings a newer content-type keeps the existing metadata.
      metadata = { ...o.metafileMetadata };
    }
    let ctHeaders: { 'Content-Type': string; 'Content-Type-Timestamp': string };
    if (reqCtypeTs.compare(origCtypeTs) > 0) {
      ctHeaders = { 'Content-Type': textOf(reqCtype!, 'surrogateescape'), 'Content-Type-Timestamp': reqCtypeTs.internal };
      Object.assign(metadata, ctHeaders);
    } else {
      ctHeaders = { 'Content-Type': o.contentType ?? '', 'Content-Type-Timestamp': origCtypeTs.internal };
      if (origCtypeTs.compare(o.dataTimestamp) !== 0) Object.assign(metadata, ctHeaders);
    }
    await this.guardDisk(r, () => df.writeMetadata(metadata));

    let updateCtype = ctHeaders['Content-Type'];
    if (ctHeaders['Content-Type-Timestamp'] !== o.dataTimestamp.internal) {
      // Keep SLO's swift_bytes param from the datafile's content-type in the container row.
      const m = /;\s*swift_bytes=([^;]*)/.exec(o.datafileMetadata['Content-Type'] ?? '');
      if (m) updateCtype += `;swift_bytes=${m[1]}`;
    }
    const updateHeaders: Record<string, string> = {
      'X-Size': origMetadata['Content-Length'] ?? '0',
      'X-Content-Type': updateCtype,
      'X-Timestamp': o.dataTimestamp.internal,
      'X-Content-Type-Timestamp': ctHeaders['Content-Type-Timestamp'],
      'X-Meta-Timestamp': metadata['X-Timestamp']!,
      'X-Etag': origMetadata.ETag ?? '',
    };
    if (origMetadata['X-Object-Sysmeta-Ec-Etag']) updateHeaders['X-Etag'] = origMetadata['X-Object-Sysmeta-Ec-Etag'];
    if (origMetadata['X-Object-Sysmeta-Ec-Content-Length']) updateHeaders['X-Size'] = origMetadata['X-Object-Sysmeta-Ec-Content-Length'];
    this.applyContainerOverrides(updateHeaders, origMetadata);
    await this.containerUpdate('PUT', r, updateHeaders, devPath, df.hash);
    const respHeaders: ResponseHeaders = { 'X-Backend-Content-Type': bytesOf(ctHeaders['Content-Type']) };
    for (const [k, v] of Object.entries(origMetadata)) if (isSysMeta('object', k)) respHeaders[k] = bytesOf(v);
    send(req, res, 202, { headers: respHeaders });
  }

  // -------------------------------------------------------------------------------------------
  // DELETE

  private async DELETE(r: ObjectRequest): Promise<void> {
    const { req, res } = r;
    const reqTs = requireTimestamp(req);
    const devPath = this.devicePath(r);
    const df = this.diskFile(r, devPath);
    let origTs: Timestamp | null = null;
    let origMetadata: Metadata = {};
    let status: number;
    try {
      const { metadata, opened } = await df.readMetadata(reqTs.seconds);
      origMetadata = metadata;
      origTs = opened.dataTimestamp;
      status = origTs.compare(reqTs) < 0 ? 204 : 409;
    } catch (err) {
      if (err instanceof DiskFileCollision) throw new HttpException(403);
      if (err instanceof DiskFileExpired) {
        origTs = err.timestamp ?? null;
        origMetadata = err.metadata;
      } else if (err instanceof DiskFileDeleted) {
        origTs = err.timestamp ?? null;
      } else if (!(err instanceof DiskFileNotExist || err instanceof DiskFileQuarantined)) throw err;
      status = 404;
    }
    const origTicks = origTs && origTs.ticks + Number(origTs.offset) > 0 ? origTs : null;
    const responseTs = origTicks && origTicks.compare(reqTs) > 0 ? origTicks : reqTs;
    const origDeleteAt = Timestamp.tryParse(origMetadata['X-Delete-At'] || '0') ?? new Timestamp(0);
    const ifDeleteAt = header(req, 'x-if-delete-at');
    if (ifDeleteAt !== undefined) {
      const t = Timestamp.tryParse(ifDeleteAt);
      if (!t) throw new HttpException(400, 'Bad X-If-Delete-At header value', {}, HTML);
      // Without verifying X-If-Delete-At no tombstone may be placed.
      if (!origTicks) throw new HttpException(404);
      if (origTicks.compare(reqTs) >= 0) throw new HttpException(409);
      if (origDeleteAt.compare(t) !== 0) throw new HttpException(412, 'X-If-Delete-At and X-Delete-At do not match', {}, HTML);
      status = 204;
    }
    if (origDeleteAt.ticks > 0) await this.deleteAtUpdate('DELETE', origDeleteAt.seconds, r, reqTs, devPath);
    if (!origTicks || origTicks.compare(reqTs) < 0) {
      await this.guardDisk(r, () => df.delete(reqTs));
      await this.containerUpdate('DELETE', r, { 'X-Timestamp': reqTs.internal }, devPath, df.hash);
    }
    send(req, res, status, {
      headers: { 'X-Backend-Timestamp': responseTs.internal, 'X-Backend-Content-Type': bytesOf(origMetadata['Content-Type'] ?? '') },
    });
  }
}
