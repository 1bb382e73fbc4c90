import { createHash } from 'node:crypto';

/** The cluster-wide secrets from `swift.conf [swift-hash]`, latin-1 encoded as in Swift. */
export interface HashPathConfig {
  prefix: string;
  suffix: string;
}

/**
 * md5(prefix + '/' + account[/container[/object]] + suffix), as swift.common.utils.hash_path.
 * Names are hashed as UTF-8; prefix and suffix as latin-1 bytes.
 */
export function hashPathDigest(cfg: HashPathConfig, account: string, container?: string, object?: string): Buffer {
  // Swift tests the names for truth: an empty container or object name is left out.
  container ||= undefined;
  object ||= undefined;
  if (object !== undefined && container === undefined) throw new Error('container is required if object is provided');
  const h = createHash('md5');
  h.update(Buffer.from(cfg.prefix, 'latin1'));
  h.update('/');
  let path = account;
  if (container !== undefined) path += '/' + container;
  if (object !== undefined) path += '/' + object;
  h.update(Buffer.from(path, 'utf8'));
  h.update(Buffer.from(cfg.suffix, 'latin1'));
  return h.digest();
}

export function hashPath(cfg: HashPathConfig, account: string, container?: string, object?: string): string {
  return hashPathDigest(cfg, account, container, object).toString('hex');
}

/** Partition of a digest for a ring with the given part_shift (`>I` of the first 4 bytes). */
export function partitionOf(digest: Buffer, partShift: number): number {
  return digest.readUInt32BE(0) >>> partShift;
}
