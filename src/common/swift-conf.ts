/**
 * `swift.conf`: hash path prefix/suffix, storage policies and constraints. With no file, sluice
 * runs with one default policy (index 0, `Policy-0`) and the hash settings it is given.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseIni } from 'ini';
import type { HashPathConfig } from './hash-path';
import { constraintsFrom, type Constraints } from './constraints';

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

const TRUE_VALUES = new Set(['true', '1', 'yes', 'on', 't', 'y']);

export function configTrue(value: unknown): boolean {
  return TRUE_VALUES.has(String(value ?? '').trim().toLowerCase());
}

export const DEFAULT_POLICY: StoragePolicy = Object.freeze({
  index: 0,
  name: 'Policy-0',
  aliases: ['Policy-0'],
  isDefault: true,
  deprecated: false,
  policyType: 'replication',
}) as StoragePolicy;

export function parseSwiftConf(text: string, source = 'swift.conf'): SwiftConf {
  const ini = parseIni(text) as Record<string, Record<string, unknown>>;
  const hashSection = ini['swift-hash'] ?? {};
  const prefix = String(hashSection.swift_hash_path_prefix ?? '');
  const suffix = String(hashSection.swift_hash_path_suffix ?? '');
  if (!prefix && !suffix) throw new Error(`${source}: [swift-hash] needs swift_hash_path_prefix or swift_hash_path_suffix`);
  const policies: StoragePolicy[] = [];
  for (const [section, values] of Object.entries(ini)) {
    const m = /^storage-policy:(\d+)$/.exec(section);
    if (!m) continue;
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
  return { hash: { prefix, suffix }, policies, constraints: constraintsFrom(ini['swift-constraints']) };
}

/** Reads `<swiftDir>/swift.conf`; `fallback` supplies the hash settings when the file is absent. */
export function loadSwiftConf(swiftDir: string | undefined, fallback?: Partial<HashPathConfig>): SwiftConf {
  const file = swiftDir ? join(swiftDir, 'swift.conf') : undefined;
  if (file && existsSync(file)) return parseSwiftConf(readFileSync(file, 'utf8'), file);
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
