/**
 * staticweb (swift/common/middleware/staticweb.py): a container as a static web site for
 * anonymous GET/HEAD (and for authenticated ones that send `X-Web-Mode: true`), driven by the
 * container's metadata:
 *
 *   X-Container-Meta-Web-Index          served for `.../dir/` (and the container itself)
 *   X-Container-Meta-Web-Listings       `true`: an HTML listing where there is no index
 *   X-Container-Meta-Web-Listings-CSS   a style sheet the listing links to
 *   X-Container-Meta-Web-Listings-Label the listing's label instead of the path
 *   X-Container-Meta-Web-Error          `<status><name>` (404error.html, 401error.html) replaces error pages
 *   X-Container-Meta-Web-Directory-Type the content type of directory markers (application/directory)
 *
 * Directories without a trailing `/` are redirected (301) to the same path with one, on the
 * request's host or on `url_base`'s scheme and host. Anonymous access is the container's read
 * ACL, decided by the auth filter's authorize (the `.r:*` and `.rlistings` entries of
 * X-Container-Read), which staticweb calls itself for a container request, as Swift does.
 * It sits after the auth filter; its subrequests (index, listing, error page) go through the
 * filters after it and are authorized as the client's request.
 */
import type { MiddlewareHandler } from 'hono';
import type { Logger } from 'pino';
import type { ProxyContext, ProxyEnv } from '../proxy/context';
import type { Section } from '../proxy/config';
import { defineFilter, type FilterContext } from '../proxy/filter';
import type { ContainerInfo } from '../proxy/info-cache';
import { RequestHeaders } from '../proxy/request-headers';
import { rawPathOf, rawQueryOf } from '../proxy/request-target';
import { replaceResponse, swiftResponse } from '../proxy/response';
import type { ProxyState } from '../proxy/state';
import { captureIdentity, discard, type Identity, type Subrequest } from '../proxy/subrequest';
import { splitPath } from '../common/path';
import { bytesOf, isUtf8, textOf, type ByteString } from '../compat/bytes';
import { pyStrip } from '../compat/py-whitespace';
import { quoteBytes, unquoteBytes } from '../compat/quote';
import { configTrue } from '../compat/truthy';
import { fetchContainerInfo } from './account-info';
import { disabledListingPage, listingLabel, listingPage, type ListingRow, type WebSettings } from './staticweb-listing';

export interface StaticWebOptions {
  /** url_base's scheme and host, which replace the request's in redirects (Swift discards its path). */
  urlScheme: string | undefined;
  urlHost: string | undefined;
  /** A url_base Swift would ignore (no scheme and no host), to warn about. */
  ignoredUrlBase: string | undefined;
}

/** urlparse(url_base).scheme and .netloc, the two parts staticweb keeps. */
export function parseStaticWebOptions(conf: Section): StaticWebOptions {
  const urlBase = conf.url_base ?? '';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(urlBase);
  const scheme = m ? m[1]!.toLowerCase() : '';
  const rest = m ? urlBase.slice(m[0].length) : urlBase;
  let host = '';
  if (rest.startsWith('//')) {
    const end = rest.slice(2).search(/[/?#]/);
    host = end < 0 ? rest.slice(2) : rest.slice(2, 2 + end);
  }
  return { urlScheme: scheme || undefined, urlHost: host || undefined, ignoredUrlBase: urlBase && !scheme && !host ? urlBase : undefined };
}

const NO_SETTINGS: WebSettings = { index: '', error: '', listings: '', listingsLabel: '', listingsCss: '', dirType: '' };

const isSuccess = (status: number) => status >= 200 && status < 300;
const isRedirection = (status: number) => status >= 300 && status < 400;

/** The answer for the client, or `undefined`: the request goes on down the pipeline unchanged. */
type Outcome = Response | undefined;

/** One request staticweb handles (Swift's _StaticWebContext). Paths are byte strings, as WSGI's PATH_INFO. */
class WebRequest {
  private settings = NO_SETTINGS;
  private readonly identity: Identity;
  private readonly method: string;
  private readonly headers: RequestHeaders;

  constructor(
    private readonly c: ProxyContext,
    private readonly state: ProxyState,
    private readonly app: Subrequest,
    private readonly options: StaticWebOptions,
    /** The unquoted request path (PATH_INFO). */
    private readonly path: ByteString,
    private readonly version: ByteString,
    private readonly account: ByteString,
    private readonly container: ByteString,
    readonly webMode: boolean,
  ) {
    this.identity = captureIdentity(c);
    this.method = c.req.method;
    this.headers = c.get('headers');
  }

  /** Swift's make_env agent: the client's User-Agent followed by " StaticWeb". */
  private get agent(): string {
    return `${this.headers.get('user-agent') ?? ''} StaticWeb`.trim();
  }

  /** _get_container_info: the web settings, stripped; none unless the container answered 2xx. */
  async loadSettings(): Promise<ContainerInfo> {
    const info = await fetchContainerInfo(this.state, this.c, textOf(this.account, 'strict'), textOf(this.container, 'strict'));
    const meta = info.meta;
    const get = (key: string) => pyStrip(meta[key] ?? '');
    this.settings = isSuccess(info.status)
      ? { index: get('web-index'), error: get('web-error'), listings: get('web-listings'), listingsLabel: get('web-listings-label'), listingsCss: get('web-listings-css'), dirType: get('web-directory-type') }
      : NO_SETTINGS;
    return info;
  }

  private containerPath(): ByteString {
    return `/${this.version}/${this.account}/${this.container}` as ByteString;
  }

  /** The client's request (method, headers, query) for another path, as Swift's dict(env) copy. */
  private sameRequest(path: ByteString): Promise<Response> {
    const headers = new RequestHeaders([...this.headers.entries()]);
    headers.set('user-agent', `${this.headers.get('user-agent') ?? 'None'} StaticWeb`);
    const query = rawQueryOf(this.c);
    return this.app(this.identity, { method: this.method, path: quoteBytes(path) + (query ? `?${query}` : ''), headers });
  }

  /** A GET of `path` (which may carry its own query) made as make_env makes it: the client's query unless given. */
  private get(path: ByteString, query?: string): Promise<Response> {
    const q = path.indexOf('?');
    const [p, pathQuery] = q < 0 ? [path, undefined] : [path.slice(0, q) as ByteString, path.slice(q + 1)];
    const qs = pathQuery ?? query ?? rawQueryOf(this.c);
    return this.app(this.identity, { method: 'GET', path: quoteBytes(p) + (qs ? `?${qs}` : ''), agent: this.agent });
  }

  /**
   * _error_response: with X-Container-Meta-Web-Error, the error's status with the headers and
   * body of `<status><error>` from the container when that GET succeeds; else the error itself.
   */
  async errorResponse(res: Response): Promise<Response> {
    const error = this.settings.error;
    if (!error) return res;
    const page = await this.get(`${this.containerPath()}/${res.status}${bytesOf(error)}` as ByteString);
    if (!isSuccess(page.status)) {
      discard(page.body);
      return res;
    }
    discard(res.body);
    if (this.method === 'HEAD') discard(page.body);
    return new Response(this.method === 'HEAD' ? null : page.body, { status: res.status, headers: new Headers(page.headers) });
  }

  /** swob's host_url, with url_base's scheme and host when set. */
  private hostUrl(): string {
    const incoming = this.c.env?.incoming as { socket?: { encrypted?: boolean; localAddress?: string; localPort?: number } } | undefined;
    const scheme = this.options.urlScheme ?? (incoming?.socket?.encrypted ? 'https' : 'http');
    let host = this.options.urlHost ?? this.headers.get('host');
    if (!host) {
      const addr = incoming?.socket?.localAddress ?? '127.0.0.1';
      host = `${addr.includes(':') ? `[${addr}]` : addr}:${incoming?.socket?.localPort ?? 80}`;
    }
    if ((scheme === 'http' && host.endsWith(':80')) || (scheme === 'https' && host.endsWith(':443'))) host = host.slice(0, host.lastIndexOf(':'));
    return `${scheme}://${host}`;
  }

  /** 301 to the path with a trailing slash (swob makes the Location absolute). */
  redirectWithSlash(): Response {
    return swiftResponse(301, { headers: { location: this.hostUrl() + quoteBytes(`${this.path}/` as ByteString) }, method: this.method });
  }

  /** _listing: the HTML listing of the container below `prefix`, or why there is none. */
  async listing(prefix?: ByteString): Promise<Response> {
    const s = this.settings;
    const label = listingLabel(textOf(this.path, 'surrogateescape'), s);
    const prefixText = prefix ? textOf(prefix, 'surrogateescape') : '';
    if (!configTrue(s.listings)) {
      return this.errorResponse(swiftResponse(404, { body: disabledListingPage(label, s, prefixText), method: this.method }));
    }
    const query = prefix ? `delimiter=/&prefix=${quoteBytes(prefix)}` : 'delimiter=/';
    const res = await this.get(this.containerPath(), query);
    if (!isSuccess(res.status)) return this.errorResponse(res);
    const text = await res.text();
    const parsed: unknown = text ? JSON.parse(text) : [];
    const rows = Array.isArray(parsed) ? (parsed as ListingRow[]) : [];
    if (prefix && rows.length === 0) return this.errorResponse(swiftResponse(404, { method: this.method }));
    return swiftResponse(200, { body: listingPage(label, s, prefixText, rows), method: this.method });
  }

  /** handle_container: the site's root. */
  async handleContainer(): Promise<Outcome> {
    const info = await this.loadSettings();
    const authorize = this.identity.authorize!;
    const denial = await authorize(this.c, {
      method: this.method,
      account: textOf(this.account, 'strict'),
      container: textOf(this.container, 'strict'),
      object: undefined,
      acl: info.readAcl,
      containerAcls: { read: info.readAcl, write: info.writeAcl },
      referer: this.headers.get('referer'),
      headers: this.headers,
    });
    if (denial) return this.errorResponse(denial);
    const s = this.settings;
    if (!s.listings && !s.index) return this.webMode ? swiftResponse(404, { method: this.method }) : undefined;
    if (!this.path.endsWith('/')) return this.redirectWithSlash();
    if (!s.index) return this.listing();
    const res = await this.sameRequest(`${this.path}${bytesOf(s.index)}` as ByteString);
    if (res.status === 404) {
      discard(res.body);
      return this.listing();
    }
    if (!isSuccess(res.status) && !isRedirection(res.status)) return this.errorResponse(res);
    return res;
  }

  /**
   * handle_object, once the object request itself was answered with `res`: a directory marker
   * counts as missing; a missing object may be a directory (index, listing, or a redirect to add
   * the slash when the container holds names below it).
   */
  async handleObject(res: Response, object: ByteString): Promise<Outcome> {
    await this.loadSettings();
    const s = this.settings;
    let status = res.status;
    if (isSuccess(status) || isRedirection(status)) {
      const length = res.headers.get('content-length');
      if (res.headers.get('content-type') === (s.dirType || 'application/directory') && (length ? Number(length) : 0) <= 1) status = 404;
      else return undefined;
    }
    // Not found, with nothing to look for: the object's own answer (non-404 errors never get an error page).
    if (status !== 404 || (!s.listings && !s.index)) return undefined;
    discard(res.body);
    const slashed = this.path.endsWith('/');
    if (s.index) {
      const index = await this.sameRequest(`${slashed ? this.path : `${this.path}/`}${bytesOf(s.index)}` as ByteString);
      if (isSuccess(index.status) || isRedirection(index.status)) {
        if (slashed) return index;
        discard(index.body);
        return this.redirectWithSlash();
      }
      // sluice: Swift answers nothing for an index that fails otherwise (a 416 for a Range, say), a 500.
      if (index.status !== 404) return index;
      discard(index.body);
    }
    if (slashed) return this.listing(object);
    // A name without its slash: a directory if anything is listed below it.
    const below = await this.get(this.containerPath(), `limit=1&delimiter=/&prefix=${quoteBytes(`${object}/` as ByteString)}`);
    const text = isSuccess(below.status) ? await below.text() : '';
    if (!isSuccess(below.status)) discard(below.body);
    const rows: unknown = text ? JSON.parse(text) : [];
    if (!Array.isArray(rows) || rows.length === 0) return this.errorResponse(swiftResponse(404, { method: this.method }));
    return this.redirectWithSlash();
  }
}

/** The request path split as staticweb splits PATH_INFO (2 to 4 segments), or undefined. */
function splitWebPath(path: ByteString): (ByteString | undefined)[] | undefined {
  try {
    return splitPath(path, 2, 4, true);
  } catch {
    return undefined;
  }
}

export function staticweb(options: StaticWebOptions, ctx: FilterContext): MiddlewareHandler<ProxyEnv> {
  const logger: Logger = ctx.logger.child({ log_route: 'staticweb' });
  if (options.ignoredUrlBase) logger.warn(`staticweb: url_base ${JSON.stringify(options.ignoredUrlBase)} has neither a scheme nor a host; redirects use the request's`);
  let warned = false;
  return async (c, next) => {
    if (!c.get('authorize')) {
      // Swift warns on every such request; once is enough to point at the pipeline order.
      if (!warned) logger.warn('No authentication middleware authorized request yet. Skipping staticweb');
      warned = true;
      return next();
    }
    const method = c.req.method;
    if (method !== 'GET' && method !== 'HEAD') return next();
    const path = unquoteBytes(rawPathOf(c));
    const segs = splitWebPath(path);
    if (!segs) return next();
    const [version, account, container, object] = segs;
    const webMode = configTrue(c.get('headers').get('x-web-mode') ?? 'f');
    if ((c.get('remoteUser') && !webMode) || !container) return next();
    // Names that are not UTF-8 are the proxy's to refuse (412).
    if (!isUtf8(account!) || !isUtf8(container)) return next();
    const web = new WebRequest(c, ctx.state, ctx.app, options, path, version!, account!, container, webMode);
    if (!object) {
      const outcome = await web.handleContainer();
      return outcome ?? next();
    }
    // The object itself first, on down the pipeline as the client sent it.
    await next();
    const outcome = await web.handleObject(c.res, object);
    if (outcome) replaceResponse(c, outcome);
  };
}

export const staticwebFilter = defineFilter<StaticWebOptions>({
  name: 'staticweb',
  options: parseStaticWebOptions,
  info: () => ({ staticweb: {} }),
  create: staticweb,
});
