/**
 * bulk (Swift's bulk middleware, before auth in the pipeline): `POST|DELETE ?bulk-delete`
 * deletes the newline-separated, URL-encoded `/container/object` or `/container` paths of the
 * request body; `PUT ?extract-archive=tar|tar.gz` creates the containers and objects of a tar
 * archive under the request's path.
 *
 * Every delete, container HEAD/PUT and object PUT is a subrequest through the rest of the
 * pipeline carrying the client's X-Auth-Token, so auth and ACLs decide each one as for a client.
 * As in Swift the answer is always `200 OK`, streamed: whitespace (or the XML declaration) is
 * sent every `yield_frequency` seconds while the work goes on, so clients and load balancers
 * do not time out, then the result body (text/plain, JSON or XML by `Accept`) whose
 * "Response Status" says how it went.
 *
 * The archive is read as a stream (src/middleware/tar-reader.ts): each file's bytes go straight
 * into its PUT subrequest, never buffered whole. Objects are deleted first, then containers,
 * `delete_concurrency` at a time.
 *
 * sluice differences from Swift 2.30.1:
 *  - `extract-archive=tar.bz2` answers 400 "Unsupported archive format" (no bzip2 decoder in
 *    Node's standard library); tar and tar.gz are supported;
 *  - archive error messages are tarfile's for the common cases (empty file, truncated header,
 *    bad checksum, not a gzip file, invalid compressed data, unexpected end of data) but not
 *    for every corner tarfile distinguishes.
 */
import { PassThrough, Readable } from 'node:stream';
import type { MiddlewareHandler } from 'hono';
import { intOption } from '../proxy/config';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { captureIdentity, discard, type Identity, type Subrequest } from '../proxy/subrequest';
import { asByteString, byteStringOf, bytesOf, checkUtf8, type ByteString } from '../compat/bytes';
import { HttpException } from '../compat/http-exception';
import { pyJsonDumps } from '../compat/json';
import { swobParams } from '../compat/query';
import { quoteBytes, unquoteBytes } from '../compat/quote';
import { pyStripBytes } from '../compat/py-whitespace';
import { escapeXmlText } from '../compat/xml';
import { bestMatch } from '../compat/accept';
import { splitPath } from '../common/path';
import { isUserMeta } from '../common/headers';
import { statusLine } from '../common/http-status';
import { swiftResponse } from '../proxy/response';
import { ClientDisconnectedError, ClientTimeoutError, watchBodyStall } from '../proxy/request-body';
import { archiveBytes, TarError, TarReader } from './tar-reader';

const ACCEPTABLE_FORMATS = ['text/plain', 'application/json', 'application/xml', 'text/xml'];

export interface BulkOptions {
  maxContainers: number;
  maxFailedExtractions: number;
  maxDeletes: number;
  maxFailedDeletes: number;
  /** Seconds between keep-alive writes. */
  yieldFrequency: number;
  deleteConcurrency: number;
  retryCount: number;
  retryInterval: number;
}

/** Swift's get_response_body: the result in the chosen format (plain text when none). */
export function responseBody(format: string | null, data: Record<string, string | number>, errors: [string, string][], rootTag: string): string {
  if (format === 'application/json') return pyJsonDumps({ ...data, Errors: errors });
  const keys = Object.keys(data).sort();
  if (format?.endsWith('/xml')) {
    const out = [`<${rootTag}>\n`];
    for (const k of keys) {
      const tag = k.replace(/ /g, '_').toLowerCase();
      out.push(`<${tag}>${escapeXmlText(String(data[k]))}</${tag}>\n`);
    }
    out.push('<errors>\n');
    for (const [name, status] of errors) out.push(`<object><name>${escapeXmlText(name)}</name><status>${escapeXmlText(status)}</status></object>\n`);
    out.push(`</errors>\n</${rootTag}>\n`);
    return out.join('');
  }
  const out = keys.map((k) => `${k}: ${data[k]}\n`);
  out.push('Errors:\n');
  for (const [name, status] of errors) out.push(`${name}, ${status}\n`);
  return out.join('');
}

/**
 * The streamed 200 body: keep-alive bytes while the work runs (Swift yields them between
 * items once `yield_frequency` seconds have passed), then the result.
 */
class KeepAlive {
  private last = Date.now();
  private toYield: string;
  private separator = '';
  cancelled = false;

  constructor(
    private readonly ctrl: ReadableStreamDefaultController<Uint8Array>,
    private readonly frequencyMs: number,
    format: string | null,
  ) {
    this.toYield = format?.endsWith('/xml') ? '<?xml version="1.0" encoding="UTF-8"?>\n' : ' ';
  }

  private write(s: string): void {
    if (this.cancelled) return;
    try {
      this.ctrl.enqueue(new Uint8Array(Buffer.from(s, 'utf8')));
    } catch {
      this.cancelled = true;
    }
  }

  /** Between items: send a keep-alive when it is due. */
  tick(): void {
    if (Date.now() - this.last < this.frequencyMs) return;
    this.last = Date.now();
    this.write(this.toYield);
    this.toYield = ' ';
    this.separator = '\r\n\r\n';
  }

  finish(body: string): void {
    this.write(this.separator + body);
    if (!this.cancelled) this.ctrl.close();
  }
}

/** A client whose connection went away: stop at the next item (Swift's generator is closed). */
class ClientGone extends Error {}

class Bulk {
  private readonly maxPathLength: number;

  constructor(
    private readonly app: Subrequest,
    private readonly opts: BulkOptions,
    private readonly constraints: { max_object_name_length: number; max_container_name_length: number; max_file_size: number },
    private readonly logError: (err: unknown, msg: string) => void,
    /** Swift's client_timeout: seconds the client may leave its body without a byte. */
    private readonly clientTimeout: number,
  ) {
    this.maxPathLength = constraints.max_object_name_length + constraints.max_container_name_length + 2;
  }

  /** The 200 response whose body `work` produces. */
  respond(format: string | null, work: (ka: KeepAlive) => Promise<string>): Response {
    let ka: KeepAlive | undefined;
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        ka = new KeepAlive(ctrl, this.opts.yieldFrequency * 1000, format);
        const k = ka;
        work(k).then(
          (result) => k.finish(result),
          (err) => {
            if (!(err instanceof ClientGone)) ctrl.error(err);
          },
        );
      },
      cancel: () => {
        if (ka) ka.cancelled = true;
      },
    });
    // swob's default Content-Type unless a format was negotiated (then exactly that type).
    return new Response(body, { status: 200, headers: { 'content-type': format ?? 'text/html; charset=UTF-8' } });
  }

  // ---- bulk delete ----

  /** get_objs_to_delete: the body's lines, unquoted (byte strings). */
  private async objsToDelete(body: AsyncIterable<Buffer | Uint8Array | string>): Promise<ByteString[]> {
    const names: ByteString[] = [];
    let line = '';
    const add = (raw: string) => {
      names.push(unquoteBytes(pyStripBytes(asByteString(raw))));
      if (names.length > this.opts.maxDeletes) throw new HttpException(413, `Maximum Bulk Deletes: ${this.opts.maxDeletes} per request`);
    };
    for await (const chunk of body) {
      line += typeof chunk === 'string' ? chunk : byteStringOf(chunk);
      let nl: number;
      while ((nl = line.indexOf('\n')) >= 0) {
        add(line.slice(0, nl));
        line = line.slice(nl + 1);
      }
      if (line.length > this.maxPathLength * 2) throw new HttpException(400, 'Invalid File Name');
    }
    if (pyStripBytes(asByteString(line))) add(line);
    return names;
  }

  async handleDelete(c: ProxyContext, id: Identity, ka: KeepAlive, format: string | null): Promise<string> {
    const headers = c.get('headers');
    const failed: [string, string][] = [];
    const result: Record<string, string | number> = { 'Response Status': statusLine(200), 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0 };
    try {
      if (!format) throw new HttpException(406);
      let vrs: string, account: string;
      try {
        [vrs, account] = splitPath(unquoteBytes(rawPathOf(c)), 2, 3, true) as [ByteString, ByteString];
      } catch {
        throw new HttpException(404);
      }
      const incoming = headers.get('content-type');
      if (incoming && !incoming.startsWith('text/plain')) throw new HttpException(406);
      if (headers.get('content-length') === undefined && headers.get('transfer-encoding')?.toLowerCase() !== 'chunked') throw new HttpException(411);
      const names = await this.objsToDelete(requestBody(c, this.clientTimeout));
      let failedType = 400;
      const token = headers.get('x-auth-token');
      const agent = `${headers.get('user-agent') ?? ''} BulkDelete`.trim();

      const doDelete = async (path: ByteString): Promise<Response> => {
        for (let retry = 0; ; retry++) {
          const res = await this.app(id, { method: 'DELETE', path: quoteBytes(path), headers: { ...(token !== undefined ? { 'x-auth-token': token } : {}), 'content-length': '0' }, agent });
          // delete_container_retry_count: a container still listing just-deleted objects.
          if (res.status === 409 && retry < this.opts.retryCount) {
            discard(res.body);
            await new Promise((r) => setTimeout(r, this.opts.retryInterval ** (retry + 1) * 1000));
            continue;
          }
          return res;
        }
      };
      const process = (res: Response, name: ByteString) => {
        discard(res.body);
        if (res.status >= 200 && res.status < 300) result['Number Deleted'] = (result['Number Deleted'] as number) + 1;
        else if (res.status === 404) result['Number Not Found'] = (result['Number Not Found'] as number) + 1;
        else {
          if (Math.floor(res.status / 100) === 5) failedType = 502;
          failed.push([quoteBytes(name), statusLine(res.status)]);
        }
      };

      // Objects first, then containers (which must be empty by then).
      for (const isObject of [true, false]) {
        const inFlight: { name: ByteString; res: Promise<Response> }[] = [];
        const settle = async () => {
          const { name, res } = inFlight.shift()!;
          const r = await res;
          ka.tick();
          if (ka.cancelled) throw new ClientGone();
          process(r, name);
        };
        for (const name of names) {
          if (!name) continue;
          if (name.replace(/^\/+|\/+$/g, '').includes('/') !== isObject) continue;
          const path = asByteString(`/${vrs}/${account}/${name.replace(/^\/+/, '')}`);
          if (!checkUtf8(path)) {
            failed.push([quoteBytes(name), statusLine(412)]);
            continue;
          }
          const res = doDelete(path);
          res.catch(() => undefined); // awaited in order below; never an unhandled rejection
          inFlight.push({ name, res });
          if (inFlight.length >= this.opts.deleteConcurrency) await settle();
          if (failed.length >= this.opts.maxFailedDeletes) {
            while (inFlight.length) await settle();
            throw new HttpException(400, 'Max delete failures exceeded');
          }
        }
        while (inFlight.length) {
          await settle();
          if (failed.length >= this.opts.maxFailedDeletes) {
            while (inFlight.length) await settle();
            throw new HttpException(400, 'Max delete failures exceeded');
          }
        }
      }
      if (failed.length) result['Response Status'] = statusLine(failedType);
      else if (!(result['Number Deleted'] || result['Number Not Found'])) {
        result['Response Status'] = statusLine(400);
        result['Response Body'] = 'Invalid bulk delete.';
      }
    } catch (err) {
      if (err instanceof ClientGone) throw err;
      if (err instanceof ClientDisconnectedError) throw new ClientGone();
      if (err instanceof HttpException) {
        result['Response Status'] = statusLine(err.status);
        result['Response Body'] = err.body ?? '';
      } else if (err instanceof ClientTimeoutError) {
        result['Response Status'] = statusLine(408);
      } else {
        this.logError(err, 'Error in bulk delete.');
        result['Response Status'] = statusLine(500);
      }
    }
    return responseBody(format, result, failed, 'delete');
  }

  // ---- extract archive ----

  /** create_container: true when created, false when it exists; throws the failure's status. */
  private async createContainer(id: Identity, path: ByteString, token: string | undefined): Promise<boolean> {
    const headers: Record<string, string> = token !== undefined ? { 'x-auth-token': token } : {};
    const head = await this.app(id, { method: 'HEAD', path: quoteBytes(path), headers });
    discard(head.body);
    if (head.status >= 200 && head.status < 300) return false;
    let status = head.status;
    if (status === 404) {
      const put = await this.app(id, { method: 'PUT', path: quoteBytes(path), headers: { ...headers, 'content-length': '0' } });
      discard(put.body);
      if (put.status >= 200 && put.status < 300) return true;
      status = put.status;
    }
    throw new CreateContainerError(status);
  }

  async handleExtract(c: ProxyContext, id: Identity, ka: KeepAlive, format: string | null, compression: '' | 'gz'): Promise<string> {
    const headers = c.get('headers');
    const failed: [string, string][] = [];
    const result: Record<string, string | number> = { 'Response Status': statusLine(201), 'Response Body': '', 'Number Files Created': 0 };
    const accessed = new Set<string>();
    const quoted = (p: ByteString) => quoteBytes(asByteString(p.slice(0, this.maxPathLength)));
    try {
      if (!format) throw new HttpException(406);
      if (headers.get('content-length') === undefined && headers.get('transfer-encoding')?.toLowerCase() !== 'chunked') throw new HttpException(411);
      let vrs: string, account: string, base: string | undefined;
      try {
        [vrs, account, base] = splitPath(unquoteBytes(rawPathOf(c)), 2, 3, true) as [ByteString, ByteString, ByteString | undefined];
      } catch {
        throw new HttpException(404);
      }
      const extractBase = (base ?? '').replace(/\/+$/, '');
      const token = headers.get('x-auth-token');
      const agent = `${headers.get('user-agent') ?? ''} BulkExpand`.trim();
      // The request's expiry and user metadata go to every object (Swift copies them).
      const inheritedHeaders: Record<string, string> = {};
      for (const [k, v] of headers.entries()) if (k === 'x-delete-at' || k === 'x-delete-after' || isUserMeta('object', k)) inheritedHeaders[k] = v;
      const tar = new TarReader(archiveBytes(requestBody(c, this.clientTimeout), compression));
      let failedType = 400;
      let containersCreated = 0;
      for (;;) {
        ka.tick();
        if (ka.cancelled) throw new ClientGone();
        const entry = await tar.next();
        if (!entry || failed.length >= this.opts.maxFailedExtractions) break;
        if (!entry.isFile) continue;
        let objPath: string = entry.name;
        if (objPath.startsWith('./')) objPath = objPath.slice(2);
        objPath = objPath.replace(/^\/+/, '');
        if (extractBase) objPath = `${extractBase}/${objPath}`;
        if (!objPath.includes('/')) continue; // files at the top level have no container
        const objBytes = asByteString(objPath);
        const destination = asByteString(`/${vrs}/${account}/${objPath}`);
        const container = objPath.split('/', 1)[0]!;
        if (!checkUtf8(destination)) {
          failed.push([quoted(objBytes), statusLine(412)]);
          continue;
        }
        if (entry.size > this.constraints.max_file_size) {
          failed.push([quoted(objBytes), statusLine(413)]);
          continue;
        }
        let containerFailure: [string, string] | undefined;
        if (!accessed.has(container)) {
          const contPath = asByteString(`/${vrs}/${account}/${container}`);
          try {
            if (await this.createContainer(id, contPath, token)) {
              containersCreated += 1;
              if (containersCreated > this.opts.maxContainers) throw new HttpException(400, `More than ${this.opts.maxContainers} containers to create from tar.`);
            }
          } catch (err) {
            if (!(err instanceof CreateContainerError)) throw err;
            containerFailure = [quoted(contPath), statusLine(err.status)];
            if (err.status === 401) throw new HttpException(401);
          }
        }
        const putHeaders: Record<string, string> = { 'content-length': String(entry.size), ...(token !== undefined ? { 'x-auth-token': token } : {}), ...inheritedHeaders };
        for (const [key, value] of Object.entries(entry.pax)) {
          const name = paxKeyToHeader(key);
          if (name) putHeaders[name] = bytesOf(value);
        }
        const res = await this.app(id, { method: 'PUT', path: quoteBytes(destination), headers: putHeaders, body: entry.body, agent });
        discard(res.body);
        // The archive broke while the PUT read the file: the archive is bad.
        if (tar.error) throw tar.error;
        accessed.add(container);
        if (res.status >= 200 && res.status < 300) result['Number Files Created'] = (result['Number Files Created'] as number) + 1;
        else {
          if (containerFailure) failed.push(containerFailure);
          if (res.status === 401) {
            failed.push([quoted(objBytes), statusLine(401)]);
            throw new HttpException(401);
          }
          if (Math.floor(res.status / 100) === 5) failedType = 502;
          failed.push([quoted(objBytes), statusLine(res.status)]);
        }
      }
      if (failed.length) result['Response Status'] = statusLine(failedType);
      else if (!result['Number Files Created']) {
        result['Response Status'] = statusLine(400);
        result['Response Body'] = 'Invalid Tar File: No Valid Files';
      }
    } catch (err) {
      if (err instanceof ClientGone) throw err;
      if (err instanceof ClientDisconnectedError) throw new ClientGone();
      if (err instanceof HttpException) {
        result['Response Status'] = statusLine(err.status);
        result['Response Body'] = err.body ?? '';
      } else if (err instanceof ClientTimeoutError) {
        result['Response Status'] = statusLine(408);
      } else if (err instanceof TarError) {
        result['Response Status'] = statusLine(400);
        result['Response Body'] = `Invalid Tar File: ${err.message}`;
      } else {
        this.logError(err, 'Error in extract archive.');
        result['Response Status'] = statusLine(500);
      }
    }
    return responseBody(format, result, failed, 'extract');
  }
}

class CreateContainerError extends Error {
  constructor(readonly status: number) {
    super(`Create Container Failed: ${status}`);
  }
}

/** pax_key_to_swift_header: GNU and BSD tar's xattrs user.mime_type and user.meta.*. */
function paxKeyToHeader(key: string): string | undefined {
  if (key === 'SCHILY.xattr.user.mime_type' || key === 'LIBARCHIVE.xattr.user.mime_type') return 'content-type';
  for (const prefix of ['SCHILY.xattr.user.meta.', 'LIBARCHIVE.xattr.user.meta.']) {
    if (key.startsWith(prefix)) return bytesOf(`x-object-meta-${key.slice(prefix.length)}`);
  }
  return undefined;
}

/**
 * The client's body as it arrives (the Node request for a client, the stream for a subrequest).
 * A client that sends no byte for client_timeout seconds fails the read with ClientTimeoutError
 * (Swift: eventlet's socket timeout on wsgi.input), and the connection closes once the streamed
 * answer, which says 408, has gone out: the rest of that body will never be read.
 */
function requestBody(c: ProxyContext, clientTimeout: number): Readable {
  const incoming = c.env?.incoming;
  if (!incoming) {
    const body = c.req.raw.body;
    return body ? Readable.fromWeb(body as import('node:stream/web').ReadableStream) : Readable.from([]);
  }
  if (!(clientTimeout > 0)) return incoming;
  const out = new PassThrough();
  incoming.pipe(out);
  // pipe() forwards no failure: a client that hangs up mid-body fails the read as before.
  const gone = () => {
    if (!incoming.complete) out.destroy(new ClientDisconnectedError());
  };
  incoming.once('error', gone);
  incoming.once('close', gone);
  watchBodyStall(incoming, clientTimeout, () => {
    incoming.unpipe(out);
    incoming.pause();
    const outgoing = c.env?.outgoing;
    if (outgoing && !outgoing.writableFinished) outgoing.once('finish', () => incoming.socket?.destroySoon());
    else incoming.socket?.destroySoon();
    out.destroy(new ClientTimeoutError(clientTimeout));
  });
  return out;
}

export function bulk(options: BulkOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const worker = new Bulk(ctx.app, options, ctx.state.constraints, (err, msg) => ctx.logger.error({ err, log_route: 'bulk' }, msg), ctx.state.options.clientTimeout);

  return async (c, next) => {
    const method = c.req.method;
    const params = swobParams(rawQueryOf(c));
    const extractType = params.get('extract-archive');
    const wantsDelete = params.has('bulk-delete') && (method === 'POST' || method === 'DELETE');
    if (!(extractType !== undefined && method === 'PUT') && !wantsDelete) return next();
    let format: string | null;
    try {
      format = bestMatch(c.get('headers').get('accept'), ACCEPTABLE_FORMATS) ?? null;
    } catch {
      format = null; // an invalid Accept is ignored (the result says 406)
    }
    // The identity before auth: each subrequest is authenticated by its X-Auth-Token.
    const id = captureIdentity(c);
    if (wantsDelete) return worker.respond(format, (ka) => worker.handleDelete(c, id, ka, format));
    const compression = { tar: '', 'tar.gz': 'gz' }[extractType!.toLowerCase().replace(/^\.+|\.+$/g, '')] as '' | 'gz' | undefined;
    if (compression === undefined) return swiftResponse(400, { body: 'Unsupported archive format' });
    return worker.respond(format, (ka) => worker.handleExtract(c, id, ka, format, compression));
  };
}

export const bulkFilter = defineFilter<BulkOptions>({
  name: 'bulk',
  options: (conf) => ({
    maxContainers: intOption(conf, 'max_containers_per_extraction', 10000),
    maxFailedExtractions: intOption(conf, 'max_failed_extractions', 1000),
    maxDeletes: intOption(conf, 'max_deletes_per_request', 10000),
    maxFailedDeletes: intOption(conf, 'max_failed_deletes', 1000),
    yieldFrequency: intOption(conf, 'yield_frequency', 10),
    deleteConcurrency: Math.min(1000, Math.max(1, intOption(conf, 'delete_concurrency', 2))),
    retryCount: intOption(conf, 'delete_container_retry_count', 0),
    retryInterval: 1.5,
  }),
  // register_swift_info('bulk_upload', ...) and ('bulk_delete', ...)
  info: (options) => ({
    bulk_upload: { max_containers_per_extraction: options.maxContainers, max_failed_extractions: options.maxFailedExtractions },
    bulk_delete: { max_deletes_per_request: options.maxDeletes, max_failed_deletes: options.maxFailedDeletes },
  }),
  create: (options, ctx) => bulk(options, ctx),
});
