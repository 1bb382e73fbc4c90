/**
 * `swift.conf`: hash path prefix/suffix, storage policies and constraints. With no file, sluice
 * runs with one default policy (index 0, `Policy-0`) and the hash settings it is given.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigDocument, getOption, lazySection, readConfigDocument, sectionItems, toRecord } from '../compat/config-parser';
import { ConfigError } from '../compat/config-error';
import type { HashPathConfig } from './hash-path';
import { constraintsFrom, type Constraints } from './constraints';
import { configTrue } from '../compat/truthy';

export interface StoragePolicy {
  index: number;
  name: string;
  aliases: string[];
  isDefault: boolean;
  deprecated: boolean;
  policyType: string;
}

export interface SwiftConf {
  hash: HashPathConfig;
  policies: StoragePolicy[];
  constraints: Constraints;
}

export const DEFAULT_POLICY: StoragePolicy = Object.freeze({
  index: 0,
  name: 'Policy-0',
  aliases: ['Policy-0'],
  isDefault: true,
  deprecated: false,
  policyType: 'replication',
}) as StoragePolicy;

/**
 * swift.conf as Swift reads it: Python's configparser with its defaults (keys lower-cased,
 * strict, [DEFAULT] under every section, BasicInterpolation: a `%` must be written `%%`), each
 * value interpolated only when Swift asks for it (validate_hash_conf gets the two hash options,
 * reload_constraints the known constraints, parse_storage_policies every option of a policy).
 */
export function parseSwiftConf(text: string, source = 'swift.conf'): SwiftConf {
  const doc = new ConfigDocument({ optionCase: 'lower', strict: true });
  doc.read(text, source);
  return swiftConfFromDocument(doc, source);
}

function swiftConfFromDocument(doc: ConfigDocument, source: string): SwiftConf {
  const prefix = getOption(doc, 'swift-hash', 'swift_hash_path_prefix', 'basic') ?? '';
  const suffix = getOption(doc, 'swift-hash', 'swift_hash_path_suffix', 'basic') ?? '';
  if (!prefix && !suffix) throw new ConfigError(`${source}: [swift-hash] needs swift_hash_path_prefix or swift_hash_path_suffix`, { source });
  const policies: StoragePolicy[] = [];
  for (const section of doc.sectionNames()) {
    const m = /^storage-policy:(\d+)$/.exec(section);
    if (!m) continue;
    const values = toRecord(sectionItems(doc, section, 'basic')!);
    const index = Number(m[1]);
    const name = String(values.name ?? (index === 0 ? 'Policy-0' : ''));
    if (!name) throw new Error(`${source}: [${section}] has no name`);
    const aliases = [name, ...String(values.aliases ?? '').split(',').map((s) => s.trim()).filter(Boolean)];
    policies.push({
      index,
      name,
      aliases: [...new Set(aliases)],
      isDefault: configTrue(values.default),
      deprecated: configTrue(values.deprecated),
      policyType: String(values.policy_type ?? 'replication'),
    });
  }
  policies.sort((a, b) => a.index - b.index);
  if (policies.length === 0) policies.push({ ...DEFAULT_POLICY });
  const names = new Set<string>();
  for (const p of policies) {
    const key = p.name.toLowerCase();
    if (names.has(key)) throw new Error(`${source}: duplicate storage policy name ${p.name}`);
    names.add(key);
  }
  const defaults = policies.filter((p) => p.isDefault);
  if (defaults.length > 1) throw new Error(`${source}: more than one default storage policy`);
  if (defaults.length === 0) {
    if (policies.length > 1) throw new Error(`${source}: one storage policy must be the default`);
    policies[0]!.isDefault = true;
  }
  return { hash: { prefix, suffix }, policies, constraints: constraintsFrom(lazySection(doc, 'swift-constraints', 'basic')) };
}

/** Reads `<swiftDir>/swift.conf`; `fallback` supplies the hash settings when the file is absent. */
export function loadSwiftConf(swiftDir: string | undefined, fallback?: Partial<HashPathConfig>): SwiftConf {
  const file = swiftDir ? join(swiftDir, 'swift.conf') : undefined;
  if (file && existsSync(file)) return swiftConfFromDocument(readConfigDocument(file, { optionCase: 'lower', strict: true }), file);
  return {
    hash: { prefix: fallback?.prefix ?? '', suffix: fallback?.suffix ?? 'sluice-development-only' },
    policies: [{ ...DEFAULT_POLICY }],
    constraints: constraintsFrom(undefined),
  };
}

export function policyByIndex(conf: SwiftConf, index: number): StoragePolicy | undefined {
  return conf.policies.find((p) => p.index === index);
}

export function policyByName(conf: SwiftConf, name: string): StoragePolicy | undefined {
  const key = name.toLowerCase();
  return conf.policies.find((p) => p.aliases.some((a) => a.toLowerCase() === key));
}

export function defaultPolicy(conf: SwiftConf): StoragePolicy {
  return conf.policies.find((p) => p.isDefault)!;
}
