/**
 * versioned_writes, legacy mode (swift/common/middleware/versioned_writes/legacy.py).
 *
 * A container's `X-Versions-Location: <archive container>` (stack mode) or
 * `X-History-Location` (history mode) is kept as container sysmeta
 * (`x-container-sysmeta-versions-location` / `-versions-mode`), which only this middleware
 * writes (the gatekeeper strips client-sent sysmeta, so forging it enables nothing), and is
 * shown to clients again as the header they set. Setting it needs `allow_versioned_writes`; an
 * explicit false answers 412. Empty values and `X-Remove-Versions-Location` /
 * `X-Remove-History-Location` turn versioning off.
 *
 * On an object PUT into a versioned container the current object, if any, is first copied to
 * `<archive>/<len(name) as 3 hex digits><name>/<its timestamp>`. On DELETE, stack mode restores
 * the newest archived version in its place (and removes it from the archive); history mode
 * archives the current object and a delete marker, then deletes. Without the filter option a
 * container's legacy `versions` (container-server allow_versions) still turns it on.
 *
 * Archive reads and writes are pre-authenticated subrequests (Swift's make_pre_authed_request),
 * after checking that the caller may write the versioned container.
 */
import type { MiddlewareHandler } from 'hono';
import type { ParsedPath, ProxyContext, ProxyEnv } from '../proxy/context';
import { defineFilter, type InfoSections } from '../proxy/filter';
import type { ProxyState } from '../proxy/state';
import { exceptionResponse, replaceResponse, ResponseException } from '../proxy/response';
import { captureIdentity, discard, relay, type Identity, type Subrequest } from '../proxy/subrequest';
import { ObjectController } from '../proxy/controllers/object';
import type { ContainerInfo } from '../proxy/info-cache';
import { Timestamp } from '../common/timestamp';
import { asByteString, bytesOf, type ByteString } from '../compat/bytes';
import { HttpException } from '../compat/http-exception';
import { quote, quoteBytes, unquoteBytes } from '../compat/quote';
import { configTrue } from '../compat/truthy';
import { drain, requestPath, withHeaders } from './symlink';
import { objectVersioning } from './object-versioning/index';
import { DELETE_MARKER_CONTENT_TYPE } from './object-versioning/names';
import { ConfigError } from '../compat/config-error';

export { DELETE_MARKER_CONTENT_TYPE };
const CLIENT_VERSIONS_LOC = 'x-versions-location';
const CLIENT_HISTORY_LOC = 'x-history-location';
const SYSMETA_VERSIONS_LOC = 'x-container-sysmeta-versions-location';
const SYSMETA_VERSIONS_MODE = 'x-container-sysmeta-versions-mode';
const REMOVE_VERSIONS = 'x-remove-versions-location';
const REMOVE_HISTORY = 'x-remove-history-location';

interface ListingItem {
  name: string;
  content_type?: string;
}

/** `%03x%s/`: the archive prefix of an object (the length counts the name's UTF-8 bytes). */
export function versionsPrefix(object: ByteString): ByteString {
  return asByteString(`${object.length.toString(16).padStart(3, '0')}${object}/`);
}

export interface VersionedWritesOptions {
  /**
   * Swift's allow_versioned_writes. As in Swift, a configured value (even false) makes this
   * filter the authority on container requests; undefined leaves them to the container
   * server's legacy allow_versions.
   */
  allowVersionedWrites: boolean | undefined;
}

export function versionedWrites(options: VersionedWritesOptions, state: ProxyState, app: Subrequest): MiddlewareHandler<ProxyEnv> {
  const allow = options.allowVersionedWrites;

  /** _check_response_error: 4xx (missing archive, permissions) → 412, anything else → 503. */
  async function checkError(res: Response, method: string): Promise<void> {
    if (res.status >= 200 && res.status < 300) return;
    await drain(res);
    throw new HttpException(res.status >= 400 && res.status < 500 ? 412 : 503);
  }

  /** _get_source_object: the object as stored (a symlink as the link itself), newest replica. */
  async function getSource(identity: Identity, path: string): Promise<Response> {
    const res = await app(identity, { method: 'GET', path: `${path}?symlink=get`, headers: { 'x-newest': 'True' }, preAuthenticated: true, agent: 'Swift VW' });
    const length = res.headers.get('content-length');
    if (length === null || Number(length) > state.constraints.max_file_size) {
      discard(res.body);
      throw new HttpException(413);
    }
    return res;
  }

  /** _put_versioned_obj: every header of the source but X-Timestamp, the body streamed. */
  async function putFrom(identity: Identity, path: string, source: Response): Promise<Response> {
    const headers: Record<string, string> = {};
    source.headers.forEach((v, k) => {
      if (k !== 'x-timestamp') headers[k] = v;
    });
    const { body, release } = relay(source.body);
    try {
      return await app(identity, { method: 'PUT', path, headers, body, preAuthenticated: true, agent: 'Swift VW' });
    } finally {
      release();
    }
  }

  /** The caller must be allowed to write the versioned container before anything is touched. */
  async function authorizeWrite(c: ProxyContext, identity: Identity, path: ParsedPath, method: string, info: ContainerInfo): Promise<void> {
    if (!identity.authorize || identity.preAuthenticated) return;
    const denial = await identity.authorize(c, {
      method,
      account: path.account,
      container: path.container,
      object: path.object,
      acl: info.writeAcl,
      referer: c.get('headers').get('referer'),
      headers: c.get('headers'),
    });
    if (denial) throw new ResponseException(denial);
  }

  /** _copy_current: archive the current object (if there is one) under its timestamp. */
  async function copyCurrent(c: ProxyContext, identity: Identity, path: ParsedPath, info: ContainerInfo, versionsCont: ByteString, method: string): Promise<void> {
    await authorizeWrite(c, identity, path, method, info);
    const objectPath = `/${path.version}/${quote(path.account)}/${quote(path.container!)}/${quote(path.object!)}`;
    const source = await getSource(identity, objectPath);
    if (source.status === 404) {
      await drain(source);
      return;
    }
    await checkError(source, method);
    const ts = source.headers.get('x-timestamp') ?? String(Date.parse(source.headers.get('last-modified') ?? '') / 1000);
    const name = asByteString(versionsPrefix(bytesOf(path.object!)) + Timestamp.parse(ts).internal);
    const put = await putFrom(identity, `/${path.version}/${quote(path.account)}/${quoteBytes(versionsCont)}/${quoteBytes(name)}`, source);
    await checkError(put, method);
    await drain(put);
  }

  /** Pages of the archive listing for one object, newest first (reverse=on). */
  async function* listing(identity: Identity, account: string, versionsCont: ByteString, prefix: ByteString): AsyncGenerator<ListingItem> {
    let marker = '';
    for (;;) {
      const query = `prefix=${quoteBytes(prefix)}&marker=${quote(marker)}&reverse=on`;
      const res = await app(identity, { method: 'GET', path: `/v1/${quote(account)}/${quoteBytes(versionsCont)}?${query}`, preAuthenticated: true, agent: 'Swift VW' });
      if (res.status < 200 || res.status >= 300) {
        await drain(res);
        if (res.status === 404) return;
        throw new HttpException(res.status >= 400 && res.status < 500 ? 412 : 500);
      }
      const text = await res.text();
      if (!text) return;
      const page = JSON.parse(text) as ListingItem[];
      if (!Array.isArray(page) || page.length === 0) return;
      marker = page[page.length - 1]!.name;
      yield* page;
    }
  }

  /** _restore_data: copy an archived version over the object; false when it vanished. */
  async function restore(identity: Identity, path: ParsedPath, versionsCont: ByteString, versionName: string, method: string): Promise<string | false> {
    const getPath = `/${path.version}/${quote(path.account)}/${quoteBytes(versionsCont)}/${quote(versionName)}`;
    const source = await getSource(identity, getPath);
    if (source.status === 404) {
      await drain(source);
      return false;
    }
    await checkError(source, method);
    const objectPath = `/${path.version}/${quote(path.account)}/${quote(path.container!)}/${quote(path.object!)}`;
    const put = await putFrom(identity, objectPath, source);
    await checkError(put, method);
    await drain(put);
    return getPath;
  }

  /**
   * handle_obj_versions_delete_pop (stack mode): the newest archived version replaces the
   * object and the client's DELETE becomes the DELETE of that archive entry. Delete markers
   * (left by history mode) are honoured as Swift does.
   */
  async function deletePop(c: ProxyContext, identity: Identity, path: ParsedPath, info: ContainerInfo, versionsCont: ByteString): Promise<Response | undefined> {
    const method = 'DELETE';
    const items = listing(identity, path.account, versionsCont, versionsPrefix(bytesOf(path.object!)))[Symbol.asyncIterator]();
    const token = c.get('headers').get('x-auth-token');
    const tokenHeader: Record<string, string> = token !== undefined ? { 'x-auth-token': token } : {};
    const objectPath = `/${path.version}/${quote(path.account)}/${quote(path.container!)}/${quote(path.object!)}`;
    let authed = false;
    let redirect: string | undefined;
    for (;;) {
      const next = await items.next();
      if (next.done) break;
      const previous = next.value;
      if (!authed) {
        await authorizeWrite(c, identity, path, method, info);
        authed = true;
      }
      if (previous.content_type === DELETE_MARKER_CONTENT_TYPE) {
        const head = await app(identity, { method: 'HEAD', path: objectPath, headers: { 'x-newest': 'True', ...tokenHeader }, preAuthenticated: true, agent: 'Swift VW' });
        await drain(head);
        if (head.status !== 404) {
          // There is data now: let the DELETE go through (back to the delete-marker state).
          await checkError(head, method);
          break;
        }
        for (;;) {
          const older = await items.next();
          if (older.done) break;
          if (older.value.content_type === DELETE_MARKER_CONTENT_TYPE) break;
          const restored = await restore(identity, path, versionsCont, older.value.name, method);
          if (!restored) continue;
          const del = await app(identity, { method: 'DELETE', path: restored, headers: tokenHeader, preAuthenticated: true, agent: 'Swift VW' });
          await drain(del);
          if (del.status !== 404) await checkError(del, method);
          break;
        }
        redirect = `/${path.version}/${quote(path.account)}/${quoteBytes(versionsCont)}/${quote(previous.name)}`;
      } else {
        const restored = await restore(identity, path, versionsCont, previous.name, method);
        if (!restored) continue;
        redirect = restored;
      }
      break;
    }
    if (redirect === undefined) return undefined;
    return app(identity, { method: 'DELETE', path: redirect, headers: tokenHeader, preAuthenticated: true, agent: 'Swift VW' });
  }

  /** handle_obj_versions_delete_push (history mode): archive the object and a delete marker. */
  async function deletePush(c: ProxyContext, identity: Identity, path: ParsedPath, info: ContainerInfo, versionsCont: ByteString): Promise<void> {
    const method = 'DELETE';
    await copyCurrent(c, identity, path, info, versionsCont, method);
    const name = asByteString(versionsPrefix(bytesOf(path.object!)) + Timestamp.now().internal);
    const token = c.get('headers').get('x-auth-token');
    const marker = await app(identity, {
      method: 'PUT',
      path: `/${path.version}/${quote(path.account)}/${quoteBytes(versionsCont)}/${quoteBytes(name)}`,
      headers: { 'content-type': DELETE_MARKER_CONTENT_TYPE, 'content-length': '0', ...(token !== undefined ? { 'x-auth-token': token } : {}) },
      preAuthenticated: true,
      agent: 'Swift VW',
    });
    await checkError(marker, method);
    await drain(marker);
  }

  /** container_request: X-Versions-Location / X-History-Location become sysmeta, and back. */
  async function containerRequest(c: ProxyContext, next: () => Promise<void>): Promise<void> {
    const headers = c.get('headers');
    const method = c.req.method;
    if (headers.has(CLIENT_VERSIONS_LOC) && headers.has(CLIENT_HISTORY_LOC)) {
      if (!headers.get(CLIENT_HISTORY_LOC)) headers.delete(CLIENT_HISTORY_LOC);
      else if (headers.get(CLIENT_VERSIONS_LOC)) {
        throw new HttpException(400, `Only one of ${CLIENT_VERSIONS_LOC} or ${CLIENT_HISTORY_LOC} may be specified`, {}, 'text/plain');
      } else headers.delete(CLIENT_VERSIONS_LOC);
    }
    if (headers.has(CLIENT_VERSIONS_LOC) || headers.has(CLIENT_HISTORY_LOC)) {
      const stack = headers.has(CLIENT_VERSIONS_LOC);
      const value = headers.get(stack ? CLIENT_VERSIONS_LOC : CLIENT_HISTORY_LOC)!;
      if (!value) {
        headers.set(REMOVE_VERSIONS, 'x');
      } else if (allow !== true && (method === 'PUT' || method === 'POST')) {
        throw new HttpException(412, 'Versioned Writes is disabled', {}, 'text/plain');
      } else {
        if (value.includes('/')) throw new HttpException(412, 'Container name cannot contain slashes');
        headers.set(SYSMETA_VERSIONS_LOC, value);
        headers.set(SYSMETA_VERSIONS_MODE, stack ? 'stack' : 'history');
        // Only sysmeta says where versions go; the container server gets an empty header.
        headers.set(CLIENT_VERSIONS_LOC, '');
        headers.delete(REMOVE_VERSIONS);
        headers.delete(REMOVE_HISTORY);
      }
    }
    if (headers.get(REMOVE_VERSIONS) || headers.get(REMOVE_HISTORY)) {
      headers.set(CLIENT_VERSIONS_LOC, '');
      headers.set(SYSMETA_VERSIONS_LOC, '');
      headers.set(SYSMETA_VERSIONS_MODE, '');
      headers.delete(REMOVE_VERSIONS);
      headers.delete(REMOVE_HISTORY);
    }
    await next();
    const location = c.res.headers.get(SYSMETA_VERSIONS_LOC);
    if (location) {
      const mode = c.res.headers.get(SYSMETA_VERSIONS_MODE);
      replaceResponse(c, withHeaders(c.res, { [mode === 'history' ? 'X-History-Location' : 'X-Versions-Location']: location }));
    }
  }

  return async (c, next) => {
    const path = requestPath(c, state);
    if (!path || !path.container) return next();
    const method = c.req.method;
    try {
      if (allow !== undefined && !path.object) {
        await containerRequest(c, next);
        return;
      }
      if (!path.object || (method !== 'PUT' && method !== 'DELETE')) return next();
      const identity = captureIdentity(c);
      const info = await new ObjectController(state, path).containerInfo(c);
      let versionsCont = info.sysmeta['versions-location'];
      const mode = info.sysmeta['versions-mode'] ?? 'stack';
      let enabled = allow === true;
      if (!versionsCont) {
        // Backwards compatibility: a container-server `versions` enables it unless configured.
        versionsCont = info.versions;
        if (allow === undefined && versionsCont) enabled = true;
      }
      if (!enabled || !versionsCont) return next();
      const archive = asByteString(unquoteBytes(bytesOf(versionsCont)).split('/')[0]!);
      if (method === 'PUT') {
        await copyCurrent(c, identity, path, info, archive, method);
        return next();
      }
      if (mode === 'history') {
        await deletePush(c, identity, path, info, archive);
        return next();
      }
      const res = await deletePop(c, identity, path, info, archive);
      if (!res) return next();
      replaceResponse(c, res);
    } catch (err) {
      if (!(err instanceof HttpException)) throw err;
      replaceResponse(c, exceptionResponse(err, method));
    }
  };
}

/**
 * Swift's versioned_writes filter_factory: the legacy middleware, and with
 * allow_object_versioning the newer object versioning right below it (legacy → object
 * versioning → the rest of the pipeline). Object versioning needs symlink in the pipeline.
 */
export const versionedWritesFilter = defineFilter<VersionedWritesOptions & { allowObjectVersioning: boolean }>({
  name: 'versioned_writes',
  options: (conf) => ({
    allowVersionedWrites: conf.allow_versioned_writes ? configTrue(conf.allow_versioned_writes) : undefined,
    allowObjectVersioning: configTrue(conf.allow_object_versioning),
  }),
  // Advertised only when enabled, with the two client headers (register_swift_info).
  info: (options): InfoSections => ({
    ...(options.allowVersionedWrites ? { versioned_writes: { allowed_flags: [CLIENT_VERSIONS_LOC, CLIENT_HISTORY_LOC] } } : {}),
    ...(options.allowObjectVersioning ? { object_versioning: {} } : {}),
  }),
  create: (options, ctx) => {
    const legacy = versionedWrites(options, ctx.state, ctx.app);
    if (!options.allowObjectVersioning) return legacy;
    const versioning = objectVersioning(ctx.state, ctx.app);
    // Swift's filter_factory refuses to start without symlink; its /info section exists only
    // once the filters after this one are built.
    const requireSymlink = () => {
      if (!ctx.state.info.symlink) throw new ConfigError('object versioning requires symlinks (add symlink to the pipeline after versioned_writes)');
    };
    if (ctx.whenBuilt) ctx.whenBuilt(requireSymlink);
    let checked = false;
    return (c, next) => {
      if (!checked) {
        requireSymlink();
        checked = true;
      }
      return legacy(c, async () => {
        await versioning(c, next);
      });
    };
  },
});
