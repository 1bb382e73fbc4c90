import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { parseSwiftConf, policyByName, defaultPolicy, loadSwiftConf } from '../../src/common/swift-conf';
import { hashPath, partitionOf, hashPathDigest } from '../../src/common/hash-path';

describe('swift.conf', () => {
  it('reads hash settings, policies and constraints', () => {
    const conf = parseSwiftConf(`
[swift-hash]
swift_hash_path_prefix = pre
swift_hash_path_suffix = suf

[storage-policy:0]
name = gold
aliases = yellow, orange

[storage-policy:1]
name = silver
default = yes

[swift-constraints]
max_meta_count = 10
valid_api_versions = v1
`);
    expect(conf.hash).toEqual({ prefix: 'pre', suffix: 'suf' });
    expect(conf.policies.map((p) => p.name)).toEqual(['gold', 'silver']);
    expect(defaultPolicy(conf).index).toBe(1);
    expect(policyByName(conf, 'ORANGE')?.index).toBe(0);
    expect(conf.constraints.max_meta_count).toBe(10);
    expect(conf.constraints.max_file_size).toBe(5_368_709_122);
    expect(conf.constraints.valid_api_versions).toEqual(['v1']);
  });

  it('refuses broken configuration with a clear error', () => {
    expect(() => parseSwiftConf('[swift-hash]\n')).toThrow(/swift_hash_path_prefix/);
    expect(() => parseSwiftConf('[swift-hash]\nswift_hash_path_suffix=x\n[swift-constraints]\nmax_meta_count = lots\n')).toThrow(/max_meta_count/);
    expect(() =>
      parseSwiftConf('[swift-hash]\nswift_hash_path_suffix=x\n[storage-policy:0]\nname=a\ndefault=yes\n[storage-policy:1]\nname=b\ndefault=yes\n'),
    ).toThrow(/more than one default/);
  });

  it('runs with one default policy when there is no file', () => {
    const conf = loadSwiftConf('/nonexistent-dir');
    expect(conf.policies).toHaveLength(1);
    expect(defaultPolicy(conf).name).toBe('Policy-0');
  });
});

const havePythonSwift = existsSync('/usr/bin/python3') && (() => {
  try {
    execFileSync('/usr/bin/python3', ['-c', 'import swift.common.utils'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

describe.runIf(havePythonSwift)('hash_path agrees with Swift', () => {
  it('gives the same digest and partition for UTF-8 names', () => {
    const cases: [string, string?, string?][] = [['AUTH_test'], ['AUTH_test', 'c'], ['AUTH_test', 'café', 'o/b j😀']];
    const script = `
import json, sys
from swift.common import utils
utils.HASH_PATH_PREFIX = b'pre'
utils.HASH_PATH_SUFFIX = b'suf'
out = []
for c in json.loads(sys.argv[1]):
    out.append(utils.hash_path(*c))
print(json.dumps(out))`;
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, JSON.stringify(cases)]).toString()) as string[];
    const cfg = { prefix: 'pre', suffix: 'suf' };
    expect(cases.map((c) => hashPath(cfg, ...c))).toEqual(expected);
    expect(partitionOf(hashPathDigest(cfg, 'AUTH_test'), 22)).toBe(parseInt(expected[0]!.slice(0, 8), 16) >>> 22);
  });
});
