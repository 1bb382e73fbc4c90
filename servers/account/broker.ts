/**
 * AccountBroker: one SQLite database per account (swift.account.backend.AccountBroker).
 *
 * Tables:
 *  - account_stat: one row with the account's timestamps, status and totals;
 *  - container: one row per container name, updated by container servers' reports;
 *  - policy_stat: per storage policy totals;
 *  - metadata (servers/common/db.ts): (value, timestamp) pairs, last writer wins.
 *
 * Totals are maintained by triggers in the same transaction as the container row change, so
 * they are exact whatever the interleaving of updates. Listings use a partial covering index of
 * live containers, so deleted rows never cost a listing anything.
 */
import { existsSync, linkSync, rmSync, unlinkSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { openDb, MetadataTable, type Db } from '../common/db';
import { rangeSql, type RangeQuery } from '../common/listing';
import { Timestamp } from '../../src/common/timestamp';

/** Timestamp(0).internal: what an account that was never deleted has as delete_timestamp. */
export const ZERO_TIMESTAMP = new Timestamp(0).internal;

const SCHEMA = `
CREATE TABLE account_stat (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  account TEXT NOT NULL,
  created_at TEXT NOT NULL,
  put_timestamp TEXT NOT NULL,
  delete_timestamp TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT '',
  status_changed_at TEXT NOT NULL,
  container_count INTEGER NOT NULL DEFAULT 0,
  object_count INTEGER NOT NULL DEFAULT 0,
  bytes_used INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE container (
  name TEXT NOT NULL PRIMARY KEY,
  put_timestamp TEXT NOT NULL,
  delete_timestamp TEXT NOT NULL,
  object_count INTEGER NOT NULL,
  bytes_used INTEGER NOT NULL,
  deleted INTEGER NOT NULL CHECK (deleted IN (0, 1)),
  storage_policy_index INTEGER NOT NULL
);

-- Listings read only live rows, in name order, and need nothing beyond these columns.
CREATE INDEX ix_container_live ON container (name, object_count, bytes_used, put_timestamp)
  WHERE deleted = 0;

CREATE TABLE policy_stat (
  storage_policy_index INTEGER PRIMARY KEY,
  container_count INTEGER NOT NULL DEFAULT 0,
  object_count INTEGER NOT NULL DEFAULT 0,
  bytes_used INTEGER NOT NULL DEFAULT 0
);

-- As Swift's triggers: a deleted row still contributes its object and byte counts, and a
-- policy_stat row, once created by any container row of that policy, is kept.
CREATE TRIGGER container_insert AFTER INSERT ON container
BEGIN
  UPDATE account_stat
  SET container_count = container_count + (1 - new.deleted),
      object_count = object_count + new.object_count,
      bytes_used = bytes_used + new.bytes_used;
  INSERT OR IGNORE INTO policy_stat (storage_policy_index) VALUES (new.storage_policy_index);
  UPDATE policy_stat
  SET container_count = container_count + (1 - new.deleted),
      object_count = object_count + new.object_count,
      bytes_used = bytes_used + new.bytes_used
  WHERE storage_policy_index = new.storage_policy_index;
END;

CREATE TRIGGER container_update AFTER UPDATE ON container
BEGIN
  UPDATE account_stat
  SET container_count = container_count - (1 - old.deleted) + (1 - new.deleted),
      object_count = object_count - old.object_count + new.object_count,
      bytes_used = bytes_used - old.bytes_used + new.bytes_used;
  UPDATE policy_stat
  SET container_count = container_count - (1 - old.deleted),
      object_count = object_count - old.object_count,
      bytes_used = bytes_used - old.bytes_used
  WHERE storage_policy_index = old.storage_policy_index;
  INSERT OR IGNORE INTO policy_stat (storage_policy_index) VALUES (new.storage_policy_index);
  UPDATE policy_stat
  SET container_count = container_count + (1 - new.deleted),
      object_count = object_count + new.object_count,
      bytes_used = bytes_used + new.bytes_used
  WHERE storage_policy_index = new.storage_policy_index;
END;

CREATE TRIGGER container_delete AFTER DELETE ON container
BEGIN
  UPDATE account_stat
  SET container_count = container_count - (1 - old.deleted),
      object_count = object_count - old.object_count,
      bytes_used = bytes_used - old.bytes_used;
  UPDATE policy_stat
  SET container_count = container_count - (1 - old.deleted),
      object_count = object_count - old.object_count,
      bytes_used = bytes_used - old.bytes_used
  WHERE storage_policy_index = old.storage_policy_index;
END;
`;

export interface AccountInfo {
  account: string;
  created_at: string;
  put_timestamp: string;
  delete_timestamp: string;
  status: string;
  status_changed_at: string;
  container_count: number;
  object_count: number;
  bytes_used: number;
}

export interface PolicyStats {
  storage_policy_index: number;
  container_count: number;
  object_count: number;
  bytes_used: number;
}

/** A container server's report; timestamps in internal form. */
export interface ContainerUpdate {
  name: string;
  put_timestamp: string;
  delete_timestamp: string;
  object_count: number;
  bytes_used: number;
  storage_policy_index: number;
}

export interface ContainerRow extends ContainerUpdate {
  deleted: number;
}

export interface ContainerListingRow {
  name: string;
  object_count: number;
  bytes_used: number;
  put_timestamp: string;
}

export class DatabaseAlreadyExistsError extends Error {}

/** Metadata rejected by validation (Swift's DatabaseBroker.validate_metadata): a 400. */
export class MetadataValidationError extends Error {}

export interface MetadataLimits {
  maxCount: number;
  maxOverallSize: number;
}

const USER_META_PREFIX = 'x-account-meta-';
// A lone surrogate: how an invalid UTF-8 byte arrives after surrogateescape decoding.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function maxTs(a: string, b: string): string {
  return a > b ? a : b;
}

export class AccountBroker {
  readonly metadata: MetadataTable;
  private readonly stmts;
  private readonly listStmts = new Map<string, Database.Statement<unknown[], ContainerListingRow>>();

  private constructor(
    readonly path: string,
    private readonly db: Db,
  ) {
    this.metadata = new MetadataTable(db);
    this.stmts = {
      info: db.prepare<[], AccountInfo>('SELECT * FROM account_stat WHERE id = 1'),
      policyStats: db.prepare<[], PolicyStats>(
        'SELECT storage_policy_index, container_count, object_count, bytes_used FROM policy_stat ORDER BY storage_policy_index',
      ),
      getContainer: db.prepare<[string], ContainerRow>('SELECT * FROM container WHERE name = ?'),
      // Plain INSERT / UPDATE rather than an upsert: an upsert's conflict policy would override
      // the triggers' INSERT OR IGNORE into policy_stat.
      insertContainer: db.prepare<[string, string, string, number, number, number, number]>(
        `INSERT INTO container (name, put_timestamp, delete_timestamp, object_count, bytes_used, deleted, storage_policy_index)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateContainer: db.prepare<[string, string, number, number, number, number, string]>(
        `UPDATE container SET put_timestamp = ?, delete_timestamp = ?, object_count = ?, bytes_used = ?,
           deleted = ?, storage_policy_index = ? WHERE name = ?`,
      ),
      updatePut: db.prepare<[string, string]>('UPDATE account_stat SET put_timestamp = ? WHERE put_timestamp < ?'),
      markDeleted: db.prepare<[string, string, string]>(
        `UPDATE account_stat SET delete_timestamp = ?, status = 'DELETED', status_changed_at = ?
         WHERE delete_timestamp < ?`,
      ),
    };
  }

  /** Opens an existing account database; undefined when there is none. */
  static open(path: string): AccountBroker | undefined {
    if (!existsSync(path)) return undefined;
    return new AccountBroker(path, openDb(path, false));
  }

  /**
   * Creates the database as Swift's initialize does: built under a temporary name and then
   * linked into place, so a concurrent creator sees either nothing or a complete database.
   * Throws DatabaseAlreadyExistsError when another request created it first.
   * created_at is the wall-clock creation time (Swift's X-Timestamp), not the request's.
   */
  static create(path: string, account: string, putTimestamp: string): AccountBroker {
    if (existsSync(path)) throw new DatabaseAlreadyExistsError(path);
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    const db = openDb(tmp, true);
    try {
      db.exec(SCHEMA);
      db.prepare(
        `INSERT INTO account_stat (id, account, created_at, put_timestamp, delete_timestamp, status_changed_at)
         VALUES (1, ?, ?, ?, ?, ?)`,
      ).run(account, Timestamp.now().internal, putTimestamp, ZERO_TIMESTAMP, putTimestamp);
    } catch (err) {
      db.close();
      removeDbFiles(tmp);
      throw err;
    }
    db.close(); // checkpoints and removes the -wal/-shm files, leaving one complete file
    try {
      linkSync(tmp, path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new DatabaseAlreadyExistsError(path);
      throw err;
    } finally {
      unlinkSync(tmp);
    }
    return new AccountBroker(path, openDb(path, false));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Closes the handle and removes the database files (reclaiming a long-deleted account). */
  destroy(): void {
    this.close();
    removeDbFiles(this.path);
  }

  info(): AccountInfo {
    return this.stmts.info.get()!;
  }

  /** Swift's _is_deleted_info: marked DELETED, or no containers and deleted after the last PUT. */
  isDeleted(info = this.info()): boolean {
    return info.status === 'DELETED' || (info.container_count === 0 && info.delete_timestamp > info.put_timestamp);
  }

  /** Swift's is_status_deleted: marked DELETED, or deleted after the last PUT whatever it holds. */
  isStatusDeleted(info = this.info()): boolean {
    return info.status === 'DELETED' || info.delete_timestamp > info.put_timestamp;
  }

  /** Swift's is_reclaimable: no live containers and deleted (after its last PUT) over reclaimAge ago. */
  isReclaimable(now: Timestamp, reclaimAgeSeconds: number, info = this.info()): boolean {
    const horizon = Timestamp.fromSeconds(Math.max(0, now.seconds - reclaimAgeSeconds)).internal;
    return info.container_count === 0 && horizon > info.delete_timestamp && info.delete_timestamp > info.put_timestamp;
  }

  /** Moves put_timestamp forward only (Swift's update_put_timestamp). */
  updatePutTimestamp(timestamp: string): void {
    this.stmts.updatePut.run(timestamp, timestamp);
  }

  /**
   * Swift's delete_db: clears every metadata key (an older write cannot bring one back), then
   * marks the account DELETED unless it already has a newer delete timestamp.
   */
  deleteDb(timestamp: string): void {
    this.db
      .transaction(() => {
        const cleared: [string, string, string][] = [...this.metadata.all().keys()].map((k) => [k, '', timestamp]);
        this.metadata.update(cleared);
        this.stmts.markDeleted.run(timestamp, timestamp, timestamp);
      })
      .immediate();
  }

  /**
   * Applies metadata updates (key, value) at `timestamp`, last writer wins per key. With
   * `limits`, the merged result is validated as Swift does before committing (user metadata
   * count and overall size; values must be valid UTF-8) and nothing is written on failure.
   */
  updateMetadata(updates: [key: string, value: string][], timestamp: string, limits?: MetadataLimits): void {
    if (updates.length === 0) return;
    this.db
      .transaction(() => {
        const current = this.metadata.all();
        const winners = updates.filter(([k]) => {
          const cur = current.get(k.toLowerCase());
          return !cur || timestamp > cur.timestamp;
        });
        // Swift skips the write (and validation) when nothing would change.
        if (winners.length === 0) return;
        if (limits) {
          const merged = new Map<string, string>();
          for (const [k, v] of current) merged.set(k, v.value);
          for (const [k, v] of winners) merged.set(k.toLowerCase(), v);
          validateMetadata(merged, limits);
        }
        this.metadata.update(winners.map(([k, v]) => [k, v, timestamp]));
      })
      .immediate();
  }

  /**
   * Merges a container server's report. Like Swift's merge_items the row keeps the newest
   * put and delete timestamps seen, and is deleted when deleted after its last PUT with no
   * objects. Unlike Swift, the counts and policy of a report only replace the stored ones when
   * the report is not older than the stored state (its latest timestamp is at least the
   * stored latest), so a late report from before a delete or re-create cannot resurrect a
   * container or restore stale counts. Equal timestamps do win: container servers report
   * changing counts under an unchanged put timestamp.
   */
  putContainer(update: ContainerUpdate): void {
    this.db
      .transaction(() => {
        const existing = this.stmts.getContainer.get(update.name);
        let { put_timestamp: put, delete_timestamp: del, object_count: count, bytes_used: bytes, storage_policy_index: policy } = update;
        if (existing) {
          if (maxTs(put, del) < maxTs(existing.put_timestamp, existing.delete_timestamp)) {
            count = existing.object_count;
            bytes = existing.bytes_used;
            policy = existing.storage_policy_index;
          }
          put = maxTs(put, existing.put_timestamp);
          del = maxTs(del, existing.delete_timestamp);
        }
        const deleted = del > put && count === 0 ? 1 : 0;
        if (existing) this.stmts.updateContainer.run(put, del, count, bytes, deleted, policy, update.name);
        else this.stmts.insertContainer.run(update.name, put, del, count, bytes, deleted, policy);
      })
      .immediate();
  }

  getContainer(name: string): ContainerRow | undefined {
    return this.stmts.getContainer.get(name);
  }

  policyStats(): PolicyStats[] {
    return this.stmts.policyStats.all();
  }

  private listingSql(q: RangeQuery, allowReserved: boolean): { sql: string; args: (string | number)[] } {
    const { where, args, order } = rangeSql(q);
    const conds = ['deleted = 0', where];
    const allArgs: (string | number)[] = [...args];
    // Names in the reserved namespace (leading NUL) are listed only when asked for, as Swift.
    if (!allowReserved) {
      conds.push('name >= ?');
      allArgs.push('\x01');
    }
    allArgs.push(q.limit);
    return {
      sql: `SELECT name, object_count, bytes_used, put_timestamp FROM container
            WHERE ${conds.join(' AND ')} ORDER BY name ${order} LIMIT ?`,
      args: allArgs,
    };
  }

  /** One range scan of live containers over the name index (walkListing's fetch). */
  listContainers(q: RangeQuery, allowReserved = false): ContainerListingRow[] {
    if (q.limit <= 0) return [];
    const { sql, args } = this.listingSql(q, allowReserved);
    let stmt = this.listStmts.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], ContainerListingRow>(sql);
      this.listStmts.set(sql, stmt);
    }
    return stmt.all(...args);
  }

  /** EXPLAIN QUERY PLAN details of a listing scan (tests assert it uses the index). */
  explainListing(q: RangeQuery, allowReserved = false): string[] {
    const { sql, args } = this.listingSql(q, allowReserved);
    return (this.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as { detail: string }[]).map((r) => r.detail);
  }
}

/** Swift's validate_metadata over the merged metadata. Keys are lower-case header names. */
export function validateMetadata(merged: Map<string, string>, limits: MetadataLimits): void {
  let count = 0;
  let size = 0;
  for (const [key, value] of merged) {
    if (LONE_SURROGATE.test(key) || (value && LONE_SURROGATE.test(value))) {
      throw new MetadataValidationError('Metadata must be valid UTF-8');
    }
    if (value && key.startsWith(USER_META_PREFIX)) {
      count += 1;
      // Python's len(): code points.
      size += [...key.slice(USER_META_PREFIX.length)].length + [...value].length;
    }
  }
  if (count > limits.maxCount) throw new MetadataValidationError(`Too many metadata items; max ${limits.maxCount}`);
  if (size > limits.maxOverallSize) throw new MetadataValidationError(`Total metadata too large; max ${limits.maxOverallSize}`);
}

function removeDbFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}
