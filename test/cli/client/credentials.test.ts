// How the object-storage commands read credentials: python-swiftclient's flags, environment and
// auth-version rules (src/cli/client/credentials.ts).
import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { connectionSpec, CREDENTIAL_OPTIONS, normaliseCredentialArgs } from '../../../src/cli/client/credentials';
import { UsageError } from '../../../src/cli/errors';

function spec(argv: string[], env: NodeJS.ProcessEnv = {}) {
  const { values } = parseArgs({ args: normaliseCredentialArgs(argv), options: CREDENTIAL_OPTIONS, allowPositionals: true });
  return connectionSpec(values, env);
}

function usageError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error('no UsageError');
}

describe('credentials', () => {
  it('TempAuth v1 from ST_* and from -A/-U/-K, flags winning', () => {
    const env = { ST_AUTH: 'http://h:1/auth/v1.0', ST_USER: 'test:tester', ST_KEY: 'testing' };
    expect(spec([], env).auth).toEqual({ kind: 'v1', authUrl: 'http://h:1/auth/v1.0', user: 'test:tester', key: 'testing' });
    expect(spec(['-U', 'test2:tester2', '-K', 'k2'], env).auth).toEqual({ kind: 'v1', authUrl: 'http://h:1/auth/v1.0', user: 'test2:tester2', key: 'k2' });
    expect(spec([], env)).toMatchObject({ serviceType: 'object-store', interface: 'public', retries: 5, insecure: false });
  });

  it('a token and storage URL are used as they are, before anything else', () => {
    const env = { ST_AUTH: 'http://h:1/auth/v1.0', ST_USER: 'a:b', ST_KEY: 'c', OS_AUTH_TOKEN: 'tok', OS_STORAGE_URL: 'http://h:1/v1/AUTH_a' };
    expect(spec([], env).auth).toEqual({ kind: 'token', token: 'tok', storageUrl: 'http://h:1/v1/AUTH_a' });
    expect(usageError(() => spec(['--os-auth-token', 'tok']))).toMatch(/needs --os-storage-url/);
  });

  it('Keystone v3 password from OS_*, with the default domain for bare names', () => {
    const env = { OS_AUTH_URL: 'http://k:5000/v3', OS_USERNAME: 'alice', OS_PASSWORD: 'secret-pw', OS_PROJECT_NAME: 'proj' };
    expect(spec([], env).auth).toEqual({
      kind: 'v3password',
      authUrl: 'http://k:5000/v3',
      username: 'alice',
      userId: undefined,
      userDomainId: 'default',
      userDomainName: undefined,
      password: 'secret-pw',
      projectId: undefined,
      projectName: 'proj',
      projectDomainId: 'default',
      projectDomainName: undefined,
    });
    const named = spec(['--os_user_domain_name', 'D2', '--os-project-domain-name=D2', '--os-region-name', 'R2', '--os-endpoint-type', 'internalURL'], env);
    expect(named.auth).toMatchObject({ userDomainId: undefined, userDomainName: 'D2', projectDomainId: undefined, projectDomainName: 'D2' });
    expect(named).toMatchObject({ regionName: 'R2', interface: 'internal' });
  });

  it('-V 3 makes -A/-U/-K Keystone credentials, as swiftclient', () => {
    const auth = spec(['-V', '3', '-A', 'http://k:5000/v3', '-U', 'bob', '-K', 'pw', '--os-project-id', 'p1']).auth;
    expect(auth).toMatchObject({ kind: 'v3password', authUrl: 'http://k:5000/v3', username: 'bob', password: 'pw', projectId: 'p1' });
  });

  it('an application credential', () => {
    const env = { OS_AUTH_URL: 'http://k:5000/v3', OS_AUTH_TYPE: 'v3applicationcredential', OS_APPLICATION_CREDENTIAL_ID: 'ac1', OS_APPLICATION_CREDENTIAL_SECRET: 'shh' };
    expect(spec([], env).auth).toEqual({ kind: 'v3applicationcredential', authUrl: 'http://k:5000/v3', id: 'ac1', secret: 'shh' });
    expect(usageError(() => spec([], { ...env, OS_APPLICATION_CREDENTIAL_SECRET: '' }))).toMatch(/needs OS_APPLICATION_CREDENTIAL_ID and OS_APPLICATION_CREDENTIAL_SECRET/);
  });

  it('names what is missing, never a secret', () => {
    const msg = usageError(() => spec(['-A', 'http://h:1/auth/v1.0', '-U', 'a:b']));
    expect(msg).toMatch(/TempAuth needs ST_KEY \(-K\)/);
    expect(usageError(() => spec(['-V', '3', '-A', 'http://k/v3', '-U', 'bob']))).toMatch(/needs OS_PASSWORD/);
    const bad = usageError(() => spec(['-A', 'ftp://h/auth', '-U', 'a:b', '-K', 'topsecret']));
    expect(bad).toMatch(/not an http or https URL/);
    expect(bad).not.toContain('topsecret');
    expect(usageError(() => spec(['-V', '2', '-A', 'http://k/v2.0', '-U', 'a', '-K', 'b']))).toMatch(/Keystone v2 is not supported/);
    expect(usageError(() => spec(['-R', 'many'], { ST_AUTH: 'http://h/auth/v1.0', ST_USER: 'a:b', ST_KEY: 'k' }))).toMatch(/--retries must be a whole number/);
    expect(usageError(() => spec(['--os-endpoint-type', 'private'], { ST_AUTH: 'http://h/auth/v1.0', ST_USER: 'a:b', ST_KEY: 'k' }))).toMatch(/public, internal or admin/);
  });

  it('timeouts in seconds and SWIFTCLIENT_INSECURE', () => {
    const env = { ST_AUTH: 'http://h/auth/v1.0', ST_USER: 'a:b', ST_KEY: 'k', SWIFTCLIENT_INSECURE: 'true' };
    expect(spec(['-T', '2.5'], env)).toMatchObject({ timeoutMs: 2500, insecure: true });
    expect(usageError(() => spec(['-T', '0'], env))).toMatch(/--timeout/);
  });
});
