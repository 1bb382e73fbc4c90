import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

describe('swift.conf read as Swift reads it (configparser)', () => {
  it('keeps # and ; in values and reads key: value, any key case, continuation lines', () => {
    const conf = parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = abc#123;x\nSwift_Hash_Path_Prefix: pre;fix\n[storage-policy:0]\nname = gold\naliases = yellow,\n  orange\n');
    expect(conf.hash).toEqual({ prefix: 'pre;fix', suffix: 'abc#123;x' });
    expect(conf.policies[0]!.aliases).toEqual(['gold', 'yellow', 'orange']);
  });

  it('interpolates the way ConfigParser() does: %% is %, a lone % is an error', () => {
    expect(parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = 100%%\n').hash.suffix).toBe('100%');
    expect(() => parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = 100%\n', 'swift.conf')).toThrow(/^swift\.conf:2: \[swift-hash\] swift_hash_path_suffix: '%' must be followed/);
    // Only what Swift asks for is interpolated: an option it never reads may hold anything.
    expect(parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = s\nnote = 5%\n[swift-constraints]\nbogus = 5%\n').hash.suffix).toBe('s');
  });

  it('lets [DEFAULT] reach the constraints, as ConfigParser.get does', () => {
    expect(parseSwiftConf('[DEFAULT]\nmax_meta_count = 7\n[swift-hash]\nswift_hash_path_suffix = s\n[swift-constraints]\n').constraints.max_meta_count).toBe(7);
  });

  it('refuses what configparser refuses, with the line', () => {
    expect(() => parseSwiftConf('[swift-hash]\nswift_hash_path_suffix = a\nSWIFT_HASH_PATH_SUFFIX = b\n', 'swift.conf')).toThrow('swift.conf:3: option "swift_hash_path_suffix" appears twice in [swift-hash]');
    expect(() => parseSwiftConf('swift_hash_path_suffix = a\n', 'swift.conf')).toThrow(/^swift\.conf:1: a \[section\] header must come first/);
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

describe.runIf(havePythonSwift)('swift.conf agrees with Swift', () => {
  it('gives the same hash settings, policies and constraints', () => {
    const texts = [
      '[swift-hash]\nswift_hash_path_suffix = abc#123;x %%\nSwift_Hash_Path_Prefix: pre\n[storage-policy:0]\nname = gold\naliases = yellow,\n  orange\ndefault = yes\n[storage-policy:1]\nname = silver\n[swift-constraints]\nmax_meta_count = 10\nbogus = 5%\n',
      '[DEFAULT]\nmax_file_size = 1234\n[swift-hash]\nswift_hash_path_prefix = p;q\n\n  # a comment inside\n[swift-constraints]\n',
      '[swift-hash]\r\nswift_hash_path_suffix=x\r\n[storage-policy:0]\r\nname = Two\r\ndefault = true\r\n',
    ];
    const dir = mkdtempSync(join(tmpdir(), 'sluice-swift-conf-'));
    const files = texts.map((t, i) => {
      const f = join(dir, `swift-${i}.conf`);
      writeFileSync(f, t);
      return f;
    });
    const script = `
import json, sys
from swift.common import utils, storage_policy, constraints
out = []
for path in sys.argv[1:]:
    utils.SWIFT_CONF_FILE = path
    utils.HASH_PATH_PREFIX = utils.HASH_PATH_SUFFIX = b''
    utils.validate_hash_conf()
    storage_policy.reload_storage_policies()
    constraints.reload_constraints()
    out.append({
        'hash': [utils.HASH_PATH_PREFIX.decode('latin1'), utils.HASH_PATH_SUFFIX.decode('latin1')],
        'policies': [[p.idx, p.name, p.alias_list, p.is_default] for p in storage_policy.POLICIES],
        'max_meta_count': constraints.MAX_META_COUNT,
        'max_file_size': constraints.MAX_FILE_SIZE,
    })
print(json.dumps(out))`;
    const expected = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script, ...files]).toString()) as unknown[];
    rmSync(dir, { recursive: true, force: true });
    const actual = files.map((f, i) => {
      const conf = parseSwiftConf(texts[i]!, f);
      return {
        hash: [conf.hash.prefix, conf.hash.suffix],
        policies: conf.policies.map((p) => [p.index, p.name, p.aliases, p.isDefault]),
        max_meta_count: conf.constraints.max_meta_count,
        max_file_size: conf.constraints.max_file_size,
      };
    });
    expect(actual).toEqual(expected);
  });
});
