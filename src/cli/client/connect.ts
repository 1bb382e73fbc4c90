/**
 * A Session and an ObjectStore for the credentials the flags and environment give
 * (credentials.ts), the way swiftclient's Connection is built from its options.
 */
import { Session, StaticToken, TempAuth, V3ApplicationCredential, V3Password, type AuthPlugin } from '../../client';
import { ObjectStore } from '../../client/object';
import type { AuthSpec, ConnectionSpec } from './credentials';

export function authPlugin(auth: AuthSpec): AuthPlugin {
  switch (auth.kind) {
    case 'token':
      return new StaticToken({ token: auth.token, endpoint: auth.storageUrl });
    case 'v1':
      return new TempAuth({ authUrl: auth.authUrl, user: auth.user, key: auth.key });
    case 'v3applicationcredential':
      return new V3ApplicationCredential({ authUrl: auth.authUrl, applicationCredentialId: auth.id, applicationCredentialSecret: auth.secret });
    case 'v3password': {
      const { kind: _kind, ...options } = auth;
      return new V3Password(options);
    }
  }
}

export interface Connection {
  session: Session;
  store: ObjectStore;
}

export function connect(spec: ConnectionSpec, appName = 'sluice-cli'): Connection {
  const session = new Session({
    auth: authPlugin(spec.auth),
    timeout: spec.timeoutMs,
    connectRetries: spec.retries,
    statusCodeRetries: spec.retries,
    ca: spec.cacert,
    insecure: spec.insecure,
    userAgent: appName,
  });
  const store = new ObjectStore(session, { endpointFilter: { serviceType: spec.serviceType, interface: spec.interface, regionName: spec.regionName } });
  return { session, store };
}
