/**
 * What tempurl and formpost share: the signing keys an owner stored as account or container
 * metadata (Swift's get_tempurl_keys_from_metadata over get_account_info and
 * get_container_info), the digests a signature may use (swift/common/digest.py
 * get_allowed_digests), and the constant-time comparison of a signature (streq_const_time).
 */
import { ConfigError, type Section } from '../proxy/config';
import type { ProxyContext } from '../proxy/context';
import type { ProxyState } from '../proxy/state';
import { fetchAccountInfo, fetchContainerInfo } from './account-info';

/** swift/common/digest.py: what may be configured, and what is deprecated (logged). */
export const SUPPORTED_DIGESTS = ['sha1', 'sha256', 'sha512'];
const DEPRECATED_DIGESTS = ['sha1'];

const KEY_NAMES = ['temp-url-key', 'temp-url-key-2'];

/** Which metadata a key came from: an account key signs for the account, a container key for its container. */
export type KeyScope = 'account' | 'container';

/** The account's keys, then the container's, each with its scope (0 to 4 of them). */
export async function tempUrlKeys(state: ProxyState, c: ProxyContext, account: string, container: string): Promise<[string, KeyScope][]> {
  const out: [string, KeyScope][] = [];
  const acct = await fetchAccountInfo(state, c, account);
  for (const k of KEY_NAMES) if (acct.meta[k] !== undefined) out.push([acct.meta[k]!, 'account']);
  const cont = await fetchContainerInfo(state, c, account, container);
  for (const k of KEY_NAMES) if (cont.meta?.[k] !== undefined) out.push([cont.meta[k]!, 'container']);
  return out;
}


export interface AllowedDigests {
  /** Sorted, as the /info section lists them. */
  allowed: string[];
  deprecated: string[];
  /** Configured digests that are not supported (warned about at start-up, as Swift does). */
  unsupported: string[];
}

/** get_allowed_digests over the filter's `allowed_digests`; none left is a start-up error. */
export function allowedDigests(conf: Section, filter: string): AllowedDigests {
  const configured = (conf['allowed_digests'] ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((d) => d.toLowerCase());
  const allowed = [...new Set(configured.length ? configured : SUPPORTED_DIGESTS)].filter((d) => SUPPORTED_DIGESTS.includes(d)).sort();
  if (allowed.length === 0) throw new ConfigError(`${filter}: No valid digest algorithms are configured`);
  return {
    allowed,
    deprecated: allowed.filter((d) => DEPRECATED_DIGESTS.includes(d)),
    unsupported: configured.filter((d) => !SUPPORTED_DIGESTS.includes(d)),
  };
}
