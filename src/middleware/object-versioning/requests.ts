/**
 * The internal requests object versioning makes (Swift's make_pre_authed_request with
 * X-Backend-Allow-Reserved-Names, swift_source "OV") and its error mapping
 * (_check_response_error).
 */
import type { ParsedPath, ProxyContext } from '../../proxy/context';
import type { ContainerInfo } from '../../proxy/info-cache';
import { ResponseException } from '../../proxy/response';
import type { Identity, Subrequest, SubrequestOptions } from '../../proxy/subrequest';
import { HttpException } from '../../compat/http-exception';
import { quote } from '../../compat/quote';
import { drain } from '../symlink';
import { ALLOW_RESERVED_NAMES } from './names';

export const NO_VERSIONS_CONTAINER = 'The versions container does not exist. You may want to re-enable object versioning.';

/** `/<version>/<account>[/<container>[/<object>]]`, each part percent-encoded (NUL as %00). */
export function pathOf(version: string, account: string, container?: string, object?: string): string {
  return '/' + [version, account, container, object].filter((p): p is string => p !== undefined).map((p) => quote(p)).join('/');
}

export interface InternalRequest extends Omit<SubrequestOptions, 'preAuthenticated' | 'headers'> {
  headers?: Record<string, string>;
}

export class VersioningRequests {
  constructor(private readonly app: Subrequest) {}

  /** A pre-authenticated request that may name reserved containers and objects. */
  preAuthed(identity: Identity, opts: InternalRequest): Promise<Response> {
    return this.app(identity, { ...opts, headers: { ...opts.headers, [ALLOW_RESERVED_NAMES]: 'true' }, preAuthenticated: true, agent: 'Swift OV' });
  }

  /** A request authorized as the caller's own (Swift's req.get_response on the client's request). */
  asCaller(identity: Identity, opts: InternalRequest): Promise<Response> {
    return this.app(identity, { ...opts, preAuthenticated: false });
  }
}

/**
 * _check_response_error: success passes; a 404 (missing container) is 412; another 4xx is
 * passed on as it came; anything else is 503.
 */
export async function checkError(res: Response): Promise<void> {
  if (res.status >= 200 && res.status < 300) return;
  if (res.status >= 400 && res.status < 500) {
    if (res.status === 404) {
      await drain(res);
      throw new HttpException(412);
    }
    const body = Buffer.from(await res.arrayBuffer());
    throw new ResponseException(new Response(body.length ? body : null, { status: res.status, headers: res.headers }));
  }
  await drain(res);
  throw new HttpException(503);
}

/** The caller must be allowed to write the container before versions are touched (swift.authorize). */
export async function authorizeWrite(c: ProxyContext, identity: Identity, path: ParsedPath, info: ContainerInfo | undefined): Promise<void> {
  if (!identity.authorize || identity.preAuthenticated) return;
  const denial = await identity.authorize(c, {
    method: c.req.method,
    account: path.account,
    container: path.container,
    object: path.object,
    acl: info?.writeAcl,
    referer: c.get('headers').get('referer'),
    headers: c.get('headers'),
  });
  if (denial) throw new ResponseException(denial);
}
