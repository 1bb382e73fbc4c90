import { describe, expect, it } from 'vitest';
import { parseTempAuthConfig, readResellerOptions } from '../../../src/middleware/tempauth/config';
import { ConfigError } from '../../../src/proxy/config';
import { makeTempAuth } from './helpers';

describe('tempauth configuration', () => {
  it('without users and without dev_users there are no users, and a warning says every /auth is refused', () => {
    const sections: Record<string, string>[] = [{}, { dev_users: 'false' }, { dev_users: 'no', reseller_prefix: 'AUTH' }];
    for (const section of sections) {
      const c = parseTempAuthConfig(section);
      expect(c.developmentUsers).toBe(false);
      expect(c.users.size).toBe(0);
      expect(c.resellerPrefixes).toEqual(['AUTH_']);
      expect(c.warnings.join('\n')).toContain('tempauth: no users: no user_ lines, no users_db, and dev_users is not set');
    }
  });

  it('dev_users = true: the development users and prefixes of the recorded cluster', () => {
    const c = parseTempAuthConfig({ dev_users: 'true' });
    expect(c.developmentUsers).toBe(true);
    expect(c.resellerPrefixes).toEqual(['AUTH_', 'SERVICE_']);
    expect(c.requireGroup.get('SERVICE_')).toBe('service');
    expect(c.requireGroup.get('AUTH_')).toBe('');
    expect([...c.users.keys()].sort()).toEqual(['admin:admin', 'test2:tester2', 'test5:tester5', 'test:tester', 'test:tester2', 'test:tester3']);
    expect(c.users.get('admin:admin')).toMatchObject({ key: 'admin', groups: ['.admin', '.reseller_admin'], url: '$HOST/v1/AUTH_admin' });
    expect(c.warnings.some((w) => w.includes('development'))).toBe(true);
    expect(c.warnings.join()).not.toMatch(/testing/); // never log keys
  });

  it('reseller_prefix lists, underscores, duplicates, the empty prefix', () => {
    expect(readResellerOptions({ reseller_prefix: "AUTH, SERVICE_, AUTH_, ''" }).prefixes).toEqual(['AUTH_', 'SERVICE_', '']);
    expect(readResellerOptions({ reseller_prefix: '' }).prefixes).toEqual(['']);
    expect(readResellerOptions({}).prefixes).toEqual(['AUTH_']);
    const r = readResellerOptions({ reseller_prefix: "'', AUTH", require_group: 'all', AUTH_require_group: ' auth ', "''require_group": 'blank' });
    expect(r.requireGroup.get('AUTH_')).toBe('auth');
    expect(r.requireGroup.get('')).toBe('blank');
    expect(readResellerOptions({ reseller_prefix: 'A, B', require_group: 'g' }).requireGroup.get('B_')).toBe('g');
  });

  it('user_ and user64_ lines, storage URLs, groups', () => {
    const c = parseTempAuthConfig({
      reseller_prefix: 'AUTH',
      user_acct_bob: 'pw .admin g1 http://x.example.com/v1/AUTH_acct',
      user_acct_sue: 'pw2 $HOST/v1/OTHER_acct',
      user_caf_u: 'k1 g',
      // "my_acct" / "jo_e" need user64_ because of the underscores
      [`user64_${Buffer.from('my_acct').toString('base64').replace(/=+$/, '')}_${Buffer.from('jo_e').toString('base64').replace(/=+$/, '')}`]: 'k',
      auth_prefix: 'myauth',
      token_life: '60',
      storage_url_scheme: 'https',
      allow_overrides: 'no',
    });
    expect(c.developmentUsers).toBe(false);
    expect(c.users.get('acct:bob')).toMatchObject({ groups: ['.admin', 'g1'], url: 'http://x.example.com/v1/AUTH_acct' });
    expect(c.users.get('acct:sue')!.url).toBe('$HOST/v1/OTHER_acct');
    expect(c.users.get('caf:u')).toMatchObject({ groups: ['g'], url: '$HOST/v1/AUTH_caf' });
    expect(c.users.get('my_acct:jo_e')).toMatchObject({ key: 'k', url: '$HOST/v1/AUTH_my_acct' });
    expect(c.authPrefix).toBe('/myauth/');
    expect(c.tokenLife).toBe(60);
    expect(c.allowOverrides).toBe(false);
    expect(c.storageUrlScheme).toBe('https');
  });

  it('start-up errors', () => {
    expect(() => parseTempAuthConfig({ user_a_b_c: 'k' })).toThrow('key user_a_b_c was provided in an invalid format');
    expect(() => parseTempAuthConfig({ user_a_b: '  ' })).toThrow('user_a_b has no key set');
    expect(() => parseTempAuthConfig({ user_a_b: 'k', token_life: 'soon' })).toThrow(ConfigError);
    expect(() => parseTempAuthConfig({ user64_a_b: 'k' })).toThrow(ConfigError);
  });

  it('auth_prefix rewriting', () => {
    const c = parseTempAuthConfig({ user_a_b: 'k', auth_prefix: '/' });
    expect(c.authPrefix).toBe('/auth/');
    expect(c.warnings[0]).toMatch(/Rewriting invalid auth prefix/);
  });

  it('group strings: .admin becomes every prefixed account id', () => {
    const ta = makeTempAuth();
    const u = ta.conf.users.get('test:tester')!;
    expect(ta.userGroups(u, 'AUTH_test')).toBe('test,test:tester,AUTH_test,SERVICE_test');
    expect(ta.userGroups(ta.conf.users.get('test:tester3')!, 'AUTH_test')).toBe('test,test:tester3');
    const other = makeTempAuth({ reseller_prefix: 'AUTH', user_x_y: 'k .admin http://h/v1/CUSTOM_x' });
    expect(other.userGroups(other.conf.users.get('x:y')!, 'CUSTOM_x')).toBe('x,x:y,AUTH_x,CUSTOM_x');
  });
});
