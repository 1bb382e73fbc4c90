/**
 * Container requests (swift.proxy.controllers.container.ContainerController). GET/HEAD delay
 * denial: authorize runs again with the container's read ACL. PUT/POST/DELETE are never
 * delayed, so container ACLs never grant creating, changing or deleting a container.
 */
import { rawQueryOf } from '../request-target';
import type { ProxyContext } from '../context';
import { BaseController, VerbController, requestPairs, type Controller } from './base';
import { forwardedHeaders } from './account';
import { checkMetadata, checkNameLength } from '../check';
import { clientHeaders, swiftResponse } from '../response';
import { readFromNodes } from '../replicas';
import { forceJsonFormat } from '../../common/listing-format';
import { defaultPolicy, policyByName } from '../../common/swift-conf';
import { Timestamp } from '../../common/timestamp';
import { configTrue } from '../../compat/truthy';

export const CONTAINER_PASS_THROUGH = ['x-container-read', 'x-container-write', 'x-container-sync-key', 'x-container-sync-to', 'x-versions-location'];
export const CONTAINER_REMOVABLE = [
  'x-remove-container-read',
  'x-remove-container-write',
  'x-remove-versions-location',
  'x-remove-container-sync-key',
  'x-remove-container-sync-to',
];

/** The remove form of each privileged container header (dropped for non-owners like the set form). */
const PRIVILEGED_REMOVE_FORMS: Record<string, string> = {
  'x-container-read': 'x-remove-container-read',
  'x-container-write': 'x-remove-container-write',
  'x-container-sync-key': 'x-remove-container-sync-key',
  'x-container-sync-to': 'x-remove-container-sync-to',
  'x-container-meta-temp-url-key': 'x-remove-container-meta-temp-url-key',
  'x-container-meta-temp-url-key-2': 'x-remove-container-meta-temp-url-key-2',
};

export class ContainerController extends VerbController implements Controller {
  /** In the order real Swift 2.30.1 lists them in Allow (its set's iteration order). */
  readonly allowedMethods = ['OPTIONS', 'POST', 'PUT', 'GET', 'DELETE', 'HEAD'] as const;

  /** Swift's @delay_denial is on GET and HEAD only (OPTIONS is the undecorated base handler). */
  delaysDenial(method: string): boolean {
    return method === 'GET' || method === 'HEAD';
  }


  private accountExists(info: Awaited<ReturnType<BaseController['accountInfo']>>): boolean {
    return info.status >= 200 && info.status < 300 && info.reallyExists;
  }

  protected async getOrHead(c: ProxyContext, method: string): Promise<Response> {
    const acct = await this.accountInfo(c);
    const autoAccount = this.account.startsWith(this.state.constraints.auto_create_account_prefix);
    if (!autoAccount && !this.accountExists(acct)) {
      // Swift: with no account, an unauthorised caller gets its denial, others 404.
      const denial = await this.authorizeWithAcl(c, method, undefined);
      return denial ?? swiftResponse(404, { method });
    }
    const ring = this.state.rings.container;
    const part = ring.getPart(this.account, this.container);
    // Taken before the backend request: an answer older than an invalidation is not cached.
    const mark = this.infoMark();
    const res = await readFromNodes(this.state.backend, ring, part, {
      method,
      path: `/${this.account}/${this.container}`,
      query: forceJsonFormat(rawQueryOf(c)),
      headers: this.backendHeaders(c, forwardedHeaders(c)),
    });
    const info = this.cacheContainerInfo(c, this.account, this.container!, res, mark);
    const denial = await this.authorizeWithAcl(c, method, info.readAcl, info);
    if (denial) return denial;
    if (!res) return swiftResponse(503, { method });
    const headers = clientHeaders(res.headers);
    // update_headers: the backend's X-Put-Timestamp stays behind (Swift never shows it).
    delete headers['x-put-timestamp'];
    if (!c.get('swiftOwner')) for (const h of this.state.options.swiftOwnerHeaders) delete headers[h];
    // Swift's proxy advertises ranges on every answer from a good source (get_working_response).
    if (res.status >= 200 && res.status < 400) headers['accept-ranges'] = 'bytes';
    if (c.get('resellerRequest')) {
      headers['x-container-sharding'] = configTrue(headers['x-container-sysmeta-sharding']) ? 'True' : 'False';
    }
    if (res.status >= 200 && res.status < 300 && headers['x-backend-storage-policy-index'] !== undefined) {
      const policy = this.state.swiftConf.policies.find((p) => String(p.index) === headers['x-backend-storage-policy-index']);
      if (policy) headers['x-storage-policy'] = policy.name;
    }
    return swiftResponse(res.status, { headers, body: res.body, method });
  }

  /**
   * Runs the container ACL clean-up the auth layer installed (400 with its message), then
   * drops privileged headers a non-owner sent, both the set and the remove forms.
   */
  private prepareWrite(c: ProxyContext): Response | undefined {
    const headers = c.get('headers');
    const cleanAcl = c.get('cleanAcl');
    if (cleanAcl) {
      for (const name of ['x-container-read', 'x-container-write']) {
        const v = headers.get(name);
        if (v === undefined) continue;
        try {
          headers.set(name, cleanAcl(name, v));
        } catch (err) {
          return swiftResponse(400, { body: (err as Error).message });
        }
      }
    }
    const bad = checkMetadata(requestPairs(c), 'container', this.state.constraints);
    if (bad) return bad;
    if (!c.get('swiftOwner')) {
      for (const h of this.state.options.swiftOwnerHeaders) {
        headers.delete(h);
        const removeForm = PRIVILEGED_REMOVE_FORMS[h];
        if (removeForm) headers.delete(removeForm);
      }
    }
    return undefined;
  }

  private policyIndex(c: ProxyContext): number | Response | undefined {
    const name = c.get('headers').get('x-storage-policy');
    if (!name) return undefined;
    const policy = policyByName(this.state.swiftConf, name);
    if (!policy) return swiftResponse(400, { body: `Invalid X-Storage-Policy '${name}'`, contentType: 'text/plain' });
    if (policy.deprecated) return swiftResponse(400, { body: `Storage Policy '${policy.name}' is deprecated` });
    return policy.index;
  }

  /** One header set per container replica, with the account servers spread over them round-robin. */
  private backendRequests(c: ProxyContext, n: number, policyIndex: number | undefined, withAccounts: boolean): Record<string, string>[] {
    const additional: Record<string, string> = { 'x-timestamp': Timestamp.now().internal };
    if (policyIndex === undefined) additional['x-backend-storage-policy-default'] = String(defaultPolicy(this.state.swiftConf).index);
    else additional['x-backend-storage-policy-index'] = String(policyIndex);
    const transfer = this.transferHeaders(c, 'container', CONTAINER_PASS_THROUGH, CONTAINER_REMOVABLE);
    const list = Array.from({ length: n }, () => this.backendHeaders(c, { ...transfer, ...additional }));
    if (withAccounts && n > 0) {
      const ring = this.state.rings.account;
      const part = ring.getPart(this.account);
      ring.getPartNodes(part).forEach((node, i) => {
        const h = list[i % n]!;
        h['x-account-partition'] = String(part);
        h['x-account-host'] = h['x-account-host'] ? `${h['x-account-host']},${node.ip}:${node.port}` : `${node.ip}:${node.port}`;
        h['x-account-device'] = h['x-account-device'] ? `${h['x-account-device']},${node.device}` : node.device;
      });
    }
    return list;
  }

  protected async put(c: ProxyContext): Promise<Response> {
    const method = 'PUT';
    const prep = this.prepareWrite(c);
    if (prep) return prep;
    const policy = this.policyIndex(c);
    if (policy instanceof Response) return policy;
    const tooLong = checkNameLength('Container', this.container!, this.state.constraints, this.account);
    if (tooLong) return tooLong;
    let acct = await this.accountInfo(c);
    if (!this.accountExists(acct) && this.state.options.accountAutocreate) {
      if (!(await this.autocreateAccount(c))) return swiftResponse(503, { method });
      acct = await this.accountInfo(c);
    }
    if (!this.accountExists(acct)) return swiftResponse(404, { method });
    const max = this.state.options.maxContainersPerAccount;
    if (max > 0 && acct.containerCount >= max && !this.state.options.maxContainersWhitelist.has(this.account)) {
      const existing = await this.containerInfo(c);
      if (!(existing.status >= 200 && existing.status < 300)) {
        return swiftResponse(403, { body: `Reached container limit of ${max}`, method });
      }
    }
    const ring = this.state.rings.container;
    const part = ring.getPart(this.account, this.container);
    const n = ring.getPartNodes(part).length;
    const res = await this.fanOut(c, ring, part, 'PUT', `/${this.account}/${this.container}`, this.backendRequests(c, n, policy, true));
    await this.clearContainerInfo(c);
    await this.clearAccountInfo(c);
    return this.respond(method, res);
  }

  protected async post(c: ProxyContext): Promise<Response> {
    const method = 'POST';
    const prep = this.prepareWrite(c);
    if (prep) return prep;
    const acct = await this.accountInfo(c);
    if (!this.accountExists(acct)) return swiftResponse(404, { method });
    const ring = this.state.rings.container;
    const part = ring.getPart(this.account, this.container);
    const headers = this.backendHeaders(c, this.transferHeaders(c, 'container', CONTAINER_PASS_THROUGH, CONTAINER_REMOVABLE));
    await this.clearContainerInfo(c);
    const res = await this.fanOut(c, ring, part, 'POST', `/${this.account}/${this.container}`, ring.getPartNodes(part).map(() => headers));
    // Again once written: a lookup that began after the first clear may have cached the old ACL.
    await this.clearContainerInfo(c);
    return this.respond(method, res);
  }

  protected async delete(c: ProxyContext): Promise<Response> {
    const method = 'DELETE';
    const acct = await this.accountInfo(c);
    if (!this.accountExists(acct)) return swiftResponse(404, { method });
    const ring = this.state.rings.container;
    const part = ring.getPart(this.account, this.container);
    const n = ring.getPartNodes(part).length;
    await this.clearContainerInfo(c);
    const res = await this.fanOut(c, ring, part, 'DELETE', `/${this.account}/${this.container}`, this.backendRequests(c, n, undefined, true));
    await this.clearContainerInfo(c);
    await this.clearAccountInfo(c);
    // Swift: a 202 from the container servers means the container was already gone.
    if (res?.status === 202) return swiftResponse(404, { method });
    return this.respond(method, res);
  }
}
