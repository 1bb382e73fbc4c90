/**
 * `[filter:tempauth]` options, read as Swift's TempAuth.__init__ and
 * config_read_reseller_options do (see spec §1b). Parsing never logs keys.
 */
import { ConfigError, type Section } from '../../proxy/config';
import { configTrue } from '../../compat/truthy';
import { byteStringOf, textOf } from '../../compat/bytes';
import { quote } from '../../compat/quote';
import { resolve } from 'node:path';
import { readResellerOptions as readResellerPrefixOptions } from '../reseller-options';
import { parseAuthzOptions, type AuthzOptions } from '../authz/options';

export const DEFAULT_TOKEN_LIFE = 86400;

export interface TempAuthUser {
  /** `account:user` */
  id: string;
  account: string;
  user: string;
  key: string;
  /** Storage URL, possibly containing `$HOST`. */
  url: string;
  groups: string[];
}

export interface TempAuthConfig {
  /** Reseller prefixes with `_` appended (the empty prefix stays ''); never empty. */
  resellerPrefixes: string[];
  /** The first prefix: tokens, default storage URLs and cache keys use it. */
  resellerPrefix: string;
  /** require_group per prefix ('' when not required). */
  requireGroup: Map<string, string>;
  authPrefix: string;
  tokenLife: number;
  allowOverrides: boolean;
  storageUrlScheme: string;
  users: Map<string, TempAuthUser>;
  /**
   * sluice: absolute path of the SQLite user store (`users_db`), consulted for users the
   * `user_` lines do not define; undefined when not configured.
   */
  userStore?: string;
  /** Warnings to log at start-up (auth prefix rewritten, development users). */
  warnings: string[];
  /** True when the development users were installed (dev_users = true and no users configured). */
  developmentUsers: boolean;
  /** sluice: the policy file over the default rules (src/middleware/authz). */
  authz: AuthzOptions;
}

/**
 * The users of Swift's sample proxy-server.conf / the recorded conformance cluster, used
 * when the configuration names none: development only.
 */
export const DEVELOPMENT_USERS: Section = {
  user_admin_admin: 'admin .admin .reseller_admin',
  user_test_tester: 'testing .admin',
  user_test_tester2: 'testing2 .admin',
  user_test_tester3: 'testing3',
  user_test2_tester2: 'testing2 .admin',
  user_test5_tester5: 'testing5 service',
};
export const DEVELOPMENT_OPTIONS: Section = {
  reseller_prefix: 'AUTH, SERVICE',
  SERVICE_require_group: 'service',
};

/** config_read_reseller_options for the single option tempauth reads (`require_group`). */
export function readResellerOptions(conf: Section): { prefixes: string[]; requireGroup: Map<string, string> } {
  const { prefixes, options } = readResellerPrefixOptions(conf, { require_group: '' });
  return { prefixes, requireGroup: new Map([...options].map(([p, o]) => [p, o.require_group])) };
}

/** Python's lenient base64: characters outside the alphabet are dropped, padding restored. */
function b64Name(text: string, confKey: string): string {
  let s = text.replace(/[^A-Za-z0-9+/=]/g, '').replace(/=+$/, '');
  if (s.length % 4 === 1) throw new ConfigError(`[filter:tempauth] ${confKey}: invalid base64 name`);
  s += '='.repeat((4 - (s.length % 4)) % 4);
  try {
    return textOf(byteStringOf(Buffer.from(s, 'base64')), 'strict');
  } catch {
    throw new ConfigError(`[filter:tempauth] ${confKey}: base64 name is not UTF-8`);
  }
}

function parseUsers(conf: Section, resellerPrefix: string): Map<string, TempAuthUser> {
  const users = new Map<string, TempAuthUser>();
  for (const [confKey, value] of Object.entries(conf)) {
    const is64 = confKey.startsWith('user64_');
    if (!is64 && !confKey.startsWith('user_')) continue;
    const parts = confKey.slice(confKey.indexOf('_') + 1).split('_');
    if (parts.length !== 2) throw new ConfigError(`key ${confKey} was provided in an invalid format`);
    let [account, user] = parts as [string, string];
    if (is64) {
      account = b64Name(account, confKey);
      user = b64Name(user, confKey);
    }
    const values = value.split(/\s+/).filter(Boolean);
    const key = values.shift();
    if (key === undefined) throw new ConfigError(`${confKey} has no key set`);
    let url: string;
    const last = values[values.length - 1];
    if (last !== undefined && (last.includes('://') || last.includes('$HOST'))) url = values.pop()!;
    else url = `$HOST/v1/${resellerPrefix}${quote(account)}`;
    const id = `${account}:${user}`;
    users.set(id, { id, account, user, key, url, groups: values });
  }
  return users;
}

export function parseTempAuthConfig(section: Section): TempAuthConfig {
  const warnings: string[] = [];
  const hasUsers = Object.keys(section).some((k) => k.startsWith('user_') || k.startsWith('user64_'));
  const userStoreRaw = section.users_db?.trim();
  const userStore = userStoreRaw ? resolve(userStoreRaw) : undefined;
  // sluice: the development users (admin:admin is a reseller admin) exist only where a
  // configuration asks for them with dev_users = true, as `sluice start` does; Swift installs
  // none either, but a section without user_ lines used to get them here.
  const devUsersAsked = configTrue(section.dev_users ?? 'false');
  const developmentUsers = devUsersAsked && !hasUsers && !userStore;
  // With the development users come the development cluster's prefixes (unless the operator
  // chose prefixes themselves).
  const conf: Section = developmentUsers ? { ...DEVELOPMENT_OPTIONS, ...section, ...DEVELOPMENT_USERS } : section;
  if (developmentUsers && section.reseller_prefix !== undefined) conf.reseller_prefix = section.reseller_prefix;
  const { prefixes, requireGroup } = readResellerOptions(conf);
  let authPrefix = conf.auth_prefix ?? '/auth/';
  if (!authPrefix || !authPrefix.replace(/^\/+|\/+$/g, '')) {
    warnings.push(`Rewriting invalid auth prefix "${authPrefix}" to "/auth/" (Non-empty auth prefix path is required)`);
    authPrefix = '/auth/';
  }
  if (!authPrefix.startsWith('/')) authPrefix = `/${authPrefix}`;
  if (!authPrefix.endsWith('/')) authPrefix += '/';
  const tokenLifeRaw = (conf.token_life ?? String(DEFAULT_TOKEN_LIFE)).trim();
  if (!/^[-+]?\d+$/.test(tokenLifeRaw)) throw new ConfigError(`[filter:tempauth] token_life must be an integer, got ${JSON.stringify(conf.token_life)}`);
  const tokenLife = Number(tokenLifeRaw);
  if (developmentUsers) {
    warnings.push('tempauth: dev_users = true and no user_ lines: using the development users (admin:admin, test:tester, ...), whose keys are well known: for development only, never in production');
  } else if (!hasUsers && !userStore) {
    warnings.push('tempauth: no users: no user_ lines, no users_db, and dev_users is not set, so every /auth request is refused (401)');
  }
  const users = parseUsers(conf, prefixes[0]!);
  if (hasUsers) {
    // Plaintext keys still work, as in Swift; say so once, with a count and never a key.
    warnings.push(
      `tempauth: ${users.size} user${users.size === 1 ? ' has a' : 's have'} plaintext key${users.size === 1 ? '' : 's'} in user_ lines of [filter:tempauth]; ` +
        'prefer the user store (users_db, managed with "sluice user add") which keeps only salted scrypt hashes',
    );
    const dev = Object.entries(DEVELOPMENT_USERS).filter(([k, v]) => section[k]?.trim() === v).map(([k]) => k.slice('user_'.length).replace('_', ':'));
    if (dev.length) warnings.push(`tempauth: development users with well-known keys configured (${dev.join(', ')}): for development only, never in production`);
  }
  return {
    resellerPrefixes: prefixes,
    resellerPrefix: prefixes[0]!,
    requireGroup,
    authPrefix,
    tokenLife,
    allowOverrides: configTrue(conf.allow_overrides ?? 't'),
    storageUrlScheme: conf.storage_url_scheme ?? 'default',
    users,
    userStore,
    warnings,
    developmentUsers,
    authz: parseAuthzOptions(section),
  };
}
