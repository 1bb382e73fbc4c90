/**
 * sluice: a TempAuth user store in SQLite, beside the `user_` lines of `[filter:tempauth]`
 * (Swift has only the plaintext lines). Keys are kept as salted scrypt hashes, with the scrypt
 * parameters on every row so they can be raised later without invalidating older rows.
 *
 * The proxy opens the file read-only (every worker its own connection) and looks a user up on
 * each /auth, so `sluice user add|remove` takes effect without a restart. `sluice user`
 * opens it read-write. Keys and hashes are never logged or listed.
 */
import Database from 'better-sqlite3';
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { LRUCache } from 'lru-cache';

/** Parameters for new rows: about 50 ms and 16 MiB per hash. */
export const SCRYPT_PARAMS = { N: 16384, r: 8, p: 1, keyLen: 32 } as const;
const SALT_BYTES = 16;
/** A successful verification is remembered this long, so /auth under load does not burn CPU. */
export const VERIFY_CACHE_TTL_MS = 5 * 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  account TEXT NOT NULL,
  user TEXT NOT NULL,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  scrypt_n INTEGER NOT NULL,
  scrypt_r INTEGER NOT NULL,
  scrypt_p INTEGER NOT NULL,
  groups TEXT NOT NULL,
  storage_url TEXT,
  created_at TEXT NOT NULL,
  PRIMARY KEY (account, user)
) WITHOUT ROWID;
`;

export class UserStoreError extends Error {}

/** A user as listed: never the key or its hash. */
export interface StoredUser {
  account: string;
  user: string;
  groups: string[];
  /** Explicit storage URL (may contain `$HOST`); undefined means tempauth's default. */
  storageUrl?: string;
  createdAt: string;
}

export interface AddUserOptions {
  groups?: readonly string[];
  storageUrl?: string;
}

interface Row {
  account: string;
  user: string;
  salt: Buffer;
  hash: Buffer;
  scrypt_n: number;
  scrypt_r: number;
  scrypt_p: number;
  groups: string;
  storage_url: string | null;
  created_at: string;
}

/** Verification outcome: the user, or why not (an unknown user and a wrong key get different realms, as in Swift). */
export type VerifyResult = { ok: true; user: StoredUser } | { ok: false; reason: 'unknown-user' | 'bad-key' };

// Control characters would corrupt listings and headers; ':' separates account and user.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why an account or user name cannot be stored, or undefined when it can. */
export function nameError(kind: 'account' | 'user', name: string): string | undefined {
  if (!name) return `${kind} name is empty`;
  if (name.includes(':')) return `${kind} name ${JSON.stringify(name)} contains ':'`;
  if (CONTROL.test(name) || /\s/.test(name)) return `${kind} name ${JSON.stringify(name)} contains whitespace or control characters`;
  return undefined;
}

/** Why a key cannot be stored (HTTP trims header values, so edge whitespace could never match). */
export function keyError(key: string): string | undefined {
  if (!key) return 'key is empty';
  if (CONTROL.test(key)) return 'key contains control characters';
  if (key.trim() !== key) return 'key starts or ends with whitespace';
  return undefined;
}

/** Why a group cannot be stored: tempauth joins groups with ',' and config lines split on whitespace. */
export function groupError(group: string): string | undefined {
  if (!group || /[\s,]/.test(group) || CONTROL.test(group)) return `bad group name ${JSON.stringify(group)}`;
  return undefined;
}

export function storageUrlError(url: string): string | undefined {
  // The account id tempauth grants is the URL's last segment, as for config users.
  if (!(url.includes('://') || url.startsWith('$HOST')) || CONTROL.test(url) || /\s/.test(url)) {
    return `storage URL ${JSON.stringify(url)} must be absolute (scheme://host/v1/ACCOUNT) or start with $HOST`;
  }
  if (url.endsWith('/')) return `storage URL ${JSON.stringify(url)} must end with the account`;
  return undefined;
}

function scryptAsync(key: string, salt: Buffer, keyLen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(key, salt, keyLen, opts, (err, out) => (err ? reject(err) : resolve(out))));
}

function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  // Node refuses anything over maxmem (32 MiB by default); allow what the row's parameters need.
  return { N, r, p, maxmem: 128 * N * r * 2 + 1024 * 1024 };
}

function toUser(row: Row): StoredUser {
  const groups = JSON.parse(row.groups) as unknown;
  return {
    account: row.account,
    user: row.user,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [],
    storageUrl: row.storage_url ?? undefined,
    createdAt: row.created_at,
  };
}

export interface UserStoreOptions {
  /** The proxy's mode: never writes, and a missing file just means no users (yet). */
  readonly?: boolean;
}

export class UserStore {
  private db: Database.Database | undefined;
  private selectOne: Database.Statement<[string, string], Row> | undefined;
  /** sha256(account, user, stored hash, key) of recent successful verifications. */
  private readonly verified = new LRUCache<string, true>({ max: 10_000, ttl: VERIFY_CACHE_TTL_MS });

  constructor(
    readonly path: string,
    private readonly opts: UserStoreOptions = {},
  ) {
    if (!opts.readonly) this.openDb();
  }

  /** True once the file exists and is open. */
  get isOpen(): boolean {
    return this.db !== undefined;
  }

  private openDb(): Database.Database | undefined {
    if (this.db) return this.db;
    if (this.opts.readonly) {
      if (!existsSync(this.path)) return undefined;
      this.db = new Database(this.path, { readonly: true, fileMustExist: true, timeout: 5_000 });
    } else {
      mkdirSync(dirname(this.path), { recursive: true });
      // Hashes only, but still nobody else's business: create the file owner-only.
      if (!existsSync(this.path)) closeSync(openSync(this.path, 'a', 0o600));
      const db = new Database(this.path, { fileMustExist: true, timeout: 5_000 });
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
      this.db = db;
    }
    return this.db;
  }

  private requireDb(): Database.Database {
    const db = this.openDb();
    if (!db) throw new UserStoreError(`no user store at ${this.path}`);
    return db;
  }

  /** The stored row (hash included: internal), or undefined. */
  private row(account: string, user: string): Row | undefined {
    const db = this.openDb();
    if (!db) return undefined;
    try {
      this.selectOne ??= db.prepare<[string, string], Row>('SELECT * FROM users WHERE account = ? AND user = ?');
      return this.selectOne.get(account, user);
    } catch (err) {
      // A file created but not yet initialised by `sluice user add` has no users.
      if (/no such table/.test((err as Error).message)) return undefined;
      throw err;
    }
  }

  get(account: string, user: string): StoredUser | undefined {
    const row = this.row(account, user);
    return row && toUser(row);
  }

  list(): StoredUser[] {
    const db = this.openDb();
    if (!db) return [];
    try {
      return db.prepare<[], Row>('SELECT * FROM users ORDER BY account, user').all().map(toUser);
    } catch (err) {
      if (/no such table/.test((err as Error).message)) return [];
      throw err;
    }
  }

  async add(account: string, user: string, key: string, opts: AddUserOptions = {}): Promise<StoredUser> {
    if (this.opts.readonly) throw new UserStoreError('user store is open read-only');
    const bad =
      nameError('account', account) ??
      nameError('user', user) ??
      keyError(key) ??
      (opts.groups ?? []).map(groupError).find(Boolean) ??
      (opts.storageUrl === undefined ? undefined : storageUrlError(opts.storageUrl));
    if (bad) throw new UserStoreError(bad);
    const db = this.requireDb();
    if (this.row(account, user)) throw new UserStoreError(`user ${account}:${user} already exists in ${this.path}`);
    const salt = randomBytes(SALT_BYTES);
    const { N, r, p, keyLen } = SCRYPT_PARAMS;
    const hash = await scryptAsync(key, salt, keyLen, scryptOptions(N, r, p));
    const createdAt = new Date().toISOString();
    const groups = [...new Set(opts.groups ?? [])];
    try {
      db.prepare(
        'INSERT INTO users (account, user, salt, hash, scrypt_n, scrypt_r, scrypt_p, groups, storage_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ).run(account, user, salt, hash, N, r, p, JSON.stringify(groups), opts.storageUrl ?? null, createdAt);
    } catch (err) {
      // Another `sluice user add` won the race between the check and the insert.
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') throw new UserStoreError(`user ${account}:${user} already exists in ${this.path}`);
      throw err;
    }
    return { account, user, groups, storageUrl: opts.storageUrl, createdAt };
  }

  /** True when the user existed. */
  remove(account: string, user: string): boolean {
    if (this.opts.readonly) throw new UserStoreError('user store is open read-only');
    return this.requireDb().prepare('DELETE FROM users WHERE account = ? AND user = ?').run(account, user).changes > 0;
  }

  /**
   * Checks a key against the stored hash (async scrypt: never blocks the event loop), in
   * constant time. The row is read every time, so a removed user fails at once; the cache key
   * includes the stored hash, so a user re-added with another key never matches an old entry.
   * Only successes are cached.
   */
  async verify(account: string, user: string, key: string): Promise<VerifyResult> {
    const row = this.row(account, user);
    if (!row) return { ok: false, reason: 'unknown-user' };
    const cacheKey = createHash('sha256')
      .update(JSON.stringify([row.account, row.user, row.hash.toString('base64'), key]))
      .digest('base64');
    if (this.verified.get(cacheKey)) return { ok: true, user: toUser(row) };
    const computed = await scryptAsync(key, row.salt, row.hash.length, scryptOptions(row.scrypt_n, row.scrypt_r, row.scrypt_p));
    if (computed.length !== row.hash.length || !timingSafeEqual(computed, row.hash)) return { ok: false, reason: 'bad-key' };
    this.verified.set(cacheKey, true);
    return { ok: true, user: toUser(row) };
  }

  /** Raw row for tests of the stored form (salt, hash, parameters). */
  rawForTesting(account: string, user: string): Omit<Row, 'groups'> | undefined {
    return this.row(account, user);
  }

  close(): void {
    this.db?.close();
    this.db = undefined;
    this.selectOne = undefined;
  }
}
