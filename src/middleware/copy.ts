/**
 * copy (Swift's server-side copy, a required filter placed after auth): `COPY` with
 * `Destination` (and `Destination-Account`), and `PUT` with `X-Copy-From` (and
 * `X-Copy-From-Account`). A COPY is rewritten into the equivalent PUT, as Swift does.
 *
 * The source is read with a GET subrequest and its body streamed, never buffered, into a PUT
 * subrequest of the destination. Both carry the client's identity and run through the rest of
 * the pipeline, so the proxy authorizes the GET as a read (container read ACL) and the PUT as a
 * write (container write ACL): a copy needs both, and a write-only user gets 403.
 *
 * Metadata: the destination keeps the source's user metadata, sysmeta and other object headers
 * (Content-Disposition, X-Delete-At, ...), overridden by those of the request; with
 * `X-Fresh-Metadata: true` only the source's sysmeta is kept. The source's Content-Type is
 * kept unless the request sets one. The source's ETag is sent along (when the whole object was
 * read), so the object servers verify what they store.
 *
 * sluice differences from Swift 2.30.1:
 *  - the source GET reads the first replica that answers: sluice's object GET has no
 *    X-Newest yet (Swift's copy asks for the newest replica);
 *  - a PUT with X-Copy-From and a non-numeric Content-Length gets the proxy's 400 "Invalid
 *    Content-Length" (Swift answers 500);
 *  - a source answer without Content-Length is refused with 413 only when it is a success
 *    (redirects and errors are passed on);
 */
import type { MiddlewareHandler } from 'hono';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import { RequestHeaders } from '../proxy/request-headers';
import { exceptionResponse, replaceResponse, swiftResponse } from '../proxy/response';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { discard, relay, type Subrequest } from '../proxy/subrequest';
import { splitPath } from '../common/path';
import { isSysMeta, isUserMeta, OBJECT_TRANSIENT_SYSMETA_PREFIX } from '../common/headers';
import { asByteString, type ByteString } from '../compat/bytes';
import { HttpException } from '../compat/http-exception';
import { swobParams, urlencode } from '../compat/query';
import { quoteBytes, unquoteBytes } from '../compat/quote';
import { configTrue } from '../compat/truthy';

/** Source headers never carried over to the destination (they describe the source's data or time). */
const EXCLUDED_SOURCE_HEADERS = new Set(['x-static-large-object', 'x-object-manifest', 'etag', 'content-type', 'x-timestamp', 'x-backend-timestamp']);

const CONTAINER_UPDATE_OVERRIDE_PREFIX = 'x-object-sysmeta-container-update-override-';

/** A check deep inside answers the client at once (swob's HTTPPreconditionFailed raised). */
function preconditionFailed(body: string): HttpException {
  return new HttpException(412, body);
}

/** check_account_format: the account named in a header (already unquoted). */
function checkAccountFormat(name: ByteString): ByteString {
  if (!name) throw preconditionFailed('Account name cannot be empty');
  if (name.includes('/')) throw preconditionFailed('Account name cannot contain slashes');
  return name;
}

/** check_path_header: `[/]<container>/<object>` (percent-decoded) as byte strings. */
function checkPathHeader(value: ByteString, message: string): [ByteString, ByteString] {
  let hdr = unquoteBytes(value);
  if (!hdr.startsWith('/')) hdr = asByteString('/' + hdr);
  try {
    const [container, object] = splitPath(hdr, 2, 2, true);
    return [container!, object!];
  } catch {
    throw preconditionFailed(message);
  }
}

/** Headers of the destination that the copy's response repeats (Swift's _copy_headers). */
function isCopiedToResponse(name: string): boolean {
  return isUserMeta('object', name) || isSysMeta('object', name) || (name.length > OBJECT_TRANSIENT_SYSMETA_PREFIX.length && name.startsWith(OBJECT_TRANSIENT_SYSMETA_PREFIX)) || name === 'x-delete-at';
}

/**
 * The source GET's query: copying a manifest itself (`multipart-manifest=get`) asks SLO for it
 * in the form it was PUT (`format=raw`). Edited params are re-encoded from swob's params, as
 * Swift sets `req.params`; otherwise the query stays as it is.
 */
function sourceQuery(query: ByteString): string {
  const params = swobParams(query);
  if (params.get('multipart-manifest') !== 'get') return query;
  params.set('format', asByteString('raw'));
  return urlencode(params);
}

/**
 * The destination PUT's query: an SLO manifest copied as a manifest is PUT back with
 * `multipart-manifest=put`, a DLO manifest as an object with its X-Object-Manifest; the
 * source's `version-id` does not apply to the destination.
 */
function sinkQuery(query: ByteString, source: Response, sink: RequestHeaders): string {
  const params = swobParams(query);
  let updated = params.delete('version-id');
  if (params.get('multipart-manifest') === 'get') {
    if (source.headers.has('x-static-large-object')) params.set('multipart-manifest', asByteString('put'));
    const dlo = source.headers.get('x-object-manifest');
    if (dlo !== null) {
      params.delete('multipart-manifest');
      sink.set('x-object-manifest', dlo);
    }
    updated = true;
  }
  return updated ? urlencode(params) : query;
}

function target(path: ByteString, query: string): string {
  return quoteBytes(path) + (query ? `?${query}` : '');
}

class ServerSideCopy {
  constructor(
    private readonly app: Subrequest,
    private readonly maxFileSize: () => number,
  ) {}

  /** COPY: Destination[-Account] become the PUT's path and X-Copy-From[-Account]. */
  async handleCopy(c: ProxyContext, version: ByteString, account: ByteString, container: ByteString, object: ByteString): Promise<Response> {
    const headers = c.get('headers');
    const destination = headers.get('destination');
    if (!destination) return swiftResponse(412, { body: 'Destination header required' });
    let destAccount = account;
    if (headers.has('destination-account')) {
      destAccount = checkAccountFormat(unquoteBytes(headers.get('destination-account')!));
      headers.set('x-copy-from-account', quoteBytes(account));
      headers.delete('destination-account');
    }
    const [destContainer, destObject] = checkPathHeader(destination, 'Destination header must be of the form <container name>/<object name>');
    // The COPY's body (if any) is ignored: the copy is a zero-byte PUT.
    headers.set('content-length', '0');
    headers.set('x-copy-from', quoteBytes(asByteString(`/${container}/${object}`)));
    headers.delete('destination');
    return this.handlePut(c, version, destAccount, destContainer, destObject);
  }

  /** PUT with X-Copy-From: GET the source, PUT it to the request's path. */
  async handlePut(c: ProxyContext, version: ByteString, account: ByteString, container: ByteString, object: ByteString): Promise<Response> {
    const headers = c.get('headers');
    if (Number(headers.get('content-length') ?? '0') > 0) {
      return swiftResponse(400, { body: 'Copy requests require a zero byte body', contentType: 'text/plain' });
    }
    const fromAccount = headers.get('x-copy-from-account');
    const srcAccount = fromAccount ? checkAccountFormat(unquoteBytes(fromAccount)) : account;
    const [srcContainer, srcObject] = checkPathHeader(headers.get('x-copy-from')!, 'X-Copy-From header must be of the form <container name>/<object name>');
    const sourcePath = asByteString(`/${version}/${srcAccount}/${srcContainer}/${srcObject}`);
    const query = rawQueryOf(c);

    // The source GET carries every request header (conditional and Range headers apply to the
    // source, as in Swift) and the client's identity: it is authorized as a read.
    const getHeaders = new RequestHeaders([...headers.entries()]);
    getHeaders.delete('x-backend-storage-policy-index');
    getHeaders.delete('transfer-encoding');
    getHeaders.set('content-length', '0');
    getHeaders.set('x-newest', 'true');
    const source = await this.app(c, { method: 'GET', path: target(sourcePath, sourceQuery(query)), headers: getHeaders });

    const length = source.headers.get('content-length');
    const tooLarge = length === null ? source.status < 300 : Number(length) > this.maxFileSize();
    if (tooLarge) {
      discard(source.body);
      return swiftResponse(413);
    }
    if (source.status >= 300) return source;

    const sink = this.sinkHeaders(headers, source);
    sink.set('content-length', length!);
    sink.delete('transfer-encoding');
    const etag = source.headers.get('etag');
    const manifestCopy = swobParams(query).get('multipart-manifest') === 'get';
    if (source.status === 200 && !source.headers.has('x-static-large-object') && (!source.headers.has('x-object-manifest') || manifestCopy) && etag !== null) {
      // The object servers check the copied bytes against the source's ETag.
      sink.set('etag', etag);
    } else {
      sink.deleteWhere((k) => k.startsWith(CONTAINER_UPDATE_OVERRIDE_PREFIX));
    }
    sink.delete('x-copy-from');
    sink.delete('x-copy-from-account');
    const sourceType = source.headers.get('content-type');
    if (!headers.get('content-type') && sourceType !== null) sink.set('content-type', sourceType);

    const extra: [string, string][] = [
      ['x-copied-from-account', quoteBytes(srcAccount)],
      ['x-copied-from', quoteBytes(asByteString(`${srcContainer}/${srcObject}`))],
    ];
    const lastModified = source.headers.get('last-modified');
    if (lastModified !== null) extra.push(['x-copied-from-last-modified', lastModified]);
    const versionId = source.headers.get('x-object-version-id');
    if (versionId !== null) extra.push(['x-copied-from-version-id', versionId]);
    for (const [k, v] of sink.entries()) if (isCopiedToResponse(k)) extra.push([k, v]);

    // The destination PUT, authorized as a write, reads the source body as it arrives.
    const body = relay(source.body);
    let put: Response;
    try {
      put = await this.app(c, {
        method: 'PUT',
        path: target(asByteString(`/${version}/${account}/${container}/${object}`), sinkQuery(query, source, sink)),
        headers: sink,
        body: body.body,
      });
    } finally {
      body.release();
    }
    if (put.status < 200 || put.status >= 300) return put;
    const out = new Headers(put.headers);
    for (const [k, v] of extra) out.append(k, v);
    return new Response(put.body, { status: put.status, headers: out });
  }

  /**
   * The destination's headers: the request's own, over the source's (all but its data and
   * time headers), or with X-Fresh-Metadata only the source's sysmeta under the request's.
   */
  private sinkHeaders(req: RequestHeaders, source: Response): RequestHeaders {
    const sink = new RequestHeaders([...req.entries()]);
    const names = [...new Set(req.entries().map(([k]) => k))];
    if (configTrue(req.get('x-fresh-metadata'))) {
      for (const [k, v] of source.headers) if (isSysMeta('object', k)) sink.set(k, v);
      for (const k of names) if (isSysMeta('object', k)) sink.set(k, req.get(k)!);
    } else {
      for (const [k, v] of source.headers) if (!EXCLUDED_SOURCE_HEADERS.has(k)) sink.set(k, v);
      for (const k of names) sink.set(k, req.get(k)!);
    }
    return sink;
  }
}

export function serverSideCopy(ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const copy = new ServerSideCopy(ctx.app, () => ctx.state.constraints.max_file_size);
  return async (c, next) => {
    // Account and container paths (fewer than four segments) pass without the parse: building
    // splitPath's error for every one of them showed up in profiles.
    if (rawPathOf(c).split('/', 5).length < 5) return next();
    let segs: (ByteString | undefined)[];
    try {
      // Swift's req.split_path(4, 4, True) on the WSGI path: only object requests are copies.
      segs = splitPath(unquoteBytes(rawPathOf(c)), 4, 4, true);
    } catch {
      return next();
    }
    const [version, account, container, object] = segs as [ByteString, ByteString, ByteString, ByteString];
    const method = c.req.method;
    const headers = c.get('headers');
    const cl = headers.get('content-length');
    // A malformed Content-Length is the proxy's 400 (a COPY's is replaced by 0 anyway).
    const badLength = cl !== undefined && !/^\d+$/.test(cl.trim());
    try {
      if (method === 'PUT' && headers.get('x-copy-from') && !badLength) return await copy.handlePut(c, version, account, container, object);
      if (method === 'COPY') return await copy.handleCopy(c, version, account, container, object);
    } catch (err) {
      if (err instanceof HttpException) return exceptionResponse(err);
      throw err;
    }
    await next();
    if (method !== 'OPTIONS' || c.res.status < 200 || c.res.status >= 300) return;
    // OPTIONS on an object lists COPY among the allowed methods.
    const h = new Headers(c.res.headers);
    let changed = false;
    for (const name of ['allow', 'access-control-allow-methods']) {
      const v = h.get(name);
      if (v !== null && !v.includes('COPY')) {
        h.set(name, `${v}, COPY`);
        changed = true;
      }
    }
    if (changed) replaceResponse(c, new Response(c.res.body, { status: c.res.status, headers: h }));
  };
}

export const copyFilter = defineFilter<Record<string, never>>({
  name: 'copy',
  options: () => ({}),
  create: (_options, ctx) => serverSideCopy(ctx),
});
