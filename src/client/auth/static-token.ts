/**
 * A token and endpoint the application already has (keystoneauth's token_endpoint plugin,
 * swiftclient's `--os-auth-token` with `--os-storage-url`): every filter selects the endpoint,
 * and a 401 cannot be recovered from, since there is no way to get another token.
 */
import type { AuthPlugin } from '../types';
import { httpUrl, required } from './base';

export interface StaticTokenOptions {
  token: string;
  endpoint: string;
}

export class StaticToken implements AuthPlugin {
  private readonly token: string;
  private readonly endpoint: string;

  constructor(options: StaticTokenOptions) {
    this.token = required(options.token, 'StaticToken token');
    this.endpoint = httpUrl(options.endpoint, 'StaticToken endpoint');
  }

  async getHeaders(): Promise<Record<string, string>> {
    return { 'X-Auth-Token': this.token };
  }

  async getEndpoint(): Promise<string> {
    return this.endpoint;
  }

  invalidate(): boolean {
    return false;
  }
}
