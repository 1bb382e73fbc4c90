/**
 * What every controller shares (swift.proxy.controllers.base.Controller): backend request
 * headers, header transfer for writes, account/container info with caching, and turning
 * backend answers into client responses.
 */
import { Timestamp } from '../../common/timestamp';
import { isSysMeta, isUserMeta } from '../../common/headers';
import type { ProxyContext, ParsedPath, AuthorizeRequest } from '../context';
import type { ProxyState } from '../state';
import type { BackendResponse } from '../../common/backend-client';
import { makeRequests, readFromNodes } from '../replicas';
import type { Ring } from '../../common/ring';
import {
  accountCacheKey,
  containerCacheKey,
  headersToAccountInfo,
  headersToContainerInfo,
  infoTtl,
  type AccountInfo,
  type ContainerInfo,
} from '../info-cache';
import { clientHeaders, swiftResponse } from '../response';
import { rawPathOf, rawQueryOf } from '../request-target';

const UPDATE_HEADERS_SKIP = new Set(['date', 'content-length', 'content-type', 'connection', 'x-put-timestamp', 'x-delete-after']);

/** What the proxy application dispatches to (one per account, container or object request). */
export interface Controller {
  readonly allowedMethods: readonly string[];
  /** Handlers that re-run authorize once the container ACL is known (Swift's @delay_denial). */
  delaysDenial(method: string): boolean;
  handle(c: ProxyContext, method: string): Promise<Response>;
}

export type ServerType = 'account' | 'container' | 'object';

/** Client request headers (after the pipeline's edits) as ordered [lower-case name, raw value] pairs. */
export function requestPairs(c: ProxyContext): readonly [string, string][] {
  return c.get('headers').entries();
}

export abstract class BaseController {
  protected readonly account: string;
  protected readonly container: string | undefined;
  protected readonly object: string | undefined;

  constructor(
    protected readonly state: ProxyState,
    protected readonly path: ParsedPath,
  ) {
    this.account = path.account;
    this.container = path.container;
    this.object = path.object;
  }

  /** Headers the proxy sends with every backend request (generate_request_headers). */
  protected backendHeaders(c: ProxyContext, additional: Record<string, string> = {}): Record<string, string> {
    const h: Record<string, string> = {};
    for (const [k, v] of Object.entries(additional)) h[k.toLowerCase()] = v;
    h['x-timestamp'] ??= Timestamp.now().internal;
    h['x-trans-id'] = c.get('transId');
    h['user-agent'] = `proxy-server ${process.pid}`;
    // swob's as_referer: the method and the URL as the client sent it (URL parsing would drop
    // `.` and `..` segments, which are names in Swift).
    const url = c.req.url;
    const pathAt = url.indexOf('/', url.indexOf('://') + 3);
    const query = rawQueryOf(c);
    h['referer'] = `${c.req.method} ${pathAt < 0 ? url : url.slice(0, pathAt)}${rawPathOf(c)}${query ? `?${query}` : ''}`;
    return h;
  }

  /**
   * transfer_headers: user meta, sysmeta and the controller's pass-through headers go to the
   * backend; `X-Remove-<Type>-Meta-Foo` (and the container's X-Remove-Container-Read, ...) become
   * the header without `-remove` with an empty value.
   */
  protected transferHeaders(c: ProxyContext, kind: ServerType, passThrough: readonly string[], removable: readonly string[]): Record<string, string> {
    const out: Record<string, string> = {};
    const removePrefix = `x-remove-${kind}-meta-`;
    const pairs = requestPairs(c);
    for (const [k] of pairs) {
      if (k.startsWith(removePrefix) || removable.includes(k)) out[k.replace('-remove', '')] = '';
    }
    for (const [k, v] of pairs) {
      if (passThrough.includes(k) || isUserMeta(kind, k) || isSysMeta(kind, k)) out[k] = v;
    }
    return out;
  }

  /** The current authorize callback, run again with the container ACL (delayed denial). */
  protected async authorizeWithAcl(c: ProxyContext, method: string, acl: string | undefined, info?: { readAcl?: string; writeAcl?: string }): Promise<Response | undefined> {
    const authorize = c.get('authorize');
    if (!authorize || c.get('preAuthenticated')) return undefined;
    const req: AuthorizeRequest = {
      method,
      account: this.account,
      container: this.container,
      object: this.object,
      acl,
      containerAcls: info && { read: info.readAcl, write: info.writeAcl },
      referer: c.get('headers').get('referer'),
      headers: c.get('headers'),
    };
    return authorize(c, req);
  }

  protected async fanOut(
    c: ProxyContext,
    ring: Ring,
    part: number,
    method: string,
    backendPath: string,
    headers: Record<string, string>[],
    query?: string,
  ): Promise<BackendResponse | undefined> {
    const { best } = await makeRequests(this.state.backend, ring, part, { method, path: backendPath, query }, headers, {
      postQuorumTimeout: this.state.options.postQuorumTimeout,
    });
    return best;
  }

  /**
   * A client response from the chosen backend answer of a fan-out (best_response): status and
   * body from the backend, its headers except those swob sets itself (update_headers), or 503
   * when there was no quorum.
   */
  protected respond(method: string, res: BackendResponse | undefined, transform?: (h: Record<string, string>) => Record<string, string>): Response {
    if (!res) return swiftResponse(503, { method });
    let headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(clientHeaders(res.headers))) {
      if (k === 'etag') headers[k] = v.replace(/"/g, '');
      else if (!UPDATE_HEADERS_SKIP.has(k)) headers[k] = v;
    }
    if (transform) headers = transform(headers);
    return swiftResponse(res.status, { headers, body: res.body, method });
  }

  /**
   * OPTIONS (Swift's Controller.OPTIONS): 200 with Allow; a CORS preflight (with Origin) on a
   * container or object checks the container's allowed origins (and `cors_allow_origin`) and the
   * requested method, answering 401 when either is not allowed.
   */
  protected async options(c: ProxyContext, allowed: readonly string[]): Promise<Response> {
    const method = 'OPTIONS';
    const headers: Record<string, string> = { allow: allowed.join(', ') };
    const reqHeaders = c.get('headers');
    const origin = reqHeaders.get('origin');
    if (!origin || this.container === undefined) return swiftResponse(200, { headers, body: '', method });
    const info = await this.containerInfo(c);
    const origins = new Set((info.cors.allowOrigin ?? '').split(' ').map((s) => s.trim()).filter(Boolean));
    for (const o of this.state.options.corsAllowOrigin) origins.add(o);
    const wanted = reqHeaders.get('access-control-request-method');
    if (!(origins.has(origin) || origins.has('*')) || wanted === undefined || !allowed.includes(wanted)) {
      return swiftResponse(401, { headers, body: '', method });
    }
    const vary: string[] = [];
    if ((info.cors.allowOrigin ?? '').trim() === '*') headers['access-control-allow-origin'] = '*';
    else {
      headers['access-control-allow-origin'] = origin;
      vary.push('Origin');
    }
    if (info.cors.maxAge !== undefined) headers['access-control-max-age'] = info.cors.maxAge;
    headers['access-control-allow-methods'] = allowed.join(', ');
    const requested = [...new Set((reqHeaders.get('access-control-request-headers') ?? '').split(',').map((s) => s.trim()).filter(Boolean))];
    if (requested.length > 0) {
      headers['access-control-allow-headers'] = requested.join(', ');
      vary.push('Access-Control-Request-Headers');
    }
    if (vary.length > 0) headers.vary = vary.join(', ');
    return swiftResponse(200, { headers, body: '', method });
  }

  /** get_account_info: per-request cache, shared cache, then a HEAD to the account servers. */
  async accountInfo(c: ProxyContext, account = this.account): Promise<AccountInfo> {
    const key = accountCacheKey(account);
    const local = c.get('infoCache');
    const hit = (local.get(key) as AccountInfo | undefined) ?? (await this.state.cache?.get<AccountInfo>(key));
    if (hit) {
      local.set(key, hit);
      return hit;
    }
    const ring = this.state.rings.account;
    const part = ring.getPart(account);
    // Taken before the HEAD: an invalidation while it is in flight keeps its answer out of the cache.
    const mark = this.infoMark();
    const res = await readFromNodes(this.state.backend, ring, part, {
      method: 'HEAD',
      path: `/${account}`,
      headers: this.backendHeaders(c),
    });
    const info = this.cacheAccountInfo(c, account, res, mark);
    return info;
  }

  /** The shared cache's invalidation mark, to take before a backend read whose answer fills it. */
  protected infoMark(): number | undefined {
    return this.state.cache?.mark?.();
  }

  /**
   * set_info_cache for an account response (from HEAD/GET); 404 + X-Account-Status: Deleted is 410.
   * `mark` (infoMark() before the backend request) keeps an answer older than an invalidation out.
   */
  protected cacheAccountInfo(c: ProxyContext, account: string, res: BackendResponse | undefined, mark?: number): AccountInfo {
    let status = res?.status ?? 503;
    if (status === 404 && (res?.headers['x-account-status'] ?? '').toLowerCase() === 'deleted') status = 410;
    const info = headersToAccountInfo(res?.headers ?? {}, status);
    const key = accountCacheKey(account);
    c.get('infoCache').set(key, info);
    const ttl = infoTtl(status, this.state.options.recheckAccountExistence);
    if (ttl > 0) void this.state.cache?.set(key, info, ttl, mark);
    return info;
  }

  /** get_container_info; a missing account makes the container missing too. */
  async containerInfo(c: ProxyContext, account = this.account, container = this.container!): Promise<ContainerInfo> {
    const key = containerCacheKey(account, container);
    const local = c.get('infoCache');
    const hit = (local.get(key) as ContainerInfo | undefined) ?? (await this.state.cache?.get<ContainerInfo>(key));
    if (hit) {
      local.set(key, hit);
      return hit;
    }
    const acct = await this.accountInfo(c, account);
    if (!(acct.status >= 200 && acct.status < 300)) {
      const info = headersToContainerInfo({}, acct.status === 410 ? 404 : acct.status >= 500 ? acct.status : 404);
      local.set(key, info);
      return info;
    }
    const ring = this.state.rings.container;
    const part = ring.getPart(account, container);
    const mark = this.infoMark();
    const res = await readFromNodes(this.state.backend, ring, part, {
      method: 'HEAD',
      path: `/${account}/${container}`,
      headers: this.backendHeaders(c),
    });
    return this.cacheContainerInfo(c, account, container, res, mark);
  }

  protected cacheContainerInfo(c: ProxyContext, account: string, container: string, res: BackendResponse | undefined, mark?: number): ContainerInfo {
    const status = res?.status ?? 503;
    const info = headersToContainerInfo(res?.headers ?? {}, status);
    const key = containerCacheKey(account, container);
    c.get('infoCache').set(key, info);
    const ttl = infoTtl(status, this.state.options.recheckContainerExistence);
    if (ttl > 0) void this.state.cache?.set(key, info, ttl, mark);
    return info;
  }

  protected async clearAccountInfo(c: ProxyContext, account = this.account): Promise<void> {
    const key = accountCacheKey(account);
    c.get('infoCache').delete(key);
    await this.state.cache?.delete(key);
  }

  protected async clearContainerInfo(c: ProxyContext, account = this.account, container = this.container!): Promise<void> {
    const key = containerCacheKey(account, container);
    c.get('infoCache').delete(key);
    await this.state.cache?.delete(key);
  }

  /**
   * autocreate_account: PUT the account on its replicas, copying the triggering request's
   * account sysmeta (so an ACL POST to a missing account creates it with the ACL).
   */
  protected async autocreateAccount(c: ProxyContext, account = this.account): Promise<boolean> {
    const ring = this.state.rings.account;
    const part = ring.getPart(account);
    const headers: Record<string, string> = {
      'x-timestamp': Timestamp.now().internal,
      'x-trans-id': c.get('transId'),
      'x-openstack-request-id': c.get('transId'),
    };
    for (const [k, v] of requestPairs(c)) if (isSysMeta('account', k)) headers[k] = v;
    const nodes = ring.getPartNodes(part);
    const res = await this.fanOut(c, ring, part, 'PUT', `/${account}`, nodes.map(() => headers));
    if (res && res.status >= 200 && res.status < 300) {
      await this.clearAccountInfo(c, account);
      return true;
    }
    return false;
  }
}

/** A controller for client verbs: dispatches each allowed method to its handler. */
export abstract class VerbController extends BaseController {
  abstract readonly allowedMethods: readonly string[];
  protected abstract getOrHead(c: ProxyContext, method: string): Promise<Response>;
  protected abstract put(c: ProxyContext): Promise<Response>;
  protected abstract post(c: ProxyContext): Promise<Response>;
  protected abstract delete(c: ProxyContext): Promise<Response>;

  /** Runs the handler for a method the proxy already checked against allowedMethods. */
  async handle(c: ProxyContext, method: string): Promise<Response> {
    switch (method) {
      case 'GET':
      case 'HEAD':
        return this.getOrHead(c, method);
      case 'PUT':
        return this.put(c);
      case 'POST':
        return this.post(c);
      case 'DELETE':
        return this.delete(c);
      case 'OPTIONS':
        return this.options(c, this.allowedMethods);
      default:
        return swiftResponse(405, { headers: { Allow: this.allowedMethods.join(', ') }, method });
    }
  }
}
