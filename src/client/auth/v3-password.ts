/** Keystone v3 `password` (keystoneauth1.identity.v3.Password): a user by id, or by name in a domain. */
import { required } from './base';
import { KeystoneV3Auth, scopeBody, userRef, type KeystoneScopeOptions, type KeystoneV3Options } from './keystone-v3';

export interface V3PasswordOptions extends KeystoneV3Options, KeystoneScopeOptions {
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
  password: string;
}

export class V3Password extends KeystoneV3Auth {
  private readonly user: Record<string, unknown>;
  private readonly password: string;
  private readonly scopeSection: unknown;

  constructor(options: V3PasswordOptions) {
    super(options);
    this.user = userRef(options, 'V3Password');
    this.password = required(options.password, 'V3Password password');
    this.scopeSection = scopeBody(options);
  }

  protected identity(): [string, unknown] {
    return ['password', { user: { ...this.user, password: this.password } }];
  }

  protected scope(): unknown {
    return this.scopeSection;
  }
}
