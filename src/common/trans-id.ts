/**
 * Transaction ids as Swift's swift.common.utils.generate_trans_id makes them:
 * `tx<21 hex>-<10 hex seconds><quoted suffix>`. catch_errors gives one to every request; the
 * expirer and other daemons send their own on backend requests.
 */
import { randomUUID } from 'node:crypto';
import { quote } from '../compat/quote';

export function generateTransId(suffix: string): string {
  const time = Math.floor(Date.now() / 1000).toString(16).padStart(10, '0');
  return `tx${randomUUID().replace(/-/g, '').slice(0, 21)}-${time}${quote(suffix)}`;
}
