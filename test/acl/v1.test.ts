import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { cleanAcl, formatAcl, formatAclV1, parseAcl, parseAclV1 } from '../../src/acl/v1';
import { referrerAllowed, referrerHost } from '../../src/acl/referrer';
import { accountAclError, aclsFromAccountInfo, aclsFromSysmeta } from '../../src/acl/account-acls';
import { accountAclsCached, clearAclCaches, parseAclV1Cached } from '../../src/acl/cache';

describe('cleanAcl', () => {
  it('tidies as Swift documents', () => {
    const table: [string, string][] = [
      ['bob, sue', 'bob,sue'],
      ['bob , sue', 'bob,sue'],
      ['bob,,,sue', 'bob,sue'],
      ['.referrer : *', '.r:*'],
      ['.ref:*.example.com', '.r:.example.com'],
      ['.r:*, .rlistings', '.r:*,.rlistings'],
      ['bob : sue', 'bob : sue'],
      ['.r:-*.bad.com', '.r:-.bad.com'],
      ['.r: - bad.com', '.r:-bad.com'],
      ['AUTH_test,test:tester3', 'AUTH_test,test:tester3'],
    ];
    for (const [input, out] of table) expect(cleanAcl('X-Container-Read', input), input).toBe(out);
  });

  it('errors with Python repr quoting', () => {
    expect(() => cleanAcl('X-Container-Write', '.r:*')).toThrow("Referrers not allowed in write ACL: '.r:*'");
    for (const bad of ['.r:', '.r:-', '.r:.', '.r:*.']) {
      expect(() => cleanAcl('X-Container-Read', bad)).toThrow(`No host/domain value after referrer designation in ACL: '${bad}'`);
    }
    // sluice: items whose Swift-cleaned form would clean differently again are refused
    for (const bad of ['.r:**.r', '.r:*-*x', '.r:* *x', '.r:*- x', '.r:-**x']) {
      expect(() => cleanAcl('X-Container-Read', bad), bad).toThrow(`Ambiguous referrer designation in ACL: '${bad}'`);
    }
    expect(() => cleanAcl('X-Container-Read', '.r:*-')).toThrow("No host/domain value after referrer designation in ACL: '.r:*-'");
    for (const ok of ['.r:*', '.r:-*', '.r:.example.com', '.r:-.bad.com', '.r:*-x']) {
      const once = cleanAcl('X-Container-Read', ok);
      expect(cleanAcl('X-Container-Read', once), ok).toBe(once);
    }
    expect(() => cleanAcl('X-Container-Read', '.bad:x')).toThrow("Unknown designator '.bad' in ACL: '.bad:x'");
    expect(() => cleanAcl('X-Container-Read', ".x'y:z")).toThrow(`Unknown designator ".x'y" in ACL: ".x'y:z"`);
  });

  it('is idempotent (property)', () => {
    const piece = fc.constantFrom('.r', '.ref', '.rlistings', 'bob', ' ', ':', ',', '-', '*', '.', 'ex.com', 'é', '😀', '\t', '\u00a0');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (v) => {
        let once: string;
        try {
          once = cleanAcl('x-container-read', v);
        } catch {
          return;
        }
        expect(cleanAcl('x-container-read', once)).toBe(once);
      }),
      { numRuns: 1000, examples: [['.r:*-'], ['.r:**.r'], ['.r:*-*x'], ['.r:* *x']] },
    );
  });
});

describe('parseAclV1 / formatAclV1', () => {
  it('splits without stripping and unquotes groups', () => {
    expect(parseAclV1('')).toEqual({ referrers: [], groups: [] });
    expect(parseAclV1(undefined)).toEqual({ referrers: [], groups: [] });
    expect(parseAclV1('.r:*,.r:-bad.com,test%3Atester3, x,.rlistings')).toEqual({
      referrers: ['*', '-bad.com'],
      groups: ['test:tester3', ' x', '.rlistings'],
    });
    // urllib's unquote: malformed escapes stay, invalid UTF-8 is replaced.
    expect(parseAclV1('%C3%A9%zz%,%FF').groups).toEqual(['é%zz%', '\ufffd']);
  });

  it('formats and dispatches on version', () => {
    expect(formatAclV1(['a', 'b'], ['*'])).toBe('a,b,.r:*');
    expect(formatAclV1(['a '], ['*'], 'X-Container-Read')).toBe('a,.r:*');
    expect(formatAcl({ groups: ['a'] })).toBe('a');
    expect(formatAcl({ version: 2, aclDict: { b: [], a: ['x'] } })).toBe('{"a":["x"],"b":[]}');
    expect(() => formatAcl({ version: 3 } as never)).toThrow('Invalid ACL version: 3');
    expect(parseAcl('{"a":1}', 2)).toBeDefined();
    expect(() => parseAcl('x', 3 as never)).toThrow(/Unknown ACL version/);
  });
});

describe('referrerAllowed', () => {
  it('host extraction like urlparse().hostname', () => {
    expect(referrerHost('http://WWW.Example.COM:8080/path')).toBe('www.example.com');
    expect(referrerHost('https://user:pw@host.com/')).toBe('host.com');
    expect(referrerHost('//host.com')).toBe('host.com');
    expect(referrerHost('host.com')).toBeUndefined();
    expect(referrerHost('http://[::1]:80/')).toBe('::1');
    expect(referrerHost('http://[::1/')).toBeUndefined();
    expect(referrerHost('')).toBeUndefined();
  });

  it('order-dependent, last match wins; missing Referer is "unknown"', () => {
    expect(referrerAllowed(undefined, ['*'])).toBe(true);
    expect(referrerAllowed('http://x.com/', [])).toBe(false);
    expect(referrerAllowed('http://bad.com/', ['*', '-bad.com'])).toBe(false);
    expect(referrerAllowed('http://bad.com/', ['-bad.com', '*'])).toBe(true);
    expect(referrerAllowed('http://a.example.com/', ['.example.com'])).toBe(true);
    expect(referrerAllowed('http://example.com/', ['.example.com'])).toBe(false);
    expect(referrerAllowed('http://thief.example.com/', ['.example.com', '-thief.example.com'])).toBe(false);
    expect(referrerAllowed('http://HOST.com/', ['HOST.com'])).toBe(false);
    expect(referrerAllowed('http://host.com/', ['host.com'])).toBe(true);
    expect(referrerAllowed(undefined, ['unknown'])).toBe(true);
  });
});

describe('account ACLs', () => {
  it('aclsFromAccountInfo', () => {
    expect(aclsFromAccountInfo({ sysmeta: {} })).toBeUndefined();
    expect(aclsFromAccountInfo({ sysmeta: { 'core-access-control': 'junk' } })).toBeUndefined();
    expect(aclsFromAccountInfo({ sysmeta: { 'core-access-control': '{"admin":[],"read-only":[]}' } })).toBeUndefined();
    expect(aclsFromAccountInfo({ sysmeta: { 'core-access-control': '{"read-only":["a"]}' } })).toEqual({ admin: [], 'read-write': [], 'read-only': ['a'] });
    // A non-list value grants nothing (Swift would iterate a string's characters).
    expect(aclsFromSysmeta('{"admin":"abc","read-only":["x"]}')).toEqual({ admin: [], 'read-write': [], 'read-only': ['x'] });
  });

  it('validation messages and precedence', () => {
    expect(accountAclError('')).toBeUndefined();
    expect(accountAclError('{}')).toBeUndefined();
    expect(accountAclError('{"admin":["a"],"read-only":[]}')).toBeUndefined();
    expect(accountAclError('{"admin":[')).toBe(`Syntax error in input ('{"admin":[')`);
    expect(accountAclError("{'admin':['a']}")).toBe(`Syntax error in input ("{'admin':['a']}")`);
    expect(accountAclError('[]')).toBe("Syntax error in input ('[]')");
    expect(accountAclError('{"read-only":5,"bogus":[]}')).toBe('Key "bogus" not recognized');
    expect(accountAclError('{"é":[]}')).toBe('Key "\\u00e9" not recognized');
    expect(accountAclError('{"read-only":5,"admin":[1]}')).toBe('Elements of "admin" list must be strings');
    expect(accountAclError('{"read-only":[1],"read-write":"x"}')).toBe('Value for key "read-write" must be a list');
    expect(accountAclError('{"admin":NaN}')).toBe('Value for key "admin" must be a list');
    expect(accountAclError('{"read-only":[Infinity]}')).toBe('Elements of "read-only" list must be strings');
    expect(accountAclError('['.repeat(8000))).toBe(`Syntax error in input ('${'['.repeat(8000)}')`);
  });

  it('caches parse results', () => {
    clearAclCaches();
    const a = parseAclV1Cached('a,b,.r:*');
    expect(parseAclV1Cached('a,b,.r:*')).toBe(a);
    expect(a.groupSet.has('b')).toBe(true);
    expect(Object.isFrozen(a)).toBe(true);
    const acl = accountAclsCached('{"admin":["x"]}');
    expect(accountAclsCached('{"admin":["x"]}')).toBe(acl);
    expect(acl!.admin.has('x')).toBe(true);
    expect(accountAclsCached('junk')).toBeUndefined();
    expect(accountAclsCached('junk')).toBeUndefined();
  });
});
