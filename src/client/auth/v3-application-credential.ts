/**
 * Keystone v3 `application_credential` (keystoneauth1.identity.v3.ApplicationCredential): by
 * id, or by name with its user. No scope is sent: the credential is bound to its project and
 * Keystone refuses a scope beside it.
 */
import { ClientConfigError } from '../errors';
import { required } from './base';
import { KeystoneV3Auth, userRef, type KeystoneV3Options } from './keystone-v3';

export interface V3ApplicationCredentialOptions extends KeystoneV3Options {
  applicationCredentialId?: string;
  applicationCredentialName?: string;
  applicationCredentialSecret: string;
  /** The owner, needed with a credential name. */
  userId?: string;
  username?: string;
  userDomainId?: string;
  userDomainName?: string;
}

export class V3ApplicationCredential extends KeystoneV3Auth {
  private readonly credential: Record<string, unknown>;
  private readonly secret: string;

  constructor(options: V3ApplicationCredentialOptions) {
    super(options);
    this.secret = required(options.applicationCredentialSecret, 'V3ApplicationCredential applicationCredentialSecret');
    if (options.applicationCredentialId) this.credential = { id: options.applicationCredentialId };
    else if (options.applicationCredentialName) this.credential = { name: options.applicationCredentialName, user: userRef(options, 'V3ApplicationCredential') };
    else throw new ClientConfigError('V3ApplicationCredential needs applicationCredentialId, or applicationCredentialName with its user');
  }

  protected identity(): [string, unknown] {
    return ['application_credential', { ...this.credential, secret: this.secret }];
  }

  protected scope(): unknown {
    return undefined;
  }
}
