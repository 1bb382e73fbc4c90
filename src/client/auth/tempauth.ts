/**
 * Swift's TempAuth v1 (`GET /auth/v1.0` with X-Auth-User and X-Auth-Key, as swiftclient's
 * get_auth_1_0): the answer's X-Auth-Token (or X-Storage-Token) is the token, its
 * X-Storage-Url the object-store endpoint, and X-Auth-Token-Expires the seconds it has left.
 */
import { DEFAULT_SERVICE_TYPE } from '../catalog';
import { AuthenticationError } from '../errors';
import type { AuthTransport, EndpointFilter } from '../types';
import { versionBetween, versionFromUrl, versionRange } from '../version';
import { BaseAuthPlugin, httpUrl, required, type AccessInfo, type BaseAuthOptions } from './base';

export interface TempAuthOptions extends BaseAuthOptions {
  /** e.g. `http://127.0.0.1:8080/auth/v1.0`. */
  authUrl: string;
  /** `account:user`. */
  user: string;
  key: string;
}

export class TempAuth extends BaseAuthPlugin {
  private readonly authUrl: string;
  private readonly user: string;
  private readonly key: string;

  constructor(options: TempAuthOptions) {
    super(options);
    this.authUrl = httpUrl(options.authUrl, 'TempAuth authUrl');
    this.user = required(options.user, 'TempAuth user');
    this.key = required(options.key, 'TempAuth key');
  }

  protected async authenticate(transport: AuthTransport): Promise<AccessInfo> {
    const res = await transport.send(this.authUrl, { method: 'GET', headers: { 'X-Auth-User': this.user, 'X-Auth-Key': this.key } });
    if (res.status < 200 || res.status >= 300) throw new AuthenticationError(res.status, 'GET', res.url, res.headers, res.text);
    const token = res.headers['x-auth-token'] ?? res.headers['x-storage-token'];
    const storageUrl = res.headers['x-storage-url'];
    if (!token || !storageUrl) {
      throw new AuthenticationError(res.status, 'GET', res.url, res.headers, '', 'the answer has no X-Auth-Token or no X-Storage-Url');
    }
    const left = Number(res.headers['x-auth-token-expires']);
    // Without X-Auth-Token-Expires (older Swift) the token is used until it is refused.
    const expiresAt = Number.isFinite(left) && res.headers['x-auth-token-expires']!.trim() !== '' ? new Date(Date.now() + left * 1000) : undefined;
    return { token, storageUrl, expiresAt };
  }

  override async getEndpoint(transport: AuthTransport, filter: EndpointFilter): Promise<string | undefined> {
    if ((filter.serviceType ?? DEFAULT_SERVICE_TYPE) !== DEFAULT_SERVICE_TYPE) return undefined;
    const { storageUrl } = await this.getAccess(transport);
    const range = versionRange(filter);
    if (range) {
      const v = versionFromUrl(storageUrl!);
      if (!v || !versionBetween(range, v)) return undefined;
    }
    return storageUrl;
  }
}
