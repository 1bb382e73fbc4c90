import pino from 'pino';
import type { ProxyContext, ProxyVariables } from '../../../src/proxy/context';
import { RequestHeaders } from '../../../src/proxy/request-headers';
import { LruInfoCache, type AccountInfo } from '../../../src/proxy/info-cache';
import type { ProxyState } from '../../../src/proxy/state';
import { parseTempAuthConfig } from '../../../src/middleware/tempauth/config';
import { TempAuth } from '../../../src/middleware/tempauth/tempauth';
import type { Section } from '../../../src/proxy/config';

export function fakeState(): ProxyState {
  return { cache: new LruInfoCache(), options: { recheckAccountExistence: 60, recheckContainerExistence: 60 } } as unknown as ProxyState;
}

export function accountInfo(acl?: string, status = 204): AccountInfo {
  return { status, containerCount: 0, objectCount: 0, bytes: 0, meta: {}, sysmeta: acl === undefined ? {} : { 'core-access-control': acl }, reallyExists: true };
}

/** A Hono-like context with just what tempauth touches; account info is pre-cached per request. */
export function fakeCtx(opts: { method?: string; headers?: Record<string, string>; remoteUser?: string; accounts?: Record<string, AccountInfo> } = {}): ProxyContext {
  const infoCache = new Map<string, AccountInfo>();
  for (const [a, info] of Object.entries(opts.accounts ?? {})) infoCache.set(`account/${a}`, info);
  const vars = new Map<string, unknown>(
    Object.entries({
      headers: new RequestHeaders(Object.entries(opts.headers ?? {})),
      swiftOwner: false,
      remoteUser: opts.remoteUser,
      authorize: undefined,
      cleanAcl: undefined,
      infoCache,
      authorizeOverride: false,
      preAuthenticated: false,
      transId: 'tx',
    } satisfies Partial<ProxyVariables>),
  );
  return {
    get: (k: string) => vars.get(k),
    set: (k: string, v: unknown) => vars.set(k, v),
    req: { method: opts.method ?? 'GET', url: 'http://127.0.0.1/' },
    env: {},
  } as unknown as ProxyContext;
}

export const DEV_GROUPS = {
  tester: 'test,test:tester,AUTH_test,SERVICE_test',
  tester3: 'test,test:tester3',
  test2: 'test2,test2:tester2,AUTH_test2,SERVICE_test2',
  test5: 'test5,test5:tester5,service',
  admin: 'admin,admin:admin,.reseller_admin,AUTH_admin,SERVICE_admin',
};

/** A TempAuth of the given section; by default the development one (dev_users = true). */
export function makeTempAuth(conf: Section = { dev_users: 'true' }): TempAuth {
  return new TempAuth(parseTempAuthConfig(conf), fakeState(), pino({ level: 'silent' }));
}
