/**
 * Requests naming one version (`?version-id=<id>`, object_versioning.py
 * handle_versioned_request): GET/HEAD read that version (404 for a delete marker), DELETE
 * removes it (and the link too when it is the current one), PUT with an empty body makes it
 * the current version again, POST is refused. `null` names the object put while versioning
 * was off (or never on).
 */
import type { ProxyContext } from '../../proxy/context';
import { ContainerController } from '../../proxy/controllers/container';
import { editResponseHeaders, replaceResponse, swiftResponse } from '../../proxy/response';
import type { ProxyState } from '../../proxy/state';
import { rawQueryOf } from '../../proxy/request-target';
import { HttpException } from '../../compat/http-exception';
import { unquote } from '../../compat/quote';
import { drain } from '../symlink';
import { DELETE_MARKER_CONTENT_TYPE, ALLOW_RESERVED_NAMES, parseVersionId, reservedName, splitVersionFromName, SYSMETA_VERSIONS_SYMLINK, VERSION_ID, versionsObjectName } from './names';
import { checkError, NO_VERSIONS_CONTAINER, type VersioningRequests } from './requests';
import { ObjectVersioning, type Versioned } from './object';
import { Timestamp } from '../../common/timestamp';

/** True when the request body is empty (Swift reads one byte when no length was given). */
async function bodyIsEmpty(c: ProxyContext): Promise<boolean> {
  const cl = c.get('headers').get('content-length');
  if (cl !== undefined && c.get('headers').get('transfer-encoding') === undefined) return Number(cl) === 0;
  const body = c.req.raw.body;
  if (!body) return true;
  const reader = body.getReader();
  for (;;) {
    const chunk = await reader.read();
    if (chunk.done) return true;
    if (chunk.value.length > 0) {
      await reader.cancel().catch(() => undefined);
      return false;
    }
  }
}

export class VersionIdRequests {
  constructor(
    private readonly state: ProxyState,
    private readonly requests: VersioningRequests,
    private readonly objects: ObjectVersioning,
  ) {}

  /** Runs the rest of the pipeline on the version's own path, as Swift rewrites path_info. */
  private async onVersion(c: ProxyContext, v: Versioned, version: Timestamp, next: () => Promise<void>): Promise<void> {
    const saved = c.get('rawTarget');
    const query = rawQueryOf(c);
    c.set('rawTarget', this.objects.versionPath(v, versionsObjectName(v.path.object!, version)) + (query ? `?${query}` : ''));
    c.get('headers').set(ALLOW_RESERVED_NAMES, 'true');
    try {
      await next();
    } finally {
      c.set('rawTarget', saved);
    }
  }

  async handle(c: ProxyContext, v: Versioned, versionId: string, next: () => Promise<void>): Promise<void> {
    const method = c.req.method;
    if (method === 'POST') throw new HttpException(400, `${method} to a specific version is not allowed`);
    if (!v.versionsCont && versionId !== 'null') throw new HttpException(400, 'version-aware operations require that the container is versioned');
    let version: Timestamp | undefined;
    if (versionId !== 'null') {
      version = parseVersionId(versionId);
      // sluice: ids with an offset are refused too (Swift cannot invert them and fails with a 500).
      if (!version || version.offset !== 0n) throw new HttpException(400, 'Invalid version parameter');
    }
    if (method === 'DELETE') return this.deleteVersion(c, v, versionId, version, next);
    if (method === 'PUT') {
      if (!version) throw new HttpException(400, 'Invalid version parameter');
      replaceResponse(c, await this.putVersion(c, v, version));
      return;
    }
    if (!version) {
      await next();
      if (c.res.status >= 200 && c.res.status < 300) {
        // The current object is a link to a real version, so there is no "null" one.
        if (unquote(c.res.headers.get('content-location') ?? '').includes(reservedName('versions', ''))) {
          await drain(c.res);
          throw new HttpException(404);
        }
        editResponseHeaders(c, (h) => h.set(VERSION_ID, 'null'));
      }
      return;
    }
    await this.onVersion(c, v, version, next);
    const res = c.res;
    if (res.status >= 200 && res.status < 300) editResponseHeaders(c, (h) => h.set(VERSION_ID, versionId));
    if ((res.headers.get('x-backend-content-type') ?? res.headers.get('content-type')) === DELETE_MARKER_CONTENT_TYPE) {
      await drain(res);
      replaceResponse(c, swiftResponse(404, { method, headers: { [VERSION_ID]: versionId, 'content-type': DELETE_MARKER_CONTENT_TYPE } }));
    }
  }

  /** _check_head: whether the object is gone, and the version its link points at. */
  private async currentLink(c: ProxyContext, v: Versioned): Promise<{ tombstone: boolean; target: string | undefined }> {
    const token = c.get('headers').get('x-auth-token');
    const res = await this.requests.preAuthed(v.identity, { method: 'HEAD', path: `${this.objects.objectPath(v)}?symlink=get`, headers: { 'x-newest': 'True', ...(token !== undefined ? { 'x-auth-token': token } : {}) } });
    if (res.status === 404) {
      await drain(res);
      return { tombstone: true, target: undefined };
    }
    await checkError(res);
    await drain(res);
    return { tombstone: false, target: res.headers.get(SYSMETA_VERSIONS_SYMLINK) === 'true' ? (res.headers.get('x-symlink-target') ?? undefined) : undefined };
  }

  /** handle_delete_version: no delete marker; deleting the current version removes its link too. */
  private async deleteVersion(c: ProxyContext, v: Versioned, versionId: string, version: Timestamp | undefined, next: () => Promise<void>): Promise<void> {
    // "null" is whatever is at the object's own name.
    if (!version) return next();
    const { tombstone, target } = await this.currentLink(c, v);
    const versionName = versionsObjectName(v.path.object!, version);
    let current = 'null';
    if (tombstone || !target || unquote(target) !== `${v.versionsCont}/${versionName}`) {
      if (!tombstone && target) current = splitVersionFromName(unquote(target).split('/').slice(1).join('/'))[1]?.internal ?? 'null';
    } else {
      // The current version: first the link, as the client's own DELETE...
      const headers: Record<string, string> = {};
      for (const [k, value] of c.get('headers').entries()) headers[k] = value;
      const link = await this.requests.asCaller(v.identity, { method: 'DELETE', path: this.objects.objectPath(v), headers });
      await checkError(link);
      await drain(link);
    }
    // ...then the version's data.
    await this.onVersion(c, v, version, next);
    editResponseHeaders(c, (h) => {
      h.set(VERSION_ID, versionId);
      h.set('x-object-current-version-id', current);
    });
  }

  /** handle_put_version: an empty PUT makes the version current again (a new link to it). */
  private async putVersion(c: ProxyContext, v: Versioned, version: Timestamp): Promise<Response> {
    if (!(await bodyIsEmpty(c))) throw new HttpException(400, 'PUT version-id requests require a zero byte body', {}, 'text/plain');
    const name = versionsObjectName(v.path.object!, version);
    const head = await this.requests.preAuthed(v.identity, { method: 'HEAD', path: `${this.objects.versionPath(v, name)}?symlink=get` });
    if (head.status === 404) {
      await drain(head);
      const info = await new ContainerController(this.state, { ...v.path, container: v.versionsCont, object: undefined }).containerInfo(c, v.path.account, v.versionsCont);
      if (info.status >= 200 && info.status < 300) throw new HttpException(404, 'The specified version does not exist', {}, 'text/plain');
      throw new HttpException(500, NO_VERSIONS_CONTAINER, {}, 'text/plain');
    }
    await checkError(head);
    await drain(head);
    return this.objects.putSymlink(c, v, name, head.headers.get('etag') ?? '', head.headers.get('content-length') ?? '0', head.headers.get('content-type') ?? '');
  }
}
