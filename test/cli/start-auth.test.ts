/**
 * `sluice start --auth keystone`'s options (src/cli/start-auth.ts) and the proxy-server.conf it
 * runs (devProxyConfWithKeystone): read in-process, so every case is cheap. The same failures
 * through the real CLI (exit 1, one error line, nothing started) are in startup-failures.test.ts.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_PROXY_CONF, devProxyConfWithKeystone, keystoneBaseUrl } from '../../src/cluster/dev-cluster';
import { parseProxyConfig } from '../../src/proxy/config';
import { refusePasswordArgument, startAuth, type AuthValues } from '../../src/cli/start-auth';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sluice-start-auth-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

function read(values: AuthValues, env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = [];
  const auth = startAuth(values, env, { warn: (l) => warnings.push(l) });
  return { auth, warnings };
}

const URL3 = 'http://127.0.0.1:5000/v3';

describe('startAuth', () => {
  it('is TempAuth without --auth, whatever the environment holds', () => {
    expect(read({}, { SLUICE_KEYSTONE_PASSWORD: 'x' }).auth).toEqual({ kind: 'tempauth' });
    expect(read({ auth: 'tempauth' }).auth).toEqual({ kind: 'tempauth' });
  });

  it('takes the password from SLUICE_KEYSTONE_PASSWORD, with the default names', () => {
    const { auth, warnings } = read({ auth: 'keystone', 'keystone-url': URL3 }, { SLUICE_KEYSTONE_PASSWORD: 's3cret %(x)s' });
    expect(auth).toEqual({ kind: 'keystone', keystone: { url: URL3, password: 's3cret %(x)s', username: 'sluice', projectName: 'service', domainId: 'default' } });
    expect(warnings).toEqual([]);
  });

  it('takes the names given', () => {
    const { auth } = read({ auth: 'keystone', 'keystone-url': URL3, 'keystone-user': 'swift', 'keystone-project': 'services', 'keystone-domain': 'd2' }, { SLUICE_KEYSTONE_PASSWORD: 'p' });
    expect(auth).toEqual({ kind: 'keystone', keystone: { url: URL3, password: 'p', username: 'swift', projectName: 'services', domainId: 'd2' } });
  });

  it("reads the password file's line without its newline, before the environment", () => {
    for (const [text, want] of [
      ['from-file\n', 'from-file'],
      ['from-file\r\n', 'from-file'],
      ['no newline', 'no newline'],
    ]) {
      const { auth, warnings } = read({ auth: 'keystone', 'keystone-url': URL3, 'keystone-password-file': file('pw', text!) }, { SLUICE_KEYSTONE_PASSWORD: 'from-env' });
      expect(auth.kind === 'keystone' && auth.keystone.password).toBe(want);
      expect(warnings).toEqual([]);
    }
  });

  it('warns when others can read the password file', () => {
    const path = file('pw-readable', 'Zq7-secret\n', 0o644);
    const { auth, warnings } = read({ auth: 'keystone', 'keystone-url': URL3, 'keystone-password-file': path });
    expect(auth.kind === 'keystone' && auth.keystone.password).toBe('Zq7-secret');
    expect(warnings).toEqual([`sluice: warning: --keystone-password-file ${path} can be read by other users (chmod 600 it)`]);
  });

  it('refuses what it cannot use, naming the option', () => {
    const ks = { auth: 'keystone', 'keystone-url': URL3 };
    const cases: [AuthValues, NodeJS.ProcessEnv, RegExp][] = [
      [{ auth: 'Keystone' }, {}, /^--auth must be tempauth or keystone \(got "Keystone"\)$/],
      [{ 'keystone-password-file': '/x' }, {}, /^--keystone-password-file needs --auth keystone$/],
      [{ auth: 'keystone' }, { SLUICE_KEYSTONE_PASSWORD: 'p' }, /^--auth keystone needs --keystone-url/],
      [ks, {}, /needs the service user's password/],
      [ks, { SLUICE_KEYSTONE_PASSWORD: '' }, /needs the service user's password/],
      [ks, { SLUICE_KEYSTONE_PASSWORD: ' padded' }, /must not begin or end with white space/],
      [{ ...ks, 'keystone-password-file': file('two-lines', 'a\nb\n') }, {}, /holds more than one line$/],
      [{ ...ks, 'keystone-password-file': file('empty', '') }, {}, /is empty$/],
      [{ ...ks, 'keystone-password-file': dir }, {}, /cannot be read: EISDIR/],
      [{ ...ks, 'keystone-user': '' }, { SLUICE_KEYSTONE_PASSWORD: 'p' }, /^--keystone-user must be a name/],
      [{ ...ks, 'keystone-project': ' service' }, { SLUICE_KEYSTONE_PASSWORD: 'p' }, /^--keystone-project must be a name/],
      [{ ...ks, 'keystone-url': 'http://127.0.0.1:5000/v3#x' }, { SLUICE_KEYSTONE_PASSWORD: 'p' }, /^--keystone-url: .*must not have a query or fragment$/],
      [{ ...ks, config: '/etc/swift/proxy-server.conf' }, { SLUICE_KEYSTONE_PASSWORD: 'p' }, /^--auth keystone changes the built-in configuration/],
    ];
    for (const [values, env, want] of cases) expect(() => read(values, env), JSON.stringify(values)).toThrow(want);
  });

  it('refuses a password option before argument parsing', () => {
    expect(() => refusePasswordArgument(['--auth', 'keystone', '--keystone-password', 'x'])).toThrow(/visible to every local user/);
    expect(() => refusePasswordArgument(['--keystone-password=x'])).toThrow(/there is no --keystone-password/);
    expect(() => refusePasswordArgument(['--keystone-password-file', 'f'])).not.toThrow();
  });
});

describe('keystoneBaseUrl', () => {
  it('drops the version and trailing slashes', () => {
    expect(keystoneBaseUrl('http://127.0.0.1:5000/v3')).toBe('http://127.0.0.1:5000');
    expect(keystoneBaseUrl('http://127.0.0.1:5000/v3/')).toBe('http://127.0.0.1:5000');
    expect(keystoneBaseUrl('http://127.0.0.1:5000')).toBe('http://127.0.0.1:5000');
    expect(keystoneBaseUrl('https://cloud.example/identity/v3')).toBe('https://cloud.example/identity');
    expect(keystoneBaseUrl('http://[::1]:5000/v2.0')).toBe('http://[::1]:5000');
    expect(keystoneBaseUrl('http://keystone/v3x')).toBe('http://keystone/v3x');
  });
});

describe('devProxyConfWithKeystone', () => {
  const auth = { url: 'http://127.0.0.1:5000/v3', username: 'sluice', password: 'pw', projectName: 'service', domainId: 'default' };

  it("is the development pipeline with authtoken keystoneauth in tempauth's place", () => {
    const dev = parseProxyConfig(DEV_PROXY_CONF);
    const ks = parseProxyConfig(devProxyConfWithKeystone(auth));
    const i = dev.pipeline.indexOf('tempauth');
    expect(i).toBeGreaterThan(dev.pipeline.indexOf('tempurl'));
    expect(ks.pipeline).toEqual([...dev.pipeline.slice(0, i), 'authtoken', 'keystoneauth', ...dev.pipeline.slice(i + 1)]);
    expect(ks.uses.authtoken).toBe('authtoken');
    expect(ks.uses.keystoneauth).toBe('keystoneauth');
    expect(ks.filters.tempauth).toBeUndefined();
    // Every other section as the development configuration has it.
    for (const name of dev.pipeline.slice(0, -1).filter((n) => n !== 'tempauth')) expect(ks.filters[name], name).toEqual(dev.filters[name]);
    expect(ks.app).toEqual(dev.app);
  });

  it("gives authtoken keystonemiddleware's options, with delay_auth_decision on", () => {
    const ks = parseProxyConfig(devProxyConfWithKeystone(auth));
    const own = (section: Record<string, string>) => Object.fromEntries(Object.entries(section).filter(([k]) => !(k in ks.defaults)));
    expect(own(ks.filters.authtoken!)).toEqual({
      www_authenticate_uri: 'http://127.0.0.1:5000',
      auth_url: 'http://127.0.0.1:5000',
      auth_type: 'password',
      username: 'sluice',
      password: 'pw',
      user_domain_id: 'default',
      project_name: 'service',
      project_domain_id: 'default',
      delay_auth_decision: 'true',
      cache: 'swift.cache',
      include_service_catalog: 'false',
      service_token_roles_required: 'true',
    });
    expect(own(ks.filters.keystoneauth!)).toEqual({ operator_roles: 'admin, swiftoperator', reseller_admin_role: 'ResellerAdmin' });
  });

  it('writes a password that reads back as it was: %, %(...)s, # and ; included', () => {
    for (const password of ['100%', 'a%(here)sb', '%%(x)s%', '#not-a-comment', ';semi', 'sp ace', 'ünï']) {
      const ks = parseProxyConfig(devProxyConfWithKeystone({ ...auth, password }));
      expect(ks.filters.authtoken!.password).toBe(password);
    }
  });

  it('refuses what proxy-server.conf cannot hold', () => {
    expect(() => devProxyConfWithKeystone({ ...auth, password: 'a\nb' })).toThrow(/the Keystone password cannot be written/);
    expect(() => devProxyConfWithKeystone({ ...auth, password: ' a' })).toThrow(/the Keystone password cannot be written/);
    expect(() => devProxyConfWithKeystone({ ...auth, url: 'ftp://x' })).toThrow(/is not http\(s\)/);
  });
});
