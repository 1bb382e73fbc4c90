/**
 * Account requests (swift.proxy.controllers.account.AccountController).
 */
import { rawQueryOf } from '../request-target';
import type { ProxyContext } from '../context';
import { BaseController, VerbController, requestPairs, type Controller } from './base';
import { checkMetadata, checkNameLength } from '../check';
import { clientHeaders, swiftResponse } from '../response';
import { readFromNodes } from '../replicas';
import { ownerAclHeader } from '../../acl/v2';
import { IDENTITY_HEADER_SET } from '../../common/identity-headers';
import { asByteString } from '../../compat/bytes';
import { isHopByHop } from '../../compat/hop-by-hop';
import { forceJsonFormat, FAKE_LISTING_HEADER } from '../../common/listing-format';

const ACL_SYSMETA = 'x-account-sysmeta-core-access-control';

/** Request headers that describe the client's request, not the one to the backend. */
const NOT_FORWARDED = new Set(['host', 'content-length', 'expect']);

/**
 * Client headers forwarded on GET/HEAD (Swift passes the request's headers along), hop-by-hop
 * ones excepted. sluice: authtoken's identity headers stay in the pipeline; storage servers
 * ignore them, and Swift sends them, a score per request, only to be parsed and dropped.
 */
export function forwardedHeaders(c: ProxyContext): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of requestPairs(c)) if (!NOT_FORWARDED.has(k) && !IDENTITY_HEADER_SET.has(k) && !isHopByHop(k)) out[k] = v;
  return out;
}

export class AccountController extends VerbController implements Controller {
  get allowedMethods(): readonly string[] {
    // In the order real Swift 2.30.1 lists them in Allow (its set's iteration order).
    return this.state.options.allowAccountManagement ? ['OPTIONS', 'POST', 'PUT', 'GET', 'DELETE', 'HEAD'] : ['OPTIONS', 'POST', 'GET', 'HEAD'];
  }

  delaysDenial(): boolean {
    return false;
  }


  /**
   * Owners see the stored ACL as canonical JSON in X-Account-Access-Control (nothing for `{}` or
   * unparseable data); everyone else loses every privileged header.
   */
  private ownerView(c: ProxyContext, headers: Record<string, string>): Record<string, string> {
    const raw = headers[ACL_SYSMETA];
    delete headers[ACL_SYSMETA];
    const isOwner = c.get('swiftOwner');
    if (isOwner) {
      // Stored names are UTF-8: owners see proper code points, not Swift's byte-wise escapes.
      const acl = ownerAclHeader(raw === undefined ? undefined : asByteString(raw));
      if (acl !== undefined) headers['x-account-access-control'] = acl;
    } else {
      for (const h of this.state.options.swiftOwnerHeaders) delete headers[h];
    }
    return headers;
  }

  protected async getOrHead(c: ProxyContext, method: string): Promise<Response> {
    const tooLong = checkNameLength('Account', this.account, this.state.constraints);
    if (tooLong) return tooLong;
    const ring = this.state.rings.account;
    const part = ring.getPart(this.account);
    // Taken before the backend request: an answer older than an invalidation is not cached.
    const mark = this.infoMark();
    const res = await readFromNodes(this.state.backend, ring, part, {
      method,
      path: `/${this.account}`,
      query: forceJsonFormat(rawQueryOf(c)),
      headers: this.backendHeaders(c, forwardedHeaders(c)),
    });
    this.cacheAccountInfo(c, this.account, res, mark);
    if (!res) return swiftResponse(503, { method });
    let response: Response;
    if (res.status === 404 && (res.headers['x-account-status'] ?? '').toLowerCase() === 'deleted') {
      // Swift turns the backend's answer into 410, keeping its body and (update_headers) headers.
      response = this.respond(method, { ...res, status: 410 });
    } else if (res.status === 404 && this.state.options.accountAutocreate) {
      // A missing account looks empty (Swift's fake account listing, always a JSON 200 that
      // listing_formats then renders: 204 for an empty plain-text GET, 200 for HEAD).
      response = swiftResponse(200, {
        headers: {
          'x-account-container-count': '0',
          'x-account-object-count': '0',
          'x-account-bytes-used': '0',
          'x-timestamp': '0000000000.00000',
          'x-put-timestamp': '0000000000.00000',
          [FAKE_LISTING_HEADER]: 'yes',
        },
        body: '[]',
        contentType: 'application/json; charset=utf-8',
        method,
      });
    } else {
      const headers = this.ownerView(c, { ...res.headers });
      // update_headers: the backend's X-Put-Timestamp stays behind (only the fake listing has one).
      delete headers['x-put-timestamp'];
      // Swift's proxy advertises ranges on every answer from a good source (get_working_response);
      // not on the fake listing above, which no backend answered.
      if (res.status >= 200 && res.status < 400) headers['accept-ranges'] = 'bytes';
      response = swiftResponse(res.status, { headers: clientHeaders(headers), body: res.body, method });
    }
    return response;
  }

  protected async put(c: ProxyContext): Promise<Response> {
    const method = 'PUT';
    const bad = checkMetadata(requestPairs(c), 'account', this.state.constraints) ?? checkNameLength('Account', this.account, this.state.constraints);
    if (bad) return bad;
    const ring = this.state.rings.account;
    const part = ring.getPart(this.account);
    const headers = this.backendHeaders(c, this.transferHeaders(c, 'account', [], []));
    await this.clearAccountInfo(c);
    const res = await this.fanOut(c, ring, part, 'PUT', `/${this.account}`, ring.getPartNodes(part).map(() => headers));
    // Again once written: a lookup that began after the first clear may have cached the old state.
    await this.clearAccountInfo(c);
    return this.writeResponse(c, method, res);
  }

  protected async post(c: ProxyContext): Promise<Response> {
    const method = 'POST';
    const bad = checkNameLength('Account', this.account, this.state.constraints) ?? checkMetadata(requestPairs(c), 'account', this.state.constraints);
    if (bad) return bad;
    const ring = this.state.rings.account;
    const part = ring.getPart(this.account);
    const headers = this.backendHeaders(c, this.transferHeaders(c, 'account', [], []));
    await this.clearAccountInfo(c);
    const nodes = ring.getPartNodes(part);
    let res = await this.fanOut(c, ring, part, 'POST', `/${this.account}`, nodes.map(() => headers));
    if (res?.status === 404 && this.state.options.accountAutocreate) {
      await this.autocreateAccount(c);
      res = await this.fanOut(c, ring, part, 'POST', `/${this.account}`, nodes.map(() => headers));
    }
    // Again once written: a lookup that began after the first clear may have cached the old ACL.
    await this.clearAccountInfo(c);
    return this.writeResponse(c, method, res);
  }

  protected async delete(c: ProxyContext): Promise<Response> {
    const method = 'DELETE';
    if (rawQueryOf(c)) return swiftResponse(400, { method });
    const ring = this.state.rings.account;
    const part = ring.getPart(this.account);
    const headers = this.backendHeaders(c);
    await this.clearAccountInfo(c);
    const res = await this.fanOut(c, ring, part, 'DELETE', `/${this.account}`, ring.getPartNodes(part).map(() => headers));
    // Again once written: a lookup that began after the first clear may have cached the old state.
    await this.clearAccountInfo(c);
    return this.writeResponse(c, method, res);
  }

  private writeResponse(c: ProxyContext, method: string, res: Awaited<ReturnType<BaseController['fanOut']>>): Response {
    return this.respond(method, res, (h) => this.ownerView(c, h));
  }
}
