/**
 * A test-only stand-in for authtoken: it takes the identity from an `X-Test-Identity` header
 * (JSON) and sets the `keystone` context variable as authtoken would, so keystoneauth's
 * decisions can be tested one by one. The real authtoken against a real Keystone is tested in
 * test/keystone/.
 */
import type { KeystoneAuthResult, KeystoneIdentity } from '../../../src/proxy/context';
import { registerFilter } from '../../../src/proxy/filter';
import { proxyConf } from '../../helpers/proxy-conf';

export interface TestIdentity {
  user?: Partial<KeystoneIdentity> & { userId: string; projectId?: string; roles: string[] };
  /** Roles of a confirmed service token. */
  serviceRoles?: string[];
  serviceStatus?: 'Confirmed' | 'Invalid';
  userStatus?: 'Confirmed' | 'Invalid';
}

export function identityOf(u: TestIdentity['user']): KeystoneIdentity {
  return {
    userName: `${u!.userId}-name`,
    userDomainId: 'default',
    userDomainName: 'Default',
    projectName: u!.projectId ? `${u!.projectId}-name` : undefined,
    projectDomainId: u!.projectId ? 'default' : undefined,
    projectDomainName: u!.projectId ? 'Default' : undefined,
    domainId: undefined,
    domainName: undefined,
    systemScope: undefined,
    isAdminProject: false,
    expiresAt: Date.now() + 3600_000,
    projectId: undefined,
    ...u!,
  };
}

export const TEST_IDENTITY_FILTER = 'test_keystone_identity';

registerFilter({
  name: TEST_IDENTITY_FILTER,
  options: () => ({}),
  create: (_o, ctx) => {
    ctx.state.keystoneAuthtoken = true;
    return async (c, next) => {
      const headers = c.get('headers');
      const raw = headers.get('x-test-identity');
      headers.delete('x-test-identity');
      let result: KeystoneAuthResult = { userStatus: 'Invalid', user: undefined, serviceStatus: undefined, service: undefined };
      if (raw) {
        const t = JSON.parse(raw) as TestIdentity;
        result = {
          userStatus: t.userStatus ?? (t.user ? 'Confirmed' : 'Invalid'),
          user: t.user ? identityOf(t.user) : undefined,
          serviceStatus: t.serviceStatus ?? (t.serviceRoles ? 'Confirmed' : undefined),
          service: t.serviceRoles ? identityOf({ userId: 'svc', projectId: 'svcproject', roles: t.serviceRoles }) : undefined,
        };
      }
      c.set('keystone', result);
      return next();
    };
  },
});

export function keystoneauthConf(keystoneauthOptions = ''): string {
  return proxyConf({
    pipeline: `catch_errors gatekeeper healthcheck proxy-logging cache listing_formats tempurl ${TEST_IDENTITY_FILTER} keystoneauth copy versioned_writes symlink proxy-logging`.split(' '),
    sections: { keystoneauth: keystoneauthOptions },
  });
}
