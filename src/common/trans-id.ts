/**
 * Transaction ids as Swift's swift.common.utils.generate_trans_id makes them:
 * `tx<21 hex>-<10 hex seconds><quoted suffix>`. catch_errors gives one to every request; the
 * expirer and other daemons send their own on backend requests.
 */
import { randomUUID } from 'node:crypto';
import { quote } from '../compat/quote';

export function generateTransId(suffix: string): string {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(10, '0');
  // The first 21 hex digits of a v4 UUID (8-4-4-4-12), as Swift's uuid4().hex[:21].
  const u = randomUUID();
  return `tx${u.slice(0, 8)}${u.slice(9, 13)}${u.slice(14, 18)}${u.slice(19, 23)}${u[24]}-${time}${quote(suffix)}`;
}
