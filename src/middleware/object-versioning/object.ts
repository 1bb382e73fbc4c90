/**
 * Object requests in a container with object versioning (object_versioning.py ObjectContext):
 * a PUT stores the data in the versions container under a new version id and points the
 * object at it with a static symlink; the object that was there before, if it is not such a
 * link, is first kept as a version of its own. A DELETE writes a delete marker version and
 * removes the link. POST to a link goes to the version it points at. GET/HEAD say which
 * version they served (X-Object-Version-Id, Content-Location with `?version-id=`).
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import type { ParsedPath, ProxyContext } from '../../proxy/context';
import { editResponseHeaders, replaceResponse } from '../../proxy/response';
import { relay, type Identity } from '../../proxy/subrequest';
import { Timestamp } from '../../common/timestamp';
import { splitPath } from '../../common/path';
import { HttpException } from '../../compat/http-exception';
import { guessType } from '../../compat/mimetypes';
import { quote, unquote } from '../../compat/quote';
import { configTrue } from '../../compat/truthy';
import type { ContainerInfo } from '../../proxy/info-cache';
import { drain } from '../symlink';
import { DELETE_MARKER_CONTENT_TYPE, splitVersionFromName, SYSMETA_VERSIONS_SYMLINK, VERSION_ID, versionsObjectName } from './names';
import { authorizeWrite, checkError, NO_VERSIONS_CONTAINER, pathOf, type VersioningRequests } from './requests';

const MAX_FILE_SIZE_FALLBACK = 5 * 1024 ** 3 + 2;
/** Headers of the client's request the symlink must not carry (they describe the data). */
const NOT_FOR_SYMLINK = ['etag', 'x-if-delete-at', 'x-symlink-target-account', 'x-object-manifest', 'x-static-large-object', 'x-object-sysmeta-slo-etag', 'x-object-sysmeta-slo-size'];
const isExpiry = (k: string) => k === 'x-delete-at' || k === 'x-delete-after';

/** The client's request headers, but those that would make a version expire. */
export function nonExpiryHeaders(c: ProxyContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of c.get('headers').entries()) if (!isExpiry(k)) out[k] = v;
  return out;
}

/** The client's request timestamp (req.ensure_x_timestamp), set on the request when absent. */
export function ensureTimestamp(c: ProxyContext): Timestamp {
  const headers = c.get('headers');
  const ts = Timestamp.tryParse(headers.get('x-timestamp'));
  if (ts) return ts;
  const now = Timestamp.now();
  headers.set('x-timestamp', now.internal);
  return now;
}

export interface Versioned {
  path: ParsedPath;
  identity: Identity;
  info: ContainerInfo;
  /** The versions container's name (unquoted). */
  versionsCont: string;
  enabled: boolean;
}

export class ObjectVersioning {
  constructor(
    private readonly requests: VersioningRequests,
    private readonly maxFileSize: number = MAX_FILE_SIZE_FALLBACK,
  ) {}

  objectPath(v: Versioned): string {
    return pathOf(v.path.version, v.path.account, v.path.container!, v.path.object!);
  }

  versionPath(v: Versioned, name: string): string {
    return pathOf(v.path.version, v.path.account, v.versionsCont, name);
  }

  /** _copy_current: an object put there while versioning was off becomes a version first. */
  private async copyCurrent(c: ProxyContext, v: Versioned): Promise<void> {
    await authorizeWrite(c, v.identity, v.path, v.info);
    // Pre-authenticated: writers without read access could version before, too.
    const source = await this.requests.preAuthed(v.identity, { method: 'GET', path: `${this.objectPath(v)}?symlink=get`, headers: { 'x-newest': 'True' } });
    const length = source.headers.get('content-length');
    if (length === null || Number(length) > this.maxFileSize) {
      await drain(source);
      throw new HttpException(413);
    }
    if (source.status === 404) {
      await drain(source);
      return;
    }
    await checkError(source);
    if (source.headers.get(SYSMETA_VERSIONS_SYMLINK) === 'true') {
      await drain(source);
      return;
    }
    const stamp = source.headers.get('x-timestamp') ?? String(Date.parse(source.headers.get('last-modified') ?? '') / 1000);
    const name = versionsObjectName(v.path.object!, Timestamp.parse(stamp));
    const headers: Record<string, string> = {};
    source.headers.forEach((value, k) => {
      if (k !== 'x-timestamp') headers[k] = value;
    });
    // Streamed; let go of the source (and its backend connection) if the PUT did not read it all.
    const { body, release } = relay(source.body);
    let put: Response;
    try {
      put = await this.requests.preAuthed(v.identity, { method: 'PUT', path: this.versionPath(v, name), headers, body });
    } finally {
      release();
    }
    if (put.status === 404) {
      await drain(put);
      throw new HttpException(500, NO_VERSIONS_CONTAINER, {}, 'text/plain');
    }
    await checkError(put);
    await drain(put);
  }

  /** handle_put with versioning enabled. */
  async put(c: ProxyContext, v: Versioned): Promise<Response> {
    await this.copyCurrent(c, v);
    const ts = ensureTimestamp(c);
    const name = versionsObjectName(v.path.object!, ts);
    const versionPath = this.versionPath(v, name);
    // The client's body and metadata go straight to the new version.
    const headers = nonExpiryHeaders(c);
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    const incoming = c.env?.incoming as Readable | undefined;
    let body: Readable | ReadableStream<Uint8Array> | null = null;
    // pipeline, not pipe: a client that goes away mid-body fails the version's PUT (499).
    if (incoming) body = pipeline(incoming, counter, () => undefined);
    else if (c.req.raw.body) {
      body = c.req.raw.body.pipeThrough(
        new TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, ctrl) {
            bytes += chunk.length;
            ctrl.enqueue(chunk);
          },
        }),
      );
    }
    const put = await this.requests.preAuthed(v.identity, { method: 'PUT', path: versionPath, headers, body });
    if (put.status === 404) {
      await drain(put);
      throw new HttpException(500, NO_VERSIONS_CONTAINER, {}, 'text/plain');
    }
    await checkError(put);
    await drain(put);
    // Swift reads the type the proxy settled on for the version: the client's, or the guess
    // from the version's name (whose last dot starts the version id).
    const given = headers['content-type'];
    const type = given && !configTrue(headers['x-detect-content-type']) ? given : (guessType(versionPath)[0] ?? 'application/octet-stream');
    // A manifest (slo) links with the size of what it stands for, as symlink does.
    const size = headers['x-object-sysmeta-slo-size'] || String(bytes);
    return this.putSymlink(c, v, name, put.headers.get('etag') ?? '', size, type.split(';')[0]!.trim());
  }

  /** _put_symlink_to_version: the object becomes a static link to the version, as the client's own PUT. */
  async putSymlink(c: ProxyContext, v: Versioned, name: string, etag: string, bytes: string, contentType: string): Promise<Response> {
    const ts = ensureTimestamp(c);
    const headers: Record<string, string> = {};
    for (const [k, value] of c.get('headers').entries()) if (!NOT_FOR_SYMLINK.includes(k) && k !== 'transfer-encoding') headers[k] = value;
    Object.assign(headers, {
      // Just after the version itself.
      'x-timestamp': new Timestamp(ts.ticks, 1n).internal,
      'x-object-sysmeta-symlink-target-etag': etag,
      'x-object-sysmeta-symlink-target-bytes': bytes,
      'content-type': contentType,
      'x-symlink-target': quote(`${v.versionsCont}/${name}`),
      [SYSMETA_VERSIONS_SYMLINK]: 'true',
      'x-object-sysmeta-symloop-extend': 'true',
      'x-object-sysmeta-allow-reserved-names': 'true',
      'x-backend-allow-reserved-names': 'true',
      'content-length': '0',
    });
    const res = await this.requests.asCaller(v.identity, { method: 'PUT', path: this.objectPath(v), headers });
    const out = new Headers(res.headers);
    out.set('etag', etag);
    out.set(VERSION_ID, splitVersionFromName(name)[1]!.internal);
    return new Response(res.body, { status: res.status, headers: out });
  }

  /** handle_delete with versioning enabled: a delete marker version, then the DELETE. */
  async delete(c: ProxyContext, v: Versioned, next: () => Promise<void>): Promise<void> {
    await this.copyCurrent(c, v);
    const ts = ensureTimestamp(c);
    const name = versionsObjectName(v.path.object!, ts);
    const token = c.get('headers').get('x-auth-token');
    const marker = await this.requests.preAuthed(v.identity, {
      method: 'PUT',
      path: this.versionPath(v, name),
      headers: { 'content-type': DELETE_MARKER_CONTENT_TYPE, 'content-length': '0', ...(token !== undefined ? { 'x-auth-token': token } : {}) },
    });
    await checkError(marker);
    await drain(marker);
    await next();
    if ((c.res.status >= 200 && c.res.status < 300) || c.res.status === 404) {
      editResponseHeaders(c, (h) => h.set(VERSION_ID, ts.internal));
    }
  }

  /** handle_post: a POST that reached a versions link (symlink's 307) updates the version it links to. */
  async post(c: ProxyContext, v: Versioned, next: () => Promise<void>): Promise<void> {
    const headers = nonExpiryHeaders(c);
    await next();
    const res = c.res;
    if (res.status !== 307 || !configTrue(res.headers.get(SYSMETA_VERSIONS_SYMLINK) ?? 'false')) return;
    const location = res.headers.get('location') ?? '';
    let parts: (string | undefined)[];
    try {
      parts = splitPath(unquote(location), 4, 4, true);
    } catch {
      return;
    }
    // Only a link into this container's own versions container.
    if (parts[1] !== v.path.account || parts[2] !== v.versionsCont) return;
    await drain(res);
    replaceResponse(c, await this.requests.preAuthed(v.identity, { method: 'POST', path: location, headers }));
  }

  /** GET/HEAD (and anything else): which version answered. */
  async read(c: ProxyContext, v: Versioned, next: () => Promise<void>): Promise<void> {
    await next();
    const { path } = v;
    const changes: Record<string, string> = { [VERSION_ID]: 'null' };
    const location = unquote(c.res.headers.get('content-location') ?? '');
    if (location) {
      try {
        const [, account, container, object] = splitPath(location, 4, 4, true) as string[];
        const version = account === path.account && container === v.versionsCont ? splitVersionFromName(object!)[1] : undefined;
        if (version !== undefined) {
          changes[VERSION_ID] = version.internal;
          changes['content-location'] = `${this.objectPath(v)}?version-id=${version.internal}`;
        }
      } catch {
        // not a path Swift splits either: left as it is
      }
    }
    const target = unquote(c.res.headers.get('x-symlink-target') ?? '');
    if (target) {
      try {
        const [container, object] = splitPath(`/${target}`, 2, 2, true) as string[];
        const version = container === v.versionsCont ? splitVersionFromName(object!)[1] : undefined;
        if (version !== undefined) {
          changes[VERSION_ID] = version.internal;
          changes['x-symlink-target'] = `${quote(`${path.container}/${path.object}`)}?version-id=${version.internal}`;
        }
      } catch {
        // as above
      }
    }
    editResponseHeaders(c, (h) => {
      for (const [k, value] of Object.entries(changes)) h.set(k, value);
    });
  }
}
