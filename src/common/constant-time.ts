/**
 * Swift's streq_const_time (and Python's hmac.compare_digest): two secrets of different lengths
 * differ at once; equal lengths are compared in time that does not depend on where they differ.
 * One implementation for every key, token and signature sluice compares.
 */
import { timingSafeEqual } from 'node:crypto';

export function constantTimeEqual(a: string, b: string, encoding: 'utf8' | 'latin1' = 'utf8'): boolean {
  const x = Buffer.from(a, encoding);
  const y = Buffer.from(b, encoding);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Whether `presented` is the secret `secret`, in time that depends on the presented text's
 * length only: the comparison runs over the presented bytes, against the secret repeated to
 * their length, so neither the secret's bytes nor its length show. (Cheaper than hashing both.)
 */
export function matchesSecret(presented: string, secret: Buffer): boolean {
  const given = Buffer.from(presented, 'utf8');
  if (secret.length === 0 || given.length === 0) return false;
  const against = Buffer.allocUnsafe(given.length).fill(secret);
  return timingSafeEqual(given, against) && given.length === secret.length;
}
