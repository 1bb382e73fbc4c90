// hash_path as Swift 2.30 computes it (expected digests from swift.common.utils.hash_path with
// the same HASH_PATH_PREFIX / HASH_PATH_SUFFIX bytes).
import { describe, expect, it } from 'vitest';
import { hashPath, hashPathDigest, hashPathOf, joinedPath, partitionOf } from '../../src/common/hash-path';

const LATIN1 = { prefix: 'pre\u00e9', suffix: 'changeme' }; // prefix bytes b'pre\xe9'
const ASCII = { prefix: '', suffix: 'changeme' };

describe('hashPath', () => {
  it('matches Swift with a latin-1 prefix, for ASCII and Unicode names', () => {
    expect(hashPath(LATIN1, 'AUTH_test')).toBe('abe0383490fa0281296c4acc1870a215');
    expect(hashPath(LATIN1, 'AUTH_test', 'c')).toBe('473def9ca5f0f2c813213cfb763540f0');
    expect(hashPath(LATIN1, 'AUTH_test', 'c', 'o/with/slashes')).toBe('e814b387ae7f2628aced9bedcac6ec5b');
    expect(hashPath(LATIN1, 'AUTH_t\u00e9st', 'c\u2603', '\u00fcnic\u00f8de')).toBe('e4244bf1a964038aabb4ddb35e265f2c');
  });

  it('matches Swift with ASCII secrets', () => {
    expect(hashPath(ASCII, 'AUTH_test', 'c', 'o')).toBe('7363996f2cfb95eaa18df19ccc31aece');
  });

  it('leaves out empty names and refuses an object without a container', () => {
    expect(hashPath(LATIN1, 'AUTH_test', '', '')).toBe(hashPath(LATIN1, 'AUTH_test'));
    expect(hashPath(LATIN1, 'AUTH_test', 'c', '')).toBe(hashPath(LATIN1, 'AUTH_test', 'c'));
    expect(() => hashPath(LATIN1, 'AUTH_test', '', 'o')).toThrow(/container is required/);
    expect(joinedPath('a', undefined, 'o')).toBe('a');
    expect(hashPathOf(LATIN1, joinedPath('AUTH_test', 'c'))).toEqual(hashPathDigest(LATIN1, 'AUTH_test', 'c'));
  });

  it('follows a configuration whose secrets change', () => {
    const cfg = { prefix: 'pre\u00e9', suffix: 'changeme' };
    expect(hashPath(cfg, 'AUTH_test')).toBe('abe0383490fa0281296c4acc1870a215');
    cfg.prefix = '';
    expect(hashPath(cfg, 'AUTH_test', 'c', 'o')).toBe('7363996f2cfb95eaa18df19ccc31aece');
  });

  it('takes the partition from the first four bytes', () => {
    const digest = Buffer.from('abe0383490fa0281296c4acc1870a215', 'hex');
    expect(partitionOf(digest, 32 - 8)).toBe(0xab);
    expect(partitionOf(digest, 0)).toBe(0xabe03834);
  });
});
