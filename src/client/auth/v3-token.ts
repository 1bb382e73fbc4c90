/** Keystone v3 `token` (keystoneauth1.identity.v3.Token): a new token, possibly of another scope, from an existing one. */
import { required } from './base';
import { KeystoneV3Auth, scopeBody, type KeystoneScopeOptions, type KeystoneV3Options } from './keystone-v3';

export interface V3TokenOptions extends KeystoneV3Options, KeystoneScopeOptions {
  token: string;
}

export class V3Token extends KeystoneV3Auth {
  private readonly token: string;
  private readonly scopeSection: unknown;

  constructor(options: V3TokenOptions) {
    super(options);
    this.token = required(options.token, 'V3Token token');
    this.scopeSection = scopeBody(options);
  }

  protected identity(): [string, unknown] {
    return ['token', { id: this.token }];
  }

  protected scope(): unknown {
    return this.scopeSection;
  }
}
