/**
 * Request checks of swift.common.constraints that the proxy runs before forwarding: metadata
 * limits (check_metadata) and name lengths. Lengths of header values count bytes, as Swift's
 * WSGI strings do; Node hands us header values as latin-1 strings of the raw bytes, so
 * `.length` is the byte length.
 */
import type { Constraints } from '../common/constraints';
import { titleCase } from '../common/headers';
import { swiftResponse } from './response';
import { asByteString, checkUtf8 } from '../compat/bytes';

/** check_metadata: returns the 400 Swift would answer, or undefined. */
export function checkMetadata(pairs: readonly [string, string][], kind: 'account' | 'container' | 'object', c: Constraints): Response | undefined {
  const prefix = `x-${kind}-meta-`;
  let count = 0;
  let size = 0;
  const bad = (body: string) => swiftResponse(400, { body, contentType: 'text/plain' });
  for (const [name, value] of pairs) {
    const title = titleCase(name);
    if (value.length > c.max_header_size) return bad(`Header value too long: ${title.slice(0, c.max_meta_name_length)}`);
    if (!name.toLowerCase().startsWith(prefix)) continue;
    const key = title.slice(prefix.length);
    if (!key) return bad('Metadata name cannot be empty');
    if (kind !== 'object' && (!checkUtf8(asByteString(key)) || (value && !checkUtf8(asByteString(value))))) return bad('Metadata must be valid UTF-8');
    count += 1;
    size += key.length + value.length;
    if (key.length > c.max_meta_name_length) return bad(`Metadata name too long: ${prefix}${key}`);
    if (value.length > c.max_meta_value_length) return bad(`Metadata value longer than ${c.max_meta_value_length}: ${prefix}${key}`);
    if (count > c.max_meta_count) return bad(`Too many metadata items; max ${c.max_meta_count}`);
    if (size > c.max_meta_overall_size) return bad(`Total metadata too large; max ${c.max_meta_overall_size}`);
  }
  return undefined;
}

/**
 * Account/container name length check; Swift counts characters and doubles the limit when the
 * *account* name starts with the auto-create prefix (get_name_length_limit), for both kinds.
 */
export function checkNameLength(kind: 'Account' | 'Container', name: string, c: Constraints, account: string = name): Response | undefined {
  let limit = kind === 'Account' ? c.max_account_name_length : c.max_container_name_length;
  if (c.auto_create_account_prefix && account.startsWith(c.auto_create_account_prefix)) limit *= 2;
  const len = [...name].length;
  if (len > limit) return swiftResponse(400, { body: `${kind} name length of ${len} longer than ${limit}` });
  return undefined;
}
