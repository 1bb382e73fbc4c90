import { hash } from 'node:crypto';

/** The cluster-wide secrets from `swift.conf [swift-hash]`, latin-1 encoded as in Swift. */
export interface HashPathConfig {
  prefix: string;
  suffix: string;
}

interface Affixes {
  prefix: string;
  suffix: string;
  /** Prefix + '/' and suffix as bytes. */
  before: Buffer;
  after: Buffer;
  ascii: boolean;
}

const affixes = new WeakMap<HashPathConfig, Affixes>();

function affixesOf(cfg: HashPathConfig): Affixes {
  let a = affixes.get(cfg);
  if (!a || a.prefix !== cfg.prefix || a.suffix !== cfg.suffix) {
    a = {
      prefix: cfg.prefix,
      suffix: cfg.suffix,
      before: Buffer.from(`${cfg.prefix}/`, 'latin1'),
      after: Buffer.from(cfg.suffix, 'latin1'),
      // eslint-disable-next-line no-control-regex
      ascii: !/[^\x00-\x7f]/.test(cfg.prefix + cfg.suffix),
    };
    affixes.set(cfg, a);
  }
  return a;
}

/**
 * md5(prefix + '/' + account[/container[/object]] + suffix), as swift.common.utils.hash_path.
 * Names are hashed as UTF-8; prefix and suffix as latin-1 bytes. One-shot hashing: the proxy
 * computes this for every request, and a Hash object per call cost twice as much.
 */
export function hashPathDigest(cfg: HashPathConfig, account: string, container?: string, object?: string): Buffer {
  // Swift tests the names for truth: an empty container or object name is left out.
  container ||= undefined;
  object ||= undefined;
  if (object !== undefined && container === undefined) throw new Error('container is required if object is provided');
  return hashPathOf(cfg, joinedPath(account, container, object));
}

/** `account[/container[/object]]`, the part of the hash input that names the entity. */
export function joinedPath(account: string, container?: string, object?: string): string {
  let path = account;
  if (container) path += '/' + container;
  if (container && object) path += '/' + object;
  return path;
}

/** The digest for a joined path (see joinedPath). */
export function hashPathOf(cfg: HashPathConfig, path: string): Buffer {
  const a = affixesOf(cfg);
  // ASCII secrets read the same as latin-1 and UTF-8, so one string can go in whole.
  if (a.ascii) return hash('md5', `${cfg.prefix}/${path}${cfg.suffix}`, 'buffer');
  return hash('md5', Buffer.concat([a.before, Buffer.from(path, 'utf8'), a.after]), 'buffer');
}

export function hashPath(cfg: HashPathConfig, account: string, container?: string, object?: string): string {
  return hashPathDigest(cfg, account, container, object).toString('hex');
}

/** Partition of a digest for a ring with the given part_shift (`>I` of the first 4 bytes). */
export function partitionOf(digest: Buffer, partShift: number): number {
  return digest.readUInt32BE(0) >>> partShift;
}
