/**
 * Account ACLs (X-Account-Access-Control, Swift's v2 JSON ACL) as a typed object, with
 * grant/revoke as read-modify-write. Only the account's owner sees and sets this header.
 * What is sent is checked first with the rules the server applies (TempAuth's
 * extract_acl_and_report_errors, src/acl accountAclError; and keystoneauth's grantee grammar
 * when asked), so a refused ACL costs no request. Swift offers no conditional account POST:
 * two concurrent grants can race, the later write wins.
 */
import { accountAclError, ACCOUNT_ACL_KEYS, type AccountAclKey } from '../../acl/account-acls';
import { keystoneAccountGranteeError } from '../../acl/keystone-grantees';
import { formatAclV2, parseAclV2 } from '../../acl/v2';
import type { AccountClient } from '../object/account';
import { AclValidationError } from './errors';

export type AccountAclLevel = AccountAclKey;
export const ACCOUNT_ACL_LEVELS: readonly AccountAclLevel[] = ACCOUNT_ACL_KEYS;

export type AccountAcl = Record<AccountAclLevel, string[]>;

export interface AccountAclOptions {
  /** Also check grantees against keystoneauth's `<project>:<user>` grammar. */
  keystone?: boolean;
}

/** Swift's MAX_HEADER_SIZE: a longer header line is refused with 400. */
const MAX_HEADER_SIZE = 8192;
const HEADER = 'X-Account-Access-Control';

export function emptyAccountAcl(): AccountAcl {
  return { admin: [], 'read-write': [], 'read-only': [] };
}

/** The typed ACL from the header as the owner sees it (absent: nobody is granted anything). */
export function parseAccountAcl(header: string | undefined): AccountAcl {
  const acl = emptyAccountAcl();
  if (!header) return acl;
  const parsed = parseAclV2(header);
  if (parsed === undefined) throw new AclValidationError(`the account's ${HEADER} is not a JSON object: ${JSON.stringify(header.slice(0, 100))}`);
  for (const level of ACCOUNT_ACL_LEVELS) {
    const v = parsed[level];
    if (Array.isArray(v)) acl[level] = v.filter((x): x is string => typeof x === 'string');
  }
  return acl;
}

function checkIdentity(identity: unknown, opts: AccountAclOptions): asserts identity is string {
  if (typeof identity !== 'string' || identity.trim() === '') throw new AclValidationError('an account ACL identity must be a non-empty string');
  if (identity !== identity.trim()) throw new AclValidationError(`identity ${JSON.stringify(identity)} has leading or trailing whitespace`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(identity)) throw new AclValidationError(`identity ${JSON.stringify(identity)} contains a control character`);
  if (opts.keystone) {
    const err = keystoneAccountGranteeError(identity, undefined);
    if (err) throw new AclValidationError(err);
  }
}

function checkLevel(level: unknown): asserts level is AccountAclLevel {
  if (!(ACCOUNT_ACL_LEVELS as readonly unknown[]).includes(level)) {
    throw new AclValidationError(`unknown account ACL level ${JSON.stringify(level)} (one of ${ACCOUNT_ACL_LEVELS.join(', ')})`);
  }
}

/** The header value for an ACL, after the server's own checks; empty levels are left out. */
export function formatAccountAcl(acl: AccountAcl, opts: AccountAclOptions = {}): string {
  const out: Record<string, string[]> = {};
  for (const [level, ids] of Object.entries(acl)) {
    checkLevel(level);
    if (!Array.isArray(ids)) throw new AclValidationError(`account ACL level ${level} must be a list`);
    for (const id of ids) checkIdentity(id, opts);
    if (ids.length > 0) out[level] = [...new Set(ids)];
  }
  const value = formatAclV2(out);
  const err = accountAclError(value);
  if (err) throw new AclValidationError(err);
  if (HEADER.length + 2 + value.length > MAX_HEADER_SIZE) throw new AclValidationError(`the account ACL is ${value.length} bytes; the server refuses headers over ${MAX_HEADER_SIZE}`);
  return value;
}

export class AccountAclClient {
  constructor(
    private readonly account: AccountClient,
    private readonly opts: AccountAclOptions = {},
  ) {}

  async getAccountAcl(): Promise<AccountAcl> {
    const stat = await this.account.stat();
    return parseAccountAcl(stat.headers['x-account-access-control']);
  }

  /** Replaces the whole ACL. */
  async set(acl: AccountAcl): Promise<void> {
    await this.account.post({}, { headers: { [HEADER]: formatAccountAcl(acl, this.opts) } });
  }

  /** Gives `identity` exactly `level` (taking it out of the other levels); returns the new ACL. */
  async grant(level: AccountAclLevel, identity: string): Promise<AccountAcl> {
    checkLevel(level);
    checkIdentity(identity, this.opts);
    const acl = await this.getAccountAcl();
    for (const l of ACCOUNT_ACL_LEVELS) acl[l] = acl[l].filter((x) => x !== identity);
    acl[level].push(identity);
    await this.set(acl);
    return acl;
  }

  /** Takes `identity` out of every level; returns the new ACL. */
  async revoke(identity: string): Promise<AccountAcl> {
    checkIdentity(identity, this.opts);
    const acl = await this.getAccountAcl();
    for (const l of ACCOUNT_ACL_LEVELS) acl[l] = acl[l].filter((x) => x !== identity);
    await this.set(acl);
    return acl;
  }
}

/** `accountAcl(store.account)`: the account ACL helpers for this store's account. */
export function accountAcl(account: AccountClient, opts: AccountAclOptions = {}): AccountAclClient {
  return new AccountAclClient(account, opts);
}
