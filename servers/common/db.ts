/**
 * Base of the account and container brokers: one SQLite database per account or container
 * (better-sqlite3, WAL, busy timeout), laid out as Swift lays out its DBs:
 *
 *   <devices>/<device>/<accounts|containers>/<partition>/<hash[-3:]>/<hash>/<hash>.db
 *
 * plus metadata stored as (value, timestamp) rows with last-writer-wins merging. A value of
 * '' marks a deleted key: it is kept (so an older write cannot bring the key back) but never
 * returned.
 */
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';

export type Db = Database.Database;

export interface MetadataItem {
  value: string;
  timestamp: string;
}

export function dbDir(devicesDir: string, device: string, kind: 'accounts' | 'containers', partition: string, hash: string): string {
  return join(devicesDir, device, kind, partition, hash.slice(-3), hash);
}

export function dbPath(devicesDir: string, device: string, kind: 'accounts' | 'containers', partition: string, hash: string): string {
  return join(dbDir(devicesDir, device, kind, partition, hash), `${hash}.db`);
}

const METADATA_SCHEMA = `
CREATE TABLE IF NOT EXISTS metadata (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  timestamp TEXT NOT NULL
) WITHOUT ROWID;
`;

/** Opens (creating the directory when `create`) a database with the pragmas every broker uses. */
export function openDb(path: string, create: boolean): Db {
  if (create) mkdirSync(join(path, '..'), { recursive: true });
  const db = new Database(path, { fileMustExist: !create, timeout: 25_000 });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(METADATA_SCHEMA);
  return db;
}

/**
 * Metadata access on an open database. Timestamps are Swift internal-form strings, whose
 * fixed-width normal part makes string order equal time order.
 */
export class MetadataTable {
  private readonly selectAll;
  private readonly selectOne;
  private readonly upsert;

  constructor(private readonly db: Db) {
    this.selectAll = db.prepare<[], { key: string; value: string; timestamp: string }>('SELECT key, value, timestamp FROM metadata');
    this.selectOne = db.prepare<[string], { value: string; timestamp: string }>('SELECT value, timestamp FROM metadata WHERE key = ?');
    this.upsert = db.prepare<[string, string, string]>(
      `INSERT INTO metadata (key, value, timestamp) VALUES (?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp
       WHERE excluded.timestamp > metadata.timestamp`,
    );
  }

  /** All keys (lower-case header names) including deleted ('' valued) ones. */
  all(): Map<string, MetadataItem> {
    const out = new Map<string, MetadataItem>();
    for (const r of this.selectAll.all()) out.set(r.key, { value: r.value, timestamp: r.timestamp });
    return out;
  }

  /** Keys with non-empty values, as Swift's HEAD/GET return them. */
  visible(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.selectAll.all()) if (r.value !== '') out.set(r.key, r.value);
    return out;
  }

  get(key: string): MetadataItem | undefined {
    return this.selectOne.get(key.toLowerCase());
  }

  /** Applies updates whose timestamp is newer than what is stored (last writer wins). */
  update(entries: Iterable<[key: string, value: string, timestamp: string]>): void {
    const tx = this.db.transaction((items: [string, string, string][]) => {
      for (const [k, v, t] of items) this.upsert.run(k.toLowerCase(), v, t);
    });
    tx([...entries]);
  }
}

/**
 * Open database handles, kept in an LRU so hot accounts/containers skip the open and schema
 * check; evicted handles are closed.
 */
export class DbCache<T extends { close(): void }> {
  private readonly cache: LRUCache<string, T>;

  constructor(max = 256) {
    this.cache = new LRUCache<string, T>({ max, dispose: (v) => v.close() });
  }

  get(path: string): T | undefined {
    return this.cache.get(path);
  }

  set(path: string, value: T): void {
    this.cache.set(path, value);
  }

  delete(path: string): void {
    this.cache.delete(path);
  }

  clear(): void {
    this.cache.clear();
  }
}
